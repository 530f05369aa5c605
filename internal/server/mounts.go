package server

import (
	"log/slog"
	"net/http"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/metrics"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// deps are the shared components every surface may build on.
type deps struct {
	cfg       config.Config
	log       *slog.Logger
	store     store.Store
	sealer    seal.Sealer
	now       func() time.Time
	publicURL string
	accountID string
	keys      *accesskeys.Service
	workloads *workload.Service
	providers *credprovider.Service
	tags      *tagging.Service
	metrics   *metrics.Metrics
	audit     *audit.Trail
	// tracer is nil unless tracing is on.
	tracer trace.TracerProvider
}

// mounts collects what each surface contributes: restJson operations
// (bedrock-agentcore signing name), awsQuery services (by signing name),
// unauthenticated public routes, and cleanup on Close.
type mounts struct {
	deps
	rest  []awsproto.Operation
	query map[string]*awsproto.QueryService
	// json are awsJson1.1 services by signing name; publicJSON the
	// unsigned operations among them, by X-Amz-Target.
	json       map[string]*awsproto.JSONService
	publicJSON map[string]*awsproto.JSONService
	public     *http.ServeMux
	closers    []func()
}

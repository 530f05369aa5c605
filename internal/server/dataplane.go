package server

import (
	"context"

	"github.com/agentcore-identity/agentcore/internal/dataplane"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// mountDataPlane adds the AgentCore data plane: workload access tokens,
// credential vending and the OAuth2 user-consent flow.
func mountDataPlane(_ context.Context, m *mounts) error {
	h := &dataplane.Handlers{
		Workloads: m.workloads,
		Providers: m.providers,
		Tokens:    wat.NewService(m.sealer, m.now, 0),
	}
	m.rest = append(m.rest, h.Operations()...)
	return nil
}

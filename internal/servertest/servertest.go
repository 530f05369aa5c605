// Package servertest starts a real agentcore server on an httptest listener
// for tests: SQLite in memory (or a fresh PostgreSQL database), an
// in-memory key-encryption key, and AWS SDK clients signed with the
// bootstrap admin key.
package servertest

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcore"
	"github.com/aws/aws-sdk-go-v2/service/bedrockagentcorecontrol"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"go.opentelemetry.io/otel/trace"

	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/server"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/postgres"
	"github.com/agentcore-identity/agentcore/internal/store/postgres/pgtest"
	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

// Backend names a store backend for a test server.
type Backend string

// Backends.
const (
	SQLite   Backend = "sqlite"
	Postgres Backend = "postgres"
)

// Options tune a test server.
type Options struct {
	Backend Backend
	// SQLitePath, when set, uses a file instead of :memory:.
	SQLitePath string
	// Configure may change the configuration before the server starts.
	Configure func(*config.Config)
	// Now, when set, is the clock of the server and its store (a fake
	// clock lets tests expire keys and records without sleeping; keep it
	// within 5 minutes of real time while SDK clients sign requests).
	Now func() time.Time
	// WrapStore, when set, wraps the real store (error injection).
	WrapStore func(store.Store) store.Store
	// TracerProvider, when set, traces the server (e.g. an SDK provider
	// with a tracetest.SpanRecorder).
	TracerProvider trace.TracerProvider
}

// Env is a running test server.
type Env struct {
	URL    string
	Server *server.Server
	// Store is the server's store, behind its read cache: write through
	// it (not through another handle on the database) so that the server
	// sees the change at once.
	Store     store.Store
	AccountID string
	Region    string
	AccessKey string
	SecretKey string
	// Logs holds everything the server logged.
	Logs *SyncBuffer
	// KEK is the server's key-encryption key, for tests that act as a
	// second process on the same store (admin commands, other replicas).
	KEK seal.KEKProvider

	// tracked is the store under WrapStore, recording which kinds and
	// accounts the server used (Snapshot).
	tracked *trackingStore
	now     func() time.Time
}

// SyncBuffer is a goroutine-safe log sink.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Start runs a server for the duration of the test.
func Start(t testing.TB, opts Options) *Env {
	t.Helper()
	ctx := context.Background()
	var st store.Store
	var err error
	switch opts.Backend {
	case Postgres:
		url := pgtest.NewDatabase(t)
		st, err = postgres.Open(ctx, postgres.Options{URL: url, Now: opts.Now})
	default:
		path := opts.SQLitePath
		if path == "" {
			path = ":memory:"
		}
		st, err = sqlite.Open(ctx, sqlite.Options{Path: path, Now: opts.Now})
	}
	if err != nil {
		t.Fatalf("open %s store: %v", opts.Backend, err)
	}
	t.Cleanup(func() { _ = st.Close() })
	tracked := track(st)
	st = tracked
	if opts.WrapStore != nil {
		st = opts.WrapStore(st)
	}

	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	kek, err := seal.NewLocalKEK(map[string][]byte{"test-kek": key}, "test-kek")
	if err != nil {
		t.Fatal(err)
	}

	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	// Test identity providers listen on loopback; a test of the SSRF guard
	// turns this off again in Configure.
	cfg.AllowPrivateNetwork = true
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	logs := &SyncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	now := opts.Now
	if now == nil {
		now = time.Now
	}
	hs := httptest.NewUnstartedServer(nil)
	publicURL := "http://" + hs.Listener.Addr().String()
	// CacheReads: the server caches as `agentcore server` does, so every
	// test runs through the read cache. That is exact here because all
	// writes go through the server's store, Env.Store included.
	srv, err := server.New(ctx, server.Options{Config: cfg, Logger: log, Store: st, CacheReads: true, KEK: kek, PublicURL: publicURL, Now: opts.Now,
		TracerProvider: opts.TracerProvider})
	if err != nil {
		t.Fatalf("start server: %v", err)
	}
	hs.Config.Handler = srv.Handler()
	hs.Start()
	t.Cleanup(hs.Close)
	if srv.Info.AdminKey == nil {
		t.Fatal("fresh store did not bootstrap an admin key")
	}
	return &Env{
		URL: publicURL, Server: srv, Store: srv.Store(), AccountID: srv.Info.AccountID, Region: cfg.Region,
		AccessKey: srv.Info.AdminKey.AccessKeyID, SecretKey: srv.Info.AdminKey.SecretAccessKey, Logs: logs,
		KEK: kek, tracked: tracked, now: now,
	}
}

// Credentials returns a static provider for the admin key.
func (e *Env) Credentials() aws.CredentialsProvider {
	return StaticCredentials(e.AccessKey, e.SecretKey)
}

// StaticCredentials is a fixed key pair (the SDK's credentials module is
// not usable at the pinned core version, so this stands in for it).
func StaticCredentials(akid, secret string) aws.CredentialsProvider {
	return aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
		return aws.Credentials{AccessKeyID: akid, SecretAccessKey: secret, Source: "servertest"}, nil
	})
}

// Control returns a real bedrockagentcorecontrol client pointed at the
// server. Retries are off so each call is exactly one request.
func (e *Env) Control(optFns ...func(*bedrockagentcorecontrol.Options)) *bedrockagentcorecontrol.Client {
	return bedrockagentcorecontrol.New(bedrockagentcorecontrol.Options{
		BaseEndpoint:     aws.String(e.URL),
		Region:           e.Region,
		Credentials:      e.Credentials(),
		RetryMaxAttempts: 1,
	}, optFns...)
}

// Data returns a real bedrockagentcore (data plane) client.
func (e *Env) Data(optFns ...func(*bedrockagentcore.Options)) *bedrockagentcore.Client {
	return bedrockagentcore.New(bedrockagentcore.Options{
		BaseEndpoint:     aws.String(e.URL),
		Region:           e.Region,
		Credentials:      e.Credentials(),
		RetryMaxAttempts: 1,
	}, optFns...)
}

// STS returns a real STS client.
func (e *Env) STS(optFns ...func(*sts.Options)) *sts.Client {
	return sts.New(sts.Options{
		BaseEndpoint:     aws.String(e.URL),
		Region:           e.Region,
		Credentials:      e.Credentials(),
		RetryMaxAttempts: 1,
	}, optFns...)
}

// IAM returns a real IAM client.
func (e *Env) IAM(optFns ...func(*iam.Options)) *iam.Client {
	return iam.New(iam.Options{
		BaseEndpoint:     aws.String(e.URL),
		Region:           e.Region,
		Credentials:      e.Credentials(),
		RetryMaxAttempts: 1,
	}, optFns...)
}

// Context returns a context that ends with the test, bounded to a minute.
func Context(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

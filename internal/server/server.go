// Package server is the composition root: it opens the store, the sealer
// and the key material, builds the domain services, mounts the protocol
// surfaces and runs the listener.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/agentcore-identity/agentcore/internal/accesskeys"
	"github.com/agentcore-identity/agentcore/internal/arn"
	"github.com/agentcore-identity/agentcore/internal/audit"
	"github.com/agentcore-identity/agentcore/internal/awsproto"
	"github.com/agentcore-identity/agentcore/internal/config"
	"github.com/agentcore-identity/agentcore/internal/controlplane"
	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/metrics"
	"github.com/agentcore-identity/agentcore/internal/quota"
	"github.com/agentcore-identity/agentcore/internal/seal"
	"github.com/agentcore-identity/agentcore/internal/sigv4"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/readcache"
	"github.com/agentcore-identity/agentcore/internal/tagging"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// Options are the live dependencies of a server. Zero fields are built from
// Config (the store from Store/DatabaseURL, the KEK from the key file).
type Options struct {
	Config config.Config
	Logger *slog.Logger
	// Store, when set, is used instead of opening one from Config; the
	// server does not close it. A store the server opens itself is put
	// behind a read cache (see CachedKinds); a given one only with
	// CacheReads.
	Store store.Store
	// CacheReads puts the given Store behind the read cache too. Only
	// safe if nothing else writes the cached kinds of its database, or
	// if Store is a PostgreSQL store opened with Announce: CachedKinds(),
	// whose change feed the server then follows, as replicas do.
	CacheReads bool
	// KEK, when set, is used instead of the key file.
	KEK seal.KEKProvider
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// PublicURL overrides Config.PublicURL (tests that learn their port
	// only after listening).
	PublicURL string
	// Limiter, when set, replaces the limiter that Config's rate limits
	// and RateLimits.Scope would build.
	Limiter quota.Limiter
	// TracerProvider, when set, traces every request and every outbound
	// call to identity providers (internal/tracing); nil means no tracing
	// and no per-request cost.
	TracerProvider trace.TracerProvider
}

// Server is a running agentcore service.
type Server struct {
	cfg       config.Config
	log       *slog.Logger
	store     store.Store
	ownsStore bool
	now       func() time.Time
	publicURL string

	keys    *accesskeys.Service
	verify  *sigv4.Verifier
	restAPI *awsproto.Router
	// query holds the awsQuery services (sts, iam) by signing name.
	query map[string]*awsproto.QueryService
	// json holds the awsJson1.1 services (cognito-idp) by signing name;
	// publicJSON those of their operations that carry no SigV4, by
	// X-Amz-Target.
	json       map[string]*awsproto.JSONService
	publicJSON map[string]*awsproto.JSONService
	// public serves routes that carry no SigV4: browser redirects of OAuth
	// flows, OIDC discovery and JWKS of our issuers, bearer-token invokes.
	public *http.ServeMux

	closers []func()
	metrics *metrics.Metrics
	limiter quota.Limiter
	audit   *audit.Trail
	tracer  trace.TracerProvider
	// draining is set once shutdown began: /readyz then answers 503 so
	// load balancers stop sending new requests.
	draining atomic.Bool

	// Info is what bootstrap found or created.
	Info Bootstrap
}

// New builds a server: it opens (or adopts) the store, bootstraps the
// account and admin key on first start, and wires every surface.
func New(ctx context.Context, opts Options) (*Server, error) {
	cfg := opts.Config
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("invalid configuration: %w", err)
	}
	s := &Server{cfg: cfg, log: opts.Logger, now: opts.Now, tracer: opts.TracerProvider}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.publicURL = opts.PublicURL
	if s.publicURL == "" {
		s.publicURL = cfg.EffectivePublicURL(cfg.Addr)
	}

	kek := opts.KEK
	if kek == nil {
		var err error
		if kek, err = loadKEK(cfg); err != nil {
			return nil, err
		}
	}
	sealer := seal.New(kek)

	s.store = opts.Store
	if s.store == nil {
		st, err := openStore(ctx, cfg, s.now, s.log)
		if err != nil {
			return nil, err
		}
		s.store, s.ownsStore = st, true
	}
	var cache *readcache.Store
	if s.ownsStore || opts.CacheReads {
		// The feed is the backend's own (PostgreSQL): a wrapper in front
		// of it (tests) hides it, and then local invalidation is all.
		feed, _ := s.store.(store.ChangeFeed)
		cache = s.cacheReads(feed)
	}

	s.metrics = metrics.New()
	if cache != nil {
		if err := registerCacheMetrics(s.metrics, cache); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.limiter = s.newLimiter(opts.Limiter)

	var sinks []audit.Sink
	if cfg.AuditLog != "" {
		fs, err := audit.OpenFileSink(cfg.AuditLog)
		if err != nil {
			s.Close()
			return nil, err
		}
		sinks = append(sinks, fs)
		s.closers = append(s.closers, func() { _ = fs.Close() })
	}
	s.audit = audit.NewTrail(s.store, s.now, sinks...)

	s.keys = accesskeys.NewService(s.store, sealer)
	info, err := bootstrap(ctx, s.store, s.keys, cfg, s.log)
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Info = info

	tags := tagging.NewService(s.store)
	workloads := workload.NewService(s.store, tags, cfg.Region, cfg.Quotas.WorkloadIdentities)
	tags.Register(arn.WorkloadIdentityPrefix, workloads.Exists)
	providers := credprovider.NewService(s.store, sealer, tags, credprovider.Config{
		Region:          cfg.Region,
		CallbackBaseURL: s.publicURL,
		MaxOAuth2:       cfg.Quotas.OAuth2Providers,
		MaxAPIKey:       cfg.Quotas.APIKeyProviders,
	})
	providers.RegisterTags(tags)
	cp := &controlplane.Handlers{
		Workloads: workloads,
		Providers: providers,
		Vault:     tokenvault.NewService(s.store, s.now),
		Tags:      tags,
	}
	s.query = map[string]*awsproto.QueryService{}
	s.public = http.NewServeMux()
	s.json, s.publicJSON = map[string]*awsproto.JSONService{}, map[string]*awsproto.JSONService{}
	m := &mounts{
		deps: deps{
			cfg: cfg, log: s.log, store: s.store, sealer: sealer, now: s.now,
			publicURL: s.publicURL, accountID: info.AccountID, keys: s.keys,
			workloads: workloads, providers: providers, tags: tags, metrics: s.metrics, audit: s.audit,
			tracer: s.tracer,
		},
		rest:  cp.Operations(),
		query: s.query,
		json:  s.json, publicJSON: s.publicJSON,
		public: s.public,
	}
	for _, mount := range []func(context.Context, *mounts) error{mountFederation, mountDataPlane, mountRuntime, mountDevIdP} {
		if err := mount(ctx, m); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.closers = append(s.closers, m.closers...)
	s.restAPI = awsproto.NewRouter(s.log, m.rest)
	s.verify = &sigv4.Verifier{Credentials: s.keys, Now: s.now}
	return s, nil
}

// sweepInterval is how often expired records (sessions, cached tokens)
// are deleted. They are invisible from the moment they expire; the sweep
// only reclaims space.
const sweepInterval = 5 * time.Minute

// sweepExpired deletes expired records until ctx ends. Every replica
// sweeps; deleting is idempotent.
func (s *Server) sweepExpired(ctx context.Context, every time.Duration) {
	periodically(ctx, every, func(ctx context.Context) {
		n, err := s.store.DeleteExpired(ctx)
		if err != nil {
			s.log.Warn("sweeping expired records", slog.String("error", err.Error()))
			return
		}
		if n > 0 {
			s.log.Debug("swept expired records", slog.Int("count", n))
		}
	})
}

// periodically calls fn every interval until ctx ends.
func periodically(ctx context.Context, every time.Duration, fn func(context.Context)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn(ctx)
		}
	}
}

// intentGrace is how long a change may take from its audit intent to its
// record (the handler, then an append bounded by auditAppendTimeout)
// before Recover takes the intent as abandoned; intentSweepInterval is
// how often each replica looks for such intents.
const (
	intentGrace         = 5 * time.Minute
	intentSweepInterval = time.Minute
)

// recoverIntents records the changes a killed process left unrecorded
// (audit.Trail.Recover), at start and then every interval, until ctx
// ends. Replicas may all do it: each intent is recorded once.
func (s *Server) recoverIntents(ctx context.Context, every time.Duration) {
	sweep := func(ctx context.Context) {
		if err := s.RecoverAuditIntents(ctx, s.now().Add(-intentGrace)); err != nil && ctx.Err() == nil {
			s.log.Warn("recording interrupted changes", slog.String("error", err.Error()))
		}
	}
	sweep(ctx)
	periodically(ctx, every, sweep)
}

// RecoverAuditIntents records, with outcome Unknown, the changes of the
// account begun before cutoff whose audit records were never written
// (the process was killed between the change and its record).
func (s *Server) RecoverAuditIntents(ctx context.Context, cutoff time.Time) error {
	n, err := s.audit.Recover(ctx, s.Info.AccountID, cutoff)
	if n > 0 {
		s.log.Warn("recorded changes whose outcome was never recorded", slog.Int("count", n))
	}
	return err
}

// PublicURL is the base URL the server advertises.
func (s *Server) PublicURL() string { return s.publicURL }

// Audit exposes the audit trail (for admin commands and tests).
func (s *Server) Audit() *audit.Trail { return s.audit }

// Store exposes the store (for tests and admin commands in-process).
func (s *Server) Store() store.Store { return s.store }

// Close releases what the server opened.
func (s *Server) Close() {
	for _, c := range s.closers {
		c()
	}
	if s.ownsStore && s.store != nil {
		if err := s.store.Close(); err != nil {
			s.log.Warn("closing store", slog.String("error", err.Error()))
		}
	}
}

// Serve runs the HTTP server on ln until ctx is cancelled, then shuts down
// gracefully: for the drain delay it keeps serving while /readyz reports
// "draining" (so load balancers route new requests elsewhere), then it
// stops accepting connections and lets in-flight requests finish within
// the shutdown TTL.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sweepCtx, stopSweep := context.WithCancel(ctx)
	defer stopSweep()
	go s.sweepExpired(sweepCtx, sweepInterval)
	go s.recoverIntents(sweepCtx, intentSweepInterval)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	s.draining.Store(true)
	if d := s.cfg.DrainDelay; d > 0 {
		s.log.Info("draining: reporting not ready before shutdown", slog.Duration("delay", d))
		select {
		case err := <-errc:
			return err
		case <-time.After(d):
		}
	}
	s.log.Info("shutting down", slog.Duration("grace", s.cfg.ShutdownTTL))
	sctx, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTTL)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		return fmt.Errorf("graceful shutdown: %w", err)
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

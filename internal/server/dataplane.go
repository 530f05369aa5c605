package server

import (
	"context"
	"time"

	"github.com/agentcore-identity/agentcore/internal/dataplane"
	"github.com/agentcore-identity/agentcore/internal/inbound/jwtauth"
	"github.com/agentcore-identity/agentcore/internal/metrics"
	"github.com/agentcore-identity/agentcore/internal/netguard"
	"github.com/agentcore-identity/agentcore/internal/oauthclient"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/tracing"
	"github.com/agentcore-identity/agentcore/internal/wat"
)

// mountDataPlane adds the AgentCore data plane: workload access tokens,
// credential vending and the OAuth2 user-consent flow, whose browser legs
// are public routes.
func mountDataPlane(_ context.Context, m *mounts) error {
	// Outbound fetches go to caller-supplied URLs: keep them off private
	// networks unless the operator allows it (our own listener excepted:
	// the built-in identity provider lives there).
	guard := netguard.Policy{AllowPrivate: m.cfg.AllowPrivateNetwork, Allow: netguard.SelfAddresses(m.publicURL)}
	flows := tokenvault.NewFlows(tokenvault.FlowsConfig{
		Store:     m.store,
		Sealer:    m.sealer,
		Providers: m.providers,
		Client:    oauthclient.New(oauthclient.Options{Now: m.now, Logger: m.log, HTTPClient: tracing.Client(guard.Client(oauthclient.DefaultTimeout), m.tracer)}),
		PublicURL: m.publicURL,
		Now:       m.now,
		Logger:    m.log,
		OnRefresh: func(outcome string) { m.metrics.Refreshes.WithLabelValues(outcome).Inc() },
	})
	h := &dataplane.Handlers{
		Workloads: m.workloads,
		Providers: m.providers,
		Tokens:    wat.NewService(m.sealer, m.now, 0),
		JWT: jwtauth.New(jwtauth.Options{Now: m.now, Logger: m.log, HTTPClient: tracing.Client(guard.Client(10*time.Second), m.tracer),
			OnJWKSFetch: func(ok bool) {
				outcome := "success"
				if !ok {
					outcome = "error"
				}
				m.metrics.JWKSFetches.WithLabelValues(outcome).Inc()
			}}),
		OAuth2: flows,
	}
	m.rest = append(m.rest, h.Operations()...)
	h.MountBrowser(m.public, m.log)
	// The vault gauge counts on scrape (cached briefly) rather than
	// tracking writes: every replica then reports the shared store's truth.
	return m.metrics.WatchVault(func(ctx context.Context) (map[string]int, error) {
		return tokenvault.Size(ctx, m.store)
	}, metrics.VaultOptions{Now: m.now})
}

package server

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/agentcore-identity/agentcore/internal/credprovider"
	"github.com/agentcore-identity/agentcore/internal/metrics"
	"github.com/agentcore-identity/agentcore/internal/runtime"
	"github.com/agentcore-identity/agentcore/internal/signer"
	"github.com/agentcore-identity/agentcore/internal/store"
	"github.com/agentcore-identity/agentcore/internal/store/readcache"
	"github.com/agentcore-identity/agentcore/internal/sts"
	"github.com/agentcore-identity/agentcore/internal/tokenvault"
	"github.com/agentcore-identity/agentcore/internal/workload"
)

// CachedKinds are the kinds whose point reads the server answers from its
// read cache: what every credential vend, runtime invocation and web
// identity token reads, and what changes only through the control plane.
// On PostgreSQL their writes are announced to every replica (see
// postgres.Options.Announce), so a process that writes them directly —
// an admin command — must open the store with the same announcements
// (OpenStore does).
//
// The vault's tokens are in: a cached vend reads its token on every call
// and writes it only when it is fetched or refreshed, so the reads far
// outnumber the writes (and their announcements). The entries hold the
// records as stored, secrets still sealed.
//
// Left out on purpose: OAuth2 sessions (written on every authorization
// request), audit records, access keys (internal/accesskeys caches them
// itself) and rate-limit buckets (not records).
func CachedKinds() []string {
	return []string{
		workload.Kind,
		credprovider.OAuth2Kind, credprovider.APIKeyKind,
		tokenvault.M2MTokenKind, tokenvault.UserTokenKind,
		runtime.Kind, runtime.NameKind,
		sts.FederationKind, sts.IssuerKind,
		signer.Kind,
	}
}

// cacheReads puts the read cache in front of s.store. With a change feed
// (a PostgreSQL store opened with the announcements), the cache follows it
// until Close; until it first listens, reads go to the database.
func (s *Server) cacheReads(feed store.ChangeFeed) *readcache.Store {
	c := readcache.New(s.store, readcache.Options{Kinds: CachedKinds(), Now: s.now, Feed: feed, Logger: s.log})
	s.store = c
	if feed == nil {
		return c
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := c.Follow(ctx); err != nil {
			s.log.Error("store read cache: change feed ended", slog.String("error", err.Error()))
		}
	}()
	s.closers = append(s.closers, func() { stop(); <-done })
	return c
}

// registerCacheMetrics exports the read cache's counters.
func registerCacheMetrics(m *metrics.Metrics, c *readcache.Store) error {
	for _, col := range []prometheus.Collector{
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "agentcore_store_cache_hits_total",
			Help: "Store point reads answered by the read cache.",
		}, func() float64 { return float64(c.Stats().Hits) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "agentcore_store_cache_misses_total",
			Help: "Store point reads of cached kinds that went to the database.",
		}, func() float64 { return float64(c.Stats().Misses) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "agentcore_store_cache_serving",
			Help: "1 while the read cache serves entries; 0 while its change feed (PostgreSQL) is down and every read goes to the database.",
		}, func() float64 {
			if c.Stats().Serving {
				return 1
			}
			return 0
		}),
	} {
		if err := m.Register(col); err != nil {
			return err
		}
	}
	return nil
}

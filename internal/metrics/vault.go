package metrics

import (
	"context"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// VaultCounter counts the records of the token vault by kind.
type VaultCounter func(ctx context.Context) (map[string]int, error)

// VaultOptions tune how often the vault is counted.
type VaultOptions struct {
	// TTL is how long a count is served before the next scrape counts
	// again; <= 0 means 10 seconds. Scrapes are then cheap however often
	// they come.
	TTL time.Duration
	// Timeout bounds one count; <= 0 means 2 seconds.
	Timeout time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// vaultSize is a collector that counts the vault on scrape, at most once
// per TTL. A failed count keeps serving the last good one and is counted
// in agentcore_token_vault_count_errors_total.
type vaultSize struct {
	desc   *prometheus.Desc
	errors prometheus.Counter
	count  VaultCounter
	opts   VaultOptions

	mu     sync.Mutex
	tried  time.Time
	counts map[string]int
}

// WatchVault publishes agentcore_token_vault_records{kind}, counted by
// count when Prometheus scrapes.
func (m *Metrics) WatchVault(count VaultCounter, opts VaultOptions) error {
	if opts.TTL <= 0 {
		opts.TTL = 10 * time.Second
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	v := &vaultSize{
		desc: prometheus.NewDesc("agentcore_token_vault_records",
			"Live records in the token vault by kind (counted on scrape, cached briefly).", []string{"kind"}, nil),
		errors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "agentcore_token_vault_count_errors_total",
			Help: "Failed counts of the token vault.",
		}),
		count: count,
		opts:  opts,
	}
	return m.registry.Register(v)
}

func (v *vaultSize) Describe(ch chan<- *prometheus.Desc) {
	ch <- v.desc
	v.errors.Describe(ch)
}

func (v *vaultSize) Collect(ch chan<- prometheus.Metric) {
	for kind, n := range v.current() {
		ch <- prometheus.MustNewConstMetric(v.desc, prometheus.GaugeValue, float64(n), kind)
	}
	v.errors.Collect(ch)
}

// current returns the cached counts, counting again when they are older
// than the TTL. Concurrent scrapes wait for one count.
func (v *vaultSize) current() map[string]int {
	v.mu.Lock()
	defer v.mu.Unlock()
	now := v.opts.Now()
	if !v.tried.IsZero() && now.Sub(v.tried) < v.opts.TTL {
		return v.counts
	}
	v.tried = now
	ctx, cancel := context.WithTimeout(context.Background(), v.opts.Timeout)
	defer cancel()
	counts, err := v.count(ctx)
	if err != nil {
		v.errors.Inc()
		return v.counts
	}
	v.counts = counts
	return counts
}

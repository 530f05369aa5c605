// Package metrics owns the service's Prometheus registry: request counts
// and latencies per operation and outcome, throttles, and the counters
// domain services feed (refreshes, JWKS fetches, vault size). One Metrics
// value is built by the server and passed to whoever records; there is no
// global registry.
package metrics

import (
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics is the set of instruments.
type Metrics struct {
	registry *prometheus.Registry

	requests  *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	throttles *prometheus.CounterVec
	rateLimit *prometheus.GaugeVec
	// rateLimitScope is 1 for the scope the token buckets live in.
	rateLimitScope  *prometheus.GaugeVec
	rateLimitErrors *prometheus.CounterVec

	// Refreshes counts OAuth2 refresh-token grants by outcome.
	Refreshes *prometheus.CounterVec
	// JWKSFetches counts fetches of inbound issuers' key sets by outcome.
	JWKSFetches *prometheus.CounterVec
	// Vends counts credentials handed out, by operation.
	Vends *prometheus.CounterVec
}

// New builds the instruments on a fresh registry, with Go runtime and
// process collectors.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentcore_requests_total",
			Help: "API requests by service, operation and HTTP status.",
		}, []string{"service", "operation", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "agentcore_request_duration_seconds",
			Help:    "API request latency by service and operation.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"service", "operation"}),
		throttles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentcore_throttled_requests_total",
			Help: "Requests refused by a rate limit, by limit class.",
		}, []string{"class"}),
		rateLimit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "agentcore_rate_limit_per_second",
			Help: "Configured sustained request rate per account, by limit class.",
		}, []string{"class"}),
		rateLimitScope: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "agentcore_rate_limit_scope",
			Help: "1 for where rate-limit buckets live: local (per replica), cluster (shared through the store) or custom.",
		}, []string{"scope"}),
		rateLimitErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentcore_rate_limit_store_errors_total",
			Help: "Cluster rate-limit checks that failed in the store and let the request through, by limit class.",
		}, []string{"class"}),
		Refreshes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentcore_oauth2_refreshes_total",
			Help: "OAuth2 refresh-token grants by outcome.",
		}, []string{"outcome"}),
		JWKSFetches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentcore_jwks_fetches_total",
			Help: "Fetches of inbound identity providers' JWKS by outcome.",
		}, []string{"outcome"}),
		Vends: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "agentcore_credential_vends_total",
			Help: "Credentials handed out, by operation.",
		}, []string{"operation"}),
	}
	m.registry.MustRegister(m.requests, m.latency, m.throttles, m.rateLimit, m.rateLimitScope, m.rateLimitErrors, m.Refreshes, m.JWKSFetches, m.Vends,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds a collector owned by a domain package (e.g. a vault-size
// gauge function).
func (m *Metrics) Register(c prometheus.Collector) error { return m.registry.Register(c) }

// ObserveRequest records one finished API request.
func (m *Metrics) ObserveRequest(service, operation string, status int, d time.Duration) {
	m.requests.WithLabelValues(service, operation, strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(service, operation).Observe(d.Seconds())
}

// Throttled records a refusal by the limit class.
func (m *Metrics) Throttled(class string) { m.throttles.WithLabelValues(class).Inc() }

// SetRateLimit publishes a configured limit.
func (m *Metrics) SetRateLimit(class string, perSecond float64) {
	m.rateLimit.WithLabelValues(class).Set(perSecond)
	m.rateLimitErrors.WithLabelValues(class) // exported as 0 from the start, for alerts
}

// SetRateLimitScope publishes where rate-limit buckets live.
func (m *Metrics) SetRateLimitScope(scope string) {
	m.rateLimitScope.Reset()
	m.rateLimitScope.WithLabelValues(scope).Set(1)
}

// RateLimitStoreError records a rate-limit check that failed in the store
// (and so let the request through).
func (m *Metrics) RateLimitStoreError(class string) { m.rateLimitErrors.WithLabelValues(class).Inc() }

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{Registry: m.registry})
}

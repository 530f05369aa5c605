// Package quota enforces request-rate limits per account and limit class
// (seed 002: token requests, 100 per second per account by default). A
// limit is a token bucket: Rate per second sustained, Burst at once.
package quota

import (
	"context"
	"math"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limit is a sustained rate and a burst size.
type Limit struct {
	Rate  float64 // requests per second; <= 0 disables the limit
	Burst int     // requests allowed at once; <= 0 means max(1, Rate)
}

// burst is Burst, or max(1, Rate) when Burst is unset.
func (l Limit) burst() int {
	if l.Burst > 0 {
		return l.Burst
	}
	return int(math.Max(1, l.Rate))
}

func copyLimits(in map[string]Limit) map[string]Limit {
	out := make(map[string]Limit, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

// Decision is the outcome of one Allow call.
type Decision struct {
	Allowed bool
	// RetryAfter is how long until a request would be allowed (when not).
	RetryAfter time.Duration
}

// RetryAfterSeconds rounds RetryAfter up to whole seconds, at least 1, for
// the Retry-After header.
func (d Decision) RetryAfterSeconds() int {
	s := int(math.Ceil(d.RetryAfter.Seconds()))
	if s < 1 {
		s = 1
	}
	return s
}

// Limiter decides whether a request may proceed. Local holds buckets in
// memory (one process); Shared keeps them in the store, so that several
// replicas on one database enforce one limit between them.
type Limiter interface {
	Allow(ctx context.Context, class, account string) (Decision, error)
}

// Local is an in-process Limiter.
type Local struct {
	limits map[string]Limit
	now    func() time.Time

	mu      sync.Mutex
	buckets map[bucketKey]*rate.Limiter
}

type bucketKey struct{ class, account string }

// NewLocal builds a limiter with one Limit per class; classes without a
// limit are never throttled. now may be nil (time.Now).
func NewLocal(limits map[string]Limit, now func() time.Time) *Local {
	if now == nil {
		now = time.Now
	}
	return &Local{limits: limits, now: now, buckets: map[bucketKey]*rate.Limiter{}}
}

// Limits returns the configured limits (for metrics and diagnostics).
func (l *Local) Limits() map[string]Limit {
	return copyLimits(l.limits)
}

// Allow takes one token from the (class, account) bucket.
func (l *Local) Allow(_ context.Context, class, account string) (Decision, error) {
	lim, ok := l.limits[class]
	if !ok || lim.Rate <= 0 {
		return Decision{Allowed: true}, nil
	}
	burst := lim.burst()
	k := bucketKey{class, account}
	l.mu.Lock()
	b, ok := l.buckets[k]
	if !ok {
		b = rate.NewLimiter(rate.Limit(lim.Rate), burst)
		l.buckets[k] = b
	}
	l.mu.Unlock()

	now := l.now()
	r := b.ReserveN(now, 1)
	if !r.OK() {
		return Decision{RetryAfter: time.Second}, nil
	}
	if d := r.DelayFrom(now); d > 0 {
		// Not allowed now: give the token back so refusals cost nothing.
		r.CancelAt(now)
		return Decision{RetryAfter: d}, nil
	}
	return Decision{Allowed: true}, nil
}

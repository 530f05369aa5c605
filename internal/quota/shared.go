package quota

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// Taker is the part of store.Store that Shared needs.
type Taker interface {
	Take(ctx context.Context, bucket string, rate float64, burst int) (store.Taken, error)
}

// Default tuning of Shared.
const (
	DefaultStoreTimeout = time.Second
	DefaultWarnEvery    = time.Minute
)

// SharedOptions tune NewShared. Every field is optional.
type SharedOptions struct {
	// Logger receives the fail-open warnings; nil discards them.
	Logger *slog.Logger
	// Now is the clock that spaces warnings; nil means time.Now.
	Now func() time.Time
	// OnStoreError is called for every store failure, with the class
	// (the server counts them in a metric).
	OnStoreError func(class string)
	// Timeout bounds one store call; 0 means DefaultStoreTimeout. A slow
	// store then costs each request at most this much before failing open.
	Timeout time.Duration
	// WarnEvery is the least time between two warnings; 0 means
	// DefaultWarnEvery.
	WarnEvery time.Duration
}

// Shared is a Limiter whose buckets live in the store, so that every
// replica on one database draws from the same bucket per (class, account)
// and the configured rate holds for the cluster, not per replica. It costs
// one store write per limited request.
//
// When the store fails, Shared fails open: it allows the request, counts
// the failure and warns at most once per WarnEvery. The limiter protects
// the service from overload; an outage of its bookkeeping must not turn
// into an outage of credential vending, which is the same trade-off as
// Envoy's global rate limit filter (failure_mode_deny defaults to false).
// A store that is really down fails the request later anyway.
type Shared struct {
	store  Taker
	limits map[string]Limit
	opts   SharedOptions

	mu         sync.Mutex
	lastWarn   time.Time
	suppressed int
}

// NewShared builds a limiter over st with one Limit per class; classes
// without a limit are never throttled and cost no store call.
func NewShared(st Taker, limits map[string]Limit, opts SharedOptions) *Shared {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultStoreTimeout
	}
	if opts.WarnEvery <= 0 {
		opts.WarnEvery = DefaultWarnEvery
	}
	return &Shared{store: st, limits: copyLimits(limits), opts: opts}
}

// Limits returns the configured limits (for metrics and diagnostics).
func (s *Shared) Limits() map[string]Limit { return copyLimits(s.limits) }

// Allow takes one token from the (class, account) bucket in the store.
// The only error is the caller's own context ending.
func (s *Shared) Allow(ctx context.Context, class, account string) (Decision, error) {
	lim, ok := s.limits[class]
	if !ok || lim.Rate <= 0 {
		return Decision{Allowed: true}, nil
	}
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	taken, err := s.store.Take(tctx, bucketName(class, account), lim.Rate, lim.burst())
	cancel()
	if err == nil {
		return Decision{Allowed: taken.Allowed, RetryAfter: taken.RetryAfter}, nil
	}
	if ctx.Err() != nil {
		// The caller went away; that says nothing about the store.
		return Decision{}, fmt.Errorf("quota: %s limit: %w", class, ctx.Err())
	}
	s.failOpen(class, err)
	return Decision{Allowed: true}, nil
}

// failOpen records a store failure. The error text comes from the store
// driver, which names hosts and databases but never credentials.
func (s *Shared) failOpen(class string, err error) {
	if s.opts.OnStoreError != nil {
		s.opts.OnStoreError(class)
	}
	now := s.opts.Now()
	s.mu.Lock()
	due := s.lastWarn.IsZero() || now.Sub(s.lastWarn) >= s.opts.WarnEvery
	suppressed := s.suppressed
	if due {
		s.lastWarn, s.suppressed = now, 0
	} else {
		s.suppressed++
	}
	s.mu.Unlock()
	if due {
		s.opts.Logger.Warn("rate limit store failed; allowing requests without the cluster limit",
			slog.String("class", class), slog.String("error", err.Error()),
			slog.Int("failures_not_logged", suppressed))
	}
}

// bucketName is the store key of a (class, account) bucket. The length
// prefix keeps names unambiguous whatever the two parts contain.
func bucketName(class, account string) string {
	return "quota/" + strconv.Itoa(len(class)) + "/" + class + "/" + account
}

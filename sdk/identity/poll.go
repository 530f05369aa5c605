package identity

import (
	"context"
	"errors"
	"time"
)

// Polling defaults, as in the Python SDK.
const (
	DefaultPollInterval = 5 * time.Second
	DefaultPollTimeout  = 600 * time.Second
	// DefaultMaxPollInterval caps the backoff after throttling.
	DefaultMaxPollInterval = time.Minute
)

// Attempt asks the service once whether the user has consented. It returns
// the token when they have, "" and a nil error while the authorization is
// still pending, and an error when the flow cannot succeed.
type Attempt func(ctx context.Context) (token string, err error)

// Poller decides when to call attempt, until it yields a token, fails, or
// ctx ends (return ctx.Err() then). Set AccessTokenOptions.Poller to replace
// the default IntervalPoller, e.g. to wait for a signal from your own
// return-URL handler instead of sleeping.
type Poller interface {
	Poll(ctx context.Context, attempt Attempt) (string, error)
}

// PollerFunc adapts a function to Poller.
type PollerFunc func(ctx context.Context, attempt Attempt) (string, error)

// Poll calls f.
func (f PollerFunc) Poll(ctx context.Context, attempt Attempt) (string, error) {
	return f(ctx, attempt)
}

// IntervalPoller waits Interval before each attempt. After a throttling
// error it doubles the wait (up to MaxInterval) and keeps polling; any other
// error ends the poll.
type IntervalPoller struct {
	Interval    time.Duration // default DefaultPollInterval
	MaxInterval time.Duration // default DefaultMaxPollInterval
}

// Poll implements Poller.
func (p IntervalPoller) Poll(ctx context.Context, attempt Attempt) (string, error) {
	interval, maxInterval := p.Interval, p.MaxInterval
	if interval <= 0 {
		interval = DefaultPollInterval
	}
	if maxInterval < interval {
		maxInterval = max(DefaultMaxPollInterval, interval)
	}
	wait := interval
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-timer.C:
		}
		tok, err := attempt(ctx)
		switch {
		case err == nil && tok != "":
			return tok, nil
		case errors.Is(err, ErrThrottled):
			wait = min(wait*2, maxInterval)
		case err != nil:
			return "", err
		default:
			wait = interval
		}
		timer.Reset(wait)
	}
}

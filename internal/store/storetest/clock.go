package storetest

import (
	"sync"
	"time"
)

// Clock is a manually driven clock for tests. It is safe for concurrent use.
// Backends under test must take their notion of "now" from it, which is what
// lets the suite test expiry without sleeping.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a Clock that reads start until moved.
func NewClock(start time.Time) *Clock {
	return &Clock{now: start}
}

// Now returns the current fake time. It matches the func() time.Time shape
// that backends accept as their clock.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Set moves the clock to t, which may be in the past. The suite rewinds the
// clock to prove that DeleteExpired physically removed rows rather than
// merely hiding them.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Package tokenbucket holds the arithmetic of store.Store.Take shared by
// the backends: argument checks, refill and the retry hint. SQLite applies
// it in Go inside a write transaction; PostgreSQL evaluates the same rule
// in SQL and uses this package for the rest.
package tokenbucket

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Slack absorbs floating-point error in the refill, so that waiting
// exactly 1/rate yields a token even when elapsed*rate rounds to
// 0.9999999999.
const Slack = 1e-9

// Check rejects arguments for which Take has no meaning.
func Check(bucket string, rate float64, burst int) error {
	switch {
	case bucket == "":
		return errors.New("bucket name is empty")
	case !(rate > 0) || math.IsInf(rate, 0):
		return fmt.Errorf("rate %v: must be a positive finite number", rate)
	case burst < 1:
		return fmt.Errorf("burst %d: must be at least 1", burst)
	}
	return nil
}

// Refill is min(burst, tokens + max(0, now-last)*rate).
func Refill(tokens float64, last, now time.Time, rate float64, burst int) float64 {
	elapsed := max(0, now.Sub(last).Seconds())
	return math.Min(float64(burst), tokens+elapsed*rate)
}

// Allowed reports whether refill holds a whole token.
func Allowed(refill float64) bool { return refill >= 1-Slack }

// Wait is how long until refill reaches one token at rate: (1-refill)/rate,
// rounded up to the microsecond and at least one microsecond, so that a
// refusal never says "retry now".
func Wait(refill, rate float64) time.Duration {
	micros := math.Ceil((1 - refill) / rate * 1e6)
	if !(micros >= 1) {
		micros = 1
	}
	return time.Duration(micros) * time.Microsecond
}

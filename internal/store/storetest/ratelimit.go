package storetest

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

func rateLimitCases() []testCase {
	return []testCase{
		{"BurstThenRefuse", testBurstThenRefuse},
		{"Refill", testRefill},
		{"IndependentBuckets", testIndependentBuckets},
		{"LaggingClock", testLaggingClock},
		{"ConcurrentTakers", func(t *testing.T, e *env) { concurrentTakers(t, e, e.s, e.s) }},
		{"BadArguments", testTakeBadArguments},
	}
}

// OpenPairFunc opens two independent handles on one fresh database (two
// replicas), both on the clock now. It registers its own cleanup on t.
type OpenPairFunc func(t *testing.T, now func() time.Time) (store.Store, store.Store)

// RunShared runs the cases that need two handles on one database: a token
// bucket must hold across them, not per handle. Backends that can share a
// database between processes run it in addition to Run.
func RunShared(t *testing.T, open OpenPairFunc) {
	t.Run("SharedBucket", func(t *testing.T) {
		clock := NewClock(startTime())
		a, b := open(t, clock.Now)
		e := &env{s: a, clock: clock, ctx: t.Context()}
		// Alternating handles get one burst between them, not one each.
		allowed := 0
		for i := range 10 {
			s := a
			if i%2 == 1 {
				s = b
			}
			if e.take(t, s, "shared", 1, 4).Allowed {
				allowed++
			}
		}
		if allowed != 4 {
			t.Fatalf("%d takes allowed across two handles, want the burst of 4", allowed)
		}
		clock.Advance(time.Second)
		if !e.take(t, b, "shared", 1, 4).Allowed || e.take(t, a, "shared", 1, 4).Allowed {
			t.Fatal("one second at 1/s should refill exactly one token, seen by both handles")
		}
	})
	t.Run("ConcurrentTakers", func(t *testing.T) {
		clock := NewClock(startTime())
		a, b := open(t, clock.Now)
		concurrentTakers(t, &env{s: a, clock: clock, ctx: t.Context()}, a, b)
	})
}

func (e *env) take(t *testing.T, s store.Store, bucket string, rate float64, burst int) store.Taken {
	t.Helper()
	got, err := s.Take(e.ctx, bucket, rate, burst)
	if err != nil {
		t.Fatalf("Take(%q, %v, %d): %v", bucket, rate, burst, err)
	}
	if got.Allowed && got.RetryAfter != 0 {
		t.Fatalf("Take(%q) allowed with RetryAfter %v", bucket, got.RetryAfter)
	}
	if !got.Allowed && got.RetryAfter <= 0 {
		t.Fatalf("Take(%q) refused with RetryAfter %v, want > 0", bucket, got.RetryAfter)
	}
	return got
}

// wantRetry checks a refusal's hint to within the microsecond rounding a
// backend may apply.
func wantRetry(t *testing.T, got store.Taken, want time.Duration) {
	t.Helper()
	if got.Allowed {
		t.Fatalf("Take allowed, want a refusal with RetryAfter %v", want)
	}
	if d := got.RetryAfter - want; d < -time.Microsecond || d > time.Microsecond {
		t.Fatalf("RetryAfter = %v, want %v", got.RetryAfter, want)
	}
}

func (e *env) takeN(t *testing.T, bucket string, rate float64, burst, n int) int {
	t.Helper()
	allowed := 0
	for range n {
		if e.take(t, e.s, bucket, rate, burst).Allowed {
			allowed++
		}
	}
	return allowed
}

func testBurstThenRefuse(t *testing.T, e *env) {
	// A new bucket starts full: burst takes at one instant, then none.
	if n := e.takeN(t, "b", 10, 3, 3); n != 3 {
		t.Fatalf("%d of the first 3 takes allowed, want 3", n)
	}
	for range 5 {
		wantRetry(t, e.take(t, e.s, "b", 10, 3), 100*time.Millisecond)
	}
	// Refusals consumed nothing: one token interval later, exactly one.
	e.clock.Advance(100 * time.Millisecond)
	if !e.take(t, e.s, "b", 10, 3).Allowed {
		t.Fatal("no token 100ms after the bucket emptied at 10/s")
	}
	wantRetry(t, e.take(t, e.s, "b", 10, 3), 100*time.Millisecond)
}

func testRefill(t *testing.T, e *env) {
	if n := e.takeN(t, "r", 2, 4, 4); n != 4 {
		t.Fatalf("%d of 4 takes allowed, want 4", n)
	}
	e.clock.Advance(250 * time.Millisecond) // half a token at 2/s
	wantRetry(t, e.take(t, e.s, "r", 2, 4), 250*time.Millisecond)
	e.clock.Advance(250 * time.Millisecond)
	if !e.take(t, e.s, "r", 2, 4).Allowed {
		t.Fatal("no token after 500ms at 2/s")
	}
	// Three seconds is six tokens' worth; the bucket holds only four.
	e.clock.Advance(3 * time.Second)
	if n := e.takeN(t, "r", 2, 4, 10); n != 4 {
		t.Fatalf("%d takes allowed after a long idle, want the burst of 4", n)
	}
}

func testIndependentBuckets(t *testing.T, e *env) {
	if n := e.takeN(t, "token/111111111111", 1, 2, 5); n != 2 {
		t.Fatalf("first bucket: %d allowed, want 2", n)
	}
	// Prefixes of one another, and other rates, share nothing.
	for _, bucket := range []string{"token/222222222222", "token/1", "token/1111111111112"} {
		if n := e.takeN(t, bucket, 1, 2, 5); n != 2 {
			t.Fatalf("%s: %d allowed after another bucket emptied, want 2", bucket, n)
		}
	}
}

func testLaggingClock(t *testing.T, e *env) {
	start := e.now()
	if !e.take(t, e.s, "lag", 10, 3).Allowed {
		t.Fatal("first take refused")
	}
	// A replica whose clock is ten seconds behind sees no time elapsed.
	// Its take succeeds from the two tokens left, but must not pull the
	// bucket's time backwards, or the next take at the right time would
	// see ten seconds of refill.
	e.clock.Set(start.Add(-10 * time.Second))
	if !e.take(t, e.s, "lag", 10, 3).Allowed {
		t.Fatal("take with tokens left refused at a lagging clock")
	}
	e.clock.Set(start)
	if !e.take(t, e.s, "lag", 10, 3).Allowed {
		t.Fatal("last token refused")
	}
	wantRetry(t, e.take(t, e.s, "lag", 10, 3), 100*time.Millisecond)
	// Refused at a lagging clock: still no tokens minted.
	e.clock.Set(start.Add(-time.Hour))
	wantRetry(t, e.take(t, e.s, "lag", 10, 3), 100*time.Millisecond)
	e.clock.Set(start.Add(100 * time.Millisecond))
	if !e.take(t, e.s, "lag", 10, 3).Allowed {
		t.Fatal("no token 100ms after the bucket emptied")
	}
	wantRetry(t, e.take(t, e.s, "lag", 10, 3), 100*time.Millisecond)
}

// concurrentTakers races many goroutines, alternating between handles a
// and b, on one bucket at a frozen clock: exactly burst may win.
func concurrentTakers(t *testing.T, e *env, a, b store.Store) {
	const workers, burst = 40, 7
	var allowed, refused atomic.Int32
	parallel(workers, func(i int) {
		s := a
		if i%2 == 1 {
			s = b
		}
		got, err := s.Take(e.ctx, "contested", 0.001, burst)
		switch {
		case err != nil:
			t.Errorf("Take: %v", err)
		case got.Allowed:
			allowed.Add(1)
		default:
			refused.Add(1)
		}
	})
	if allowed.Load() != burst || refused.Load() != workers-burst {
		t.Fatalf("%d allowed and %d refused, want %d and %d", allowed.Load(), refused.Load(), burst, workers-burst)
	}
}

func testTakeBadArguments(t *testing.T, e *env) {
	cases := []struct {
		name   string
		bucket string
		rate   float64
		burst  int
	}{
		{"empty bucket", "", 1, 1},
		{"zero rate", "x", 0, 1},
		{"negative rate", "x", -5, 1},
		{"zero burst", "x", 1, 0},
	}
	for _, tc := range cases {
		if got, err := e.s.Take(e.ctx, tc.bucket, tc.rate, tc.burst); err == nil {
			t.Errorf("%s: Take = %+v, nil; want an error", tc.name, got)
		}
	}
}

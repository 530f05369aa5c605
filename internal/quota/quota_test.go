package quota

import (
	"context"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store/sqlite"
)

// TestLimiters runs one scenario against Local and against Shared over a
// real store: both must make the same decisions.
func TestLimiters(t *testing.T) {
	limits := map[string]Limit{"token": {Rate: 10, Burst: 5}, "off": {Rate: 0, Burst: 1}}
	cases := []struct {
		name string
		new  func(t *testing.T, now func() time.Time) Limiter
	}{
		{"local", func(_ *testing.T, now func() time.Time) Limiter { return NewLocal(limits, now) }},
		{"shared", func(t *testing.T, now func() time.Time) Limiter {
			st, err := sqlite.Open(t.Context(), sqlite.Options{Path: sqlite.MemoryPath, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return NewShared(st, limits, SharedOptions{})
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
			l := tc.new(t, func() time.Time { return now })
			limiterScenario(t, l, func(d time.Duration) { now = now.Add(d) })
		})
	}
}

func limiterScenario(t *testing.T, l Limiter, advance func(time.Duration)) {
	ctx := context.Background()
	allow := func(class, account string) Decision {
		t.Helper()
		d, err := l.Allow(ctx, class, account)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	allowed := 0
	var last Decision
	for range 8 {
		d := allow("token", "acct-a")
		if d.Allowed {
			allowed++
		}
		last = d
	}
	if allowed != 5 {
		t.Fatalf("burst: %d allowed at one instant, want 5", allowed)
	}
	if last.Allowed || last.RetryAfter <= 0 || last.RetryAfter > 100*time.Millisecond {
		t.Fatalf("refusal = %+v, want retry within one token interval (100ms)", last)
	}
	if last.RetryAfterSeconds() != 1 {
		t.Errorf("Retry-After seconds = %d, want 1", last.RetryAfterSeconds())
	}

	// Another account has its own bucket; a class without a limit, or
	// with a zero rate, is free.
	if !allow("token", "acct-b").Allowed {
		t.Error("acct-b throttled by acct-a's traffic")
	}
	for range 100 {
		if !allow("control", "acct-a").Allowed || !allow("off", "acct-a").Allowed {
			t.Fatal("class without a limit was throttled")
		}
	}

	// Refusals do not consume: after 100ms exactly one more is allowed.
	advance(100 * time.Millisecond)
	if !allow("token", "acct-a").Allowed {
		t.Fatal("token not refilled after 100ms")
	}
	if allow("token", "acct-a").Allowed {
		t.Fatal("second request in the same refill interval allowed")
	}
}

func TestBurstDefault(t *testing.T) {
	cases := []struct {
		lim  Limit
		want int
	}{
		{Limit{Rate: 100, Burst: 7}, 7},
		{Limit{Rate: 100}, 100},
		{Limit{Rate: 0.01}, 1},
	}
	for _, tc := range cases {
		if got := tc.lim.burst(); got != tc.want {
			t.Errorf("%+v.burst() = %d, want %d", tc.lim, got, tc.want)
		}
	}
}

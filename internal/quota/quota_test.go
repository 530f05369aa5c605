package quota

import (
	"context"
	"testing"
	"time"
)

func TestLocal(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	l := NewLocal(map[string]Limit{"token": {Rate: 10, Burst: 5}}, func() time.Time { return now })

	allowed := 0
	var last Decision
	for range 8 {
		d, err := l.Allow(ctx, "token", "acct-a")
		if err != nil {
			t.Fatal(err)
		}
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

	// Another account has its own bucket; an unlimited class is free.
	if d, _ := l.Allow(ctx, "token", "acct-b"); !d.Allowed {
		t.Error("acct-b throttled by acct-a's traffic")
	}
	for range 100 {
		if d, _ := l.Allow(ctx, "control", "acct-a"); !d.Allowed {
			t.Fatal("class without a limit was throttled")
		}
	}

	// Refusals do not consume: after 100ms exactly one more is allowed.
	now = now.Add(100 * time.Millisecond)
	if d, _ := l.Allow(ctx, "token", "acct-a"); !d.Allowed {
		t.Fatal("token not refilled after 100ms")
	}
	if d, _ := l.Allow(ctx, "token", "acct-a"); d.Allowed {
		t.Fatal("second request in the same refill interval allowed")
	}
}

package loadgen

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestPacerDue(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	cases := []struct {
		name string
		rate float64
		slot int64
		want time.Duration
	}{
		{"ok/first-slot-at-start", 1000, 0, 0},
		{"ok/quarter-seconds", 4, 3, 750 * time.Millisecond},
		{"ok/thirds-truncate", 3, 1, 333333333 * time.Nanosecond},
		// Computed from the slot number, so a long run does not drift.
		{"ok/no-drift-after-3M-slots", 3, 3_000_000, 1_000_000 * time.Second},
		{"ok/fractional-rate", 0.5, 2, 4 * time.Second},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := NewPacer(start, tc.rate).Due(tc.slot).Sub(start); got != tc.want {
				t.Fatalf("Due(%d) at %v/s = +%v, want +%v", tc.slot, tc.rate, got, tc.want)
			}
		})
	}
}

func TestPacedRunOffersExactlyTheScheduledSlots(t *testing.T) {
	var calls atomic.Int64
	res, err := Run(context.Background(), Config{Workers: 4, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond, Rate: 1000},
		func(context.Context, int) error { calls.Add(1); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// Slots due in [100ms, 400ms) at 1000/s: 300 of them, whatever the
	// timer resolution; the 100 warm-up slots ran but do not count.
	if res.Requests != 300 || calls.Load() != 400 {
		t.Fatalf("requests = %d (calls %d), want 300 measured of 400 sent", res.Requests, calls.Load())
	}
	// Instant requests complete about when they are due: only the edges
	// of the window (a warm-up slot finishing inside it, a last slot
	// finishing after it) differ.
	if res.Mode != "paced" || res.TargetRate != 1000 || res.Throughput < 990 || res.Throughput > 1010 {
		t.Errorf("mode/target/throughput = %s/%v/%v", res.Mode, res.TargetRate, res.Throughput)
	}
}

func TestPacedLatencyIncludesQueueing(t *testing.T) {
	// One worker, 100 slots/s, 20ms per request: the server keeps up with
	// half the offered load, so slots start ever later. A closed-loop view
	// would report 20ms for every request; counted from the due time, the
	// median request waited about a quarter of a second.
	res, err := Run(context.Background(), Config{Workers: 1, Duration: 400 * time.Millisecond, Rate: 100},
		func(context.Context, int) error { time.Sleep(20 * time.Millisecond); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 40 {
		t.Fatalf("requests = %d, want all 40 slots", res.Requests)
	}
	if res.Latency.P50 < 150*time.Millisecond || res.Latency.Max < 350*time.Millisecond {
		t.Errorf("p50 = %v, max = %v: queueing behind a slow server is not counted", res.Latency.P50, res.Latency.Max)
	}
	// Offered 100/s, served 50/s: throughput says what was served.
	if res.Throughput < 40 || res.Throughput > 55 {
		t.Errorf("throughput = %v, want about the 50/s the server kept up with", res.Throughput)
	}
}

func TestClosedLoopMeasuresOnlyTheWindow(t *testing.T) {
	var calls atomic.Int64
	res, err := Run(context.Background(), Config{Workers: 3, Warmup: 100 * time.Millisecond, Duration: 200 * time.Millisecond},
		func(context.Context, int) error { calls.Add(1); time.Sleep(2 * time.Millisecond); return nil })
	if err != nil {
		t.Fatal(err)
	}
	// 3 workers × 300ms / ≥2ms: at most 450 calls, about a third of them
	// in the warm-up.
	if res.Requests == 0 || res.Requests >= calls.Load() || calls.Load() > 450 {
		t.Fatalf("requests = %d of %d calls", res.Requests, calls.Load())
	}
	// Completions and starts in the window differ by at most the
	// requests in flight at either edge.
	if completed := int64(res.Throughput*0.2 + 0.5); completed < res.Requests-3 || completed > res.Requests+3 {
		t.Errorf("throughput = %v (%d completed), started %d", res.Throughput, completed, res.Requests)
	}
	if res.Latency.P50 < 2*time.Millisecond || res.Mode != "closed" || res.Workers != 3 {
		t.Errorf("p50 = %v, mode %s, workers %d", res.Latency.P50, res.Mode, res.Workers)
	}
}

func TestFailuresAreCountedNotSampled(t *testing.T) {
	var n atomic.Int64
	boom := errors.New("boom: HTTP 500")
	res, err := Run(context.Background(), Config{Workers: 2, Duration: 100 * time.Millisecond, Rate: 1000},
		func(context.Context, int) error {
			if n.Add(1)%2 == 0 {
				return boom
			}
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests+res.Errors != 100 || res.Errors < 49 || res.Errors > 51 {
		t.Fatalf("requests/errors = %d/%d, want 100 split in half", res.Requests, res.Errors)
	}
	if res.Latency.Count != res.Requests || res.FirstError != boom.Error() {
		t.Errorf("sampled %d, first error %q", res.Latency.Count, res.FirstError)
	}
}

func TestRunStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	started := time.Now()
	_, err := Run(ctx, Config{Workers: 2, Duration: time.Hour}, func(ctx context.Context, _ int) error {
		time.Sleep(time.Millisecond)
		return nil
	})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(started) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(started))
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{{Workers: 0, Duration: time.Second}, {Workers: 1}, {Workers: 1, Duration: time.Second, Rate: -1}} {
		if _, err := Run(context.Background(), cfg, func(context.Context, int) error { return nil }); err == nil {
			t.Errorf("Run(%+v) accepted", cfg)
		}
	}
}

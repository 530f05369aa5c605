package quota

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/internal/store"
)

// fakeTaker records calls and answers with a scripted result.
type fakeTaker struct {
	taken   store.Taken
	err     error
	block   bool // wait for ctx to end, then fail with its error
	buckets []string
	rates   []float64
	bursts  []int
}

func (f *fakeTaker) Take(ctx context.Context, bucket string, rate float64, burst int) (store.Taken, error) {
	f.buckets = append(f.buckets, bucket)
	f.rates = append(f.rates, rate)
	f.bursts = append(f.bursts, burst)
	if f.block {
		<-ctx.Done()
		return store.Taken{}, ctx.Err()
	}
	return f.taken, f.err
}

func TestSharedPassesDecisions(t *testing.T) {
	cases := []struct {
		name  string
		taken store.Taken
		want  Decision
	}{
		{"allowed", store.Taken{Allowed: true}, Decision{Allowed: true}},
		{"refused", store.Taken{RetryAfter: 1500 * time.Millisecond}, Decision{RetryAfter: 1500 * time.Millisecond}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTaker{taken: tc.taken}
			s := NewShared(f, map[string]Limit{"token": {Rate: 2.5}}, SharedOptions{})
			got, err := s.Allow(t.Context(), "token", "123456789012")
			if err != nil || got != tc.want {
				t.Fatalf("Allow = %+v, %v; want %+v", got, err, tc.want)
			}
			if len(f.buckets) != 1 || f.rates[0] != 2.5 || f.bursts[0] != 2 {
				t.Fatalf("store calls = %q rate %v burst %v, want one at 2.5/s burst 2", f.buckets, f.rates, f.bursts)
			}
		})
	}
}

func TestSharedBucketNames(t *testing.T) {
	f := &fakeTaker{taken: store.Taken{Allowed: true}}
	s := NewShared(f, map[string]Limit{"token": {Rate: 1}, "token/1": {Rate: 1}}, SharedOptions{})
	for _, ca := range [][2]string{{"token", "1/2"}, {"token/1", "2"}, {"token", "2"}} {
		if _, err := s.Allow(t.Context(), ca[0], ca[1]); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	for _, b := range f.buckets {
		if seen[b] {
			t.Fatalf("two (class, account) pairs share bucket %q", b)
		}
		seen[b] = true
	}
	// Unlimited classes never reach the store.
	if _, err := s.Allow(t.Context(), "control", "2"); err != nil || len(f.buckets) != 3 {
		t.Fatalf("unlimited class: err %v, %d store calls, want 3", err, len(f.buckets))
	}
}

func TestSharedFailsOpen(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	var logs bytes.Buffer
	counted := map[string]int{}
	f := &fakeTaker{err: errors.New("postgres: take: connection refused")}
	s := NewShared(f, map[string]Limit{"token": {Rate: 1, Burst: 1}}, SharedOptions{
		Logger:       slog.New(slog.NewTextHandler(&logs, nil)),
		Now:          func() time.Time { return now },
		OnStoreError: func(class string) { counted[class]++ },
		WarnEvery:    time.Minute,
	})
	warnings := func() int { return strings.Count(logs.String(), "level=WARN") }
	steps := []struct {
		advance      time.Duration
		wantWarnings int
	}{
		{0, 1},                // the first failure is logged
		{time.Second, 1},      // later ones within the interval are not
		{30 * time.Second, 1}, //
		{30 * time.Second, 2}, // a minute after the first warning: again
		{time.Second, 2},
	}
	for i, st := range steps {
		now = now.Add(st.advance)
		d, err := s.Allow(t.Context(), "token", "123456789012")
		if err != nil || !d.Allowed {
			t.Fatalf("step %d: Allow = %+v, %v; want allowed (fail open)", i, d, err)
		}
		if got := warnings(); got != st.wantWarnings {
			t.Fatalf("step %d: %d warnings, want %d:\n%s", i, got, st.wantWarnings, logs.String())
		}
	}
	if counted["token"] != len(steps) {
		t.Errorf("store errors counted = %v, want %d for token", counted, len(steps))
	}
	if !strings.Contains(logs.String(), "connection refused") || !strings.Contains(logs.String(), "failures_not_logged=2") {
		t.Errorf("warning lacks the cause or the suppressed count:\n%s", logs.String())
	}
}

func TestSharedTimeoutAndCancel(t *testing.T) {
	errs := 0
	f := &fakeTaker{block: true}
	s := NewShared(f, map[string]Limit{"token": {Rate: 1}}, SharedOptions{
		Timeout:      20 * time.Millisecond,
		OnStoreError: func(string) { errs++ },
	})
	// A store that hangs costs at most Timeout, then fails open.
	start := time.Now()
	d, err := s.Allow(t.Context(), "token", "a")
	if err != nil || !d.Allowed {
		t.Fatalf("hung store: Allow = %+v, %v; want allowed", d, err)
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Fatalf("hung store held the request for %v", el)
	}
	if errs != 1 {
		t.Fatalf("hung store counted %d errors, want 1", errs)
	}
	// A caller that went away is not a store failure.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := s.Allow(ctx, "token", "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled caller: err = %v, want context.Canceled", err)
	}
	if errs != 1 {
		t.Fatalf("canceled caller counted as a store error (%d)", errs)
	}
}

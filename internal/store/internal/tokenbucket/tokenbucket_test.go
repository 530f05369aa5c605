package tokenbucket

import (
	"testing"
	"time"
)

func TestRefillAndWait(t *testing.T) {
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		tokens  float64
		elapsed time.Duration
		rate    float64
		burst   int
		refill  float64
		allowed bool
		wait    time.Duration // checked when not allowed
	}{
		{"full stays full", 10, time.Hour, 5, 10, 10, true, 0},
		{"empty refills one in 1/rate", 0, 100 * time.Millisecond, 10, 5, 1, true, 0},
		{"partial", 0, 50 * time.Millisecond, 10, 5, 0.5, false, 50 * time.Millisecond},
		{"clock behind mints nothing", 0.25, -time.Hour, 10, 5, 0.25, false, 75 * time.Millisecond},
		{"empty at frozen clock", 0, 0, 2, 1, 0, false, 500 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := Refill(tc.tokens, t0, t0.Add(tc.elapsed), tc.rate, tc.burst)
			if d := got - tc.refill; d > 1e-9 || d < -1e-9 {
				t.Fatalf("Refill = %v, want %v", got, tc.refill)
			}
			if Allowed(got) != tc.allowed {
				t.Fatalf("Allowed(%v) = %v, want %v", got, !tc.allowed, tc.allowed)
			}
			if !tc.allowed {
				if w := Wait(got, tc.rate); w != tc.wait {
					t.Errorf("Wait = %v, want %v", w, tc.wait)
				}
			}
		})
	}
	if w := Wait(1.5, 10); w != time.Microsecond {
		t.Errorf("Wait with a token available = %v, want the 1µs floor", w)
	}
}

func TestCheck(t *testing.T) {
	cases := []struct {
		name   string
		bucket string
		rate   float64
		burst  int
		ok     bool
	}{
		{"valid", "b", 0.01, 1, true},
		{"empty bucket", "", 1, 1, false},
		{"zero rate", "b", 0, 1, false},
		{"negative rate", "b", -1, 1, false},
		{"zero burst", "b", 1, 0, false},
	}
	for _, tc := range cases {
		if err := Check(tc.bucket, tc.rate, tc.burst); (err == nil) != tc.ok {
			t.Errorf("%s: Check = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

package loadgen

import (
	"math/rand/v2"
	"testing"
	"time"
)

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

func TestPercentileNearestRank(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = ms(i + 1)
	}
	thousand := make([]time.Duration, 1000)
	for i := range thousand {
		thousand[i] = ms(i + 1)
	}
	cases := []struct {
		name   string
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{"ok/p50-of-100", hundred, 0.50, ms(50)},
		{"ok/p90-of-100", hundred, 0.90, ms(90)},
		{"ok/p99-of-100-is-not-rounded-up", hundred, 0.99, ms(99)},
		{"ok/p100-is-max", hundred, 1, ms(100)},
		{"ok/p99-of-1000", thousand, 0.99, ms(990)},
		{"ok/p50-of-1000", thousand, 0.50, ms(500)},
		{"ok/tiny-q-is-min", thousand, 0.0001, ms(1)},
		{"ok/single", []time.Duration{ms(7)}, 0.99, ms(7)},
		{"ok/p50-of-two-is-lower", []time.Duration{ms(1), ms(2)}, 0.5, ms(1)},
		{"ok/empty", nil, 0.5, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.q); got != tc.want {
				t.Fatalf("Percentile(q=%v) = %v, want %v", tc.q, got, tc.want)
			}
		})
	}
}

func TestSamplerExactBelowCap(t *testing.T) {
	s := NewSampler(2000, 1)
	for _, i := range rand.New(rand.NewPCG(1, 2)).Perm(1000) {
		s.Add(ms(i + 1))
	}
	got := Summarize(s)
	want := Summary{Count: 1000, Mean: 500*time.Millisecond + 500*time.Microsecond,
		P50: ms(500), P90: ms(900), P99: ms(990), Max: ms(1000), Exact: true}
	if got != want {
		t.Fatalf("Summarize = %+v\nwant        %+v", got, want)
	}
}

func TestSamplerReservoirStaysUniform(t *testing.T) {
	// Values arrive in increasing order, the worst case for a sampler
	// that keeps only the first or the last values.
	s := NewSampler(2000, 7)
	const n = 200_000
	for i := range n {
		s.Add(time.Duration(i) * time.Microsecond)
	}
	got := Summarize(s)
	if got.Exact || got.Count != n || got.Max != (n-1)*time.Microsecond {
		t.Fatalf("count/max/exact = %d/%v/%v", got.Count, got.Max, got.Exact)
	}
	if got.Mean != time.Duration((n-1)/2)*time.Microsecond+500*time.Nanosecond {
		t.Errorf("mean = %v, want exact mean over all values", got.Mean)
	}
	for _, c := range []struct {
		name      string
		got, want time.Duration
	}{{"p50", got.P50, n / 2 * time.Microsecond}, {"p90", got.P90, n * 9 / 10 * time.Microsecond}} {
		// A 2000-value sample estimates a quantile within a few percent.
		if diff := (c.got - c.want).Abs(); diff > c.want/20 {
			t.Errorf("%s = %v, want %v ± 5%%", c.name, c.got, c.want)
		}
	}
}

func TestSummarizeWeightsOverflowedSamplers(t *testing.T) {
	// Worker a saw 100k fast requests but kept 1000; worker b saw 1000
	// slow ones and kept all. Slow requests are 1% of the total, so p90
	// and p99 are fast; merging the two reservoirs as they are would make
	// half the sample slow.
	a, b := NewSampler(1000, 1), NewSampler(1000, 2)
	for range 100_000 {
		a.Add(ms(1))
	}
	for range 1000 {
		b.Add(ms(100))
	}
	got := Summarize(a, b)
	if got.P50 != ms(1) || got.P90 != ms(1) || got.P99 != ms(1) {
		t.Errorf("p50/p90/p99 = %v/%v/%v, want 1ms: slow worker over-weighted", got.P50, got.P90, got.P99)
	}
	if got.Max != ms(100) || got.Count != 101_000 || got.Exact {
		t.Errorf("max/count/exact = %v/%d/%v", got.Max, got.Count, got.Exact)
	}
	// Reservoirs are not consumed by summarizing.
	if again := Summarize(a, b); again.Count != got.Count || again.Max != got.Max {
		t.Errorf("second Summarize = %+v", again)
	}
}

func TestSummarizeEmpty(t *testing.T) {
	if got := Summarize(NewSampler(10, 1), NewSampler(10, 2)); got != (Summary{Exact: true}) {
		t.Fatalf("Summarize of nothing = %+v", got)
	}
}

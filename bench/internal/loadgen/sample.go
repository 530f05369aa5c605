// Package loadgen is the measuring core of the load harness (bench/load):
// closed- and open-loop request loops, bounded latency samples with exact
// percentiles, pre-serialized SigV4-signed requests, and the Markdown and
// JSON report. It knows nothing about agentcore's operations, so it can be
// tested on its own.
package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"time"
)

// DefaultSampleCap bounds the latencies kept per run (8 MiB): every run of
// a few minutes at loopback rates fits, so percentiles are exact.
const DefaultSampleCap = 1 << 20

// Sampler keeps a uniform sample of at most cap latencies (reservoir
// sampling, Algorithm R) plus the exact count, sum and maximum. Memory stays
// flat however long a run lasts, and percentiles are exact while the run
// has no more than cap requests. One goroutine owns a Sampler; runs merge
// the samplers of their workers with Summarize.
type Sampler struct {
	cap  int
	seen int64
	sum  time.Duration
	max  time.Duration
	vals []time.Duration
	rng  *rand.Rand
}

// NewSampler returns a sampler keeping at most capacity values (at least
// one). seed makes the choice of kept values reproducible.
func NewSampler(capacity int, seed uint64) *Sampler {
	capacity = max(capacity, 1)
	return &Sampler{cap: capacity, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
}

// Add records one latency.
func (s *Sampler) Add(d time.Duration) {
	s.seen++
	s.sum += d
	s.max = max(s.max, d)
	if len(s.vals) < s.cap {
		s.vals = append(s.vals, d)
		return
	}
	if j := s.rng.Int64N(s.seen); j < int64(s.cap) {
		s.vals[j] = d
	}
}

// Count is the number of latencies added.
func (s *Sampler) Count() int64 { return s.seen }

// Summary describes a latency distribution.
type Summary struct {
	Count int64
	Mean  time.Duration
	P50   time.Duration
	P90   time.Duration
	P99   time.Duration
	Max   time.Duration
	// Exact is false when some sampler dropped values, i.e. the
	// percentiles come from a uniform sample rather than every request.
	Exact bool
}

// Summarize merges samplers into one summary. Samplers that overflowed keep
// different fractions of what they saw, so each one is thinned to the
// lowest kept fraction first: the merged sample stays uniform over all
// requests instead of over-weighting the slower workers.
func Summarize(samplers ...*Sampler) Summary {
	var out Summary
	var sum time.Duration
	rate := 1.0
	for _, s := range samplers {
		out.Count += s.seen
		sum += s.sum
		out.Max = max(out.Max, s.max)
		if s.seen > 0 {
			rate = min(rate, float64(len(s.vals))/float64(s.seen))
		}
	}
	if out.Count == 0 {
		return Summary{Exact: true}
	}
	out.Mean = sum / time.Duration(out.Count)
	out.Exact = rate == 1
	var all []time.Duration
	for _, s := range samplers {
		keep := len(s.vals)
		if !out.Exact {
			keep = min(keep, int(math.Round(rate*float64(s.seen))))
		}
		// The reservoir is already a uniform sample, so its prefix after
		// a shuffle is one too; shuffle a copy to leave s untouched.
		vals := slices.Clone(s.vals)
		if keep < len(vals) {
			s.rng.Shuffle(len(vals), func(i, j int) { vals[i], vals[j] = vals[j], vals[i] })
		}
		all = append(all, vals[:keep]...)
	}
	slices.Sort(all)
	out.P50 = Percentile(all, 0.50)
	out.P90 = Percentile(all, 0.90)
	out.P99 = Percentile(all, 0.99)
	return out
}

// Percentile returns the nearest-rank q-quantile (0 < q <= 1) of sorted:
// the smallest value such that at least q of all values are <= it. It
// returns 0 for an empty slice.
func Percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	// The epsilon keeps float error from pushing an exact rank (0.99 of
	// 100) up by one.
	rank := int(math.Ceil(q*float64(len(sorted))-1e-9)) - 1
	return sorted[min(max(rank, 0), len(sorted)-1)]
}

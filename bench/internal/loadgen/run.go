package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// Op performs one request. worker is the index of the calling goroutine
// (0..Workers-1), so an Op can keep per-worker state (a connection, a
// signature cache) without locks. An error counts the request as failed.
type Op func(ctx context.Context, worker int) error

// Config describes one run.
type Config struct {
	// Workers is the number of goroutines, each with at most one request
	// in flight: the number of connections in closed loop, the most
	// requests in flight when paced.
	Workers int
	// Warmup is run but not measured (connections, caches, JIT of the
	// database's page cache).
	Warmup time.Duration
	// Duration is the measured window.
	Duration time.Duration
	// Rate, when > 0, paces request starts open-loop at Rate per second.
	// Latency is then counted from each request's scheduled start, not
	// from when a worker got round to it, so a stalled server shows up as
	// latency instead of silently lowering the offered load (coordinated
	// omission). 0 means closed loop: every worker sends back-to-back.
	Rate float64
	// SampleCap bounds the latencies kept; <= 0 means DefaultSampleCap.
	SampleCap int
}

// Result is what a run measured. Requests, Errors and Latency cover the
// requests started (closed loop) or due (paced) inside the measured window;
// Throughput counts completions inside it.
type Result struct {
	// Mode is "closed" or "paced".
	Mode    string
	Workers int
	// TargetRate is Config.Rate of a paced run.
	TargetRate float64
	// Requests succeeded; Errors failed.
	Requests int64
	Errors   int64
	Window   time.Duration
	// Throughput is successful requests completed per second of the
	// window. A paced run below its TargetRate means the server fell
	// behind (its latency then grows with the backlog).
	Throughput float64
	// Latency covers successful requests only.
	Latency Summary
	// FirstError is the first failure's message, for the report.
	FirstError string
	// CPUSelf and CPUOthers are the cores this process and the rest of
	// the machine kept busy during the run, when the caller could measure
	// them (0 otherwise): a run that had to share the machine says so.
	CPUSelf, CPUOthers float64
}

// Run drives op per cfg until the window ends or ctx is cancelled (then it
// returns ctx's error). Failed requests are counted, not returned.
func Run(ctx context.Context, cfg Config, op Op) (Result, error) {
	if cfg.Workers < 1 || cfg.Duration <= 0 || cfg.Warmup < 0 || cfg.Rate < 0 {
		return Result{}, fmt.Errorf("loadgen: invalid config %+v", cfg)
	}
	capacity := cfg.SampleCap
	if capacity <= 0 {
		capacity = DefaultSampleCap
	}
	start := time.Now()
	w := window{from: start.Add(cfg.Warmup)}
	w.to = w.from.Add(cfg.Duration)

	var pacer *Pacer
	mode := "closed"
	if cfg.Rate > 0 {
		p := NewPacer(start, cfg.Rate)
		pacer, mode = &p, "paced"
	}
	var next atomic.Int64 // next pacing slot
	var firstErr error
	var errOnce sync.Once
	samplers := make([]*Sampler, cfg.Workers)
	errs := make([]int64, cfg.Workers)
	done := make([]int64, cfg.Workers) // successes completed in the window
	var wg sync.WaitGroup
	for i := range cfg.Workers {
		samplers[i] = NewSampler(max(capacity/cfg.Workers, 1), uint64(i)+1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rec := func(begin time.Time, err error) {
				end := time.Now()
				if err == nil && w.contains(end) {
					done[i]++
				}
				if !w.contains(begin) {
					return
				}
				if err != nil {
					errs[i]++
					errOnce.Do(func() { firstErr = err })
					return
				}
				samplers[i].Add(end.Sub(begin))
			}
			if pacer == nil {
				closedLoop(ctx, w, i, op, rec)
			} else {
				pacedLoop(ctx, w, pacer, &next, i, op, rec)
			}
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	res := Result{Mode: mode, Workers: cfg.Workers, TargetRate: cfg.Rate, Window: cfg.Duration,
		Latency: Summarize(samplers...)}
	res.Requests = res.Latency.Count
	var completed int64
	for i := range errs {
		res.Errors += errs[i]
		completed += done[i]
	}
	res.Throughput = float64(completed) / cfg.Duration.Seconds()
	if firstErr != nil {
		res.FirstError = firstErr.Error()
	}
	return res, nil
}

// window is the measured interval [from, to).
type window struct{ from, to time.Time }

func (w window) contains(t time.Time) bool { return !t.Before(w.from) && t.Before(w.to) }

func closedLoop(ctx context.Context, w window, worker int, op Op, rec func(time.Time, error)) {
	for ctx.Err() == nil {
		begin := time.Now()
		if !begin.Before(w.to) {
			return
		}
		rec(begin, op(ctx, worker))
	}
}

func pacedLoop(ctx context.Context, w window, p *Pacer, next *atomic.Int64, worker int, op Op, rec func(time.Time, error)) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for {
		due := p.Due(next.Add(1) - 1)
		if !due.Before(w.to) {
			return
		}
		if wait := time.Until(due); wait > 0 {
			timer.Reset(wait)
			select {
			case <-ctx.Done():
				return
			case <-timer.C:
			}
		}
		// A slot claimed late (every worker was busy) still counts from
		// its due time: the wait is latency a real caller would see.
		rec(due, op(ctx, worker))
	}
}

// Pacer is an open-loop schedule: slot i is due at Start + i/Rate. Due
// times are computed from the slot number, not accumulated, so rounding
// never drifts the offered rate.
type Pacer struct {
	Start time.Time
	Rate  float64 // slots per second, > 0
}

// NewPacer returns a schedule starting at start.
func NewPacer(start time.Time, rate float64) Pacer { return Pacer{Start: start, Rate: rate} }

// Due is when slot i should start.
func (p Pacer) Due(i int64) time.Time {
	return p.Start.Add(time.Duration(float64(i) * float64(time.Second) / p.Rate))
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"runtime/pprof"
	"time"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
)

// scenario is one operation under load, next to its floors.
type scenario struct {
	key   string // name for -scenarios
	title string // the operation, as the report names it
	// prepare creates what the operation needs on the site, checks that
	// it works, and returns the request to load it with. An error makes
	// the scenario n/a.
	prepare func(ctx context.Context, s *site) (*plan, error)
	goal    *goal
}

// goal is a throughput target relative to one floor.
type goal struct {
	name  string
	floor string // variant of the floor row
	label string // the floor, briefly
	min   float64
}

func (g *goal) text() string { return fmt.Sprintf("≥ %.2f× %s", g.min, g.label) }

// plan is a prepared scenario.
type plan struct {
	req *loadgen.Request
	// sample is a successful response; the bare floor serves its bytes.
	sample loadgen.Response
	floors []floor
}

// floor is an in-process lower bound of the operation's cost.
type floor struct {
	variant string
	op      loadgen.Op
	// cpuBound floors run on GOMAXPROCS goroutines: more would only add
	// scheduler waits to their latency, not throughput.
	cpuBound bool
}

// p99Goal is the latency target at pacedShare of the peak.
const p99Goal = 5 * time.Millisecond

// runScenario measures one scenario on s: its peak, at once a paced pass
// at a share of the peak, then the floors. Only a cancelled ctx is an
// error; a scenario that cannot run becomes n/a rows.
func (b *bench) runScenario(ctx context.Context, s *site, sc scenario) error {
	b.log.Printf("== %s", sc.title)
	p, err := sc.prepare(ctx, s)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		reason := naReason(err)
		b.log.Printf("%s: n/a (%s)", sc.title, reason)
		b.rep.Throughput = append(b.rep.Throughput, loadgen.Row{Scenario: sc.title, Variant: variantOurs, NA: reason})
		b.rep.Paced = append(b.rep.Paced, loadgen.Row{Scenario: sc.title, Variant: b.pacedVariant(), NA: reason})
		if sc.goal != nil {
			b.target(sc.goal.name, sc.goal.text(), "n/a ("+reason+")", loadgen.NA)
		}
		b.target(b.p99Name(sc.title), "< "+loadgen.Ms(p99Goal), "n/a ("+reason+")", loadgen.NA)
		return nil
	}
	stopProfile, err := b.profilePeak(sc.key)
	if err != nil {
		return err
	}
	ours, err := b.measure(ctx, sc.title, b.closed(b.o.workers), request(s.conns, p.req))
	stopProfile()
	if err != nil {
		return err
	}
	// The paced pass follows the peak at once, so that both see the same
	// machine (other load on it shifts capacity between runs).
	rate := b.o.pacedShare * ours.Throughput
	var paced *loadgen.Result
	if rate > 0 {
		if paced, err = b.measure(ctx, sc.title+" / paced", b.paced(rate), request(s.conns, p.req)); err != nil {
			return err
		}
	}
	bare, barePaced, err := b.bareFloor(ctx, s, sc.title, p, rate)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	rows := []loadgen.Row{{Scenario: sc.title, Variant: variantOurs, Result: ours}, floorRow(sc.title, variantBare, ours, bare, err)}
	floors := map[string]*loadgen.Result{variantBare: bare}
	for _, f := range p.floors {
		workers := b.o.workers
		if f.cpuBound {
			workers = runtime.GOMAXPROCS(0)
		}
		res, err := b.measure(ctx, sc.title+" / "+f.variant, b.closed(workers), f.op)
		if err != nil {
			return err
		}
		rows = append(rows, floorRow(sc.title, f.variant, ours, res, nil))
		floors[f.variant] = res
	}
	b.rep.Throughput = append(b.rep.Throughput, rows...)

	if g := sc.goal; g != nil {
		goalText := g.text()
		if f := floors[g.floor]; f != nil {
			r := loadgen.Ratio(ours.Throughput, f.Throughput)
			measured := fmt.Sprintf("%.2f× (%s vs %s req/s)", r, loadgen.Rate(ours.Throughput), loadgen.Rate(f.Throughput))
			if c := ceiling(f, floors); c > 0 && len(floors) > 1 {
				measured += fmt.Sprintf("; ceiling from the floors ≈ %.2f×", c)
			}
			b.target(g.name, goalText, measured+busy(ours, f), loadgen.AtLeast(r, g.min))
		} else {
			b.target(g.name, goalText, "n/a (floor not measured)", loadgen.NA)
		}
	}
	b.pacedRows(sc.title, paced, barePaced)
	return nil
}

// ceiling estimates the best ratio to the floor goal that any server could
// reach on this machine. Every floor of a scenario is a part of its
// request's work (the HTTP round trip with the client's signing, the
// audit append, the signature), so a request costs at least the sum of
// their CPU per operation, and a server that used as many cores as the
// goal's floor would reach at most cost(goal)/Σ cost of its throughput.
// It is 0 when the CPU of a floor could not be measured.
func ceiling(goal *loadgen.Result, floors map[string]*loadgen.Result) float64 {
	per := func(r *loadgen.Result) float64 {
		if r == nil || r.Throughput <= 0 || r.CPUSelf <= 0 {
			return 0
		}
		return r.CPUSelf / r.Throughput
	}
	g := per(goal)
	if g == 0 {
		return 0
	}
	var sum float64
	for _, f := range floors {
		c := per(f)
		if c == 0 {
			return 0
		}
		sum += c
	}
	return g / sum
}

// pacedRows reports the paced pass next to the bare server at the same
// rate, and checks the p99 target. The bare row tells a slow server from a
// noisy machine: both see the same stalls of the host.
func (b *bench) pacedRows(title string, paced, bare *loadgen.Result) {
	goalText := "< " + loadgen.Ms(p99Goal)
	if paced == nil {
		b.rep.Paced = append(b.rep.Paced, loadgen.Row{Scenario: title, Variant: b.pacedVariant(), NA: "no successful request at peak"})
		b.target(b.p99Name(title), goalText, "n/a (no peak)", loadgen.NA)
		return
	}
	b.rep.Paced = append(b.rep.Paced, loadgen.Row{Scenario: title, Variant: b.pacedVariant(), Result: paced})
	measured := fmt.Sprintf("%s at %s req/s", loadgen.Ms(paced.Latency.P99), loadgen.Rate(paced.Throughput))
	if bare != nil {
		b.rep.Paced = append(b.rep.Paced, loadgen.Row{Scenario: title, Variant: "floor: bare net/http, same rate", Result: bare})
		measured += fmt.Sprintf(" (bare net/http: %s)", loadgen.Ms(bare.Latency.P99))
	}
	status := loadgen.Miss
	if paced.Latency.P99 < p99Goal && paced.Errors == 0 && paced.Requests > 0 {
		status = loadgen.Pass
	}
	if paced.Errors > 0 {
		measured += fmt.Sprintf(", %d errors", paced.Errors)
	}
	b.target(b.p99Name(title), goalText, measured+busy(paced, bare), status)
}

// busyCores is how much CPU other work may take during a run before the
// targets it decides say so.
const busyCores = 0.25

// busy notes that other work on the machine took CPU during any of the
// runs behind a target, so that a MISS can be told from noise.
func busy(rs ...*loadgen.Result) string {
	worst := 0.0
	for _, r := range rs {
		if r != nil {
			worst = max(worst, r.CPUOthers)
		}
	}
	if worst < busyCores {
		return ""
	}
	return fmt.Sprintf("; other processes used up to %.2f cores meanwhile", worst)
}

func (b *bench) pacedVariant() string {
	return fmt.Sprintf("%.0f%% of peak", 100*b.o.pacedShare)
}

func (b *bench) p99Name(title string) string {
	return fmt.Sprintf("p99 at %.0f%% of peak: %s", 100*b.o.pacedShare, title)
}

func (b *bench) target(name, goal, measured string, status loadgen.Status) {
	b.rep.Targets = append(b.rep.Targets, loadgen.Target{Name: name, Goal: goal, Measured: measured, Status: status})
}

// floorRow reports a floor and how our throughput compares with it.
func floorRow(title, variant string, ours, res *loadgen.Result, err error) loadgen.Row {
	if err != nil {
		return loadgen.Row{Scenario: title, Variant: variant, NA: err.Error()}
	}
	return loadgen.Row{Scenario: title, Variant: variant, Result: res, Ratio: loadgen.Ratio(ours.Throughput, res.Throughput)}
}

// bareFloor loads a bare net/http server that answers every request with
// the bytes and headers of p.sample: what any Go HTTP service could do
// with the same response on the same machine, through the same harness
// (including SigV4 signing on the client). It runs closed loop, then, when
// rate > 0, paced at rate.
func (b *bench) bareFloor(ctx context.Context, s *site, title string, p *plan, rate float64) (closed, paced *loadgen.Result, err error) {
	url, stop, err := serveBare(p.sample)
	if err != nil {
		return nil, nil, err
	}
	defer stop()
	n := max(b.o.workers, b.o.pacedWorkers)
	c := loadgen.NewClient([]string{url}, s.env.Creds, n)
	defer c.Close()
	conns := make([]*loadgen.Conn, n)
	for i := range conns {
		conns[i] = c.Conn()
	}
	if closed, err = b.measure(ctx, title+" / bare net/http", b.closed(b.o.workers), request(conns, p.req)); err != nil || rate == 0 {
		return closed, nil, err
	}
	paced, err = b.measure(ctx, title+" / bare net/http / paced", b.paced(rate), request(conns, p.req))
	return closed, paced, err
}

// serveBare starts the bare server on loopback.
func serveBare(sample loadgen.Response) (string, func(), error) {
	hdr := sample.Header.Clone()
	hdr.Del("Date") // net/http sets both again
	hdr.Del("Content-Length")
	body := bytes.Clone(sample.Body)
	status := sample.Status
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The real server reads every body (it hashes it for SigV4).
		_, _ = io.Copy(io.Discard, r.Body)
		for k, v := range hdr {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		_, _ = w.Write(body)
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("bare server: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// profilePeak starts the CPU profile of scenario key's closed-loop run when
// -profile-peak asks for it; the returned function stops it.
func (b *bench) profilePeak(key string) (stop func(), err error) {
	if !b.o.profilePeak {
		return func() {}, nil
	}
	end, err := startRecording(b.o.cpuprofile+"."+key, "cpu profile", pprof.StartCPUProfile, pprof.StopCPUProfile)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := end(); err != nil {
			b.log.Printf("cpu profile: %v", err)
		}
	}, nil
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/agentcore-identity/agentcore/bench/internal/loadgen"
)

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 100000: "100,000", 1000000: "1,000,000"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil)
	if err != nil {
		t.Fatal(err)
	}
	if o.workers != 16 || o.rows != 1_000_000 || o.duration != 10*time.Second || o.pacedShare != 0.5 || !o.selected("size") {
		t.Errorf("defaults = %+v", o)
	}
	o, err = parseFlags([]string{"-scenarios", "apikey, sts", "-rows", "100000"})
	if err != nil || !o.selected("sts") || !o.selected("apikey") || o.selected("size") || o.rows != 100000 {
		t.Errorf("subset = %+v, %v", o, err)
	}
	for _, args := range [][]string{
		{"-scenarios", "apikey,nope"},
		{"-rows", "10", "-small-rows", "100"},
		{"-paced-share", "0"},
		{"-store", "mysql"},
		{"-c", "0"},
		{"extra"},
	} {
		if _, err := parseFlags(args); err == nil {
			t.Errorf("parseFlags(%q) accepted", args)
		}
	}
}

func TestCatchFatal(t *testing.T) {
	var x tb
	err := catchFatal(func() { x.Fatalf("oidctest: %s", "boom") })
	if err == nil || err.Error() != "oidctest: boom" {
		t.Fatalf("catchFatal = %v", err)
	}
	defer func() {
		if r := recover(); r != "other" {
			t.Fatalf("recovered %v, want the foreign panic passed on", r)
		}
	}()
	_ = catchFatal(func() { panic("other") })
}

// TestSmoke runs the harness end to end for a moment: in-process server,
// the API-key scenario with its floors and paced pass, and the store-size
// scenario, reported as JSON.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("starts servers")
	}
	o, err := parseFlags([]string{"-scenarios", "apikey,size", "-d", "300ms", "-warmup", "50ms", "-c", "4", "-paced-c", "8",
		"-rows", "1500", "-small-rows", "500", "-json", "-tmpdir", t.TempDir(), "-out", filepath.Join(t.TempDir(), "report.md")})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := run(ctx, o, &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	type result struct {
		Requests int64
		Errors   int64
		P50Ms    float64
	}
	var rep struct {
		Throughput []struct {
			Variant string
			NA      string
			Ratio   float64
			Result  *result
		}
		Paced []struct {
			Variant string
			Result  *result
		}
		StoreSize []struct {
			Scenario, Variant string
			Result            *result
		}
		Targets []struct{ Name, Status string }
	}
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(rep.Throughput) != 3 {
		t.Fatalf("throughput rows = %+v, want ours, bare floor, audit component", rep.Throughput)
	}
	for _, r := range rep.Throughput {
		if r.Result == nil || r.Result.Requests == 0 || r.Result.Errors != 0 {
			t.Errorf("%s: %+v (n/a %q)", r.Variant, r.Result, r.NA)
		}
	}
	if rep.Throughput[1].Variant != variantBare || rep.Throughput[1].Ratio <= 0 {
		t.Errorf("bare floor row = %+v", rep.Throughput[1])
	}
	// Ours at half the peak, then the bare server at the same rate.
	if len(rep.Paced) != 2 || rep.Paced[0].Variant != "50% of peak" || !strings.HasPrefix(rep.Paced[1].Variant, "floor: bare") {
		t.Fatalf("paced rows = %+v", rep.Paced)
	}
	for _, r := range rep.Paced {
		if r.Result == nil || r.Result.Requests == 0 {
			t.Errorf("paced %s: %+v", r.Variant, r.Result)
		}
	}
	// Two vends and the uncached vault read, each at both sizes.
	if len(rep.StoreSize) != 6 || rep.StoreSize[0].Variant != "500" || rep.StoreSize[1].Variant != "1,500" || rep.StoreSize[0].Result == nil {
		t.Errorf("store-size rows = %+v", rep.StoreSize)
	}
	for _, r := range rep.StoreSize[4:] {
		if r.Scenario != vaultReadTitle || r.Result == nil || r.Result.Requests == 0 || r.Result.Errors != 0 {
			t.Errorf("vault read row = %+v", r)
		}
	}
	for _, tg := range rep.Targets {
		if !strings.Contains("PASS MISS n/a", tg.Status) {
			t.Errorf("target %q has status %q", tg.Name, tg.Status)
		}
	}
	if len(rep.Targets) != 4 { // vs bare, p99, two store sizes (the vault read has none)
		t.Errorf("targets = %+v", rep.Targets)
	}
	if md, err := os.ReadFile(o.out); err != nil || !bytes.Contains(md, []byte("| GetResourceApiKey (cached vend) | agentcore |")) {
		t.Errorf("-out file: %v\n%s", err, md)
	}
}

func TestBusy(t *testing.T) {
	quiet := &loadgen.Result{CPUOthers: 0.1}
	loud := &loadgen.Result{CPUOthers: 1.25}
	if got := busy(quiet, nil); got != "" {
		t.Errorf("quiet machine flagged: %q", got)
	}
	if got := busy(quiet, loud); !strings.Contains(got, "1.25 cores") {
		t.Errorf("busy machine not flagged: %q", got)
	}
}

func TestBestOfKeepsTheLowestMedian(t *testing.T) {
	b := &bench{log: log.New(io.Discard, "", 0)}
	var calls atomic.Int64
	started := time.Now()
	// The first third of the time is slow (a burst of other work).
	op := func(context.Context, int) error {
		calls.Add(1)
		if time.Since(started) < 150*time.Millisecond {
			time.Sleep(5 * time.Millisecond)
		} else {
			time.Sleep(500 * time.Microsecond)
		}
		return nil
	}
	res, err := b.bestOf(context.Background(), "x", 3, loadgen.Config{Workers: 1, Duration: 450 * time.Millisecond}, op)
	if err != nil {
		t.Fatal(err)
	}
	if res.Window != 150*time.Millisecond || res.Latency.P50 >= 5*time.Millisecond {
		t.Errorf("best = window %v, p50 %v; want a 150ms run of fast requests", res.Window, res.Latency.P50)
	}
}

func TestFillOrderIsAddressOrder(t *testing.T) {
	const n = 3000
	order := fillOrder(n)
	seen := make([]bool, n)
	prev := ""
	for _, u := range order {
		if seen[u] {
			t.Fatalf("user %d twice", u)
		}
		seen[u] = true
		rec, err := tokenRecord("123456789012", int(u), []byte("sealed"))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Account < prev {
			t.Fatalf("user %d (%s) comes after %s", u, rec.Account, prev)
		}
		prev = rec.Account
	}
	rec, _ := tokenRecord("123456789012", 0, make([]byte, 280))
	if len(rec.Data) < 500 || len(rec.Data) > 800 {
		t.Errorf("filler document is %d bytes, want about 600 like a vault token record", len(rec.Data))
	}
}

func TestCeiling(t *testing.T) {
	res := func(reqs, cores float64) *loadgen.Result {
		return &loadgen.Result{Throughput: reqs, CPUSelf: cores}
	}
	sign, bare, audit := res(10000, 2), res(40000, 2), res(20000, 1) // 200, 50, 50 µs of CPU each
	for _, tc := range []struct {
		name   string
		goal   *loadgen.Result
		floors map[string]*loadgen.Result
		want   float64
	}{
		{"signature over signature and HTTP", sign, map[string]*loadgen.Result{"sign": sign, "bare": bare}, 0.8},
		{"HTTP over HTTP and audit", bare, map[string]*loadgen.Result{"bare": bare, "audit": audit}, 0.5},
		{"HTTP alone", bare, map[string]*loadgen.Result{"bare": bare}, 1},
		{"a floor without CPU", sign, map[string]*loadgen.Result{"sign": sign, "bare": res(40000, 0)}, 0},
		{"no requests", res(0, 2), map[string]*loadgen.Result{"x": res(0, 2)}, 0},
	} {
		if got := ceiling(tc.goal, tc.floors); math.Abs(got-tc.want) > 1e-9 {
			t.Errorf("%s: ceiling = %v, want %v", tc.name, got, tc.want)
		}
	}
}

package loadgen

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"
)

func TestVerdicts(t *testing.T) {
	cases := []struct {
		name string
		got  Status
		want Status
	}{
		{"ok/at-least-equal-passes", AtLeast(0.5, 0.5), Pass},
		{"ok/at-least-below-misses", AtLeast(0.49, 0.5), Miss},
		{"ok/at-least-nothing-measured", AtLeast(0, 0.5), NA},
		{"ok/at-least-nan", AtLeast(math.NaN(), 0.5), NA},
		{"ok/at-most-equal-passes", AtMost(1.5, 1.5), Pass},
		{"ok/at-most-above-misses", AtMost(1.51, 1.5), Miss},
		{"ok/at-most-nothing-measured", AtMost(0, 1.5), NA},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.got != tc.want {
				t.Fatalf("got %s, want %s", tc.got, tc.want)
			}
		})
	}
	if Ratio(3, 0) != 0 || Ratio(0, 3) != 0 || Ratio(3, 2) != 1.5 {
		t.Errorf("Ratio: %v %v %v", Ratio(3, 0), Ratio(0, 3), Ratio(3, 2))
	}
}

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{Ms(213 * time.Microsecond), "0.213 ms"},
		{Ms(4567 * time.Microsecond), "4.57 ms"},
		{Ms(45670 * time.Microsecond), "45.7 ms"},
		{Ms(1234 * time.Millisecond), "1234 ms"},
		{Rate(0), "0"},
		{Rate(3.14159), "3.14"},
		{Rate(31.4159), "31.4"},
		{Rate(12345.6), "12346"},
		{times(0), ""},
		{times(0.0022), "0.0022×"},
		{times(0.063), "0.063×"},
		{times(1.5), "1.50×"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
}

func sampleReport() *Report {
	ours := &Result{Mode: "closed", Workers: 16, Requests: 12000, Window: 10 * time.Second, Throughput: 1200,
		Latency: Summary{Count: 12000, P50: 800 * time.Microsecond, P99: 4200 * time.Microsecond, Max: 9 * time.Millisecond, Exact: true},
		CPUSelf: 1.85, CPUOthers: 0.104}
	bare := &Result{Mode: "closed", Workers: 16, Requests: 40000, Errors: 2, FirstError: "HTTP 500 | oops", Window: 10 * time.Second,
		Throughput: 4000, Latency: Summary{P50: 150 * time.Microsecond, P99: 900 * time.Microsecond}}
	paced := &Result{Mode: "paced", Workers: 32, TargetRate: 600, Throughput: 599.5,
		Latency: Summary{P50: 500 * time.Microsecond, P99: 2500 * time.Microsecond, Max: 12 * time.Millisecond}}
	return &Report{
		Title:    "agentcore load",
		Machine:  []Field{{"CPUs", "2"}},
		Settings: []Field{{"workers", "16"}},
		Throughput: []Row{
			{Scenario: "GetResourceApiKey", Variant: "agentcore", Result: ours},
			{Scenario: "GetResourceApiKey", Variant: "floor: bare net/http", Result: bare, Ratio: 0.3},
			{Scenario: "GetWebIdentityToken", Variant: "agentcore", NA: "not implemented yet"},
		},
		Paced:     []Row{{Scenario: "GetResourceApiKey", Variant: "50% of peak", Result: paced}},
		StoreSize: []Row{{Scenario: "GetResourceApiKey", Variant: "1000", Result: ours}, {Scenario: "GetResourceApiKey", Variant: "1000000", Result: ours, Ratio: 1.04}},
		Targets: []Target{
			{Name: "cached vend vs bare HTTP", Goal: "≥ 0.5×", Measured: "0.30×", Status: Miss},
			{Name: "p99 at 50% of peak", Goal: "< 5 ms", Measured: "2.50 ms", Status: Pass},
		},
		Notes: []string{"client and server share the CPUs"},
	}
}

func TestMarkdown(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteMarkdown(&buf); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	for _, want := range []string{
		"# agentcore load\n",
		"| CPUs | 2 |\n",
		"| scenario | measured | req/s | p50 | p99 | errors | ours ÷ floor | CPU cores: ours / others |\n|---|---|---|---|---|---|---|---|\n",
		"| GetResourceApiKey | agentcore | 1200 | 0.800 ms | 4.20 ms | 0 |  | 1.85 / 0.10 |\n",
		// The scenario is named once per group; a pipe in an error
		// message must not open a new cell.
		"|  | floor: bare net/http | 4000 | 0.150 ms | 0.900 ms | 2 (HTTP 500 \\| oops) | 0.30× |  |\n",
		"| GetWebIdentityToken | agentcore | n/a (not implemented yet) | — | — | — | — | — |\n",
		"| GetResourceApiKey | 50% of peak | 600 | 600 | 0.500 ms | 2.50 ms | 12.0 ms | 0 |  |\n",
		"|  | 1000000 | 1200 | 0.800 ms | 4.20 ms | 0 | 1.04× | 1.85 / 0.10 |\n",
		"| cached vend vs bare HTTP | ≥ 0.5× | 0.30× | MISS |\n",
		"| p99 at 50% of peak | < 5 ms | 2.50 ms | PASS |\n",
		"- client and server share the CPUs\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q\n---\n%s", want, md)
		}
	}
	// Every table row has as many cells as its header.
	for _, line := range strings.Split(md, "\n") {
		if strings.HasPrefix(line, "| GetWebIdentityToken") && strings.Count(strings.ReplaceAll(line, `\|`, ""), "|") != 9 {
			t.Errorf("n/a row has the wrong number of cells: %q", line)
		}
	}
}

func TestJSON(t *testing.T) {
	var buf bytes.Buffer
	if err := sampleReport().WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Throughput []struct {
			Variant string
			NA      string
			Ratio   float64
			Result  *struct {
				RequestsPerSecond float64
				P50Ms             float64
				P99Ms             float64
				PercentilesExact  bool
			}
		}
		Targets []struct{ Status string }
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	r := got.Throughput[0].Result
	if r == nil || r.RequestsPerSecond != 1200 || r.P50Ms != 0.8 || r.P99Ms != 4.2 || !r.PercentilesExact {
		t.Errorf("first row result = %+v", r)
	}
	if got.Throughput[1].Ratio != 0.3 || got.Throughput[2].Result != nil || got.Throughput[2].NA != "not implemented yet" {
		t.Errorf("rows = %+v", got.Throughput)
	}
	if got.Targets[0].Status != "MISS" || got.Targets[1].Status != "PASS" {
		t.Errorf("targets = %+v", got.Targets)
	}
}

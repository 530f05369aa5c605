package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strings"
	"time"
)

// Status is the verdict on a target.
type Status string

// Verdicts.
const (
	Pass Status = "PASS"
	Miss Status = "MISS"
	NA   Status = "n/a"
)

// AtLeast is Pass when measured >= goal; NA when measured is not a
// number or zero (nothing was measured).
func AtLeast(measured, goal float64) Status {
	switch {
	case math.IsNaN(measured) || measured == 0:
		return NA
	case measured >= goal:
		return Pass
	}
	return Miss
}

// AtMost is Pass when 0 < measured <= goal; NA when nothing was measured.
func AtMost(measured, goal float64) Status {
	switch {
	case math.IsNaN(measured) || measured == 0:
		return NA
	case measured <= goal:
		return Pass
	}
	return Miss
}

// Ratio is a/b, or 0 when either is missing.
func Ratio(a, b float64) float64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	return a / b
}

// Field is one line of the machine or settings list.
type Field struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// Row is one measurement of a scenario: our server, or one of its floors.
type Row struct {
	Scenario string `json:"scenario"`
	// Variant says what was measured: "agentcore", "floor: …", "1000 rows".
	Variant string  `json:"variant"`
	Result  *Result `json:"result,omitempty"`
	// NA explains why there is no Result.
	NA string `json:"na,omitempty"`
	// Ratio compares the row with its reference: ours ÷ floor throughput
	// on floor rows, this p50 ÷ the baseline p50 on store-size rows.
	Ratio float64 `json:"ratio,omitempty"`
}

// Target is a goal and whether the run met it.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	Status   Status `json:"status"`
}

// Report is everything a harness run prints.
type Report struct {
	Title    string  `json:"title"`
	Machine  []Field `json:"machine"`
	Settings []Field `json:"settings"`
	// Throughput rows are closed-loop runs at full load.
	Throughput []Row `json:"throughput"`
	// Paced rows are open-loop runs at a fixed share of the peak.
	Paced []Row `json:"paced"`
	// StoreSize rows compare vends with few and many stored tokens.
	StoreSize []Row    `json:"storeSize"`
	Targets   []Target `json:"targets"`
	Notes     []string `json:"notes"`
}

// MarshalJSON renders durations as milliseconds, which is what readers
// (and issue 8's replica comparison) want to compare.
func (r Result) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	return json.Marshal(struct {
		Mode       string  `json:"mode"`
		Workers    int     `json:"workers"`
		TargetRate float64 `json:"targetRate,omitempty"`
		Requests   int64   `json:"requests"`
		Errors     int64   `json:"errors"`
		WindowS    float64 `json:"windowSeconds"`
		Throughput float64 `json:"requestsPerSecond"`
		MeanMS     float64 `json:"meanMs"`
		P50MS      float64 `json:"p50Ms"`
		P90MS      float64 `json:"p90Ms"`
		P99MS      float64 `json:"p99Ms"`
		MaxMS      float64 `json:"maxMs"`
		Exact      bool    `json:"percentilesExact"`
		FirstError string  `json:"firstError,omitempty"`
		CPUSelf    float64 `json:"cpuSelfCores,omitempty"`
		CPUOthers  float64 `json:"cpuOtherCores,omitempty"`
	}{r.Mode, r.Workers, r.TargetRate, r.Requests, r.Errors, r.Window.Seconds(), r.Throughput,
		ms(r.Latency.Mean), ms(r.Latency.P50), ms(r.Latency.P90), ms(r.Latency.P99), ms(r.Latency.Max),
		r.Latency.Exact, r.FirstError, r.CPUSelf, r.CPUOthers})
}

// WriteJSON writes the report as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteMarkdown writes the report as Markdown tables.
func (r *Report) WriteMarkdown(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	fields(&b, "Machine", r.Machine)
	fields(&b, "Settings", r.Settings)
	if len(r.Throughput) > 0 {
		b.WriteString("## Peak throughput (closed loop)\n\n")
		table(&b, []string{"scenario", "measured", "req/s", "p50", "p99", "errors", "ours ÷ floor", cpuHeader}, r.Throughput,
			func(x Row, res Result) []string {
				return []string{Rate(res.Throughput), Ms(res.Latency.P50), Ms(res.Latency.P99), errCell(res), times(x.Ratio), cpuCell(res)}
			})
	}
	if len(r.Paced) > 0 {
		b.WriteString("## Latency at a fixed rate (open loop)\n\n")
		table(&b, []string{"scenario", "measured", "offered req/s", "achieved req/s", "p50", "p99", "max", "errors", cpuHeader}, r.Paced,
			func(_ Row, res Result) []string {
				return []string{Rate(res.TargetRate), Rate(res.Throughput), Ms(res.Latency.P50), Ms(res.Latency.P99),
					Ms(res.Latency.Max), errCell(res), cpuCell(res)}
			})
	}
	if len(r.StoreSize) > 0 {
		b.WriteString("## Vend latency by store size\n\n")
		table(&b, []string{"scenario", "stored tokens", "req/s", "p50", "p99", "errors", "p50 ÷ smallest", cpuHeader}, r.StoreSize,
			func(x Row, res Result) []string {
				return []string{Rate(res.Throughput), Ms(res.Latency.P50), Ms(res.Latency.P99), errCell(res), times(x.Ratio), cpuCell(res)}
			})
	}
	if len(r.Targets) > 0 {
		b.WriteString("## Targets\n\n| target | goal | measured | result |\n|---|---|---|---|\n")
		for _, t := range r.Targets {
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(t.Name), cell(t.Goal), cell(t.Measured), t.Status)
		}
		b.WriteString("\n")
	}
	if len(r.Notes) > 0 {
		b.WriteString("## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(&b, "- %s\n", n)
		}
		b.WriteString("\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func fields(b *strings.Builder, title string, fs []Field) {
	if len(fs) == 0 {
		return
	}
	fmt.Fprintf(b, "## %s\n\n| | |\n|---|---|\n", title)
	for _, f := range fs {
		fmt.Fprintf(b, "| %s | %s |\n", cell(f.Name), cell(f.Value))
	}
	b.WriteString("\n")
}

// table renders rows; a scenario name is printed once for its group of
// consecutive rows, and a row without a result spans its cells with the
// reason.
func table(b *strings.Builder, header []string, rows []Row, cells func(Row, Result) []string) {
	fmt.Fprintf(b, "| %s |\n|%s\n", strings.Join(header, " | "), strings.Repeat("---|", len(header)))
	prev := ""
	for _, x := range rows {
		name := x.Scenario
		if name == prev {
			name = ""
		}
		prev = x.Scenario
		var rest []string
		if x.Result == nil {
			rest = make([]string, len(header)-2)
			for i := range rest {
				rest[i] = "—"
			}
			rest[0] = "n/a (" + x.NA + ")"
		} else {
			rest = cells(x, *x.Result)
		}
		fmt.Fprintf(b, "| %s | %s | %s |\n", cell(name), cell(x.Variant), strings.Join(escape(rest), " | "))
	}
	b.WriteString("\n")
}

func escape(cs []string) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = cell(c)
	}
	return out
}

// cell keeps a value inside its table cell.
func cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}

const cpuHeader = "CPU cores: ours / others"

func cpuCell(r Result) string {
	if r.CPUSelf == 0 && r.CPUOthers == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f / %.2f", r.CPUSelf, r.CPUOthers)
}

func errCell(r Result) string {
	if r.Errors == 0 {
		return "0"
	}
	msg := r.FirstError
	if len(msg) > 120 {
		msg = msg[:120] + "…"
	}
	return fmt.Sprintf("%d (%s)", r.Errors, msg)
}

// times formats a ratio; small ones keep two significant digits, since a
// floor may be a thousand times faster than a whole request.
func times(x float64) string {
	switch {
	case x == 0:
		return ""
	case x < 0.01:
		return fmt.Sprintf("%.4f×", x)
	case x < 0.1:
		return fmt.Sprintf("%.3f×", x)
	}
	return fmt.Sprintf("%.2f×", x)
}

// Rate formats requests per second with precision that suits the size.
func Rate(x float64) string {
	switch {
	case x == 0:
		return "0"
	case x < 10:
		return fmt.Sprintf("%.2f", x)
	case x < 100:
		return fmt.Sprintf("%.1f", x)
	}
	return fmt.Sprintf("%.0f", x)
}

// Ms formats a duration in milliseconds with three significant digits.
func Ms(d time.Duration) string {
	ms := float64(d) / float64(time.Millisecond)
	switch {
	case ms < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case ms < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case ms < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

// Package output renders CLI results: bordered panels and tables (lipgloss)
// on a terminal, plain aligned text when stdout is a pipe or file, and JSON
// for --json.
package output

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/lipgloss/table"
	"github.com/mattn/go-isatty"
)

// Tone colours a panel's border and title.
type Tone int

// Tones.
const (
	Info Tone = iota
	Success
	Warning
	Danger
)

var toneColors = map[Tone]lipgloss.Color{Info: "12", Success: "10", Warning: "11", Danger: "9"}

// Printer writes results to Out and notices to Err.
type Printer struct {
	Out, Err io.Writer
	// Styled draws borders and colours; off when Out is not a terminal so
	// that scripts and logs get plain text.
	Styled bool
	r      *lipgloss.Renderer
}

// New returns a printer, styled when out is a terminal.
func New(out, errOut io.Writer) *Printer {
	return &Printer{Out: out, Err: errOut, Styled: IsTerminal(out)}
}

// IsTerminal reports whether v is a file attached to a terminal.
func IsTerminal(v any) bool {
	f, ok := v.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func (p *Printer) renderer() *lipgloss.Renderer {
	if p.r == nil {
		p.r = lipgloss.NewRenderer(p.Out)
	}
	return p.r
}

// Panel prints a titled box around body.
func (p *Printer) Panel(title, body string, tone Tone) {
	body = strings.TrimRight(body, "\n")
	if !p.Styled {
		fmt.Fprintln(p.Out, title)
		for _, line := range strings.Split(body, "\n") {
			fmt.Fprintln(p.Out, strings.TrimRight("  "+line, " "))
		}
		fmt.Fprintln(p.Out)
		return
	}
	r := p.renderer()
	c := toneColors[tone]
	head := r.NewStyle().Bold(true).Foreground(c).Render(title)
	box := r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(c).Padding(0, 1)
	fmt.Fprintln(p.Out, box.Render(head+"\n\n"+body))
}

// Table prints rows under headers, with an optional title above.
func (p *Printer) Table(title string, headers []string, rows [][]string) {
	if !p.Styled {
		if title != "" {
			fmt.Fprintln(p.Out, title)
		}
		tw := tabwriter.NewWriter(p.Out, 0, 0, 2, ' ', 0)
		up := make([]string, len(headers))
		for i, h := range headers {
			up[i] = strings.ToUpper(h)
		}
		fmt.Fprintln(tw, strings.Join(up, "\t"))
		for _, row := range rows {
			fmt.Fprintln(tw, strings.Join(row, "\t"))
		}
		_ = tw.Flush()
		return
	}
	r := p.renderer()
	headStyle := r.NewStyle().Bold(true).Foreground(toneColors[Info]).Padding(0, 1)
	cell := r.NewStyle().Padding(0, 1)
	t := table.New().Border(lipgloss.RoundedBorder()).
		BorderStyle(r.NewStyle().Foreground(lipgloss.Color("8"))).
		Headers(headers...).Rows(rows...).
		StyleFunc(func(row, _ int) lipgloss.Style {
			if row == table.HeaderRow {
				return headStyle
			}
			return cell
		})
	if title != "" {
		fmt.Fprintln(p.Out, r.NewStyle().Bold(true).Render(title))
	}
	fmt.Fprintln(p.Out, t.Render())
}

// JSON prints v as indented JSON.
func (p *Printer) JSON(v any) error {
	enc := json.NewEncoder(p.Out)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// Linef prints a line to Out.
func (p *Printer) Linef(format string, args ...any) {
	fmt.Fprintf(p.Out, format+"\n", args...)
}

// Warnf prints a warning line to Err.
func (p *Printer) Warnf(format string, args ...any) {
	fmt.Fprintf(p.Err, "⚠️  "+format+"\n", args...)
}

// Truncate shortens s to n runes with an ellipsis, for table cells.
func Truncate(s string, n int) string {
	rs := []rune(s)
	if n < 2 || len(rs) <= n {
		return s
	}
	return string(rs[:n-1]) + "…"
}

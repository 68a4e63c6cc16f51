package benchkit

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// Row is one figure of a benchmark table: what was measured, the baseline measured in
// the same run (so a loaded machine moves both), their ratio, the aim and whether it
// was reached.
type Row struct {
	Figure  string `json:"figure"`
	Value   string `json:"value"`
	Raw     string `json:"raw,omitempty"`
	Ratio   string `json:"ratio,omitempty"`
	Aim     string `json:"aim,omitempty"`
	Verdict string `json:"verdict,omitempty"`
}

// Table collects a program's figures to print them as one aligned table and, for the
// combined report, as JSON.
type Table struct {
	Title string `json:"title"`
	// Notes are the run's conditions (sizes, concurrency, durations), printed under the
	// title: a figure means little without them.
	Notes []string `json:"notes,omitempty"`
	Rows  []Row    `json:"rows"`
}

// Note appends a line of conditions.
func (t *Table) Note(format string, args ...any) {
	t.Notes = append(t.Notes, fmt.Sprintf(format, args...))
}

// Add appends a row.
func (t *Table) Add(r Row) { t.Rows = append(t.Rows, r) }

// Print writes the table with aligned columns.
func (t *Table) Print(w io.Writer) error {
	if t.Title != "" {
		if _, err := fmt.Fprintf(w, "%s\n", t.Title); err != nil {
			return err
		}
	}
	for _, n := range t.Notes {
		if _, err := fmt.Fprintf(w, "  %s\n", n); err != nil {
			return err
		}
	}
	if _, err := fmt.Fprintln(w); err != nil {
		return err
	}
	rows := make([][]string, len(t.Rows))
	for i, r := range t.Rows {
		rows[i] = []string{r.Figure, r.Value, r.Raw, r.Ratio, r.Aim, r.Verdict}
	}
	return WriteColumns(w, []string{"figure", "value", "raw (same run)", "ratio", "aim", "verdict"}, rows)
}

// WriteColumns writes header and rows as aligned columns.
func WriteColumns(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	return tw.Flush()
}

// WriteJSON writes the table to path.
func (t *Table) WriteJSON(path string) error {
	b, err := json.MarshalIndent(t, "", "  ")
	if err != nil {
		return fmt.Errorf("encode %s: %w", t.Title, err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Verdict is "met" or "MISSED", the word the programs print for an aim.
func Verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

// Ms formats milliseconds as the tables print them.
func Ms(v float64) string { return fmt.Sprintf("%.2f ms", v) }

// PerSec formats a rate.
func PerSec(v float64, unit string) string { return fmt.Sprintf("%.0f %s/s", v, unit) }

// Ratio formats v/base as "0.93×", or "" when there is no base.
func Ratio(v, base float64) string {
	if base <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", v/base)
}

// ReadTable reads a table WriteJSON wrote.
func ReadTable(path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read table: %w", err)
	}
	var t Table
	if err := json.Unmarshal(b, &t); err != nil {
		return nil, fmt.Errorf("decode table %s: %w", path, err)
	}
	return &t, nil
}

package main

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/conectarpro/conectar/platform/benchkit"
)

// printRepeated prints, for -runs N, one row per figure over every run of its program:
// the runs' values in order (with their ratio to the raw figure), the minimum and median
// when each is one number with its unit (of the ratios when the aim is on the ratio),
// and how many runs met the aim.
func printRepeated(w io.Writer, runs []run) error {
	var order []string
	byName := map[string][]run{}
	for _, r := range runs {
		if _, seen := byName[r.Name]; !seen {
			order = append(order, r.Name)
		}
		byName[r.Name] = append(byName[r.Name], r)
	}
	var rows [][]string
	for _, name := range order {
		var tables []*benchkit.Table
		failed := 0
		for _, r := range byName[name] {
			if r.Table == nil {
				failed++
				continue
			}
			tables = append(tables, r.Table)
		}
		if failed > 0 {
			rows = append(rows, []string{name, fmt.Sprintf("(%d of %d runs failed)", failed, len(byName[name])), "", "", "", "", ""})
		}
		if len(tables) == 0 {
			continue
		}
		if !sameShape(tables) {
			// The rows cannot be lined up: each run's rows in turn.
			for i, t := range tables {
				for _, x := range t.Rows {
					rows = append(rows, []string{fmt.Sprintf("%s (run %d)", name, i+1), x.Figure, x.Value, "", "", x.Aim, x.Verdict})
				}
			}
			continue
		}
		for i, x := range tables[0].Rows {
			rows = append(rows, append([]string{name, x.Figure}, summarize(tables, i)...))
		}
	}
	return benchkit.WriteColumns(w, []string{"program", "figure", "values (run 1 | 2 | …)", "min", "median", "aim", "verdict"}, rows)
}

// sameShape reports whether every table has the rows of the first, in its order.
func sameShape(tables []*benchkit.Table) bool {
	for _, t := range tables[1:] {
		if len(t.Rows) != len(tables[0].Rows) {
			return false
		}
		for i := range t.Rows {
			// Figures may carry a run's own counts ("4000 jobs held"): compare the words.
			if figureWords(t.Rows[i].Figure) != figureWords(tables[0].Rows[i].Figure) {
				return false
			}
		}
	}
	return true
}

var digits = regexp.MustCompile(`[0-9]+`)

func figureWords(f string) string { return digits.ReplaceAllString(f, "#") }

// summarize is row i over the tables: values, min, median, aim, verdict.
func summarize(tables []*benchkit.Table, i int) []string {
	values := make([]string, len(tables))
	var nums []float64
	unit := ""
	met, judged := 0, 0
	// An aim on the ratio to the raw figure ("≥ 0.85×") is judged on the ratio, so that
	// is what the minimum and median are of.
	onRatio := strings.HasSuffix(tables[0].Rows[i].Aim, "×")
	for k, t := range tables {
		r := t.Rows[i]
		values[k] = r.Value
		judgedValue := r.Value
		if r.Ratio != "" {
			values[k] += " (" + r.Ratio + ")"
			if onRatio {
				judgedValue = r.Ratio
			}
		}
		if v, u, ok := number(judgedValue); ok && (k == 0 || u == unit) {
			nums, unit = append(nums, v), u
		}
		if r.Verdict != "" {
			judged++
			if r.Verdict == benchkit.Verdict(true) {
				met++
			}
		}
	}
	low, mid := "", ""
	if len(nums) == len(tables) {
		slices.Sort(nums)
		m := nums[len(nums)/2]
		if len(nums)%2 == 0 {
			m = (nums[len(nums)/2-1] + m) / 2
		}
		low, mid = format(nums[0], unit), format(m, unit)
	}
	verdict := ""
	if judged > 0 {
		verdict = fmt.Sprintf("met %d/%d", met, judged)
	}
	return []string{strings.Join(values, " | "), low, mid, tables[0].Rows[i].Aim, verdict}
}

// oneNumber is a value that is one number and at most a unit: "25.19 ms", "+0.157 ms",
// "19339 req/s", "2956/s", "0.81×", "0".
var oneNumber = regexp.MustCompile(`^([+-]?[0-9]+(?:\.[0-9]+)?)((?: [^ ]+)|(?:/[^ ]+)|×)?$`)

func number(v string) (float64, string, bool) {
	m := oneNumber.FindStringSubmatch(strings.TrimSpace(v))
	if m == nil {
		return 0, "", false
	}
	f, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, "", false
	}
	return f, m[2], true
}

// format prints v to at most three decimals (a median of two can be a long fraction).
func format(v float64, unit string) string {
	return strconv.FormatFloat(math.Round(v*1000)/1000, 'f', -1, 64) + unit
}

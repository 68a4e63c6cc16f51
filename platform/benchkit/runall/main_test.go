package main

import (
	"strings"
	"testing"

	"github.com/conectarpro/conectar/platform/benchkit"
)

func TestChoose(t *testing.T) {
	got, err := choose("search, events")
	if err != nil {
		t.Fatal(err)
	}
	// The fixed order, not the order asked in.
	if len(got) != 2 || got[0].Name != "events" || got[1].Name != "search" {
		t.Errorf("got %+v", got)
	}
	if _, err := choose("events,nope"); err == nil {
		t.Error("an unknown program was accepted")
	}
	if all, _ := choose(""); len(all) != len(programs) {
		t.Errorf("empty -only chose %d of %d", len(all), len(programs))
	}
}

func TestMissedRows(t *testing.T) {
	runs := []run{
		{program: program{Name: "gateway"}, Table: &benchkit.Table{Rows: []benchkit.Row{
			{Figure: "requests/s", Value: "80 req/s", Raw: "100 req/s", Ratio: "0.80×", Aim: "≥ 0.85×", Verdict: "MISSED"},
			{Figure: "p50 added", Value: "+0.1 ms", Aim: "≤ 0.2 ms", Verdict: "met"},
		}}},
		{program: program{Name: "webhooks"}, Error: "exit status 1"},
	}
	got := missedRows(runs)
	if len(got) != 1 || !strings.Contains(got[0], "gateway: requests/s = 80 req/s (0.80× of 100 req/s), aim ≥ 0.85×") {
		t.Errorf("got %q", got)
	}
}

func TestBusyWarning(t *testing.T) {
	if w := busyWarning(machine{CPUs: 2, LoadAverage: "0.40 0.50 0.60"}); w != "" {
		t.Errorf("quiet machine warned: %q", w)
	}
	if w := busyWarning(machine{CPUs: 2, LoadAverage: "3.10 2.00 1.00"}); !strings.Contains(w, "3.10 on 2 CPUs") {
		t.Errorf("busy machine: %q", w)
	}
	if w := busyWarning(machine{CPUs: 2}); w != "" {
		t.Errorf("unknown load warned: %q", w)
	}
}

func TestPrintRepeated(t *testing.T) {
	gw := func(rate, ratio, added, verdict string) *benchkit.Table {
		return &benchkit.Table{Rows: []benchkit.Row{
			{Figure: "requests/s", Value: rate, Raw: "22000 req/s", Ratio: ratio, Aim: "≥ 0.85×", Verdict: verdict},
			{Figure: "p50 added", Value: added, Aim: "≤ 0.2 ms", Verdict: "met"},
			{Figure: "  (shown) p50 / p99", Value: "0.5 ms / 2 ms"},
			{Figure: "double holds (4000 jobs held)", Value: "0 of 4000"},
		}}
	}
	runs := []run{
		{program: program{Name: "gateway"}, Round: 1, Table: gw("19339 req/s", "0.81×", "+0.157 ms", "MISSED")},
		{program: program{Name: "webhooks"}, Round: 1, Error: "exit status 1"},
		{program: program{Name: "gateway"}, Round: 2, Table: gw("21000 req/s", "0.86×", "+0.190 ms", "met")},
		{program: program{Name: "webhooks"}, Round: 2, Table: &benchkit.Table{Rows: []benchkit.Row{{Figure: "answer p99", Value: "14 ms", Verdict: "met"}}}},
		{program: program{Name: "gateway"}, Round: 3, Table: gw("18000 req/s", "0.78×", "+0.100 ms", "MISSED")},
	}
	var b strings.Builder
	if err := printRepeated(&b, runs); err != nil {
		t.Fatal(err)
	}
	// Columns are aligned with spaces: compare each line's words.
	var lines []string
	for _, l := range strings.Split(b.String(), "\n") {
		lines = append(lines, strings.Join(strings.Fields(l), " "))
	}
	out := strings.Join(lines, "\n")
	for _, want := range []string{
		// Judged on the ratio: min and median of the ratios.
		"gateway requests/s 19339 req/s (0.81×) | 21000 req/s (0.86×) | 18000 req/s (0.78×) 0.78× 0.81× ≥ 0.85× met 1/3",
		"gateway p50 added +0.157 ms | +0.190 ms | +0.100 ms 0.1 ms 0.157 ms ≤ 0.2 ms met 3/3",
		// Not one number: no min or median.
		"gateway (shown) p50 / p99 0.5 ms / 2 ms | 0.5 ms / 2 ms | 0.5 ms / 2 ms\n",
		"webhooks (1 of 2 runs failed)",
		"webhooks answer p99 14 ms 14 ms 14 ms met 1/1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing %q in\n%s", want, out)
		}
	}
	// A run whose rows differ is listed on its own instead of lined up wrongly.
	runs[2].Table.Rows = runs[2].Table.Rows[:1]
	b.Reset()
	if err := printRepeated(&b, runs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "gateway (run 2)") {
		t.Errorf("rows of different shapes were lined up:\n%s", b.String())
	}
}

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

package benchkit

import (
	"context"
	"errors"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestTableJSONRoundTrip(t *testing.T) {
	want := &Table{Title: "t", Notes: []string{"16 clients"}, Rows: []Row{{Figure: "req/s", Value: "10 req/s", Raw: "12 req/s",
		Ratio: Ratio(10, 12), Aim: "≥ 0.8×", Verdict: Verdict(true)}}}
	path := filepath.Join(t.TempDir(), "t.json")
	if err := want.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadTable(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v, wrote %+v", got, want)
	}
	var b strings.Builder
	if err := got.Print(&b); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "0.83×") || !strings.Contains(b.String(), "16 clients") {
		t.Errorf("printed table lacks the ratio or the note:\n%s", b.String())
	}
}

// Rounds runs every target in every round, on every worker, and keeps failures apart
// from latencies.
func TestRounds(t *testing.T) {
	var calls [2]atomic.Int64
	var workers [2][4]atomic.Bool
	op := func(i int, fail bool) Op {
		return func(ctx context.Context, w int) error {
			calls[i].Add(1)
			workers[i][w].Store(true)
			time.Sleep(time.Millisecond)
			if fail {
				return errors.New("boom")
			}
			return nil
		}
	}
	res := Rounds(context.Background(), 2, 4, 20*time.Millisecond, 5*time.Millisecond, op(0, false), op(1, true))
	if len(res) != 2 {
		t.Fatalf("%d results", len(res))
	}
	if len(res[0].Lat) == 0 || res[0].Errors != 0 || res[0].Rate() <= 0 {
		t.Errorf("good target: %d latencies, %d errors, rate %.0f", len(res[0].Lat), res[0].Errors, res[0].Rate())
	}
	if len(res[1].Lat) != 0 || res[1].Errors == 0 || res[1].FirstErr == nil {
		t.Errorf("failing target: %d latencies, %d errors, first %v", len(res[1].Lat), res[1].Errors, res[1].FirstErr)
	}
	for i := range workers {
		for w := range workers[i] {
			if !workers[i][w].Load() {
				t.Errorf("target %d: worker %d never ran", i, w)
			}
		}
	}
	// Warm-up calls are made but not counted.
	if n := int64(len(res[0].Lat)); calls[0].Load() <= n {
		t.Errorf("%d calls, %d measured: the warm-up did not run", calls[0].Load(), n)
	}
}

func TestPercentile(t *testing.T) {
	s := []float64{5, 1, 4, 2, 3}
	if p := Percentile(s, 50); p != 3 {
		t.Errorf("p50 = %v", p)
	}
	if p := Percentile(s, 100); p != 5 {
		t.Errorf("p100 = %v", p)
	}
	if s[0] != 5 {
		t.Error("Percentile sorted its input")
	}
}

func TestPGCPUSince(t *testing.T) {
	before := PGCPU{1: 10 * time.Millisecond, 2: 20 * time.Millisecond}
	after := PGCPU{1: 30 * time.Millisecond, 3: 5 * time.Millisecond} // 2 ended, 3 started
	if d := after.Since(before); d != 25*time.Millisecond {
		t.Errorf("since = %s, want 25ms", d)
	}
}

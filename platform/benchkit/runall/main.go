// Command runall runs every benchmark program in turn and prints their figures as one
// table: `task bench`, or from anywhere in the repository
//
//	go run ./platform/benchkit/runall [-quick] [-only events,search,...] [-runs 3] [-out bench.json] [-settle 5s]
//
// Each program runs as `go run <package> -json <temporary file> [-quick]` with its own
// output streamed through, so a long run shows progress. Then the combined table
// (program, figure, value, raw, ratio, aim, verdict) is printed, the machine's details
// and every table are written to bench.json in the current directory, and the rows whose
// aim was MISSED are listed again at the end. The exit status is non-zero when a program
// failed (could not measure); a missed aim is a figure, not a failure.
//
// With -runs N every program runs N times, in rounds (each program once, then each
// again), so a drift of the machine spreads over all of them; the combined table then
// shows, per figure, every run's value, their minimum and median, and how many runs met
// the aim.
//
// The figures mean something only on a quiet machine: the programs run their load
// generators, services, PostgreSQL and NATS on the same cores, and another process
// competing for them moves every figure. bench.json records the load average at the
// start for that reason. Between programs it also lets the last one's leftovers settle
// (-settle, default 5s): a PostgreSQL CHECKPOINT, which waits for a checkpoint the last
// program's writes set off, then a pause.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/benchkit"
)

// program is one benchmark program of the repository.
type program struct {
	Name    string `json:"name"`
	Package string `json:"package"`
}

// programs, in the order they run: the cheap ones first, so a broken build shows early.
var programs = []program{
	{"events", "./events/bench"},
	{"gateway", "./gateway/bench"},
	{"auth", "./services/auth/bench"},
	{"search", "./services/professionals/bench"},
	{"chat", "./services/marketplace/bench"},
	{"webhooks", "./services/payments/bench"},
	{"load", "./cmd/conectar/bench"},
}

// run is one program's outcome as bench.json records it.
type run struct {
	program
	Round   int             `json:"round,omitempty"` // 1…N with -runs N > 1
	Seconds float64         `json:"seconds"`
	Error   string          `json:"error,omitempty"`
	Table   *benchkit.Table `json:"table,omitempty"`
}

// machine is what the figures were measured on.
type machine struct {
	CPUs        int    `json:"cpus"`
	CPUModel    string `json:"cpu_model,omitempty"`
	GoVersion   string `json:"go_version"`
	OS          string `json:"os"`
	Arch        string `json:"arch"`
	LoadAverage string `json:"load_average_at_start,omitempty"`
	Date        string `json:"date"`
	Quick       bool   `json:"quick"`
	Runs        int    `json:"runs"`
}

type report struct {
	Machine  machine `json:"machine"`
	Programs []run   `json:"programs"`
}

func main() {
	if err := main1(); err != nil {
		fmt.Fprintln(os.Stderr, "runall:", err)
		os.Exit(1)
	}
}

func main1() error {
	names := make([]string, len(programs))
	for i, p := range programs {
		names[i] = p.Name
	}
	only := flag.String("only", "", "comma-separated programs to run (of "+strings.Join(names, ",")+"); empty: all")
	quick := flag.Bool("quick", false, "pass -quick to every program: smaller sizes, shorter runs")
	out := flag.String("out", "bench.json", "where to write the combined report")
	runs := flag.Int("runs", 1, "run every program this many times, in rounds, and report each figure's runs, minimum and median")
	settle := flag.Duration("settle", 5*time.Second, "before each program after the first: a PostgreSQL CHECKPOINT, then this pause (0: neither)")
	flag.Parse()
	if *runs < 1 {
		return fmt.Errorf("-runs %d: want at least 1", *runs)
	}
	selected, err := choose(*only)
	if err != nil {
		return err
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	tmp, err := os.MkdirTemp("", "conectar-bench-")
	if err != nil {
		return fmt.Errorf("temporary folder: %w", err)
	}
	defer os.RemoveAll(tmp)

	rep := report{Machine: describe(*quick)}
	rep.Machine.Runs = *runs
	busy := busyWarning(rep.Machine)
	if busy != "" {
		fmt.Println(busy)
	}
	first := true
	for round := 1; round <= *runs; round++ {
		for _, p := range selected {
			if ctx.Err() != nil {
				break
			}
			if !first && *settle > 0 {
				settleMachine(ctx, benchkit.BaseDSN(), *settle)
			}
			first = false
			r := runProgram(ctx, root, tmp, p, *quick)
			if *runs > 1 {
				r.Round = round
			}
			rep.Programs = append(rep.Programs, r)
		}
	}

	fmt.Printf("\n=== All benchmarks (%s, %d CPUs, %s", rep.Machine.Date, rep.Machine.CPUs, rep.Machine.GoVersion)
	if rep.Machine.LoadAverage != "" {
		fmt.Printf(", load average at start %s", rep.Machine.LoadAverage)
	}
	if *quick {
		fmt.Print(", -quick: sizes below the aims'")
	}
	if *runs > 1 {
		fmt.Printf(", %d runs of each", *runs)
	}
	fmt.Println(") ===")
	show := printCombined
	if *runs > 1 {
		show = printRepeated
	}
	if err := show(os.Stdout, rep.Programs); err != nil {
		return err
	}
	if err := writeReport(*out, rep); err != nil {
		return err
	}
	fmt.Printf("\nwrote %s\n", *out)

	var failed []string
	for _, r := range rep.Programs {
		if r.Error != "" {
			failed = append(failed, r.Name+" ("+r.Error+")")
		}
	}
	if busy != "" {
		fmt.Println("\n" + busy)
	}
	if missed := missedRows(rep.Programs); len(missed) > 0 {
		fmt.Printf("\nMISSED (%d):\n", len(missed))
		for _, m := range missed {
			fmt.Println("  " + m)
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d program(s) failed: %s", len(failed), strings.Join(failed, "; "))
	}
	return nil
}

// choose returns the programs -only names, in the fixed order.
func choose(only string) ([]program, error) {
	if only == "" {
		return programs, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []program
	for _, p := range programs {
		if want[p.Name] {
			out = append(out, p)
			delete(want, p.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("-only: no program %q", n)
	}
	return out, nil
}

// repoRoot is the folder of go.work above the current directory: the programs' package
// paths are relative to it.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("working directory: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.work")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.work above %s: run from inside the repository", dir)
		}
	}
}

// settleMachine lets what one program left behind finish before the next one measures:
// the search program's 100k-row seed sets off a WAL checkpoint that writes for about a
// minute and ends with it, and then its database is dropped; a CHECKPOINT (which waits
// for any running one) and a pause keep that I/O out of the next program's figures.
// Failing to checkpoint (a server that does not allow it) only pauses.
func settleMachine(ctx context.Context, dsn string, pause time.Duration) {
	start := time.Now()
	if err := checkpoint(ctx, dsn); err != nil {
		fmt.Printf("\n=== settling: no CHECKPOINT (%v); pausing %s\n", err, pause)
	} else {
		fmt.Printf("\n=== settling: CHECKPOINT took %s; pausing %s\n", time.Since(start).Round(time.Millisecond), pause)
	}
	select {
	case <-ctx.Done():
	case <-time.After(pause):
	}
}

func checkpoint(ctx context.Context, dsn string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CHECKPOINT"); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}

// runProgram runs p with its output streamed through and reads back its table.
func runProgram(ctx context.Context, root, tmp string, p program, quick bool) run {
	r := run{program: p}
	jsonPath := filepath.Join(tmp, p.Name+".json")
	_ = os.Remove(jsonPath) // an earlier round's table must not stand in for this one
	args := []string{"run", p.Package, "-json", jsonPath}
	if quick {
		args = append(args, "-quick")
	}
	fmt.Printf("\n=== %s: go %s\n", p.Name, strings.Join(args, " "))
	start := time.Now()
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir, cmd.Stdout, cmd.Stderr = root, os.Stdout, os.Stderr
	// On Ctrl-C the program gets the interrupt too (same process group); interrupting
	// `go run` rather than killing it lets it wait for the program to end instead of
	// leaving it running, orphaned, after the runner has exited.
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 30 * time.Second
	err := cmd.Run()
	r.Seconds = time.Since(start).Round(time.Millisecond).Seconds()
	if err != nil {
		r.Error = err.Error()
		fmt.Printf("=== %s FAILED after %.0f s: %v\n", p.Name, r.Seconds, err)
		return r
	}
	t, err := benchkit.ReadTable(jsonPath)
	if err != nil {
		r.Error = "no table: " + err.Error()
		fmt.Printf("=== %s FAILED: %s\n", p.Name, r.Error)
		return r
	}
	r.Table = t
	fmt.Printf("=== %s done in %.0f s\n", p.Name, r.Seconds)
	return r
}

func printCombined(w io.Writer, runs []run) error {
	var rows [][]string
	for _, r := range runs {
		if r.Table == nil {
			rows = append(rows, []string{r.Name, "(failed: " + r.Error + ")", "", "", "", "", ""})
			continue
		}
		for _, x := range r.Table.Rows {
			rows = append(rows, []string{r.Name, x.Figure, x.Value, x.Raw, x.Ratio, x.Aim, x.Verdict})
		}
	}
	return benchkit.WriteColumns(w, []string{"program", "figure", "value", "raw (same run)", "ratio", "aim", "verdict"}, rows)
}

// missedRows are the rows whose aim was missed, one line each.
func missedRows(runs []run) []string {
	var out []string
	for _, r := range runs {
		if r.Table == nil {
			continue
		}
		for _, x := range r.Table.Rows {
			if x.Verdict == benchkit.Verdict(false) {
				name := r.Name
				if r.Round > 0 {
					name = fmt.Sprintf("%s (run %d)", r.Name, r.Round)
				}
				line := fmt.Sprintf("%s: %s = %s", name, strings.TrimSpace(x.Figure), x.Value)
				if x.Ratio != "" {
					line += " (" + x.Ratio + " of " + x.Raw + ")"
				}
				out = append(out, line+", aim "+x.Aim)
			}
		}
	}
	return out
}

func describe(quick bool) machine {
	m := machine{CPUs: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Date: time.Now().UTC().Format(time.RFC3339), Quick: quick}
	// Linux only; elsewhere these stay empty.
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAverage = strings.Join(f[:3], " ")
		}
	}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPUModel = strings.TrimSpace(v)
				break
			}
		}
	}
	return m
}

// busyWarning says when the machine was already loaded at the start (a 1-minute load
// average above half its CPUs): the figures of such a run are not the ones to judge.
func busyWarning(m machine) string {
	f := strings.Fields(m.LoadAverage)
	if len(f) == 0 {
		return ""
	}
	load, err := strconv.ParseFloat(f[0], 64)
	if err != nil || load <= float64(m.CPUs)/2 {
		return ""
	}
	return fmt.Sprintf("warning: the machine was busy at the start (load average %.2f on %d CPUs): these figures are indicative, re-run on a quiet machine to judge the aims", load, m.CPUs)
}

func writeReport(path string, rep report) error {
	b, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fmt.Errorf("encode report: %w", err)
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

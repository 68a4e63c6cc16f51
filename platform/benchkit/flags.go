package benchkit

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
)

// Flags are the options every benchmark program accepts, so the runner
// (platform/benchkit/runall) can drive them all alike.
type Flags struct {
	// JSON is a file to write the program's table to, besides printing it.
	JSON string
	// Quick asks for smaller sizes and shorter runs: a fast combined run that shows
	// every figure, not one to judge the aims by.
	Quick bool
}

// RegisterFlags defines -json and -quick on fs (flag.CommandLine in a program).
func RegisterFlags(fs *flag.FlagSet) *Flags {
	f := &Flags{}
	fs.StringVar(&f.JSON, "json", "", "also write the table as JSON to this file")
	fs.BoolVar(&f.Quick, "quick", false, "smaller sizes and shorter runs (a fast combined run; aims are not meant for it)")
	return f
}

// Emit prints t to w and, with -json, writes it to that file too.
func (f *Flags) Emit(w io.Writer, t *Table) error {
	if err := t.Print(w); err != nil {
		return fmt.Errorf("print %s: %w", t.Title, err)
	}
	if f.JSON != "" {
		return t.WriteJSON(f.JSON)
	}
	return nil
}

// CPUProfile starts a CPU profile into path (nothing when path is ""); stop ends it.
// The services run inside the bench process, so the profile shows their frames too.
func CPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, fmt.Errorf("cpu profile: %w", err)
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

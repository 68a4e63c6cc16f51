package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// mem is the resident memory of a process tree: the sum of VmRSS (now) and of VmHWM
// (each process's peak since it started), in bytes.
type mem struct {
	rss, hwm int64
	procs    int
}

// readMem reads /proc/<pid>/status of pid and of every process below it. `conectar
// dev` runs everything in one process today; the walk keeps the figure honest should it
// ever spawn helpers.
func readMem(pid int) (mem, error) {
	var m mem
	for _, p := range tree(pid) {
		rss, hwm, err := procStatus(p)
		if err != nil {
			if p == pid {
				return m, err
			}
			continue // a child that just exited
		}
		m.rss += rss
		m.hwm += hwm
		m.procs++
	}
	return m, nil
}

// tree is pid and its descendants, from /proc/<pid>/task/*/children.
func tree(pid int) []int {
	out := []int{pid}
	for i := 0; i < len(out); i++ {
		tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", out[i]))
		for _, t := range tasks {
			raw, err := os.ReadFile(t)
			if err != nil {
				continue
			}
			for _, f := range strings.Fields(string(raw)) {
				if c, err := strconv.Atoi(f); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

func procStatus(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("memory of %d: %w", pid, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || (k != "VmRSS" && k != "VmHWM") {
			continue
		}
		fs := strings.Fields(v) // "123456 kB"
		if len(fs) == 0 {
			continue
		}
		n, err := strconv.ParseInt(fs[0], 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("memory of %d: %s: %w", pid, k, err)
		}
		if k == "VmRSS" {
			rss = n << 10
		} else {
			hwm = n << 10
		}
	}
	return rss, hwm, sc.Err()
}

// sampler reads the tree's memory every second of the measured window (the ramp before
// it and the drain after it are not full load).
type sampler struct {
	mu      sync.Mutex
	samples []int64
	done    chan struct{}
}

func sampleMemory(pid int, from, until time.Time) *sampler {
	s := &sampler{done: make(chan struct{})}
	go func() {
		defer close(s.done)
		time.Sleep(time.Until(from))
		t := time.NewTicker(time.Second)
		defer t.Stop()
		for {
			select {
			case now := <-t.C:
				if !now.Before(until) {
					return
				}
				if m, err := readMem(pid); err == nil {
					s.mu.Lock()
					s.samples = append(s.samples, m.rss)
					s.mu.Unlock()
				}
			}
		}
	}()
	return s
}

// stop waits for the last sample and returns the median and the peak.
func (s *sampler) stop() (median, peak int64, n int) {
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	c := append([]int64(nil), s.samples...)
	if len(c) == 0 {
		return 0, 0, 0
	}
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	return c[len(c)/2], c[len(c)-1], len(c)
}

func mib(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/(1<<20)) }

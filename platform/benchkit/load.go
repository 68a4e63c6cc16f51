package benchkit

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Op is one request of a closed-loop run. worker is the goroutine's index (0..conc-1),
// so an op can keep per-worker state (a random source, a token) without locking.
type Op func(ctx context.Context, worker int) error

// Result is what a closed-loop run measured: one latency per successful request.
type Result struct {
	Lat      []time.Duration
	Errors   int
	FirstErr error
	Elapsed  time.Duration
	// CPU is what this whole process (load generator and whatever runs in-process)
	// spent during the run. Unlike a rate it hardly moves when other processes load
	// the machine, so CPUPerOp compares two paths more steadily than their rates do.
	CPU time.Duration
	// PGCPU is what the PostgreSQL backends of the bench database spent meanwhile
	// (Runner.PG set, server on this machine).
	PGCPU time.Duration
}

// PGCPUPerOp is the PostgreSQL backends' CPU time per successful request.
func (r Result) PGCPUPerOp() time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	return r.PGCPU / time.Duration(len(r.Lat))
}

// CPUPerOp is the process's CPU time per successful request.
func (r Result) CPUPerOp() time.Duration {
	if len(r.Lat) == 0 {
		return 0
	}
	return r.CPU / time.Duration(len(r.Lat))
}

// Rate is successful requests per second.
func (r Result) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Lat)) / r.Elapsed.Seconds()
}

// Ms is the q-th latency percentile (0..100) in milliseconds.
func (r Result) Ms(q float64) float64 {
	return float64(PercentileDur(r.Lat, q).Nanoseconds()) / 1e6
}

// merge adds another round of the same target: latencies and errors pool, elapsed
// times add up, so Rate is the rate over all rounds together.
func (r *Result) merge(o Result) {
	r.Lat = append(r.Lat, o.Lat...)
	r.Errors += o.Errors
	r.Elapsed += o.Elapsed
	r.CPU += o.CPU
	r.PGCPU += o.PGCPU
	if r.FirstErr == nil {
		r.FirstErr = o.FirstErr
	}
}

// ClosedLoop runs op from conc goroutines for d, each sending its next request as soon
// as the previous one answered: the rate is what the system sustains at that concurrency.
func ClosedLoop(ctx context.Context, conc int, d time.Duration, op Op) Result {
	var mu sync.Mutex
	var res Result
	deadline := time.Now().Add(d)
	start, cpu := time.Now(), ProcessCPU()
	var wg sync.WaitGroup
	for w := 0; w < conc; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			// Latencies stay per goroutine until the end: a shared slice would put a
			// lock on every request's path.
			lat := make([]time.Duration, 0, 1024)
			var errs int
			var first error
			for time.Now().Before(deadline) && ctx.Err() == nil {
				t0 := time.Now()
				if err := op(ctx, w); err != nil {
					errs++
					if first == nil {
						first = err
					}
					continue
				}
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.merge(Result{Lat: lat, Errors: errs, FirstErr: first})
			mu.Unlock()
		}(w)
	}
	wg.Wait()
	res.Elapsed, res.CPU = time.Since(start), ProcessCPU()-cpu
	return res
}

// Runner measures several targets under the same load: an unmeasured warm-up of each,
// then Rounds × (every target for Round in turn). Alternating short rounds means a
// drift of the machine (another process, a checkpoint, thermal throttling) hits every
// target alike instead of whichever happened to run last.
type Runner struct {
	Rounds, Conc  int
	Round, Warmup time.Duration
	// PG, when set, is a pool on the bench database: each round also reads the CPU its
	// PostgreSQL backends spent (Result.PGCPU).
	PG *pgxpool.Pool
}

// Run returns the targets' results in ops' order.
func (rn Runner) Run(ctx context.Context, ops ...Op) []Result {
	for _, op := range ops {
		ClosedLoop(ctx, rn.Conc, rn.Warmup, op)
	}
	out := make([]Result, len(ops))
	for i := 0; i < rn.Rounds; i++ {
		for j, op := range ops {
			var before PGCPU
			if rn.PG != nil {
				before, _ = ReadPGCPU(ctx, rn.PG) // unknown: the figure shows as 0
			}
			r := ClosedLoop(ctx, rn.Conc, rn.Round, op)
			if before != nil {
				if after, err := ReadPGCPU(ctx, rn.PG); err == nil {
					r.PGCPU = after.Since(before)
				}
			}
			out[j].merge(r)
		}
	}
	return out
}

// Rounds is Runner.Run without PostgreSQL's CPU.
func Rounds(ctx context.Context, rounds, conc int, d, warmup time.Duration, ops ...Op) []Result {
	return Runner{Rounds: rounds, Conc: conc, Round: d, Warmup: warmup}.Run(ctx, ops...)
}

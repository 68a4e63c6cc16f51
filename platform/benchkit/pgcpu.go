package benchkit

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PGCPU is the CPU time each PostgreSQL backend of a database had used at one moment,
// by process id.
type PGCPU map[int32]time.Duration

// ReadPGCPU reads the CPU time of every backend connected to pool's database from
// /proc: it is known only when the server runs on this machine (Linux), and is empty
// otherwise. Unlike rates it moves little when other processes load the machine.
func ReadPGCPU(ctx context.Context, pool *pgxpool.Pool) (PGCPU, error) {
	rows, err := pool.Query(ctx, "SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
	if err != nil {
		return nil, fmt.Errorf("backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("backends: %w", err)
	}
	out := make(PGCPU, len(pids))
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue // ended, or a server elsewhere
		}
		// The fields after the ")" closing the command name: utime is the 12th, stime the 13th.
		f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(f) < 13 {
			continue
		}
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		out[pid] = time.Duration(ut+st) * (time.Second / clockTicks)
	}
	return out, nil
}

// clockTicks is Linux's USER_HZ, the unit of /proc/<pid>/stat times.
const clockTicks = 100

// Since is the backends' CPU from reading before to this one; a backend gone meanwhile
// is not counted, one that appeared counts from zero.
func (after PGCPU) Since(before PGCPU) time.Duration {
	var d time.Duration
	for pid, t := range after {
		d += t - before[pid]
	}
	return d
}

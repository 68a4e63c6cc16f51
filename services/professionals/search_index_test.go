package professionals

import (
	"context"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/testkit"
)

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// The change log is pruned only below a watermark at least pruneAfter old, and a process
// that has not synced for staleAfter reloads whole instead of trusting the log.
func TestSearchIndexPrunesOnlyWhatEveryProcessHasReadAndReloadsWhenStale(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := env.Deps(t, Name, nil).Pool
	ctx := context.Background()
	clock := &fakeClock{t: time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)}
	var outcomes []string
	ix := newSearchIndex(pool, slog.New(slog.NewTextHandler(io.Discard, nil)), clock.now)
	ix.outcome = func(o string) { outcomes = append(outcomes, o) }
	logged := func() int {
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM busqueda_cambios`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	change := func() {
		t.Helper()
		// A change as the triggers log it, of a professional the index does not hold.
		if _, err := pool.Exec(ctx, `INSERT INTO busqueda_cambios (profesional_id) VALUES (gen_random_uuid())`); err != nil {
			t.Fatal(err)
		}
	}
	round := func(want string) {
		t.Helper()
		if err := ix.Fresh(ctx); err != nil {
			t.Fatal(err)
		}
		if got := outcomes[len(outcomes)-1]; got != want {
			t.Fatalf("round did %q, want %q (all: %v)", got, want, outcomes)
		}
	}

	round("full") // the first round loads everything
	change()
	round("delta")
	round("unchanged")
	if n := logged(); n != 1 {
		t.Fatalf("log holds %d rows, want 1", n)
	}
	// Nine minutes of rounds, one a minute: nothing is old enough to prune.
	for range 9 {
		clock.add(time.Minute)
		round("unchanged")
	}
	if n := logged(); n != 1 {
		t.Fatalf("pruned before %s: %d rows left", pruneAfter, n)
	}
	change() // this one is newer than every mark: it must survive the next prune
	round("delta")
	clock.add(2 * time.Minute)
	round("unchanged")
	if n := logged(); n != 1 {
		t.Fatalf("after %s the old change should be gone and the new one kept: %d rows", pruneAfter, n)
	}
	if ix.Age() != 0 {
		t.Fatalf("age right after a round: %s", ix.Age())
	}

	// A process that could not sync for longer than staleAfter reloads whole.
	clock.add(staleAfter + time.Second)
	if ix.Age() < staleAfter {
		t.Fatalf("age %s", ix.Age())
	}
	round("full")
}

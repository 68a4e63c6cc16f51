package professionals

import (
	"context"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"strconv"
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
	// The xmin is the cluster's: another test's transaction open in another database
	// holds it back. Wait until every transaction up to this change has finished, so
	// the marks recorded from here on are above it.
	for deadline := time.Now().Add(10 * time.Second); ; {
		var done bool
		if err := pool.QueryRow(ctx, `SELECT pg_snapshot_xmin(pg_current_snapshot()) > max(xid) FROM busqueda_cambios`).Scan(&done); err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the change's transaction never fell below the xmin")
		}
		time.Sleep(10 * time.Millisecond)
	}
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

// around must visit every cell that may hold a base within the angle, across the
// antimeridian and around the poles. The index is large enough here that it walks the
// cells of the cap's box rather than every cell (the service tests' few professionals
// take the every-cell path).
func TestAroundVisitsEveryCellThatMayHoldAMatch(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	point := func(region int) (lat, lng float64) {
		switch region {
		case 0: // anywhere, uniform on the sphere
			return math.Asin(2*r.Float64()-1) * 180 / math.Pi, r.Float64()*360 - 180
		case 1: // astride the antimeridian
			lng = 179 + 2*r.Float64()
			if lng > 180 {
				lng -= 360
			}
			return r.Float64()*20 - 10, lng
		default: // around a pole
			lat = 87 + 3*r.Float64()
			if r.IntN(2) == 0 {
				lat = -lat
			}
			return lat, r.Float64()*360 - 180
		}
	}
	var pros []*perfil
	for i := range 30_000 {
		lat, lng := point(i % 3)
		ux, uy, uz := unitVector(lat, lng)
		pros = append(pros, &perfil{id: strconv.Itoa(i), located: true, lat: lat, lng: lng, ux: ux, uy: uy, uz: uz,
			radioKm: 1, shardKeys: []string{AnyOficio}, oficioNombres: []string{""}})
	}
	ix := newSearchIndex(nil, nil, time.Now)
	ix.replace(pros)
	g := &ix.shards[AnyOficio].bands[0]
	walked := 0
	for q := range 3_000 {
		lat, lng := point(q % 3)
		km := []float64{1, 10, 50, 200, 500}[q%5]
		if q%3 == 2 && km > 50 {
			km = 20 // a wide cap at a pole covers every longitude: the every-cell path
		}
		angle := km * 1000 / earthRadiusM
		visited := map[*cell]bool{}
		ix.around(g, lat, lng, angle, func(c *cell) { visited[c] = true })
		if len(visited) < len(g.cells) {
			walked++
		}
		x, y, z := unitVector(lat, lng)
		for _, p := range pros {
			if p.ux*x+p.uy*y+p.uz*z >= math.Cos(angle) && !visited[g.cells[ix.key(p.lat, p.lng)]] {
				t.Fatalf("query (%.4f, %.4f) %.0f km: base (%.4f, %.4f) is within it but its cell was not visited", lat, lng, km, p.lat, p.lng)
			}
		}
	}
	if walked < 2_000 {
		t.Fatalf("only %d of 3,000 queries walked the box: the test does not exercise it", walked)
	}
}

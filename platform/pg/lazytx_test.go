package pg_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/testkit"
)

// sent records what a pool sends, one entry per round trip: a statement alone, or a
// batch's statements joined by " + ". (A statement's first use on a connection also
// prepares it, in a round trip pgx does not trace and this does not count.)
type sent struct {
	mu   sync.Mutex
	trip []string
}

func (s *sent) add(sql string) {
	s.mu.Lock()
	s.trip = append(s.trip, strings.Join(strings.Fields(strings.ToLower(sql)), " "))
	s.mu.Unlock()
}

func (s *sent) TraceQueryStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceQueryStartData) context.Context {
	s.add(d.SQL)
	return ctx
}
func (s *sent) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

func (s *sent) TraceBatchStart(ctx context.Context, _ *pgx.Conn, d pgx.TraceBatchStartData) context.Context {
	qs := make([]string, len(d.Batch.QueuedQueries))
	for i, q := range d.Batch.QueuedQueries {
		qs[i] = q.SQL
	}
	s.add(strings.Join(qs, " + "))
	return ctx
}
func (s *sent) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (s *sent) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (s *sent) take() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.trip
	s.trip = nil
	return out
}

// poolWithTakenKey is lazyPool with the key "taken" already in its table, and the INSERT
// (k, v) that conflicts when given that key again.
func poolWithTakenKey(t *testing.T) (pool *pgxpool.Pool, table, ins string) {
	t.Helper()
	pool, _, table = lazyPool(t)
	ins = "INSERT INTO " + table + " (k, v) VALUES ($1, $2)"
	if _, err := pool.Exec(context.Background(), ins, "taken", 0); err != nil {
		t.Fatal(err)
	}
	return pool, table, ins
}

// lazyPool opens a pool that records what it sends, with a table of its own.
func lazyPool(t *testing.T) (*pgxpool.Pool, *sent, string) {
	t.Helper()
	ctx := context.Background()
	cfg, err := pgxpool.ParseConfig(testkit.BaseDSN())
	if err != nil {
		t.Fatal(err)
	}
	rec := &sent{}
	cfg.ConnConfig.Tracer = rec
	cfg.MaxConns = 4
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	table := fmt.Sprintf("lazytx_%d", time.Now().UnixNano())
	if _, err := pool.Exec(ctx, "CREATE TABLE "+table+" (k text PRIMARY KEY, v int NOT NULL)"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _, _ = pool.Exec(context.Background(), "DROP TABLE IF EXISTS "+table) })
	rec.take()
	return pool, rec, table
}

func count(t *testing.T, pool *pgxpool.Pool, table string) int {
	t.Helper()
	return testkit.Count(t, pool, "SELECT count(*) FROM "+table)
}

// The BEGIN travels with the first statement: a transaction of one insert is two round
// trips (BEGIN + insert, COMMIT), not three, and one that runs nothing sends nothing.
func TestWithTxSendsBeginWithTheFirstStatement(t *testing.T) {
	ctx := context.Background()
	pool, rec, table := lazyPool(t)
	ins := "INSERT INTO " + table + " (k, v) VALUES ($1, $2)"
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, ins, "a", 1); err != nil {
			return err
		}
		var n int
		return tx.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE v = $1", 1).Scan(&n)
	})
	if err != nil {
		t.Fatal(err)
	}
	got := rec.take()
	want := []string{"begin + " + strings.ToLower(ins), "select count(*) from " + table + " where v = $1", "commit"}
	if strings.Join(got, " | ") != strings.Join(want, " | ") {
		t.Fatalf("round trips:\n got %q\nwant %q", got, want)
	}
	if err := pg.WithTx(ctx, pool, func(pgx.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := rec.take(); len(got) != 0 {
		t.Fatalf("a transaction that ran nothing sent %q", got)
	}
	if n := count(t, pool, table); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// Whatever the first statement is, the rest of the transaction runs on the same
// connection, in the same transaction, and a failure rolls all of it back.
func TestWithTxFirstStatementKinds(t *testing.T) {
	ctx := context.Background()
	pool, _, table := lazyPool(t)
	ins := "INSERT INTO " + table + " (k, v) VALUES ($1, $2)"
	errBoom := errors.New("boom")
	cases := []struct {
		name  string
		first func(tx pgx.Tx) error
	}{
		{"exec", func(tx pgx.Tx) error { _, err := tx.Exec(ctx, ins, "first", 0); return err }},
		{"exec without arguments (several statements)", func(tx pgx.Tx) error {
			_, err := tx.Exec(ctx, "SET LOCAL lock_timeout = '5s'; INSERT INTO "+table+" (k, v) VALUES ('first', 0)")
			return err
		}},
		{"query read to the end", func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, "SELECT g FROM generate_series(1, $1::int) g", 3)
			if err != nil {
				return err
			}
			n := 0
			for rows.Next() { // not closed: reading to the end must be enough
				n++
			}
			if n != 3 || rows.Err() != nil {
				return fmt.Errorf("read %d rows, err %v", n, rows.Err())
			}
			return nil
		}},
		{"query closed early", func(tx pgx.Tx) error {
			rows, err := tx.Query(ctx, "SELECT g FROM generate_series(1, $1::int) g", 100)
			if err != nil {
				return err
			}
			rows.Next()
			rows.Close()
			return rows.Err()
		}},
		{"query row", func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, "SELECT $1::int + 1", 41).Scan(&n); err != nil || n != 42 {
				return fmt.Errorf("got %d, %v", n, err)
			}
			return nil
		}},
		{"query row without a row", func(tx pgx.Tx) error {
			var n int
			if err := tx.QueryRow(ctx, "SELECT v FROM "+table+" WHERE k = $1", "nobody").Scan(&n); !errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("want ErrNoRows, got %v", err)
			}
			return nil
		}},
		{"batch with callbacks", func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue(ins, "first", 0)
			var n int
			b.Queue("SELECT count(*) FROM "+table+" WHERE k = $1", "first").QueryRow(func(r pgx.Row) error { return r.Scan(&n) })
			if err := tx.SendBatch(ctx, b).Close(); err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("the batch's second query saw %d rows of its first", n)
			}
			return nil
		}},
		{"batch read in order", func(tx pgx.Tx) error {
			b := &pgx.Batch{}
			b.Queue(ins, "first", 0)
			b.Queue("SELECT v + $2 FROM "+table+" WHERE k = $1", "first", 5)
			br := tx.SendBatch(ctx, b)
			if tag, err := br.Exec(); err != nil || tag.RowsAffected() != 1 {
				br.Close()
				return fmt.Errorf("first result: %v, %v", tag, err)
			}
			var v int
			if err := br.QueryRow().Scan(&v); err != nil || v != 5 {
				br.Close()
				return fmt.Errorf("second result: %d, %v", v, err)
			}
			return br.Close()
		}},
		{"savepoint", func(tx pgx.Tx) error {
			sp, err := tx.Begin(ctx)
			if err != nil {
				return err
			}
			if _, err := sp.Exec(ctx, ins, "in-savepoint", 0); err != nil {
				return err
			}
			return sp.Rollback(ctx)
		}},
		{"conn", func(tx pgx.Tx) error {
			if tx.Conn() == nil {
				return errors.New("no connection")
			}
			return nil
		}},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := pool.Exec(ctx, "TRUNCATE "+table); err != nil {
				t.Fatal(err)
			}
			// Committed: the first statement and a second one, seen by a third.
			err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				if err := c.first(tx); err != nil {
					return fmt.Errorf("first: %w", err)
				}
				if _, err := tx.Exec(ctx, ins, fmt.Sprint("second-", i), 2); err != nil {
					return fmt.Errorf("second: %w", err)
				}
				var n int
				if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table+" WHERE v = $1", 2).Scan(&n); err != nil || n != 1 {
					return fmt.Errorf("the transaction sees %d of its rows (%v)", n, err)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := testkit.Count(t, pool, "SELECT count(*) FROM "+table+" WHERE k = $1", fmt.Sprint("second-", i)); n != 1 {
				t.Fatalf("committed row: %d", n)
			}
			// Rolled back: nothing of it stays.
			if _, err := pool.Exec(ctx, "TRUNCATE "+table); err != nil {
				t.Fatal(err)
			}
			err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
				if err := c.first(tx); err != nil {
					return err
				}
				if _, err := tx.Exec(ctx, ins, "doomed", 3); err != nil {
					return err
				}
				return errBoom
			})
			if !errors.Is(err, errBoom) {
				t.Fatalf("want boom, got %v", err)
			}
			if n := count(t, pool, table); n != 0 {
				t.Fatalf("%d rows left by a rolled-back transaction", n)
			}
			if s := pool.Stat(); s.AcquiredConns() != 0 {
				t.Fatalf("%d connections still held", s.AcquiredConns())
			}
		})
	}
}

// A first statement that fails fails the transaction with its own error (translated by
// kind), and the connection goes back to the pool usable.
func TestWithTxFirstStatementFails(t *testing.T) {
	ctx := context.Background()
	pool, table, ins := poolWithTakenKey(t)
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, ins, "taken", 2)
		return pg.Translate(err)
	})
	if apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("want a conflict, got %v", err)
	}
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, "SELECT 1/($1::int - 1)", 1)
		if err != nil {
			return err
		}
		for rows.Next() {
		}
		return rows.Err()
	})
	if err == nil || !strings.Contains(err.Error(), "division by zero") {
		t.Fatalf("want division by zero, got %v", err)
	}
	if s := pool.Stat(); s.AcquiredConns() != 0 {
		t.Fatalf("%d connections still held", s.AcquiredConns())
	}
	if n := count(t, pool, table); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

// Idle connections the server closed are replaced at the first statement, as they were
// at an ordinary BEGIN: the transaction runs on a live one.
func TestWithTxReplacesConnectionsClosedWhileIdle(t *testing.T) {
	ctx := context.Background()
	pool, _, table := lazyPool(t)
	// Open several connections and leave them idle.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _ = pool.Exec(ctx, "SELECT pg_sleep(0.05)")
		}()
	}
	wg.Wait()
	pids := map[uint32]bool{}
	for _, c := range pool.AcquireAllIdle(ctx) {
		pids[c.Conn().PgConn().PID()] = true
		c.Release()
	}
	admin, err := pgx.Connect(ctx, testkit.BaseDSN())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	for pid := range pids {
		if _, err := admin.Exec(ctx, "SELECT pg_terminate_backend($1)", int32(pid)); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, 5*time.Second, "backends gone", func() bool {
		return testkit.Count(t, admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)", keys(pids)) == 0
	})
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "INSERT INTO "+table+" (k, v) VALUES ($1, $2)", "after", 1)
		return err
	})
	if err != nil {
		t.Fatalf("%d idle connections closed by the server: %v", len(pids), err)
	}
	if s := pool.Stat(); s.AcquiredConns() != 0 {
		t.Fatalf("%d connections still held", s.AcquiredConns())
	}
	if n := count(t, pool, table); n != 1 {
		t.Fatalf("%d rows, want 1", n)
	}
}

func keys(m map[uint32]bool) []int32 {
	out := make([]int32, 0, len(m))
	for k := range m {
		out = append(out, int32(k))
	}
	return out
}

// ExecLater's statements ride with the next statement or the COMMIT: a transaction of
// one statement and an outbox-like insert is two round trips, or one when the insert is
// all it does; a rolled-back one never sends them.
func TestExecLaterRidesWithTheNextRoundTrip(t *testing.T) {
	ctx := context.Background()
	pool, rec, table := lazyPool(t)
	ins := "INSERT INTO " + table + " (k, v) VALUES ($1, $2)"
	lins := strings.ToLower(ins)
	sel := "SELECT count(*) FROM " + table + " WHERE v = $1"
	cases := []struct {
		name string
		fn   func(tx pgx.Tx) error
		trip []string
		rows int
	}{
		{"with the commit", func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, ins, "a", 1); err != nil {
				return err
			}
			return pg.ExecLater(ctx, tx, ins, "b", 1)
		}, []string{"begin + " + lins, lins + " + commit"}, 2},
		{"alone, with the begin and the commit", func(tx pgx.Tx) error {
			return pg.ExecLater(ctx, tx, ins, "a", 1)
		}, []string{"begin + " + lins + " + commit"}, 1},
		{"ahead of the next statement, which sees it", func(tx pgx.Tx) error {
			if err := pg.ExecLater(ctx, tx, ins, "a", 1); err != nil {
				return err
			}
			if err := pg.ExecLater(ctx, tx, ins, "b", 1); err != nil {
				return err
			}
			var n int
			if err := tx.QueryRow(ctx, sel, 1).Scan(&n); err != nil || n != 2 {
				return fmt.Errorf("the next statement saw %d rows (%v)", n, err)
			}
			return nil
		}, []string{"begin + " + lins + " + " + lins + " + " + strings.ToLower(sel), "commit"}, 2},
		{"ahead of a statement without arguments", func(tx pgx.Tx) error {
			if err := pg.ExecLater(ctx, tx, ins, "a", 1); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE "+table+" SET v = 1")
			return err
		}, []string{"begin + " + lins, "update " + table + " set v = 1", "commit"}, 1},
		{"dropped by a rollback", func(tx pgx.Tx) error {
			if err := pg.ExecLater(ctx, tx, ins, "a", 1); err != nil {
				return err
			}
			return errors.New("changed my mind")
		}, nil, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := pool.Exec(ctx, "TRUNCATE "+table); err != nil {
				t.Fatal(err)
			}
			rec.take()
			err := pg.WithTx(ctx, pool, c.fn)
			if (err != nil) != (c.rows == 0) {
				t.Fatalf("WithTx: %v", err)
			}
			if got := rec.take(); strings.Join(got, " | ") != strings.Join(c.trip, " | ") {
				t.Fatalf("round trips:\n got %q\nwant %q", got, c.trip)
			}
			if n := count(t, pool, table); n != c.rows {
				t.Fatalf("%d rows, want %d", n, c.rows)
			}
		})
	}
}

// A statement held back that fails fails the transaction: at the COMMIT (with its own
// error, translated) or at the next statement, and nothing of the transaction stays.
func TestExecLaterFailureFailsTheTransaction(t *testing.T) {
	ctx := context.Background()
	pool, table, ins := poolWithTakenKey(t)
	opened := pool.Stat().NewConnsCount()
	err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, ins, "mine", 1); err != nil {
			return err
		}
		return pg.ExecLater(ctx, tx, ins, "taken", 1)
	})
	if apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("at the commit: want a conflict, got %v", err)
	}
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if err := pg.ExecLater(ctx, tx, ins, "taken", 1); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, ins, "mine", 1)
		return pg.Translate(err)
	})
	if apperr.KindOf(err) != apperr.KindConflict {
		t.Fatalf("at the next statement: want a conflict, got %v", err)
	}
	if n := count(t, pool, table); n != 1 {
		t.Fatalf("%d rows, want only the one taken before", n)
	}
	s := pool.Stat()
	if s.AcquiredConns() != 0 {
		t.Fatalf("%d connections still held", s.AcquiredConns())
	}
	// The failed transactions were ended, not their connections thrown away.
	if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error { return pg.ExecLater(ctx, tx, ins, "later", 2) }); err != nil {
		t.Fatal(err)
	}
	if s := pool.Stat(); s.AcquiredConns() != 0 || s.NewConnsCount() != opened {
		t.Fatalf("%d connections still held, %d opened meanwhile", s.AcquiredConns(), s.NewConnsCount()-opened)
	}
}

// Outside WithTx's transactions ExecLater runs at once.
func TestExecLaterElsewhereRunsAtOnce(t *testing.T) {
	ctx := context.Background()
	pool, _, table := lazyPool(t)
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := pg.ExecLater(ctx, tx, "INSERT INTO "+table+" (k, v) VALUES ($1, $2)", "a", 1); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := tx.QueryRow(ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows (%v), want 1", n, err)
	}
	if err := pg.ExecLater(ctx, tx, "INSERT INTO "+table+" (k, v) VALUES ($1, $2)", "a", 1); err == nil {
		t.Fatal("a duplicate key run at once did not fail at once")
	}
}

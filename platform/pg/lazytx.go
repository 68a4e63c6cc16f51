package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// lazyTx is a transaction whose BEGIN travels with its first statement, in one round
// trip (pgx's Batch.BeginTx), instead of costing one of its own. A transaction that
// never runs a statement never begins, and its commit costs nothing.
//
// Why: on the two-core machines the benchmarks run on, the pipeline's latency under
// load is mostly each round trip waiting to be scheduled, and the commonest
// transaction (an outbox write, a consumer's inbox claim and its effect) was three
// round trips of which BEGIN was one.
//
// Only the first statement is special. Exec and Query with arguments, and a batch, go
// with the BEGIN; anything else (an Exec without arguments, which pgx sends in the
// simple protocol that allows several statements in one string; a query-mode option;
// CopyFrom, Prepare, savepoints, Conn) first begins the ordinary way.
type lazyTx struct {
	pool     *pgxpool.Pool
	tx       pgx.Tx // nil until begun
	done     bool   // committed or rolled back before it began
	beginErr error  // why beginning failed, if it did
}

var _ pgx.Tx = (*lazyTx)(nil)

// begun returns the transaction, beginning it the ordinary way if no statement has.
func (l *lazyTx) begun(ctx context.Context) (pgx.Tx, error) {
	if l.done {
		return nil, pgx.ErrTxClosed
	}
	if l.tx == nil {
		tx, err := beginRetrying(ctx, l.pool)
		if err != nil {
			l.beginErr = err
			return nil, err
		}
		l.tx = tx
	}
	return l.tx, nil
}

// batchable reports whether a first statement can travel with the BEGIN.
func batchable(args []any) bool {
	if len(args) == 0 {
		return false
	}
	_, mode := args[0].(pgx.QueryExecMode)
	return !mode
}

// start sends BEGIN and queries in one batch and returns the batch's results positioned
// after the BEGIN's. A connection the server closed while idle fails before anything
// ran, as the ordinary BEGIN does, and is replaced the same way.
func (l *lazyTx) start(ctx context.Context, queries ...*pgx.QueuedQuery) (pgx.BatchResults, error) {
	for attempt := 1; ; attempt++ {
		b := &pgx.Batch{}
		b.BeginTx(pgx.TxOptions{})
		for _, q := range queries {
			// Copies: pgx keeps what it learned of a query on the connection it was sent
			// on in the query, and a retry goes to another.
			b.QueuedQueries = append(b.QueuedQueries, &pgx.QueuedQuery{SQL: q.SQL, Arguments: q.Arguments, Fn: q.Fn})
		}
		br := l.pool.SendBatch(ctx, b)
		_, err := br.Exec()
		if err == nil {
			l.tx = br.Tx()
			return br, nil
		}
		// The transaction never began; rolling back what pgx handed out for it is what
		// returns the connection to the pool.
		_ = br.Close()
		if tx := br.Tx(); tx != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
		if !retryBegin(ctx, l.pool, attempt, err) {
			l.beginErr = err
			return nil, err
		}
	}
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if l.tx != nil || l.done || !batchable(args) {
		tx, err := l.begun(ctx)
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		return tx.Exec(ctx, sql, args...)
	}
	br, err := l.start(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	if err != nil {
		return pgconn.CommandTag{}, err
	}
	tag, err := br.Exec()
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return tag, err
}

func (l *lazyTx) Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error) {
	if l.tx != nil || l.done || !batchable(args) {
		tx, err := l.begun(ctx)
		if err != nil {
			return errRows{err: err}, err
		}
		return tx.Query(ctx, sql, args...)
	}
	br, err := l.start(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
	if err != nil {
		return errRows{err: err}, err
	}
	rows, err := br.Query()
	if err != nil {
		_ = br.Close()
		return rows, err
	}
	return &batchRows{Rows: rows, br: br}, nil
}

func (l *lazyTx) QueryRow(ctx context.Context, sql string, args ...any) pgx.Row {
	rows, err := l.Query(ctx, sql, args...)
	if err != nil {
		return errRow{err: err}
	}
	return firstRow{rows: rows}
}

func (l *lazyTx) Commit(ctx context.Context) error {
	if l.tx == nil {
		if l.done {
			return pgx.ErrTxClosed
		}
		l.done = true
		return nil
	}
	return l.tx.Commit(ctx)
}

func (l *lazyTx) Rollback(ctx context.Context) error {
	if l.tx == nil {
		if l.done {
			return pgx.ErrTxClosed
		}
		l.done = true
		return nil
	}
	return l.tx.Rollback(ctx)
}

func (l *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := l.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

func (l *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := l.begun(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, cols, src)
}

// SendBatch as the first statement sends the BEGIN ahead of b's queries; its results
// start at b's first.
func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if l.tx != nil || l.done || b.Len() == 0 {
		tx, err := l.begun(ctx)
		if err != nil {
			return pgx.FailedBatchResults(b, err)
		}
		return tx.SendBatch(ctx, b)
	}
	br, err := l.start(ctx, b.QueuedQueries...)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

func (l *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := l.begun(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

// LargeObjects begins the transaction (large objects live in one); should that fail,
// the large objects' calls fail on the closed transaction pgx hands back.
func (l *lazyTx) LargeObjects() pgx.LargeObjects {
	tx, err := l.begun(context.Background())
	if err != nil {
		b := &pgx.Batch{}
		b.BeginTx(pgx.TxOptions{})
		tx = pgx.FailedBatchResults(b, err).Tx()
	}
	return tx.LargeObjects()
}

// Conn begins the transaction, so that the connection it returns is the one the
// transaction's statements run on. It is nil if beginning failed.
func (l *lazyTx) Conn() *pgx.Conn {
	tx, err := l.begun(context.Background())
	if err != nil {
		return nil
	}
	return tx.Conn()
}

// connClosed reports whether the transaction's connection died (false before it began).
func (l *lazyTx) connClosed() bool {
	return l.tx != nil && l.tx.Conn().IsClosed()
}

// batchRows are the first statement's rows; closing them closes the batch, which hands
// the connection to the transaction.
type batchRows struct {
	pgx.Rows
	br     pgx.BatchResults
	closed bool
	err    error
}

func (r *batchRows) Close() {
	r.Rows.Close()
	if !r.closed {
		r.closed = true
		r.err = r.br.Close()
	}
}

func (r *batchRows) Err() error {
	if err := r.Rows.Err(); err != nil {
		return err
	}
	return r.err
}

func (r *batchRows) Next() bool {
	if r.Rows.Next() {
		return true
	}
	r.Close()
	return false
}

// firstRow is QueryRow's answer: the first row, ErrNoRows without one.
type firstRow struct{ rows pgx.Rows }

func (r firstRow) Scan(dest ...any) error {
	defer r.rows.Close()
	if !r.rows.Next() {
		if err := r.rows.Err(); err != nil {
			return err
		}
		return pgx.ErrNoRows
	}
	if err := r.rows.Scan(dest...); err != nil {
		return err
	}
	r.rows.Close()
	return r.rows.Err()
}

type errRow struct{ err error }

func (r errRow) Scan(...any) error { return r.err }

// errRows are the rows of a query that failed before it ran.
type errRows struct{ err error }

func (errRows) Close()                                       {}
func (r errRows) Err() error                                 { return r.err }
func (errRows) CommandTag() pgconn.CommandTag                { return pgconn.CommandTag{} }
func (errRows) FieldDescriptions() []pgconn.FieldDescription { return nil }
func (errRows) Next() bool                                   { return false }
func (r errRows) Scan(...any) error                          { return r.err }
func (r errRows) Values() ([]any, error)                     { return nil, r.err }
func (errRows) RawValues() [][]byte                          { return nil }
func (errRows) Conn() *pgx.Conn                              { return nil }
func (errRows) TypeMap() *pgtype.Map                         { return nil }

package pg

import (
	"context"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ExecLater runs sql in tx. In a transaction of WithTx's it is held back and sent ahead
// of the transaction's next statement, or with its COMMIT, in the same round trip; in
// any other transaction it runs at once. Its error is then the error of that statement
// or of the commit, and the transaction is rolled back: use it for statements whose
// result nothing reads (appending to the outbox, marking rows done). args are encoded
// when the statement is sent, so they must not change until then.
func ExecLater(ctx context.Context, tx pgx.Tx, sql string, args ...any) error {
	if l, ok := tx.(*lazyTx); ok && !l.done {
		l.later = append(l.later, &pgx.QueuedQuery{SQL: sql, Arguments: args})
		return nil
	}
	if _, err := tx.Exec(ctx, sql, args...); err != nil {
		return err
	}
	return nil
}

// lazyTx is a transaction that spends as few round trips as it can: its BEGIN travels
// with its first statement, statements given to ExecLater travel with the next one or
// with the COMMIT, and a transaction that runs nothing never begins. A request's change
// and its outbox event thus take two round trips instead of four, and a consumer's
// inbox claim, its effect and the events it appends three instead of five.
//
// Why: on the two-core machines the benchmarks run on, the event pipeline's latency
// under load is mostly each round trip waiting to be scheduled. BEGIN with the first
// statement alone took the 8-writer p99 of the events bench from 29–33 ms to 19–26 ms in
// interleaved runs, while the writers committed 10–20% more.
//
// Exec and Query with arguments, and a batch, go in one batch with whatever waits to be
// sent (pgx's Batch.BeginTx when the transaction has not begun). Anything else (an Exec
// without arguments, which pgx sends in the simple protocol that allows several
// statements in one string; a query-mode option; CopyFrom, Prepare, savepoints, Conn)
// first sends what waits, beginning if need be, and then runs as usual.
type lazyTx struct {
	pool     *pgxpool.Pool
	conn     *pgxpool.Conn // acquired at the first round trip, released at the end
	tx       pgx.Tx        // the transaction on conn, nil until begun
	later    []*pgx.QueuedQuery
	done     bool  // committed or rolled back
	beginErr error // why beginning failed, if it did
}

var _ pgx.Tx = (*lazyTx)(nil)

// hasMode reports whether args start with a query-mode option, which a batch ignores.
func hasMode(args []any) bool {
	if len(args) == 0 {
		return false
	}
	_, mode := args[0].(pgx.QueryExecMode)
	return mode
}

// send sends what waits and queries in one round trip (beginning the transaction if it
// has not) and returns the results positioned at queries' first.
func (l *lazyTx) send(ctx context.Context, queries ...*pgx.QueuedQuery) (pgx.BatchResults, error) {
	if l.done {
		return nil, pgx.ErrTxClosed
	}
	later := l.later
	l.later = nil
	var br pgx.BatchResults
	if l.tx == nil {
		var err error
		if br, err = l.start(ctx, append(later, queries...)); err != nil {
			return nil, err
		}
	} else {
		b := &pgx.Batch{QueuedQueries: append(later, queries...)}
		br = l.tx.SendBatch(ctx, b)
	}
	for range later {
		if _, err := br.Exec(); err != nil {
			_ = br.Close()
			return nil, err
		}
	}
	return br, nil
}

// direct reports whether the transaction has begun and nothing waits to be sent, so a
// statement can go straight to it.
func (l *lazyTx) direct() bool { return l.tx != nil && len(l.later) == 0 }

// flush sends what waits, beginning the transaction if it has not, so that the
// transaction can be used directly.
func (l *lazyTx) flush(ctx context.Context) (pgx.Tx, error) {
	if l.direct() {
		return l.tx, nil
	}
	br, err := l.send(ctx)
	if err != nil {
		return nil, err
	}
	if err := br.Close(); err != nil {
		return nil, err
	}
	return l.tx, nil
}

// start acquires a connection and sends BEGIN and queries on it in one batch, returning
// the results positioned after the BEGIN's. A connection the server closed while idle
// fails before anything ran, as an ordinary BEGIN does, and is replaced the same way.
func (l *lazyTx) start(ctx context.Context, queries []*pgx.QueuedQuery) (pgx.BatchResults, error) {
	for attempt := 1; ; attempt++ {
		conn, err := l.pool.Acquire(ctx)
		if err != nil {
			if retryBegin(ctx, l.pool, attempt, err) {
				continue
			}
			l.beginErr = err
			return nil, err
		}
		b := &pgx.Batch{}
		b.BeginTx(pgx.TxOptions{})
		for _, q := range queries {
			// Copies: pgx keeps what it learned of a query on the connection it was sent
			// on in the query, and a retry goes to another.
			b.QueuedQueries = append(b.QueuedQueries, &pgx.QueuedQuery{SQL: q.SQL, Arguments: q.Arguments, Fn: q.Fn})
		}
		br := conn.SendBatch(ctx, b)
		if _, err = br.Exec(); err == nil {
			l.conn, l.tx = conn, br.Tx()
			return br, nil
		}
		_ = br.Close()
		conn.Release() // destroyed, not pooled, when it is broken or not idle
		if !retryBegin(ctx, l.pool, attempt, err) {
			l.beginErr = err
			return nil, err
		}
	}
}

// end releases the connection once the transaction is over.
func (l *lazyTx) end() {
	l.done, l.later = true, nil
	if l.conn != nil {
		l.conn.Release()
		l.conn = nil
	}
}

func (l *lazyTx) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if len(args) == 0 || hasMode(args) || l.direct() {
		tx, err := l.flush(ctx)
		if err != nil {
			return pgconn.CommandTag{}, err
		}
		return tx.Exec(ctx, sql, args...)
	}
	br, err := l.send(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
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
	if hasMode(args) || l.direct() {
		tx, err := l.flush(ctx)
		if err != nil {
			return errRows{err: err}, err
		}
		return tx.Query(ctx, sql, args...)
	}
	br, err := l.send(ctx, &pgx.QueuedQuery{SQL: sql, Arguments: args})
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
	rows, _ := l.Query(ctx, sql, args...) // the rows carry the error, as pgx's do
	return firstRow{rows: rows}
}

// SendBatch sends what waits ahead of b's queries; the results start at b's first.
func (l *lazyTx) SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults {
	if b.Len() == 0 || l.direct() {
		tx, err := l.flush(ctx)
		if err != nil {
			return pgx.FailedBatchResults(b, err)
		}
		return tx.SendBatch(ctx, b)
	}
	br, err := l.send(ctx, b.QueuedQueries...)
	if err != nil {
		return pgx.FailedBatchResults(b, err)
	}
	return br
}

// Commit sends what waits with the COMMIT; a transaction that ran nothing commits
// without a round trip.
func (l *lazyTx) Commit(ctx context.Context) error {
	if l.done {
		return pgx.ErrTxClosed
	}
	defer l.end()
	if len(l.later) == 0 {
		if l.tx == nil {
			return nil
		}
		return l.tx.Commit(ctx)
	}
	br, err := l.send(ctx, &pgx.QueuedQuery{SQL: "commit"})
	if err == nil {
		var tag pgconn.CommandTag
		tag, err = br.Exec()
		if cerr := br.Close(); err == nil {
			err = cerr
		}
		if err == nil && tag.String() == "ROLLBACK" {
			err = pgx.ErrTxCommitRollback
		}
	}
	if err != nil && l.conn != nil && l.conn.Conn().PgConn().TxStatus() == 'E' {
		// A statement sent ahead of the COMMIT failed, and the server skipped the rest
		// of the batch: end the failed transaction so the connection can be reused.
		_ = l.tx.Rollback(ctx)
	}
	return err
}

// Rollback drops what waits; a transaction that never began needs no round trip.
func (l *lazyTx) Rollback(ctx context.Context) error {
	if l.done {
		return pgx.ErrTxClosed
	}
	defer l.end()
	if l.tx == nil {
		return nil
	}
	return l.tx.Rollback(ctx)
}

func (l *lazyTx) Begin(ctx context.Context) (pgx.Tx, error) {
	tx, err := l.flush(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Begin(ctx)
}

func (l *lazyTx) CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error) {
	tx, err := l.flush(ctx)
	if err != nil {
		return 0, err
	}
	return tx.CopyFrom(ctx, table, cols, src)
}

func (l *lazyTx) Prepare(ctx context.Context, name, sql string) (*pgconn.StatementDescription, error) {
	tx, err := l.flush(ctx)
	if err != nil {
		return nil, err
	}
	return tx.Prepare(ctx, name, sql)
}

// LargeObjects begins the transaction (large objects live in one); should that fail,
// their calls fail on a closed transaction.
func (l *lazyTx) LargeObjects() pgx.LargeObjects {
	tx, err := l.flush(context.Background())
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
	tx, err := l.flush(context.Background())
	if err != nil {
		return nil
	}
	return tx.Conn()
}

// connClosed reports whether the transaction's connection died (false before it began).
func (l *lazyTx) connClosed() bool {
	return l.tx != nil && l.tx.Conn().IsClosed()
}

// batchRows are rows read from a batch; once read to the end or closed, the batch is
// closed too, which frees the connection for the transaction's next statement.
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

// Package outbox publishes domain events transactionally. Append writes the events into
// the service's outbox table inside the caller's transaction, so the state change and its
// events commit or vanish together. A Relay publishes pending rows to JetStream right
// after commit (woken by LISTEN/NOTIFY and by an in-process signal, with a slow poll as a
// safety net), using the event id as Nats-Msg-Id so a republish after a crash is dropped
// by JetStream's dedupe window or, later, by the consumers' inboxes.
package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/trace"
)

// Channel is the LISTEN/NOTIFY channel of schema's outbox.
func Channel(schema string) string { return "outbox_" + schema }

type mutedKey struct{}

// Muted returns a context in which Append records nothing. A read-model rebuild runs a
// handler again over facts whose consequences were already announced: the events it
// would append (a medal awarded, XP granted) carry fresh ids, so no inbox downstream
// could tell them from new ones and people would be told twice.
func Muted(ctx context.Context) context.Context { return context.WithValue(ctx, mutedKey{}, true) }

type localKey struct{}

// WithLocalRelay returns a context in which Append leaves out the NOTIFY while r holds
// the publishing lock; the caller promises to call r.Notify once the transaction has
// committed (kit.Service.AfterCommit and the consumer runner do).
//
// Why: a NOTIFY takes a server-wide lock at commit and keeps it across the commit's WAL
// flush, so every notifying transaction of the whole server commits one after another
// instead of sharing flushes; measured on this machine, 8 clients committing an outbox
// row reached 537–997 commits/s with the NOTIFY and 1,231–1,580 without. The NOTIFY is
// only needed to wake a relay in another process; when this process's relay leads, an
// in-process wake is enough. Should the relay lose its lock between the Append and the
// commit, the new leader finds the rows on its next poll (Relay.Poll, 1 s).
func WithLocalRelay(ctx context.Context, r *Relay) context.Context {
	return context.WithValue(ctx, localKey{}, r)
}

// Append stores envs in the outbox of the transaction's schema (the first entry of the
// search_path) and notifies the relay, which runs once the transaction commits. In a
// transaction of pg.WithTx's the rows are sent with the transaction's next statement
// or its COMMIT (pg.ExecLater), and an error is reported there.
func Append(ctx context.Context, tx pgx.Tx, envs ...events.Envelope) error {
	if len(envs) == 0 || ctx.Value(mutedKey{}) != nil {
		return nil
	}
	n := len(envs)
	ids, subjects, aggs, payloads, times := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]time.Time, n)
	tp := trace.From(ctx)
	for i, env := range envs {
		// Events inherit the trace of the request or event that caused them.
		if tp != "" && env.Trace == nil {
			env.Trace = map[string]string{trace.Header: tp}
		}
		payload, err := json.Marshal(env)
		if err != nil {
			return fmt.Errorf("outbox: marshal %s: %w", env.Type, err)
		}
		ids[i], subjects[i], aggs[i], payloads[i], times[i] = env.ID.String(), env.Subject, env.AggregateID, string(payload), env.OccurredAt
	}
	sql := appendNotify
	if r, ok := ctx.Value(localKey{}).(*Relay); ok && r != nil && r.leading.Load() {
		sql = appendQuiet
	}
	// Nothing reads the insert's result: it rides with the transaction's next round trip
	// (usually its COMMIT), and should it fail, the transaction fails there.
	if err := pg.ExecLater(ctx, tx, sql, ids, subjects, aggs, payloads, times); err != nil {
		return fmt.Errorf("outbox: append: %w", err)
	}
	return nil
}

const appendRows = `INSERT INTO outbox (event_id, subject, aggregate_id, payload, occurred_at)
	SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[])`

// appendNotify is the rows and the NOTIFY (delivered only at commit, and folded into one
// per transaction) that wakes relays in any process, in one round trip.
const (
	appendNotify = `WITH ins AS (` + appendRows + `) SELECT pg_notify('outbox_' || current_schema(), '')`
	appendQuiet  = appendRows
)

// Metrics is what the relay reports; nil functions are skipped.
type Metrics struct {
	Backlog   func(n float64)
	Published func(n float64)
}

// Relay publishes one schema's outbox.
//
// It works on one dedicated connection that holds a session advisory lock: only the
// holder publishes, which is what preserves per-aggregate order when several replicas
// run. Keeping the lock (rather than taking a transaction-scoped lock per batch) makes
// a cycle the publishes and one round trip that marks the batch before and selects the
// next (drain overlaps the two); before, every cycle paid BEGIN, the lock,
// the select, the update and a COMMIT that waited for fsync, and at a few hundred events
// per second the relay spent its time there while new events waited behind it.
//
// If the session dies while the relay is publishing a batch, another relay may take the
// lock and publish the same rows before this one notices. Both publish in id order under
// the same Nats-Msg-Ids, so the stream keeps the first copy of each, still in id order.
type Relay struct {
	Pool      *pgxpool.Pool
	JS        jetstream.JetStream
	Schema    string
	Log       *slog.Logger
	Metrics   Metrics
	Poll      time.Duration // safety-net poll; default 1s
	Batch     int           // default 256
	Retention time.Duration // published rows older than this are pruned; default 72h

	wake chan struct{}

	mu     sync.Mutex // serialises Drain calls and guards conn and leader
	conn   *pgx.Conn  // dedicated to the relay (taken out of the pool), nil until needed
	leader bool       // conn holds the schema's advisory lock
	// leading mirrors leader for Append, which reads it without the mutex.
	leading atomic.Bool
}

// NewRelay returns a relay for schema.
func NewRelay(pool *pgxpool.Pool, js jetstream.JetStream, schema string, log *slog.Logger) *Relay {
	return &Relay{Pool: pool, JS: js, Schema: schema, Log: log, Poll: time.Second, Batch: 256,
		Retention: 72 * time.Hour, wake: make(chan struct{}, 1)}
}

// Notify wakes the relay (callers in the same process use it right after a commit).
func (r *Relay) Notify() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run publishes until ctx ends. It never gives up: failures are logged and retried on the
// next wake or poll, so the relay resumes by itself after NATS or PostgreSQL return. On
// return it closes its connection, which releases the lock for another relay.
func (r *Relay) Run(ctx context.Context) error {
	defer r.Close()
	go r.listen(ctx)
	poll := time.NewTicker(r.Poll)
	defer poll.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	r.prune(ctx)
	// The backlog is a series from the start, not only after the first poll: a scrape
	// (or an alert on its absence) right after a deploy must find it.
	r.reportBacklog(ctx)
	for {
		if err := r.Drain(ctx); err != nil && ctx.Err() == nil {
			r.Log.Warn("outbox relay: publish failed; will retry", "schema", r.Schema, "err", err)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-r.wake:
		case <-poll.C:
			r.reportBacklog(ctx)
		case <-prune.C:
			r.prune(ctx)
		}
	}
}

// Close releases the relay's connection and with it the publishing lock.
func (r *Relay) Close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.dropConn()
}

func (r *Relay) dropConn() {
	if r.conn != nil {
		_ = r.conn.Close(context.Background())
	}
	r.conn, r.leader = nil, false
	r.leading.Store(false)
}

// listen turns NOTIFYs into wakes, reconnecting after failures.
func (r *Relay) listen(ctx context.Context) {
	for ctx.Err() == nil {
		conn, err := r.Pool.Acquire(ctx)
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		_, err = conn.Exec(ctx, "LISTEN "+pgx.Identifier{Channel(r.Schema)}.Sanitize())
		for err == nil {
			_, err = conn.Conn().WaitForNotification(ctx)
			if err == nil {
				r.Notify()
			}
		}
		// The connection may be mid-wait; never hand it back to the pool in that state.
		_ = conn.Conn().Close(context.Background())
		conn.Release()
		if ctx.Err() == nil {
			time.Sleep(500 * time.Millisecond)
		}
	}
}

// lockKey is the advisory lock of the schema's outbox. It is the key the earlier
// transaction-scoped lock used, so a relay of either kind excludes the other during a
// rolling deploy.
const lockKey = "SELECT pg_try_advisory_lock(hashtext('outbox.' || current_schema()))"

// selectPending selects the oldest unpublished rows but those in flight ($2).
const selectPending = `SELECT id, event_id::text, subject, payload::text FROM outbox
	WHERE published_at IS NULL AND id <> ALL($2) ORDER BY id LIMIT $1`

// lead makes sure the relay has its connection and the lock, and reports whether it
// holds the lock. A relay that does not hold it keeps its connection and retries on every
// wake, so it takes over as soon as the leader's session ends.
func (r *Relay) lead(ctx context.Context) (bool, error) {
	if r.conn == nil {
		pc, err := r.Pool.Acquire(ctx)
		if err != nil {
			return false, fmt.Errorf("acquire connection: %w", err)
		}
		// Taken out of the pool: the session keeps the lock and a setting no other user
		// of the pool should inherit.
		r.conn = pc.Hijack()
		// Marking rows published need not wait for fsync: if a crash loses the mark, the
		// rows are published again, and JetStream's dedupe window (same Nats-Msg-Id) or
		// the consumers' inboxes drop the copies. Nothing else is written on this session.
		if _, err := r.conn.Exec(ctx, "SET synchronous_commit = off"); err != nil {
			r.dropConn()
			return false, fmt.Errorf("configure relay session: %w", err)
		}
	}
	if !r.leader {
		if err := r.conn.QueryRow(ctx, lockKey).Scan(&r.leader); err != nil {
			r.dropConn()
			return false, fmt.Errorf("lock: %w", err)
		}
		r.leading.Store(r.leader)
	}
	return r.leader, nil
}

// Drain publishes pending rows until none is left. Another relay holding the lock makes
// it a no-op.
func (r *Relay) Drain(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	leader, err := r.lead(ctx)
	if err != nil || !leader {
		return err
	}
	if err := r.drain(ctx); err != nil {
		// A broken session may have lost the lock with it; start afresh next time.
		if r.conn.IsClosed() || ctx.Err() != nil {
			r.dropConn()
		}
		return err
	}
	return nil
}

type row struct {
	id      int64
	eventID string
	subject string
	payload []byte
}

// drain publishes in id order, batch after batch, with one batch's acknowledgements on
// their way while the round trip that marks the batch before it selects the next one
// (one implicit transaction, so the select sees the marks; the batch in flight is left
// out by id). A cycle then costs the longer of the two waits rather than their sum: in
// interleaved events-bench runs with 8 writers, the relay's part (commit → stored) fell
// from p50 1.9 to 1.3 ms and p99 7–10 to 5–7 ms.
//
// Batches leave one after another on one connection, so the stream stores them in id
// order. A failure stops the pipeline: what is in flight is awaited and its acknowledged
// prefix marked, and the next drain starts from the oldest unpublished row again; copies
// of rows that were stored after all are dropped by their Nats-Msg-Id. JetStream answers
// each publish on its own, so one refused in flight while later ones are stored goes to
// the stream after them on the retry.
func (r *Relay) drain(ctx context.Context) error {
	rows, err := r.conn.Query(ctx, selectPending, r.Batch, []int64{})
	if err != nil {
		return fmt.Errorf("select pending: %w", err)
	}
	batch, err := scanRows(rows)
	if err != nil {
		return err
	}
	var prev flight // sent, acknowledgements awaited
	for len(batch) > 0 || len(prev.rows) > 0 {
		cur := r.send(batch)
		acked := r.await(ctx, prev)
		failed := acked < len(prev.rows) || len(cur.rows) < len(batch)
		b := &pgx.Batch{}
		if acked > 0 {
			b.Queue(markPublished, ids(prev.rows[:acked]))
		}
		var next []row
		if !failed && len(cur.rows) > 0 {
			b.Queue(selectPending, r.Batch, ids(cur.rows)).Query(func(rows pgx.Rows) error {
				var serr error
				next, serr = scanRows(rows)
				return serr
			})
		}
		if b.Len() > 0 {
			if err := r.conn.SendBatch(ctx, b).Close(); err != nil {
				return fmt.Errorf("mark published: %w", err)
			}
		}
		r.published(acked)
		if failed {
			n := r.await(ctx, cur)
			if n > 0 {
				if _, err := r.conn.Exec(ctx, markPublished, ids(cur.rows[:n])); err != nil {
					return fmt.Errorf("mark published: %w", err)
				}
			}
			r.published(n)
			return fmt.Errorf("%d events left unpublished", len(prev.rows)-acked+len(batch)-n)
		}
		prev, batch = cur, next
	}
	return nil
}

const markPublished = `UPDATE outbox SET published_at = now() WHERE id = ANY($1)`

func ids(rows []row) []int64 {
	out := make([]int64, len(rows))
	for i, x := range rows {
		out[i] = x.id
	}
	return out
}

func (r *Relay) published(n int) {
	if n > 0 && r.Metrics.Published != nil {
		r.Metrics.Published(float64(n))
	}
}

func scanRows(rows pgx.Rows) ([]row, error) {
	defer rows.Close()
	var batch []row
	for rows.Next() {
		var x row
		var payload string
		if err := rows.Scan(&x.id, &x.eventID, &x.subject, &payload); err != nil {
			return nil, fmt.Errorf("scan pending: %w", err)
		}
		x.payload = []byte(payload)
		batch = append(batch, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("select pending: %w", err)
	}
	return batch, nil
}

// flight is a batch sent to JetStream whose acknowledgements are awaited.
type flight struct {
	rows    []row
	futures []jetstream.PubAckFuture
}

// send publishes batch asynchronously (one connection keeps the order) up to the first
// publish refused; the rows from there on are sent again next time.
func (r *Relay) send(batch []row) flight {
	f := flight{futures: make([]jetstream.PubAckFuture, 0, len(batch))}
	for _, x := range batch {
		msg := &nats.Msg{Subject: x.subject, Data: x.payload}
		fut, err := r.JS.PublishMsgAsync(msg, jetstream.WithMsgID(x.eventID))
		if err != nil {
			r.Log.Warn("outbox relay: publish", "subject", x.subject, "err", err)
			break
		}
		f.futures = append(f.futures, fut)
	}
	f.rows = batch[:len(f.futures)]
	return f
}

// await returns how many leading rows of f JetStream acknowledged; rows after the first
// failure are sent again next time and deduplicated by their Nats-Msg-Id.
func (r *Relay) await(ctx context.Context, f flight) int {
	if len(f.futures) == 0 {
		return 0
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for i, fut := range f.futures {
		select {
		case <-fut.Ok():
		case err := <-fut.Err():
			r.Log.Warn("outbox relay: publish not acknowledged", "subject", f.rows[i].subject, "err", err)
			return i
		case <-timeout.C:
			return i
		case <-ctx.Done():
			return i
		}
	}
	return len(f.futures)
}

func (r *Relay) reportBacklog(ctx context.Context) {
	if r.Metrics.Backlog == nil {
		return
	}
	var n int64
	if err := r.Pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE published_at IS NULL").Scan(&n); err == nil {
		r.Metrics.Backlog(float64(n))
	}
}

func (r *Relay) prune(ctx context.Context) {
	if _, err := r.Pool.Exec(ctx, "DELETE FROM outbox WHERE published_at < now() - $1::interval",
		fmt.Sprintf("%d seconds", int(r.Retention.Seconds()))); err != nil && ctx.Err() == nil {
		r.Log.Warn("outbox relay: prune", "err", err)
	}
}

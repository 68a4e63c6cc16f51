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
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/trace"
)

// Channel is the LISTEN/NOTIFY channel of schema's outbox.
func Channel(schema string) string { return "outbox_" + schema }

// Append stores envs in the outbox of the transaction's schema (the first entry of the
// search_path) and notifies the relay, which runs once the transaction commits.
func Append(ctx context.Context, tx pgx.Tx, envs ...events.Envelope) error {
	if len(envs) == 0 {
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
	// One round trip: the rows and the NOTIFY (delivered only at commit, and folded into
	// one per transaction) that wakes relays in any process.
	if _, err := tx.Exec(ctx, `WITH ins AS (
			INSERT INTO outbox (event_id, subject, aggregate_id, payload, occurred_at)
			SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::jsonb[], $5::timestamptz[]))
		SELECT pg_notify('outbox_' || current_schema(), '')`, ids, subjects, aggs, payloads, times); err != nil {
		return fmt.Errorf("outbox: append: %w", err)
	}
	return nil
}

// Metrics is what the relay reports; nil functions are skipped.
type Metrics struct {
	Backlog   func(n float64)
	Published func(n float64)
}

// Relay publishes one schema's outbox.
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
// next wake or poll, so the relay resumes by itself after NATS or PostgreSQL return.
func (r *Relay) Run(ctx context.Context) error {
	go r.listen(ctx)
	poll := time.NewTicker(r.Poll)
	defer poll.Stop()
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	r.prune(ctx)
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

// Drain publishes pending rows until none is left.
func (r *Relay) Drain(ctx context.Context) error {
	for {
		n, err := r.publishBatch(ctx)
		if err != nil {
			return err
		}
		if n < r.Batch {
			return nil
		}
	}
}

type row struct {
	id      int64
	eventID string
	subject string
	payload []byte
}

// publishBatch publishes up to Batch rows in id order. The transaction-scoped advisory
// lock keeps a single publisher per schema, which is what preserves per-aggregate order
// when several replicas run.
func (r *Relay) publishBatch(ctx context.Context) (int, error) {
	tx, err := r.Pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck // after commit this is a no-op
	var locked bool
	if err := tx.QueryRow(ctx, "SELECT pg_try_advisory_xact_lock(hashtext('outbox.' || current_schema()))").Scan(&locked); err != nil {
		return 0, fmt.Errorf("lock: %w", err)
	}
	if !locked {
		return 0, nil
	}
	rows, err := tx.Query(ctx, `SELECT id, event_id::text, subject, payload::text FROM outbox
		WHERE published_at IS NULL ORDER BY id LIMIT $1`, r.Batch)
	if err != nil {
		return 0, fmt.Errorf("select pending: %w", err)
	}
	var batch []row
	for rows.Next() {
		var x row
		var payload string
		if err := rows.Scan(&x.id, &x.eventID, &x.subject, &payload); err != nil {
			rows.Close()
			return 0, fmt.Errorf("scan: %w", err)
		}
		x.payload = []byte(payload)
		batch = append(batch, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("select pending: %w", err)
	}
	if len(batch) == 0 {
		return 0, tx.Commit(ctx)
	}
	done := r.publish(ctx, batch)
	if done > 0 {
		ids := make([]int64, done)
		for i := range ids {
			ids[i] = batch[i].id
		}
		if _, err := tx.Exec(ctx, "UPDATE outbox SET published_at = now() WHERE id = ANY($1)", ids); err != nil {
			return 0, fmt.Errorf("mark published: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return 0, fmt.Errorf("commit: %w", err)
	}
	if r.Metrics.Published != nil {
		r.Metrics.Published(float64(done))
	}
	if done < len(batch) {
		return done, fmt.Errorf("published %d of %d events", done, len(batch))
	}
	return done, nil
}

// publish sends the batch asynchronously (one connection keeps the order) and returns
// how many leading rows were acknowledged; rows after the first failure are sent again
// next time and deduplicated by their Nats-Msg-Id.
func (r *Relay) publish(ctx context.Context, batch []row) int {
	futures := make([]jetstream.PubAckFuture, len(batch))
	sent := 0
	for i, x := range batch {
		msg := &nats.Msg{Subject: x.subject, Data: x.payload}
		f, err := r.JS.PublishMsgAsync(msg, jetstream.WithMsgID(x.eventID))
		if err != nil {
			r.Log.Warn("outbox relay: publish", "subject", x.subject, "err", err)
			break
		}
		futures[i] = f
		sent++
	}
	timeout := time.NewTimer(5 * time.Second)
	defer timeout.Stop()
	for i := 0; i < sent; i++ {
		select {
		case <-futures[i].Ok():
		case err := <-futures[i].Err():
			r.Log.Warn("outbox relay: publish not acknowledged", "subject", batch[i].subject, "err", err)
			return i
		case <-timeout.C:
			return i
		case <-ctx.Done():
			return i
		}
	}
	return sent
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

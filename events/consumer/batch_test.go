package consumer_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/testkit"
)

// loggingHandler appends every application to applied_log with the transaction it ran
// in, so a test can check order per aggregate, exactly-once and that batches happened.
func loggingHandler(fail func(env events.Envelope) error) consumer.Handler {
	return func(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
		if fail != nil {
			if err := fail(env); err != nil {
				return err
			}
		}
		e, err := events.Decode[events.UserBannedV1](env)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO applied_log (aggregate, n, event_id, tx) VALUES ($1, $2, $3, txid_current())`,
			env.AggregateID, e.By, env.ID)
		return err
	}
}

func logTable(t *testing.T, r *rig) {
	t.Helper()
	if _, err := r.pool.Exec(r.ctx, `CREATE TABLE applied_log (seq bigserial PRIMARY KEY, aggregate text NOT NULL,
		n text NOT NULL, event_id uuid NOT NULL, tx bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
}

// publishBacklog publishes n events over aggs aggregates straight to JetStream, before
// any consumer runs, so the consumer receives them in bulk and its workers batch them.
// Payload field By carries the per-aggregate position, zero-padded so text order is
// numeric order. Every dupEvery-th event is published a second time under another
// message id, as a relay retry past the dedupe window would.
func publishBacklog(t *testing.T, r *rig, n, aggs, dupEvery int) []events.Envelope {
	t.Helper()
	var out []events.Envelope
	for i := 0; i < n; i++ {
		agg := fmt.Sprintf("agg-%d", i%aggs)
		env, err := events.New("test", agg, events.UserBannedV1{UserID: agg, By: fmt.Sprintf("%06d", i/aggs)}, events.Meta{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		testkit.PublishEnvelope(t, r.env.NATS.JS, env, env.ID.String())
		if dupEvery > 0 && i%dupEvery == 0 {
			testkit.PublishEnvelope(t, r.env.NATS.JS, env, env.ID.String()+"-copy")
		}
		out = append(out, env)
	}
	return out
}

// checkLog asserts each event in want was applied exactly once, every aggregate's events
// in publication order, and at least one transaction applied several events.
func checkLog(t *testing.T, r *rig, want []events.Envelope) {
	t.Helper()
	if n := testkit.Count(t, r.pool, `SELECT count(*) FROM applied_log`); n != len(want) {
		t.Fatalf("%d applications for %d events: exactly-once broken", n, len(want))
	}
	if n := testkit.Count(t, r.pool, `SELECT count(DISTINCT event_id) FROM applied_log`); n != len(want) {
		t.Fatalf("%d distinct events applied, want %d", n, len(want))
	}
	if n := testkit.Count(t, r.pool, `SELECT count(*) FROM (SELECT aggregate, n < lag(n) OVER (PARTITION BY aggregate ORDER BY seq) AS back
		FROM applied_log) x WHERE back`); n != 0 {
		t.Fatalf("%d events applied before an earlier event of their aggregate", n)
	}
	if n := testkit.Count(t, r.pool, `SELECT count(*) FROM (SELECT tx FROM applied_log GROUP BY tx HAVING count(*) > 1) x`); n == 0 {
		t.Fatal("no transaction applied more than one event: the test did not exercise batching")
	}
}

func TestBatchedEventsAreAppliedOnceInOrderPerAggregate(t *testing.T) {
	r := newRig(t)
	logTable(t, r)
	envs := publishBacklog(t, r, 300, 7, 9)
	s := spec("test-batch-order", loggingHandler(nil))
	s.Workers, s.Batch = 3, 16
	r.startConsumer(t, s)
	testkit.Eventually(t, 20*time.Second, "every event applied", func() bool {
		return testkit.Count(t, r.pool, `SELECT count(DISTINCT event_id) FROM applied_log`) == len(envs)
	})
	time.Sleep(300 * time.Millisecond) // a late duplicate would land now
	checkLog(t, r, envs)
}

// One event of a batch keeps failing: the rest of its batch is applied once each (the
// failed batch's claims rolled back with it, so nothing is skipped as a duplicate), and
// the failing one is retried and dead-lettered after MaxDeliver, never applied.
func TestOneFailingEventDoesNotHoldBackOrDuplicateItsBatch(t *testing.T) {
	r := newRig(t)
	logTable(t, r)
	envs := publishBacklog(t, r, 60, 3, 0)
	bad := envs[20]
	s := spec("test-batch-fail", loggingHandler(func(env events.Envelope) error {
		if env.ID == bad.ID {
			return errors.New("dependency down for this one")
		}
		return nil
	}))
	s.Workers, s.Batch = 2, 16
	r.startConsumer(t, s)
	dl := readDLQ(t, r, "test-batch-fail")
	if got := dl.Headers().Get(consumer.HdrDeliveries); got != "3" {
		t.Fatalf("dead letter after %s deliveries, want 3", got)
	}
	want := append(append([]events.Envelope{}, envs[:20]...), envs[21:]...)
	testkit.Eventually(t, 10*time.Second, "the others applied", func() bool {
		return testkit.Count(t, r.pool, `SELECT count(DISTINCT event_id) FROM applied_log`) == len(want)
	})
	time.Sleep(300 * time.Millisecond)
	checkLog(t, r, want)
	if n := testkit.Count(t, r.pool, `SELECT count(*) FROM applied_log WHERE event_id = $1`, bad.ID); n != 0 {
		t.Fatalf("failing event applied %d times", n)
	}
}

// A handler learns which delivery it is applying and when the stream stored it, in a
// batch and alone: every event its own sequence, in publication order, and one whose
// first delivery failed its second delivery.
func TestHandlersSeeTheirDelivery(t *testing.T) {
	r := newRig(t)
	if _, err := r.pool.Exec(r.ctx, `CREATE TABLE seen_deliveries (event_id uuid NOT NULL, seq bigint NOT NULL,
		delivered bigint NOT NULL, stored_at timestamptz NOT NULL, tx bigint NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, ok := consumer.Delivery(r.ctx); ok {
		t.Fatal("Delivery reported a message outside a handler")
	}
	start := time.Now()
	envs := publishBacklog(t, r, 40, 4, 0)
	retried := envs[9]
	s := spec("test-delivery", func(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
		meta, ok := consumer.Delivery(ctx)
		if !ok {
			return apperr.Permanent("no_delivery", "no delivery in the handler's context", nil)
		}
		if env.ID == retried.ID && meta.NumDelivered == 1 {
			return errors.New("the first delivery fails")
		}
		_, err := tx.Exec(ctx, `INSERT INTO seen_deliveries VALUES ($1, $2, $3, $4, txid_current())`,
			env.ID, meta.Sequence.Stream, meta.NumDelivered, meta.Timestamp)
		return err
	})
	s.Workers, s.Batch = 2, 16
	r.startConsumer(t, s)
	testkit.Eventually(t, 20*time.Second, "every event applied", func() bool {
		return testkit.Count(t, r.pool, `SELECT count(*) FROM seen_deliveries`) == len(envs)
	})
	if n := testkit.Count(t, r.pool, `SELECT count(*) FROM (SELECT tx FROM seen_deliveries GROUP BY tx HAVING count(*) > 1) x`); n == 0 {
		t.Fatal("no transaction applied more than one event: the test did not exercise batching")
	}
	var prev int64
	for i, env := range envs {
		var seq, delivered int64
		var stored time.Time
		if err := r.pool.QueryRow(r.ctx, `SELECT seq, delivered, stored_at FROM seen_deliveries WHERE event_id = $1`, env.ID).
			Scan(&seq, &delivered, &stored); err != nil {
			t.Fatalf("event %d: %v", i, err)
		}
		if seq <= prev {
			t.Fatalf("event %d has stream sequence %d after %d", i, seq, prev)
		}
		prev = seq
		want := int64(1)
		if env.ID == retried.ID {
			want = 2
		}
		if delivered != want {
			t.Fatalf("event %d applied on delivery %d, want %d", i, delivered, want)
		}
		if stored.Before(start.Add(-time.Second)) || stored.After(time.Now()) {
			t.Fatalf("event %d stored at %s, outside the test (from %s)", i, stored, start)
		}
	}
}

// A transaction that outlasts AckWait is not redelivered meanwhile, alone or as a batch,
// and neither are the messages queued behind it: the worker tells the server every
// AckWait/3 that everything it holds is still in progress.
func TestLongTransactionsAreNotRedelivered(t *testing.T) {
	for _, tc := range []struct {
		name  string
		batch int
	}{{"alone", 1}, {"batch", 16}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			logTable(t, r)
			envs := publishBacklog(t, r, 20, 2, 0)
			const ackWait = 900 * time.Millisecond
			var slept atomic.Bool
			s := spec("test-long-"+tc.name, func(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
				// Sleeps once, in a transaction that already applied an event when batching:
				// the keep-alive under test is then the batch's.
				var before int
				if err := tx.QueryRow(ctx, `SELECT count(*) FROM applied_log WHERE tx = txid_current()`).Scan(&before); err != nil {
					return err
				}
				if (tc.batch == 1 || before > 0) && slept.CompareAndSwap(false, true) {
					time.Sleep(3 * ackWait)
				}
				return loggingHandler(nil)(ctx, tx, env)
			})
			s.Workers, s.Batch, s.AckWait = 1, tc.batch, ackWait
			var redelivered atomic.Int64
			run := &consumer.Runner{Pool: r.pool, JS: r.env.NATS.JS, Log: r.env.Log, Specs: []consumer.Spec{s},
				Metrics: consumer.Metrics{Redelivered: func(string) { redelivered.Add(1) }}}
			if err := run.Start(r.ctx); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(run.Stop)
			testkit.Eventually(t, 20*time.Second, "every event applied", func() bool {
				return testkit.Count(t, r.pool, `SELECT count(DISTINCT event_id) FROM applied_log`) == len(envs)
			})
			if !slept.Load() {
				t.Fatal("no handler slept: the test did not exercise a long transaction")
			}
			time.Sleep(ackWait) // a redelivery queued behind the long transaction would be handled now
			if n := redelivered.Load(); n != 0 {
				t.Fatalf("%d messages redelivered while their worker still held them", n)
			}
			if tc.batch > 1 {
				checkLog(t, r, envs)
			}
		})
	}
}

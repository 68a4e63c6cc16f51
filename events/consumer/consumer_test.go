package consumer_test

import (
	"context"
	"errors"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/testkit"
)

// rig is one schema with a relay and a consumer that counts applications per event in a
// table, so "applied once" is checked in the database, not in memory.
type rig struct {
	env   *testkit.Env
	pool  *pgxpool.Pool
	relay *outbox.Relay
	ctx   context.Context
}

func newRig(t *testing.T) *rig {
	t.Helper()
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if _, err := pool.Exec(ctx, `CREATE TABLE applied (event_id uuid PRIMARY KEY, times int NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	relay := outbox.NewRelay(pool, env.NATS.JS, "notifications", env.Log)
	relay.Poll = 50 * time.Millisecond
	return &rig{env: env, pool: pool, relay: relay, ctx: ctx}
}

func (r *rig) runRelay(t *testing.T) {
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{})
	go func() { _ = r.relay.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// countingHandler records each application; fail decides the outcome per delivery.
func countingHandler(fail func(env events.Envelope) error) consumer.Handler {
	return func(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
		if fail != nil {
			if err := fail(env); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO applied (event_id, times) VALUES ($1, 1)
			ON CONFLICT (event_id) DO UPDATE SET times = applied.times + 1`, env.ID)
		return err
	}
}

func (r *rig) startConsumer(t *testing.T, spec consumer.Spec) *consumer.Runner {
	t.Helper()
	run := &consumer.Runner{Pool: r.pool, JS: r.env.NATS.JS, Log: r.env.Log, Specs: []consumer.Spec{spec},
		Backoff: func(uint64) time.Duration { return 20 * time.Millisecond }}
	if err := run.Start(r.ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(run.Stop)
	return run
}

func (r *rig) commit(t *testing.T, userID string) events.Envelope {
	t.Helper()
	env, err := events.New("test", userID, events.UserBannedV1{UserID: userID, By: "admin"}, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := pg.WithTx(r.ctx, r.pool, func(tx pgx.Tx) error { return outbox.Append(r.ctx, tx, env) }); err != nil {
		t.Fatal(err)
	}
	return env
}

func (r *rig) times(t *testing.T, env events.Envelope) int {
	t.Helper()
	var n int
	err := r.pool.QueryRow(r.ctx, `SELECT times FROM applied WHERE event_id = $1`, env.ID).Scan(&n)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func spec(name string, h consumer.Handler) consumer.Spec {
	return consumer.Spec{Name: name, Stream: events.StreamAuth, Subjects: []string{events.SubjUserBanned},
		Handle: h, MaxDeliver: 3, AckWait: 2 * time.Second}
}

func TestEventCommittedWhileNATSIsDownIsDeliveredAfterItReturns(t *testing.T) {
	r := newRig(t)
	r.runRelay(t)
	r.env.NATS.Stop()
	env := r.commit(t, "u-down")
	time.Sleep(300 * time.Millisecond) // the relay tries and fails meanwhile
	var pending int
	if err := r.pool.QueryRow(r.ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&pending); err != nil {
		t.Fatal(err)
	}
	if pending != 1 {
		t.Fatalf("pending outbox rows while NATS is down = %d, want 1", pending)
	}
	r.env.NATS.Restart(t)
	testkit.Eventually(t, 15*time.Second, "client reconnect", func() bool { return r.env.NATS.NC.Status() == nats.CONNECTED })
	r.startConsumer(t, spec("test-on-banned", countingHandler(nil)))
	testkit.Eventually(t, 15*time.Second, "delivery after NATS returns", func() bool { return r.times(t, env) == 1 })
}

func TestRedeliveredEventIsAppliedOnce(t *testing.T) {
	r := newRig(t)
	r.startConsumer(t, spec("test-once", countingHandler(nil)))
	env, _ := events.New("test", "u1", events.UserBannedV1{UserID: "u1"}, events.Meta{}, time.Now())
	data, _ := jsonOf(env)
	// Published three times under different message ids, so JetStream's dedupe window
	// does not hide the copies: only the inbox stands between them and double effects.
	for i := 0; i < 3; i++ {
		if _, err := r.env.NATS.JS.Publish(r.ctx, env.Subject, data, jetstream.WithMsgID(env.ID.String()+"-"+strconv.Itoa(i))); err != nil {
			t.Fatal(err)
		}
	}
	testkit.Eventually(t, 10*time.Second, "first application", func() bool { return r.times(t, env) >= 1 })
	time.Sleep(300 * time.Millisecond)
	if n := r.times(t, env); n != 1 {
		t.Fatalf("applied %d times, want 1", n)
	}
}

func TestPoisonEventLandsInDLQAfterTheConfiguredAttempts(t *testing.T) {
	r := newRig(t)
	var attempts atomic.Int32
	r.startConsumer(t, spec("test-poison", countingHandler(func(events.Envelope) error {
		attempts.Add(1)
		return errors.New("dependency down")
	})))
	env := r.commit(t, "u-poison")
	r.runRelay(t)
	dl := readDLQ(t, r, "test-poison")
	if got := dl.Headers().Get(consumer.HdrDeliveries); got != "3" {
		t.Fatalf("dead letter after %s deliveries, want 3", got)
	}
	if dl.Headers().Get(consumer.HdrSubject) != events.SubjUserBanned || dl.Headers().Get(consumer.HdrStreamSeq) == "" {
		t.Fatalf("dead letter lacks origin headers: %v", dl.Headers())
	}
	if reason := dl.Headers().Get(consumer.HdrReason); reason == "" {
		t.Fatal("dead letter without reason")
	}
	parsed, err := events.Parse(dl.Data())
	if err != nil || parsed.ID != env.ID {
		t.Fatalf("dead letter payload is not the original event: %v", err)
	}
	if attempts.Load() != 3 || r.times(t, env) != 0 {
		t.Fatalf("attempts=%d applied=%d, want 3 and 0", attempts.Load(), r.times(t, env))
	}
}

func TestPermanentFailureIsDeadLetteredAtOnce(t *testing.T) {
	r := newRig(t)
	var attempts atomic.Int32
	r.startConsumer(t, spec("test-permanent", countingHandler(func(events.Envelope) error {
		attempts.Add(1)
		return apperr.Permanent("bad_event", "cannot apply", nil)
	})))
	r.commit(t, "u-perm")
	r.runRelay(t)
	dl := readDLQ(t, r, "test-permanent")
	if got := dl.Headers().Get(consumer.HdrDeliveries); got != "1" {
		t.Fatalf("permanent failure dead-lettered after %s deliveries, want 1", got)
	}
	time.Sleep(200 * time.Millisecond)
	if attempts.Load() != 1 {
		t.Fatalf("attempts = %d, want 1 (terminated, not retried)", attempts.Load())
	}
}

func TestUndecodableMessageIsDeadLettered(t *testing.T) {
	r := newRig(t)
	r.startConsumer(t, spec("test-garbage", countingHandler(nil)))
	if _, err := r.env.NATS.JS.Publish(r.ctx, events.SubjUserBanned, []byte("{not json")); err != nil {
		t.Fatal(err)
	}
	dl := readDLQ(t, r, "test-garbage")
	if string(dl.Data()) != "{not json" {
		t.Fatalf("dead letter data = %q", dl.Data())
	}
}

func TestCrashBetweenCommitAndPublishLosesNothing(t *testing.T) {
	r := newRig(t)
	r.startConsumer(t, spec("test-crash", countingHandler(nil)))
	// Committed, but the process "died" before its relay ran.
	env := r.commit(t, "u-crash")
	// And an event whose publish succeeded but whose row was never marked published.
	env2 := r.commit(t, "u-crash-2")
	data, _ := jsonOf(env2)
	if _, err := r.env.NATS.JS.Publish(r.ctx, env2.Subject, data, jetstream.WithMsgID(env2.ID.String())); err != nil {
		t.Fatal(err)
	}
	// A new relay (the restarted process) picks both up from the table.
	r.runRelay(t)
	testkit.Eventually(t, 10*time.Second, "both events applied", func() bool {
		return r.times(t, env) == 1 && r.times(t, env2) == 1
	})
	var pending int
	testkit.Eventually(t, 5*time.Second, "outbox drained", func() bool {
		_ = r.pool.QueryRow(r.ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&pending)
		return pending == 0
	})
	time.Sleep(200 * time.Millisecond)
	if r.times(t, env2) != 1 {
		t.Fatalf("republished event applied %d times, want 1", r.times(t, env2))
	}
}

func readDLQ(t *testing.T, r *rig, name string) jetstream.Msg {
	t.Helper()
	c, err := r.env.NATS.JS.OrderedConsumer(r.ctx, events.StreamDLQ, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{events.DLQSubject(name)}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := c.Next(jetstream.FetchMaxWait(15 * time.Second))
	if err != nil {
		t.Fatalf("no dead letter for %s: %v", name, err)
	}
	return m
}

package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/testkit"
)

// flakyJS fails chosen publishes: "refuse" ones are rejected before they reach NATS,
// "lose" ones reach the stream but their acknowledgement is reported as failed, as when
// a PubAck is lost, and "drop" ones are accepted but never stored, their acknowledgement
// reporting the failure. Each failure happens once per event id.
type flakyJS struct {
	jetstream.JetStream
	mu     sync.Mutex
	refuse map[string]bool
	lose   map[string]bool
	drop   map[string]bool
	calls  int
}

type failedFuture struct {
	msg *nats.Msg
	err chan error
}

func (f failedFuture) Ok() <-chan *jetstream.PubAck { return nil }
func (f failedFuture) Err() <-chan error            { return f.err }
func (f failedFuture) Msg() *nats.Msg               { return f.msg }

func (j *flakyJS) PublishMsgAsync(m *nats.Msg, opts ...jetstream.PublishOpt) (jetstream.PubAckFuture, error) {
	env, err := events.Parse(m.Data)
	if err != nil {
		return nil, err
	}
	id := env.ID.String()
	j.mu.Lock()
	j.calls++
	refuse, lose, drop := j.refuse[id], j.lose[id], j.drop[id]
	delete(j.refuse, id)
	delete(j.lose, id)
	delete(j.drop, id)
	j.mu.Unlock()
	if refuse {
		return nil, errors.New("injected: publish refused")
	}
	if drop {
		return failed(m, "injected: not stored"), nil
	}
	f, err := j.JetStream.PublishMsgAsync(m, opts...)
	if err != nil || !lose {
		return f, err
	}
	// Let the real publish land, then report it as failed.
	select {
	case <-f.Ok():
	case err := <-f.Err():
		return nil, err
	}
	return failed(m, "injected: ack lost"), nil
}

// failed is a future whose publish of m failed with reason.
func failed(m *nats.Msg, reason string) failedFuture {
	ff := failedFuture{msg: m, err: make(chan error, 1)}
	ff.err <- errors.New(reason)
	return ff
}

func commit(t *testing.T, ctx context.Context, pool *pgxpool.Pool, agg string, n int) []events.Envelope {
	t.Helper()
	var envs []events.Envelope
	for i := 0; i < n; i++ {
		env, err := events.New("test", agg, events.UserBannedV1{UserID: agg, By: fmt.Sprint(i)}, events.Meta{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error { return outbox.Append(ctx, tx, env) }); err != nil {
			t.Fatal(err)
		}
		envs = append(envs, env)
	}
	return envs
}

func run(t *testing.T, ctx context.Context, r *outbox.Relay) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { _ = r.Run(ctx); close(done) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return stop
}

func pending(t *testing.T, ctx context.Context, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM outbox WHERE published_at IS NULL`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// checkStream asserts the subject holds exactly want, once each, in that order.
func checkStream(t *testing.T, js jetstream.JetStream, want []events.Envelope) {
	t.Helper()
	got := testkit.StreamEvents(t, js, events.StreamAuth, events.SubjUserBanned, len(want), 10*time.Second)
	time.Sleep(200 * time.Millisecond) // a late duplicate would show up now
	got = testkit.StreamEvents(t, js, events.StreamAuth, events.SubjUserBanned, len(want), time.Second)
	if len(got) != len(want) {
		t.Fatalf("stream holds %d events, want %d (each once)", len(got), len(want))
	}
	for i := range want {
		if got[i].ID != want[i].ID {
			t.Fatalf("stream position %d holds %s, want %s: order or exactly-once broken", i, got[i].ID, want[i].ID)
		}
	}
}

// A batch in which one publish is refused and another's acknowledgement is lost is
// published again from the failure on: every event reaches the stream exactly once (the
// retried copies carry the same Nats-Msg-Id) and in commit order.
func TestRelayRetriesAPartlyFailedBatchWithoutDuplicatesOrReordering(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx := context.Background()
	envs := commit(t, ctx, pool, "u-batch", 40)
	js := &flakyJS{JetStream: env.NATS.JS,
		refuse: map[string]bool{envs[7].ID.String(): true, envs[31].ID.String(): true},
		lose:   map[string]bool{envs[3].ID.String(): true, envs[19].ID.String(): true}}
	relay := outbox.NewRelay(pool, js, "notifications", env.Log)
	relay.Batch = 16
	relay.Poll = 50 * time.Millisecond
	run(t, ctx, relay)
	testkit.Eventually(t, 10*time.Second, "outbox drained", func() bool { return pending(t, ctx, pool) == 0 })
	checkStream(t, env.NATS.JS, envs)
	js.mu.Lock()
	calls := js.calls
	js.mu.Unlock()
	if calls <= len(envs) {
		t.Fatalf("%d publish calls for %d events: the failures were never retried", calls, len(envs))
	}
}

// Two relays on one schema (two replicas): one publishes, the other waits; when the
// first stops, the second takes over. Every event is published once, in order.
func TestSecondRelayTakesOverWhenTheLeaderStops(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx := context.Background()
	a := outbox.NewRelay(pool, env.NATS.JS, "notifications", env.Log)
	b := outbox.NewRelay(pool, env.NATS.JS, "notifications", env.Log)
	a.Poll, b.Poll = 50*time.Millisecond, 50*time.Millisecond
	stopA := run(t, ctx, a)
	testkit.Eventually(t, 10*time.Second, "a leads", func() bool {
		return testkit.Count(t, pool, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`) == 1
	})
	run(t, ctx, b)
	first := commit(t, ctx, pool, "u-ha", 10)
	testkit.Eventually(t, 10*time.Second, "first events published", func() bool { return pending(t, ctx, pool) == 0 })
	stopA()
	second := commit(t, ctx, pool, "u-ha", 10)
	testkit.Eventually(t, 10*time.Second, "b took over", func() bool { return pending(t, ctx, pool) == 0 })
	checkStream(t, env.NATS.JS, append(first, second...))
}

// A write in a process whose relay leads leaves out the NOTIFY (it serialises commits
// server-wide) and is published on the in-process wake; a write in a replica whose relay
// does not lead still notifies, and the leader in the other "process" publishes it. Both
// relays poll only hourly here, so nothing but the wakes can publish.
func TestLocalRelaySkipsTheNotifyOnlyWhileItLeads(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx := context.Background()
	leader := outbox.NewRelay(pool, env.NATS.JS, "notifications", env.Log)
	follower := outbox.NewRelay(pool, env.NATS.JS, "notifications", env.Log)
	leader.Poll, follower.Poll = time.Hour, time.Hour
	run(t, ctx, leader)
	testkit.Eventually(t, 10*time.Second, "leader holds the lock", func() bool {
		return testkit.Count(t, pool, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`) == 1
	})
	run(t, ctx, follower)

	listener, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = listener.Conn().Close(ctx); listener.Release() }()
	if _, err := listener.Exec(ctx, "LISTEN "+outbox.Channel("notifications")); err != nil {
		t.Fatal(err)
	}
	notified := func() bool {
		wctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		_, err := listener.Conn().WaitForNotification(wctx)
		return err == nil
	}
	write := func(r *outbox.Relay, agg string) events.Envelope {
		env, err := events.New("test", agg, events.UserBannedV1{UserID: agg, By: "t"}, events.Meta{}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		wctx := outbox.WithLocalRelay(ctx, r)
		if err := pg.WithTx(wctx, pool, func(tx pgx.Tx) error { return outbox.Append(wctx, tx, env) }); err != nil {
			t.Fatal(err)
		}
		r.Notify()
		return env
	}

	first := write(leader, "u-local")
	if notified() {
		t.Fatal("a write beside the leading relay sent a NOTIFY")
	}
	testkit.Eventually(t, 5*time.Second, "published on the in-process wake", func() bool { return pending(t, ctx, pool) == 0 })

	second := write(follower, "u-local")
	if !notified() {
		t.Fatal("a write beside a relay that does not lead sent no NOTIFY: the leader elsewhere would wait for its poll")
	}
	testkit.Eventually(t, 5*time.Second, "published by the leader on the NOTIFY", func() bool { return pending(t, ctx, pool) == 0 })
	checkStream(t, env.NATS.JS, []events.Envelope{first, second})
}

// The backlog gauge is set as the relay starts, not only at its first poll: a scrape
// right after a deploy finds the series.
func TestRelayReportsItsBacklogAtStart(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx := context.Background()
	reported := make(chan float64, 4)
	r := outbox.NewRelay(pool, env.NATS.JS, "notifications", env.Log)
	r.Poll = time.Hour
	r.Metrics.Backlog = func(n float64) {
		select {
		case reported <- n:
		default:
		}
	}
	run(t, ctx, r)
	select {
	case <-reported:
	case <-time.After(5 * time.Second):
		t.Fatal("no backlog reported before the first poll")
	}
}

// Writers keep committing while the relay drains in small batches, so rows arrive behind
// the batches in flight and commit out of id order, and some acknowledgements are lost:
// every event reaches the stream once, each aggregate's in its commit order.
func TestRelayPipelineKeepsEachAggregatesOrderWhileWritersCommit(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx := context.Background()
	js := &flakyJS{JetStream: env.NATS.JS, lose: map[string]bool{}}
	relay := outbox.NewRelay(pool, js, "notifications", env.Log)
	relay.Batch = 8
	relay.Poll = 50 * time.Millisecond
	run(t, ctx, relay)

	const writers, each = 4, 60
	var mu sync.Mutex
	byAgg := map[string][]events.Envelope{}
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		agg := fmt.Sprintf("u-writer-%d", w)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				e, err := events.New("test", agg, events.UserBannedV1{UserID: agg, By: fmt.Sprint(i)}, events.Meta{}, time.Now())
				if err != nil {
					t.Error(err)
					return
				}
				if i%17 == 5 {
					js.mu.Lock()
					js.lose[e.ID.String()] = true
					js.mu.Unlock()
				}
				wctx := outbox.WithLocalRelay(ctx, relay)
				if err := pg.WithTx(wctx, pool, func(tx pgx.Tx) error { return outbox.Append(wctx, tx, e) }); err != nil {
					t.Error(err)
					return
				}
				relay.Notify()
				mu.Lock()
				byAgg[agg] = append(byAgg[agg], e)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if t.Failed() {
		return
	}
	testkit.Eventually(t, 20*time.Second, "outbox drained", func() bool { return pending(t, ctx, pool) == 0 })
	got := testkit.StreamEvents(t, env.NATS.JS, events.StreamAuth, events.SubjUserBanned, writers*each, 10*time.Second)
	time.Sleep(200 * time.Millisecond) // a late duplicate would show up now
	got = testkit.StreamEvents(t, env.NATS.JS, events.StreamAuth, events.SubjUserBanned, writers*each, time.Second)
	if len(got) != writers*each {
		t.Fatalf("stream holds %d events, want %d (each once)", len(got), writers*each)
	}
	pos := map[string]int{}
	for _, e := range got {
		want := byAgg[e.AggregateID]
		i := pos[e.AggregateID]
		if i >= len(want) || want[i].ID != e.ID {
			t.Fatalf("aggregate %s: stream position %d holds %s, out of commit order or repeated", e.AggregateID, i, e.ID)
		}
		pos[e.AggregateID] = i + 1
	}
	js.mu.Lock()
	left := len(js.lose)
	js.mu.Unlock()
	if left != 0 {
		t.Fatalf("%d lost acknowledgements were never exercised", left)
	}
}

// Publishes that JetStream answers with a failure, in batches that are in flight while
// the next is selected, are published again: nothing the stream did not store is marked
// published. (Their order against the later events already stored is not kept:
// JetStream answers each publish on its own.)
func TestRelayRepublishesWhatTheStreamDidNotStore(t *testing.T) {
	env := testkit.NewEnv(t)
	pool := testkit.ServicePool(t, env.DSN, "notifications")
	ctx := context.Background()
	envs := commit(t, ctx, pool, "u-drop", 50)
	js := &flakyJS{JetStream: env.NATS.JS, drop: map[string]bool{}}
	for _, i := range []int{2, 9, 10, 27, 44} {
		js.drop[envs[i].ID.String()] = true
	}
	relay := outbox.NewRelay(pool, js, "notifications", env.Log)
	relay.Batch = 8
	relay.Poll = 50 * time.Millisecond
	run(t, ctx, relay)
	testkit.Eventually(t, 10*time.Second, "outbox drained", func() bool { return pending(t, ctx, pool) == 0 })
	time.Sleep(200 * time.Millisecond) // a late duplicate would show up now
	got := testkit.StreamEvents(t, env.NATS.JS, events.StreamAuth, events.SubjUserBanned, len(envs), 10*time.Second)
	seen := map[string]int{}
	for _, e := range got {
		seen[e.ID.String()]++
	}
	for i, e := range envs {
		if n := seen[e.ID.String()]; n != 1 {
			t.Fatalf("event %d is in the stream %d times, want once", i, n)
		}
	}
	if len(got) != len(envs) {
		t.Fatalf("stream holds %d events, want %d", len(got), len(envs))
	}
}

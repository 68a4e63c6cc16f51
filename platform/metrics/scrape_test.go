package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/metrics"
	"github.com/conectarpro/conectar/platform/testkit"
)

// gauges returns every gauge as "name label=value…" (service label left out) → value.
func gauges(t *testing.T, r *metrics.Registry) map[string]float64 {
	t.Helper()
	fams, err := r.Reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	out := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			if m.GetGauge() == nil {
				continue
			}
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() != "service" {
					key += " " + l.GetName() + "=" + l.GetValue()
				}
			}
			out[key] = m.GetGauge().GetValue()
		}
	}
	return out
}

func TestWatchConsumersReadsJetStream(t *testing.T) {
	ns := testkit.StartNATS(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < 3; i++ {
		if _, err := ns.JS.Publish(ctx, "auth.test.happened", []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}
	c, err := ns.JS.CreateOrUpdateConsumer(ctx, events.StreamAuth, jetstream.ConsumerConfig{Durable: "svc-reader",
		AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	batch, err := c.Fetch(1, jetstream.FetchMaxWait(3*time.Second)) // delivered, not acknowledged
	if err != nil {
		t.Fatal(err)
	}
	for range batch.Messages() {
	}
	for i := 0; i < 2; i++ {
		if _, err := ns.JS.Publish(ctx, events.DLQSubject("svc-reader"), []byte("{}")); err != nil {
			t.Fatal(err)
		}
	}

	reg := metrics.New("svc")
	reg.WatchConsumers(ns.JS, events.StreamDLQ, func() []metrics.ConsumerRef {
		return []metrics.ConsumerRef{{Stream: events.StreamAuth, Name: "svc-reader"}, {Stream: events.StreamAuth, Name: "svc-not-created-yet"}}
	})
	got := gauges(t, reg)
	for key, want := range map[string]float64{
		"jetstream_consumer_pending consumer=svc-reader stream=AUTH":     2,
		"jetstream_consumer_ack_pending consumer=svc-reader stream=AUTH": 1,
		"jetstream_consumer_redelivered consumer=svc-reader stream=AUTH": 0,
		"dead_letters_stored consumer=svc-reader":                        2,
		"dead_letters_stored consumer=svc-not-created-yet":               0,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (exported %v), want %v", key, v, ok, want)
		}
	}
	for key := range got {
		if strings.HasPrefix(key, "jetstream_consumer_") && strings.Contains(key, "svc-not-created-yet") {
			t.Errorf("series for a consumer that does not exist: %s", key)
		}
	}
}

func TestWatchOutboxReportsTheOldestPendingRow(t *testing.T) {
	dsn := testkit.DB(t)
	pool := testkit.ServicePool(t, dsn, "users")
	reg := metrics.New("users")
	reg.WatchOutbox(pool, "users")
	key := "outbox_oldest_pending_seconds schema=users"
	if got := gauges(t, reg); got[key] != 0 {
		t.Fatalf("empty outbox: %s = %v (%v)", key, got[key], got)
	}
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO outbox (event_id, subject, aggregate_id, payload, occurred_at)
		VALUES (gen_random_uuid(), 'users.test', 'a', '{}', now() - interval '90 seconds'),
		       (gen_random_uuid(), 'users.test', 'b', '{}', now() - interval '10 seconds')`); err != nil {
		t.Fatal(err)
	}
	if got := gauges(t, reg)[key]; got < 90 || got > 120 {
		t.Errorf("oldest pending age %v, want about 90s", got)
	}
	if _, err := pool.Exec(ctx, `UPDATE outbox SET published_at = now()`); err != nil {
		t.Fatal(err)
	}
	if got := gauges(t, reg)[key]; got != 0 {
		t.Errorf("all published: age %v, want 0", got)
	}
}

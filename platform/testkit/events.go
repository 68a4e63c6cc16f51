package testkit

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
)

// PublishEnvelope publishes env on its subject as a producer's relay would. msgID is the
// Nats-Msg-Id JetStream deduplicates on: the envelope id for a normal publish, another
// value for a redelivery that only a consumer's inbox can absorb, empty for none.
func PublishEnvelope(t testing.TB, js jetstream.JetStream, env events.Envelope, msgID string) {
	t.Helper()
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatalf("encode %s: %v", env.Type, err)
	}
	var opts []jetstream.PublishOpt
	if msgID != "" {
		opts = append(opts, jetstream.WithMsgID(msgID))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := js.Publish(ctx, env.Subject, raw, opts...); err != nil {
		t.Fatalf("publish %s: %v", env.Type, err)
	}
}

// Publish wraps e in a fresh envelope from producer about aggregate, stamped now, and
// publishes it with its id as Nats-Msg-Id.
func Publish(t testing.TB, js jetstream.JetStream, producer, aggregate string, e events.Event) events.Envelope {
	t.Helper()
	env, err := events.New(producer, aggregate, e, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	PublishEnvelope(t, js, env, env.ID.String())
	return env
}

// StreamEvents returns the envelopes on subject in stream, reading again until at least
// min are there or wait has passed (the relay publishes after commit, not inside it).
func StreamEvents(t testing.TB, js jetstream.JetStream, stream, subject string, min int, wait time.Duration) []events.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait+2*time.Second)
	defer cancel()
	deadline := time.Now().Add(wait)
	for {
		var out []events.Envelope
		c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := int(info.NumPending); n > 0 {
			batch, err := c.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				env, err := events.Parse(m.Data())
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, env)
			}
		}
		if len(out) >= min || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CaughtUp reports whether the durable consumer on stream has nothing pending and
// nothing awaiting an ack: every event so far handled. A consumer that cannot be read
// is not caught up.
func CaughtUp(ctx context.Context, js jetstream.JetStream, stream, durable string) bool {
	c, err := js.Consumer(ctx, stream, durable)
	if err != nil {
		return false
	}
	info, err := c.Info(ctx)
	return err == nil && info.NumPending == 0 && info.NumAckPending == 0
}

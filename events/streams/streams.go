// Package streams creates or updates the JetStream streams of events.Streams.
package streams

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
)

// Ensure creates or updates every stream with limits retention, file storage, the dedupe
// window and the given replica count.
func Ensure(ctx context.Context, js jetstream.JetStream, replicas int) error {
	if replicas < 1 {
		replicas = 1
	}
	for _, s := range events.Streams() {
		_, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
			Name:       s.Name,
			Subjects:   s.Subjects,
			Retention:  jetstream.LimitsPolicy,
			Storage:    jetstream.FileStorage,
			MaxAge:     s.MaxAge,
			Duplicates: events.DedupeWindow,
			Discard:    jetstream.DiscardOld,
			Replicas:   replicas,
		})
		if err != nil {
			return fmt.Errorf("ensure stream %s: %w", s.Name, err)
		}
	}
	return nil
}

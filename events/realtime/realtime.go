// Package realtime pushes live updates to connected users. Services publish a Push on the
// core NATS subject rt.user.<id> after their transaction commits; the gateway's WebSocket
// hub forwards it to that user's connections. Pushes are best effort by design: the
// durable record is the database and the event streams, which clients can always re-read.
package realtime

import (
	"encoding/json"
	"fmt"

	"github.com/nats-io/nats.go"

	"github.com/conectarpro/conectar/events"
)

// Push is one message to a user's WebSocket connections.
type Push struct {
	Type string `json:"type"` // "message", "oferta", "trabajo", "notificacion", …
	Data any    `json:"data"`
}

// Publisher sends pushes over core NATS.
type Publisher struct{ NC *nats.Conn }

// Send pushes p to every connection of each user.
func (p Publisher) Send(push Push, userIDs ...string) error {
	if p.NC == nil {
		return nil
	}
	b, err := json.Marshal(push)
	if err != nil {
		return fmt.Errorf("realtime: marshal %s: %w", push.Type, err)
	}
	for _, id := range userIDs {
		if id == "" {
			continue
		}
		if err := p.NC.Publish(events.RealtimeSubject(id), b); err != nil {
			return fmt.Errorf("realtime: publish to %s: %w", id, err)
		}
	}
	return nil
}

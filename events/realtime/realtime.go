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
	Type string `json:"type"` // one of the Type… constants (Kinds)
	Data any    `json:"data"`
}

// The push types a frontend receives (Push.Type).
const (
	TypeMessage        = "message"
	TypeRead           = "leido"
	TypeOffer          = "oferta"
	TypeJob            = "trabajo"
	TypeDisputeMessage = "disputa_mensaje"
	TypeNotification   = "notificacion"
)

// Kind describes one push type for the API document: Data is a type of the sending
// service, which this package cannot import, so it is named by its schema in that
// service's OpenAPI document (the same Go type its HTTP answers use); the gateway
// resolves the name in the merged document.
type Kind struct {
	Type    string
	Service string // the sender
	Schema  string // component name of Data in the sender's document
	// Data is Data's type when this package defines it (Schema is then empty).
	Data    any
	Summary string
}

// Kinds lists every push type; the gateway documents each (gateway/docs.go), and its
// test fails when a Schema is not a component of the sender's document.
func Kinds() []Kind {
	return []Kind{
		{TypeMessage, "marketplace", "Message", nil, "a chat message was sent in one of the user's chats (to both parties)"},
		{TypeRead, "marketplace", "", ReadReceipt{}, "the other party read the chat up to now"},
		{TypeOffer, "marketplace", "Oferta", nil, "an offer of one of the user's chats was created or changed state"},
		{TypeJob, "marketplace", "Trabajo", nil, "one of the user's jobs changed state"},
		{TypeDisputeMessage, "marketplace", "MensajeDisputa", nil, "the other party wrote in a dispute of the user's"},
		{TypeNotification, "notifications", "NotificationRead", nil, "a new in-app notification"},
	}
}

// ReadReceipt is the data of a "leido" push: who read which chat.
type ReadReceipt struct {
	ChatID   string `json:"chat_id"`
	ReaderID string `json:"reader_id"`
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

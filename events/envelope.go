package events

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// Event is implemented by every payload type. The three methods are pure: they describe
// the type, not the instance, so a zero value answers them too.
type Event interface {
	EventType() string
	EventVersion() int
	Subject() string
}

// Envelope is what travels on the wire. Data holds the event payload as JSON.
type Envelope struct {
	ID            uuid.UUID         `json:"id"`
	Type          string            `json:"type"`
	Version       int               `json:"version"`
	Subject       string            `json:"subject"`
	OccurredAt    time.Time         `json:"occurred_at"`
	Producer      string            `json:"producer"`
	AggregateID   string            `json:"aggregate_id"`
	CorrelationID string            `json:"correlation_id,omitempty"`
	CausationID   string            `json:"causation_id,omitempty"`
	Trace         map[string]string `json:"trace,omitempty"`
	Data          json.RawMessage   `json:"data"`
}

// Meta carries what an envelope inherits from its cause: the correlation and causation
// ids and the trace context. The zero value starts a new correlation.
type Meta struct {
	CorrelationID string
	CausationID   string
	Trace         map[string]string
}

// Caused returns the Meta of an event caused by env: same correlation and trace, with env
// as the cause.
func (env Envelope) Caused() Meta {
	corr := env.CorrelationID
	if corr == "" {
		corr = env.ID.String()
	}
	return Meta{CorrelationID: corr, CausationID: env.ID.String(), Trace: env.Trace}
}

// New wraps e in an envelope with a fresh time-ordered (UUIDv7) id.
func New(producer, aggregateID string, e Event, m Meta, now time.Time) (Envelope, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Envelope{}, fmt.Errorf("new event id: %w", err)
	}
	data, err := json.Marshal(e)
	if err != nil {
		return Envelope{}, fmt.Errorf("marshal %s: %w", e.EventType(), err)
	}
	corr := m.CorrelationID
	if corr == "" {
		corr = id.String()
	}
	return Envelope{
		ID:            id,
		Type:          e.EventType(),
		Version:       e.EventVersion(),
		Subject:       e.Subject(),
		OccurredAt:    now.UTC(),
		Producer:      producer,
		AggregateID:   aggregateID,
		CorrelationID: corr,
		CausationID:   m.CausationID,
		Trace:         m.Trace,
		Data:          data,
	}, nil
}

// ErrWrongType is returned by Decode when the envelope holds another event.
var ErrWrongType = errors.New("envelope holds another event type or version")

// Decode unmarshals the payload of env into a T, checking type and version first.
func Decode[T Event](env Envelope) (T, error) {
	var out T
	if env.Type != out.EventType() || env.Version != out.EventVersion() {
		return out, fmt.Errorf("decode %s v%d as %s v%d: %w", env.Type, env.Version, out.EventType(), out.EventVersion(), ErrWrongType)
	}
	if err := json.Unmarshal(env.Data, &out); err != nil {
		return out, fmt.Errorf("decode %s: %w", env.Type, err)
	}
	return out, nil
}

// Parse decodes a wire message into an envelope and checks the fields every consumer
// relies on.
func Parse(b []byte) (Envelope, error) {
	var env Envelope
	if err := json.Unmarshal(b, &env); err != nil {
		return env, fmt.Errorf("parse envelope: %w", err)
	}
	// Every payload is an object: a null one would decode as an event of zero values.
	if env.ID == uuid.Nil || env.Type == "" || env.Version < 1 || len(env.Data) == 0 || env.Data[0] != '{' {
		return env, errors.New("parse envelope: missing id, type, version or data")
	}
	return env, nil
}

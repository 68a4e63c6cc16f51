package events

import "time"

// Stream describes one JetStream stream: a bounded context's events or the dead letters.
type Stream struct {
	Name     string
	Subjects []string
	MaxAge   time.Duration
}

// Stream names.
const (
	StreamAuth          = "AUTH"
	StreamUsers         = "USERS"
	StreamProfessionals = "PROFESSIONALS"
	StreamMarketplace   = "MARKETPLACE"
	StreamPayments      = "PAYMENTS"
	StreamEngagement    = "ENGAGEMENT"
	StreamDLQ           = "DLQ"
)

// DedupeWindow is how long JetStream remembers a Nats-Msg-Id. It only has to cover the
// longest gap in which the outbox relay may republish a row it already sent; the
// consumers' inboxes guarantee correctness beyond it.
const DedupeWindow = 10 * time.Minute

// Streams returns every stream the system uses. Limits retention with a long max age, so
// that operators can replay history into a new consumer.
func Streams() []Stream {
	const year = 365 * 24 * time.Hour
	return []Stream{
		{Name: StreamAuth, Subjects: []string{"auth.>"}, MaxAge: year},
		{Name: StreamUsers, Subjects: []string{"users.>"}, MaxAge: year},
		{Name: StreamProfessionals, Subjects: []string{"professionals.>"}, MaxAge: year},
		{Name: StreamMarketplace, Subjects: []string{"marketplace.>"}, MaxAge: year},
		{Name: StreamPayments, Subjects: []string{"payments.>"}, MaxAge: year},
		{Name: StreamEngagement, Subjects: []string{"engagement.>"}, MaxAge: year},
		{Name: StreamDLQ, Subjects: []string{"dlq.>"}, MaxAge: year},
	}
}

// StreamFor returns the stream that stores subject, or "" when none does.
func StreamFor(subject string) string {
	for _, s := range Streams() {
		for _, p := range s.Subjects {
			prefix := p[:len(p)-1] // "auth.>" → "auth."
			if len(subject) > len(prefix) && subject[:len(prefix)] == prefix {
				return s.Name
			}
		}
	}
	return ""
}

// DLQSubject is where the consumer runner parks a poison message of consumer.
func DLQSubject(consumer string) string { return "dlq." + consumer }

// RealtimeSubject is the core NATS subject the gateway's WebSocket hub forwards to the
// connections of userID.
func RealtimeSubject(userID string) string { return "rt.user." + userID }

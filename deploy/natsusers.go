package deploy

import "github.com/conectarpro/conectar/events"

// NATSUser is what one component may do on NATS, as nats.conf is meant to allow it.
type NATSUser struct {
	Name     string
	Stream   string   // the stream of its own events ("" for the gateway)
	Subject  string   // one of its own event subjects
	Consumes []string // streams it holds durable consumers on
	Buckets  []string // object-store buckets it owns
}

// NATSUsers is the table nats.conf's users are written from. This module's tests prove
// nats.conf allows each user what its line says (and nothing else of note); cmd/conectar's
// TestNATSUsersMatchConsumers builds every service and checks Consumes against the
// consumer.Spec declarations it registers, so a service that starts (or stops) consuming
// a stream fails a test until this table and nats.conf follow.
func NATSUsers() []NATSUser {
	return []NATSUser{
		{"auth", events.StreamAuth, "auth.user.registered", []string{events.StreamAuth, events.StreamUsers, events.StreamProfessionals}, nil},
		{"users", events.StreamUsers, "users.profile.updated", []string{events.StreamAuth, events.StreamMarketplace, events.StreamProfessionals}, []string{"avatars"}},
		{"professionals", events.StreamProfessionals, "professionals.kyc.submitted", []string{events.StreamAuth, events.StreamUsers, events.StreamMarketplace, events.StreamEngagement}, []string{"kyc", "portfolio"}},
		{"marketplace", events.StreamMarketplace, "marketplace.offer.accepted", []string{events.StreamAuth, events.StreamUsers, events.StreamProfessionals, events.StreamPayments}, nil},
		{"payments", events.StreamPayments, "payments.payment.approved", []string{events.StreamMarketplace, events.StreamEngagement, events.StreamProfessionals, events.StreamAuth, events.StreamUsers}, nil},
		{"notifications", events.StreamEngagement, "engagement.xp.awarded", []string{events.StreamAuth, events.StreamUsers, events.StreamProfessionals, events.StreamMarketplace, events.StreamPayments, events.StreamEngagement}, nil},
		{"gateway", "", "", nil, nil},
	}
}

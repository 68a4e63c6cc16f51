// Package marketplace owns conversations, messages, offers, jobs (trabajos), reviews and
// disputes. Chat lives in PostgreSQL and is pushed live over core NATS (rt.user.<id>);
// the checkout, the release and the refund are sagas with a synchronous face: the
// handler commits its change with the event, then waits a bounded time for payments'
// reply event, which a PAYMENTS consumer records.
package marketplace

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Name is the service's name, schema and role suffix.
const Name = "marketplace"

// DefaultChatWebhookKey is the development value of CHAT_WEBHOOK_API_KEY, as the kit
// does for INTERNAL_API_KEY; production sets its own.
const DefaultChatWebhookKey = "dev-chat-webhook-key"

// Config are the service's settings.
type Config struct {
	// SagaWait bounds how long accept, finalizar and cancel wait for payments' reply.
	SagaWait time.Duration
	// OfferTTL is how long an offer stays open; 0 means offers never expire.
	OfferTTL time.Duration
	// AutoApproveAfter is how long after delivery (COMPLETADO) a job is approved alone.
	AutoApproveAfter time.Duration
	// ScanEvery is the period of the expiry and auto-approval loops.
	ScanEvery time.Duration
	// WebhookKey authenticates POST /webhook/chat/infraction.
	WebhookKey string
}

// LoadConfig reads the settings from the environment.
func LoadConfig(get config.Getenv) (Config, error) {
	r := config.NewReader(get)
	c := Config{
		SagaWait:         r.Duration("SAGA_WAIT", 5*time.Second),
		OfferTTL:         r.Duration("OFFER_TTL", domain.DefaultOfferTTL),
		AutoApproveAfter: r.Duration("AUTO_APPROVE_AFTER", domain.DefaultAutoApproveAfter),
		ScanEvery:        r.Duration("MARKETPLACE_SCAN_INTERVAL", 15*time.Second),
		WebhookKey:       r.String("CHAT_WEBHOOK_API_KEY", DefaultChatWebhookKey),
	}
	r.Check(c.SagaWait <= 0, "SAGA_WAIT must be positive")
	r.Check(c.OfferTTL < 0, "OFFER_TTL must not be negative")
	r.Check(c.AutoApproveAfter <= 0, "AUTO_APPROVE_AFTER must be positive")
	r.Check(c.ScanEvery <= 0, "MARKETPLACE_SCAN_INTERVAL must be positive")
	return c, r.Err()
}

// Market is the service's state shared by handlers, consumers and loops.
type Market struct {
	s       *kit.Service
	pool    *pgxpool.Pool
	cfg     Config
	waiters *waiters
	now     func() time.Time
}

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	m, err := Build(ctx, d)
	if err != nil {
		return nil, err
	}
	return m.s, nil
}

// Build is New returning the Market, whose Tick a test calls to run the time-driven
// transitions once at the clock it gave in d.Now.
func Build(ctx context.Context, d kit.Deps) (*Market, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	cfg, err := LoadConfig(s.Deps.Env)
	if err != nil {
		return nil, err
	}
	m := &Market{s: s, pool: s.Deps.Pool, cfg: cfg, waiters: newWaiters(), now: s.Deps.Now}
	if err := m.routes(); err != nil {
		return nil, err
	}
	s.Consume(m.consumers()...)
	for _, t := range m.timers() {
		s.Background = append(s.Background, m.every(t.name, t.scan))
	}
	return m, nil
}

// Service is the Market's assembled service (to Start and Serve).
func (m *Market) Service() *kit.Service { return m.s }

// Tick runs one pass of every time-driven transition of the lifecycle (offer expiry,
// automatic approval) at the service's clock, as one period of the background loops
// does. Several replicas may tick at once: each due row moves once.
func (m *Market) Tick(ctx context.Context) error {
	var errs []error
	for _, t := range m.timers() {
		errs = append(errs, t.scan(ctx))
	}
	return errors.Join(errs...)
}

// timers are the scans that fire the lifecycle's timed moves (domain.Transition.Timer).
func (m *Market) timers() []struct {
	name string
	scan func(context.Context) error
} {
	return []struct {
		name string
		scan func(context.Context) error
	}{{"expire offers", m.expireOffers}, {"auto approve", m.autoApprove}}
}

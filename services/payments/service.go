// Package payments owns payments, the escrow ledger, payouts and refunds, and talks to
// MercadoPago (or its local simulator, package mpsim). It reacts to the marketplace's
// events (OfferAccepted → checkout; JobCompleted → release to the professional's available
// balance; JobCancelled → refund; disputes freeze), learns payments from signed webhooks
// and a reconciliation loop, lets checkout links left unpaid expire after CHECKOUT_TTL
// (expiry.go), pays professionals out through withdrawals an admin approves, and records
// every money move in a double-entry ledger (package ledger).
package payments

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"golang.org/x/time/rate"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/services/payments/mp"
	"github.com/conectarpro/conectar/services/payments/webhook"
)

// Name is the service's name, schema and role suffix.
const Name = "payments"

// DefaultWebhookWorkers is how many workers fetch and apply stored webhooks unless
// MP_WEBHOOK_WORKERS says otherwise. More do not go faster on two cores: they compete
// with the answers for the CPU. In the webhooks bench (32 senders, interleaved runs) 8
// workers processed fewer per second than 4, and 2 processed as many as 4 (1,900–3,100/s
// either way) while the answer p99 at saturation fell from 19.7–20.5 ms to 12.7–16.8 ms;
// 1 worker left the backlog of a steady 1,000/s waiting (received → applied p50 51 ms
// instead of 8). Each worker keeps fetchParallel reads in flight.
const DefaultWebhookWorkers = 2

// Settings are the service's environment settings.
type Settings struct {
	AccessToken       string        // MP_ACCESS_TOKEN
	BaseURL           string        // MP_BASE_URL (the simulator); empty = api.mercadopago.com
	WebhookSecret     string        // MP_WEBHOOK_SECRET
	NotificationURL   string        // MP_NOTIFICATION_URL; default PUBLIC_URL + /api/v1/webhook/mercadopago
	FrontendURL       string        // FRONTEND_URL for back_urls
	Sandbox           bool          // MP_SANDBOX: enables simular-pago
	WebhookTolerance  time.Duration // MP_WEBHOOK_TOLERANCE: max age of x-signature ts
	ReconcileInterval time.Duration // MP_RECONCILE_INTERVAL
	ReconcileMinAge   time.Duration // MP_RECONCILE_MIN_AGE: only jobs waiting longer than this
	ReconcileHeldAge  time.Duration // MP_RECONCILE_HELD_EVERY: re-read a held job's payment this often
	PayoutRetryBase   time.Duration // MP_PAYOUT_RETRY_BASE: first retry delay of failed payouts/refunds
	WebhookWorkers    int           // MP_WEBHOOK_WORKERS
	WebhookBurstRate  int           // MP_WEBHOOK_BURST_RATE: deliveries/s from which the workers leave the cores to the answers; 0 never
	CheckoutTimeout   time.Duration // MP_CHECKOUT_TIMEOUT: bound of the checkout creation (with retries)
	HintRate          float64       // MP_HINT_RATE: unsigned payment hints per second (whole service)
	HintBurst         int           // MP_HINT_BURST
	CheckoutTTL       time.Duration // CHECKOUT_TTL: how long a checkout link can be paid
	ExpiryInterval    time.Duration // CHECKOUT_EXPIRY_INTERVAL: period of the expiry loop
}

func loadSettings(getenv config.Getenv, publicURL string) (Settings, error) {
	r := config.NewReader(getenv)
	s := Settings{
		AccessToken:       r.String("MP_ACCESS_TOKEN", ""),
		BaseURL:           strings.TrimRight(r.String("MP_BASE_URL", ""), "/"),
		WebhookSecret:     r.String("MP_WEBHOOK_SECRET", ""),
		NotificationURL:   r.String("MP_NOTIFICATION_URL", ""),
		FrontendURL:       strings.TrimRight(r.String("FRONTEND_URL", "http://localhost:3000"), "/"),
		Sandbox:           r.Bool("MP_SANDBOX", false),
		WebhookTolerance:  r.Duration("MP_WEBHOOK_TOLERANCE", 10*time.Minute),
		ReconcileInterval: r.Duration("MP_RECONCILE_INTERVAL", time.Minute),
		ReconcileMinAge:   r.Duration("MP_RECONCILE_MIN_AGE", 2*time.Minute),
		ReconcileHeldAge:  r.Duration("MP_RECONCILE_HELD_EVERY", time.Hour),
		PayoutRetryBase:   r.Duration("MP_PAYOUT_RETRY_BASE", 5*time.Second),
		WebhookWorkers:    r.Int("MP_WEBHOOK_WORKERS", DefaultWebhookWorkers),
		WebhookBurstRate:  r.Int("MP_WEBHOOK_BURST_RATE", webhook.DefaultBurstRate),
		CheckoutTimeout:   r.Duration("MP_CHECKOUT_TIMEOUT", 2*time.Second),
		HintRate:          float64(r.Int("MP_HINT_RATE", 2)),
		HintBurst:         r.Int("MP_HINT_BURST", 20),
		CheckoutTTL:       r.Duration("CHECKOUT_TTL", events.DefaultCheckoutTTL),
		ExpiryInterval:    r.Duration("CHECKOUT_EXPIRY_INTERVAL", time.Minute),
	}
	r.Check(s.CheckoutTTL <= 0, "CHECKOUT_TTL must be positive")
	r.Check(s.ExpiryInterval <= 0, "CHECKOUT_EXPIRY_INTERVAL must be positive")
	if err := r.Err(); err != nil {
		return s, err
	}
	if s.NotificationURL == "" && publicURL != "" {
		s.NotificationURL = strings.TrimRight(publicURL, "/") + "/api/v1/webhook/mercadopago"
	}
	if s.NotificationURL != "" {
		// Only Webhooks (signed), not the legacy unsigned IPN, to this URL.
		u, err := url.Parse(s.NotificationURL)
		if err != nil || u.Host == "" {
			return s, fmt.Errorf("MP_NOTIFICATION_URL %q is not a URL", s.NotificationURL)
		}
		q := u.Query()
		if q.Get("source_news") == "" {
			q.Set("source_news", "webhooks")
			u.RawQuery = q.Encode()
		}
		s.NotificationURL = u.String()
	}
	if s.WebhookWorkers < 1 {
		s.WebhookWorkers = 1
	}
	return s, nil
}

// App is the payments application: its dependencies and use cases.
type App struct {
	svc *kit.Service
	cfg Settings
	mp  *mp.Client // nil when no access token is configured

	webhookWake chan struct{}
	payoutWake  chan struct{}
	inbox       *webhook.Inbox // stores signed webhooks (group commit)
	// webhookOutcome counts a webhook by outcome (metrics.go).
	webhookOutcome func(outcome string)
	// workerOutcome counts what the webhook workers do during bursts (metrics.go).
	workerOutcome func(outcome string)
	// hintLimit bounds the unsigned payment hints (hint.go) for the whole service.
	hintLimit *rate.Limiter
}

func (a *App) now() time.Time { return a.svc.Deps.Now() }

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	a, err := Build(ctx, d)
	if err != nil {
		return nil, err
	}
	return a.svc, nil
}

// Service is the App's assembled service (to Start and Serve).
func (a *App) Service() *kit.Service { return a.svc }

// Build is New returning the App, whose ExpireCheckouts a test calls to run the checkout
// expiry once at the clock it gave in d.Now.
func Build(ctx context.Context, d kit.Deps) (*App, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	cfg, err := loadSettings(d.Env, d.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("payments: settings: %w", err)
	}
	a := &App{svc: s, cfg: cfg, webhookWake: make(chan struct{}, 1), payoutWake: make(chan struct{}, 1),
		hintLimit: rate.NewLimiter(rate.Limit(cfg.HintRate), cfg.HintBurst), inbox: webhook.NewInbox(d.Pool, webhook.InboxConfig{BurstRate: cfg.WebhookBurstRate})}
	if cfg.AccessToken != "" {
		a.mp, err = mp.New(mp.Config{AccessToken: cfg.AccessToken, BaseURL: cfg.BaseURL})
		if err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
	} else {
		d.Log.Warn("payments: MP_ACCESS_TOKEN not set; checkouts will fail until it is configured")
	}
	if cfg.WebhookSecret == "" {
		d.Log.Warn("payments: MP_WEBHOOK_SECRET not set; every webhook will be refused (401) and only reconciliation will find payments")
	}
	a.registerMetrics()
	if err := a.routes(); err != nil {
		return nil, err
	}
	s.Consume(
		// Checkouts call MercadoPago; they have their own consumer so a slow provider never
		// delays releases and refunds.
		consumer.Spec{Name: "payments-checkout", Stream: events.StreamMarketplace,
			// Each handler waits for MercadoPago (up to MP_CHECKOUT_TIMEOUT): more at once.
			Subjects: []string{events.SubjOfferAccepted}, Workers: 8, Handle: a.handleMarketplace},
		consumer.Spec{Name: "payments-escrow", Stream: events.StreamMarketplace,
			Subjects: []string{events.SubjJobCompleted, events.SubjJobCancelled, events.SubjDisputeOpened, events.SubjDisputeResolved,
				events.SubjDisputeCancelled},
			// One at a time keeps a job's money events in order (dispute before resolution…);
			// an event about a job whose OfferAccepted is still in flight is retried.
			MaxAckPending: 1, Handle: a.handleMarketplace},
		consumer.Spec{Name: "payments-levels", Stream: events.StreamEngagement,
			Subjects: []string{events.SubjLevelChanged}, Handle: a.handleLevelChanged},
		consumer.Spec{Name: "payments-professionals", Stream: events.StreamProfessionals,
			Subjects: []string{events.SubjProfessionalProfileUpdated}, Handle: a.handleProfileUpdated},
		consumer.Spec{Name: "payments-names-auth", Stream: events.StreamAuth,
			Subjects: []string{events.SubjUserRegistered}, Handle: a.handleNames},
		consumer.Spec{Name: "payments-names-users", Stream: events.StreamUsers,
			Subjects: []string{events.SubjUserProfileUpdated}, Handle: a.handleNames},
	)
	for i := 0; i < cfg.WebhookWorkers; i++ {
		s.Background = append(s.Background, a.webhookWorker)
	}
	s.Background = append(s.Background, a.reconcileLoop, a.payoutLoop, a.expiryLoop)
	return a, nil
}

// wake signals a worker without blocking.
func wake(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

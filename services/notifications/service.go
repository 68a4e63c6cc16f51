// Package notifications owns in-app notifications, preferences, push registrations (Web
// Push subscriptions, which it delivers to, and app device tokens, which it only keeps:
// sending through FCM needs credentials it does not have), and gamification (XP,
// levels, medals). It reacts to the other contexts' events: each one a
// person should hear about becomes an in-app row (pushed live over rt.user.<id>) and,
// per the person's preferences, an email (SMTP via go-mail) and Web Push messages, sent
// by a background sender from a deliveries table written in the same transaction; a
// daily or weekly summary email of what is still unread goes the same way (digest.go).
// Released jobs and good reviews earn XP; levels and medals are published as events.
package notifications

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/notifications/mailer"
	"github.com/conectarpro/conectar/services/notifications/webpush"
)

// Name is the service's name, schema and role suffix.
const Name = "notifications"

// svc holds the service's dependencies; handlers and consumers are its methods.
type svc struct {
	kit         *kit.Service
	log         *slog.Logger
	pool        *pgxpool.Pool
	rt          realtime.Publisher
	now         func() time.Time
	tmpl        *templates
	frontendURL string
	mail        *mailer.Mailer
	push        *webpush.Sender
	sender      *sender
	metrics     func(channel, outcome string)
	// users reads /internal/users/{id} (nil when users is not reachable by URL).
	users       func(ctx context.Context, id string, out any) error
	internalGet func(ctx context.Context, service, path string, out any) error
}

// settings are the service's own environment settings.
type settings struct {
	FrontendURL string
	Mail        mailer.Config
	VAPID       webpush.VAPID
	Poll        time.Duration
	RetryBase   time.Duration
	MaxAttempts int
}

func loadSettings(get config.Getenv) (settings, error) {
	r := config.NewReader(get)
	st := settings{
		FrontendURL: strings.TrimRight(r.String("FRONTEND_URL", "http://localhost:3000"), "/"),
		VAPID: webpush.VAPID{
			PublicKey:  r.String("VAPID_PUBLIC_KEY", ""),
			PrivateKey: r.String("VAPID_PRIVATE_KEY", ""),
			Subject:    r.String("VAPID_SUBJECT", "mailto:soporte@conectarprofesionales.com.ar"),
		},
		Poll:        r.Duration("NOTIFICATIONS_SENDER_POLL", 2*time.Second),
		RetryBase:   r.Duration("NOTIFICATIONS_RETRY_BASE", 5*time.Second),
		MaxAttempts: r.Int("NOTIFICATIONS_MAX_ATTEMPTS", 10),
	}
	if err := r.Err(); err != nil {
		return st, err
	}
	if u, err := url.Parse(st.FrontendURL); err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return st, fmt.Errorf("FRONTEND_URL=%q must be an absolute http(s) URL", st.FrontendURL)
	}
	if (st.VAPID.PublicKey == "") != (st.VAPID.PrivateKey == "") {
		return st, errors.New("VAPID_PUBLIC_KEY and VAPID_PRIVATE_KEY must be set together")
	}
	if st.Poll <= 0 || st.RetryBase <= 0 || st.MaxAttempts < 1 {
		return st, errors.New("NOTIFICATIONS_SENDER_POLL and NOTIFICATIONS_RETRY_BASE must be positive, NOTIFICATIONS_MAX_ATTEMPTS ≥ 1")
	}
	mc, err := mailer.ConfigFromEnv(get)
	if err != nil {
		return st, err
	}
	st.Mail = mc
	return st, nil
}

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	st, err := loadSettings(d.Env)
	if err != nil {
		return nil, fmt.Errorf("notifications settings: %w", err)
	}
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	vapid, err := ensureVAPID(ctx, s.Deps.Pool, st.VAPID)
	if err != nil {
		return nil, err
	}
	// Emails and pushes by outcome (sender.go), exported at zero from the start.
	for _, ch := range []string{"email", "push"} {
		s.Metrics.Outcomes("delivery_"+ch, "sent", "retry", "failed")
	}
	n := &svc{
		kit: s, log: s.Deps.Log, pool: s.Deps.Pool, rt: s.Realtime, now: s.Deps.Now, tmpl: newTemplates(),
		frontendURL: st.FrontendURL, mail: mailer.New(st.Mail), push: webpush.New(vapid),
		metrics: func(channel, outcome string) {
			s.Metrics.Business.WithLabelValues("delivery_"+channel, outcome).Inc()
		},
		internalGet: s.InternalGet,
	}
	if _, ok := s.Deps.ServiceURLs["users"]; ok {
		n.users = func(ctx context.Context, id string, out any) error {
			return s.InternalGet(ctx, "users", "/internal/users/"+url.PathEscape(id), out)
		}
	}
	n.sender = &sender{s: n, wake: make(chan struct{}, 1), poll: st.Poll, retryBase: st.RetryBase, maxAttempts: st.MaxAttempts}
	if !n.mail.Enabled() {
		s.Deps.Log.Warn("SMTP_HOST is not set: emails stay queued until a relay is configured")
	}
	s.Consume(n.consumers()...)
	s.Background = append(s.Background, n.sender.Run, n.runDigests(digestInterval(st.Poll)))
	if err := n.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// ensureVAPID returns the configured key pair or, in development, the one stored in the
// database (generated on first start), so browser subscriptions survive restarts.
func ensureVAPID(ctx context.Context, pool *pgxpool.Pool, v webpush.VAPID) (webpush.VAPID, error) {
	if v.PublicKey != "" {
		return v, nil
	}
	gen, err := webpush.GenerateVAPID()
	if err != nil {
		return v, err
	}
	err = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO vapid_keys (id, public_key, private_key) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING`,
			gen.PublicKey, gen.PrivateKey); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT public_key, private_key FROM vapid_keys WHERE id = 1`).Scan(&v.PublicKey, &v.PrivateKey)
	})
	if err != nil {
		return v, fmt.Errorf("vapid keys: %w", err)
	}
	return v, nil
}

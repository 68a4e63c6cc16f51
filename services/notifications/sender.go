package notifications

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/services/notifications/mailer"
	"github.com/conectarpro/conectar/services/notifications/webpush"
)

// sender drains the deliveries table. Each pending row is sent while the transaction
// that selected it holds its row lock (FOR UPDATE SKIP LOCKED, so several instances
// never pick the same row), and is marked sent in that same transaction:
//
//   - an event redelivered by JetStream cannot send twice: the inbox skips it, and the
//     row's idempotency key (consumer, event id, channel, target) is unique;
//   - a crash cannot lose a message: the row was committed with the notification, and
//     stays pending until a send succeeds (retries back off; after MaxAttempts it is
//     marked failed, visible in the table, never silently dropped);
//   - the one window left is a crash after the relay accepted the message and before
//     the commit: the row is sent again. The Message-ID is derived from the key, so
//     mail clients and relays treat the copy as the same message.
type sender struct {
	s           *svc
	wake        chan struct{}
	poll        time.Duration
	retryBase   time.Duration
	maxAttempts int
}

// Wake makes the sender look for work now (called after a commit that queued some).
func (d *sender) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run sends until ctx ends.
func (d *sender) Run(ctx context.Context) {
	t := time.NewTicker(d.poll)
	defer t.Stop()
	for {
		for {
			worked, err := d.processOne(ctx)
			if err != nil && ctx.Err() == nil {
				d.s.log.Warn("delivery sender", "err", err)
			}
			if !worked || err != nil || ctx.Err() != nil {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-d.wake:
		case <-t.C:
		}
	}
}

type delivery struct {
	ID             int64
	Key            string
	Channel        string
	UserID         *uuid.UUID
	ToEmail        string
	SubscriptionID *uuid.UUID
	Payload        []byte
	Attempts       int
}

// processOne sends the oldest due delivery. worked is false when none was due.
func (d *sender) processOne(ctx context.Context) (worked bool, err error) {
	tx, err := d.s.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin delivery: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	var r delivery
	// Without a relay configured, emails wait (pending) instead of failing.
	err = tx.QueryRow(ctx, `SELECT id, idem_key, channel, user_id, to_email, subscription_id, payload, attempts
		FROM deliveries WHERE status = 'pending' AND next_attempt_at <= now() AND (channel <> 'email' OR $1)
		ORDER BY next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED`, d.s.mail.Enabled()).
		Scan(&r.ID, &r.Key, &r.Channel, &r.UserID, &r.ToEmail, &r.SubscriptionID, &r.Payload, &r.Attempts)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("pick delivery: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	sendErr := d.send(sctx, tx, r)
	cancel()
	attempts := r.Attempts + 1
	switch {
	case sendErr == nil:
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'sent', sent_at = now(), attempts = $2, last_error = '' WHERE id = $1`, r.ID, attempts)
	case isPermanent(sendErr) || attempts >= d.maxAttempts:
		d.s.log.Error("delivery failed for good", "key", r.Key, "channel", r.Channel, "attempts", attempts, "err", sendErr)
		_, err = tx.Exec(ctx, `UPDATE deliveries SET status = 'failed', attempts = $2, last_error = $3 WHERE id = $1`, r.ID, attempts, clip(sendErr.Error()))
	default:
		delay := d.backoff(attempts)
		d.s.log.Warn("delivery failed; will retry", "key", r.Key, "channel", r.Channel, "attempts", attempts, "retry_in", delay, "err", sendErr)
		_, err = tx.Exec(ctx, `UPDATE deliveries SET attempts = $2, last_error = $3, next_attempt_at = now() + $4::interval WHERE id = $1`,
			r.ID, attempts, clip(sendErr.Error()), fmt.Sprintf("%d milliseconds", delay.Milliseconds()))
	}
	if err != nil {
		return true, fmt.Errorf("record delivery %d: %w", r.ID, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return true, fmt.Errorf("commit delivery %d: %w", r.ID, err)
	}
	if d.s.metrics != nil {
		outcome := "sent"
		switch {
		case sendErr != nil && (isPermanent(sendErr) || attempts >= d.maxAttempts):
			outcome = "failed" // given up: the user never gets it
		case sendErr != nil:
			outcome = "retry"
		}
		d.s.metrics(r.Channel, outcome)
	}
	return true, nil
}

func (d *sender) backoff(attempts int) time.Duration {
	delay := d.retryBase
	for i := 1; i < attempts && delay < time.Hour; i++ {
		delay *= 2
	}
	return min(delay, time.Hour)
}

var errGoneSubscription = errors.New("push subscription removed")

func (d *sender) send(ctx context.Context, tx pgx.Tx, r delivery) error {
	switch r.Channel {
	case "email":
		var e mailer.Email
		if err := json.Unmarshal(r.Payload, &e); err != nil {
			return &mailer.PermanentError{Err: fmt.Errorf("decode email payload: %w", err)}
		}
		e.To = r.ToEmail
		if e.To == "" {
			if r.UserID == nil {
				return &mailer.PermanentError{Err: errors.New("email without recipient")}
			}
			c, _, err := d.s.contact(ctx, tx, r.UserID.String(), true)
			if err != nil {
				return err
			}
			if c.Email == "" {
				return fmt.Errorf("address of %s unknown yet", r.UserID)
			}
			e.To = c.Email
			if e.ToName == "" {
				e.ToName = joinName(c.Nombre, c.Apellido)
			}
		}
		e.MessageID = messageID(r.Key)
		return d.s.mail.Send(ctx, e)
	case "push":
		if r.SubscriptionID == nil {
			return &webpush.PermanentError{Err: errors.New("push without subscription")}
		}
		var sub webpush.Subscription
		err := tx.QueryRow(ctx, `SELECT endpoint, p256dh, auth FROM push_subscriptions WHERE id = $1`, *r.SubscriptionID).
			Scan(&sub.Endpoint, &sub.P256dh, &sub.Auth)
		if errors.Is(err, pgx.ErrNoRows) {
			return &webpush.PermanentError{Err: errGoneSubscription}
		}
		if err != nil {
			return fmt.Errorf("read subscription: %w", err)
		}
		err = d.s.push.Send(ctx, sub, r.Payload, 24*time.Hour)
		if errors.Is(err, webpush.ErrGone) {
			// The browser unsubscribed: forget the subscription, this push is moot.
			if _, derr := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE id = $1`, *r.SubscriptionID); derr != nil {
				return fmt.Errorf("delete gone subscription: %w", derr)
			}
			return &webpush.PermanentError{Err: err}
		}
		return err
	}
	return &mailer.PermanentError{Err: fmt.Errorf("unknown channel %q", r.Channel)}
}

func isPermanent(err error) bool {
	var wpe *webpush.PermanentError
	return mailer.IsPermanent(err) || errors.As(err, &wpe)
}

// messageID derives a stable Message-ID from the idempotency key.
func messageID(key string) string {
	h := sha256.Sum256([]byte(key))
	return hex.EncodeToString(h[:16]) + "@conectarprofesionales"
}

func clip(s string) string {
	if len(s) > 1000 {
		return s[:1000]
	}
	return s
}

// Package webpush sends Web Push messages (RFC 8030) encrypted for the subscription
// (RFC 8291, aes128gcm) and signed with the application's VAPID key (RFC 8292), using
// github.com/SherClockHolmes/webpush-go. It also validates the subscriptions browsers
// hand over, so a bad one is refused at the API instead of failing at send time.
package webpush

import (
	"context"
	"crypto/ecdh"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	wp "github.com/SherClockHolmes/webpush-go"
)

// VAPID is the application server's key pair (base64url, as webpush-go encodes them)
// and the contact put in the VAPID token ("mailto:…" or an https URL).
type VAPID struct {
	PublicKey  string
	PrivateKey string
	Subject    string
}

// GenerateVAPID makes a new key pair.
func GenerateVAPID() (VAPID, error) {
	priv, pub, err := wp.GenerateVAPIDKeys()
	if err != nil {
		return VAPID{}, fmt.Errorf("generate vapid keys: %w", err)
	}
	return VAPID{PublicKey: pub, PrivateKey: priv}, nil
}

// Subscription is what the browser's PushManager.subscribe() returned.
type Subscription struct {
	Endpoint string
	P256dh   string
	Auth     string
}

// ErrGone means the push service no longer knows the subscription (404/410): delete it.
var ErrGone = errors.New("push subscription expired or unsubscribed")

// PermanentError is a refusal that retrying cannot fix.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// Sender sends pushes with one VAPID identity.
type Sender struct {
	vapid  VAPID
	client *http.Client
}

// New returns a Sender.
func New(v VAPID) *Sender {
	return &Sender{vapid: v, client: &http.Client{Timeout: 15 * time.Second}}
}

// PublicKey is the key browsers pass as applicationServerKey.
func (s *Sender) PublicKey() string { return s.vapid.PublicKey }

// Send encrypts payload for sub and posts it to the push service. ttl is how long the
// push service keeps it for an offline browser.
func (s *Sender) Send(ctx context.Context, sub Subscription, payload []byte, ttl time.Duration) error {
	resp, err := wp.SendNotificationWithContext(ctx, payload, &wp.Subscription{
		Endpoint: sub.Endpoint,
		Keys:     wp.Keys{P256dh: sub.P256dh, Auth: sub.Auth},
	}, &wp.Options{
		HTTPClient:      s.client,
		Subscriber:      s.vapid.Subject,
		VAPIDPublicKey:  s.vapid.PublicKey,
		VAPIDPrivateKey: s.vapid.PrivateKey,
		TTL:             int(ttl.Seconds()),
		Urgency:         wp.UrgencyNormal,
	})
	if err != nil {
		if strings.Contains(err.Error(), "max size") || strings.Contains(err.Error(), "Unmarshal Error") {
			return &PermanentError{Err: fmt.Errorf("web push: %w", err)}
		}
		return fmt.Errorf("web push to %s: %w", host(sub.Endpoint), err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		return ErrGone
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return fmt.Errorf("web push to %s: status %d: %s", host(sub.Endpoint), resp.StatusCode, body)
	default:
		return &PermanentError{Err: fmt.Errorf("web push to %s: status %d: %s", host(sub.Endpoint), resp.StatusCode, body)}
	}
}

func host(endpoint string) string {
	if u, err := url.Parse(endpoint); err == nil {
		return u.Host
	}
	return "?"
}

// Validate checks a subscription: an https endpoint (http only on loopback, for local
// push services in tests), a P-256 public key and a 16-byte auth secret.
func Validate(sub Subscription) map[string]string {
	bad := map[string]string{}
	u, err := url.Parse(sub.Endpoint)
	switch {
	case err != nil || u.Host == "" || len(sub.Endpoint) > 2048:
		bad["endpoint"] = "debe ser una URL válida"
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		bad["endpoint"] = "debe ser una URL https"
	}
	if k, err := decode(sub.P256dh); err != nil {
		bad["keys.p256dh"] = "debe ser una clave pública P-256 en base64url"
	} else if _, err := ecdh.P256().NewPublicKey(k); err != nil {
		bad["keys.p256dh"] = "debe ser una clave pública P-256 en base64url"
	}
	if a, err := decode(sub.Auth); err != nil || len(a) != 16 {
		bad["keys.auth"] = "debe ser un secreto de 16 bytes en base64url"
	}
	return bad
}

func isLoopback(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// decode accepts base64url with or without padding, and standard base64, as browsers
// and libraries differ.
func decode(s string) ([]byte, error) {
	s = strings.TrimRight(s, "=")
	if b, err := base64.RawURLEncoding.DecodeString(s); err == nil {
		return b, nil
	}
	return base64.RawStdEncoding.DecodeString(s)
}

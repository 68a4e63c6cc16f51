// Package mailer sends email over SMTP with go-mail (github.com/wneessen/go-mail v0.8.1):
// one multipart/alternative message per email, plain text first and HTML as the
// preferred alternative. The TLS policy comes from configuration: production keeps
// go-mail's default (STARTTLS mandatory), a local catcher without TLS uses "none".
package mailer

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	mail "github.com/wneessen/go-mail"

	"github.com/conectarpro/conectar/platform/config"
)

// TLS modes accepted in SMTP_TLS.
const (
	TLSMandatory     = "mandatory"     // STARTTLS required (default)
	TLSOpportunistic = "opportunistic" // STARTTLS when offered
	TLSNone          = "none"          // plain SMTP (local catcher)
	TLSImplicit      = "ssl"           // implicit TLS (port 465)
)

// Config is the SMTP relay's configuration.
type Config struct {
	Host     string
	Port     int
	Username string
	Password string
	TLS      string
	From     string
	Timeout  time.Duration
}

// DefaultFrom is the sender when SMTP_FROM is not set.
const DefaultFrom = "ConectarProfesionales <no-reply@conectarprofesionales.com.ar>"

// ConfigFromEnv reads SMTP_HOST, SMTP_PORT, SMTP_USERNAME, SMTP_PASSWORD, SMTP_TLS and
// SMTP_FROM. An empty SMTP_HOST means email is not configured.
func ConfigFromEnv(get config.Getenv) (Config, error) {
	r := config.NewReader(get)
	c := Config{
		Host:     r.String("SMTP_HOST", ""),
		Port:     r.Int("SMTP_PORT", 587),
		Username: r.String("SMTP_USERNAME", ""),
		Password: r.String("SMTP_PASSWORD", ""),
		TLS:      strings.ToLower(r.String("SMTP_TLS", TLSMandatory)),
		From:     r.String("SMTP_FROM", DefaultFrom),
		Timeout:  r.Duration("SMTP_TIMEOUT", 15*time.Second),
	}
	if err := r.Err(); err != nil {
		return c, err
	}
	switch c.TLS {
	case TLSMandatory, TLSOpportunistic, TLSNone, TLSImplicit:
	default:
		return c, fmt.Errorf("SMTP_TLS=%q must be mandatory, opportunistic, none or ssl", c.TLS)
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, fmt.Errorf("SMTP_PORT=%d is not a port", c.Port)
	}
	// Validate the sender once at start instead of failing every message.
	if err := mail.NewMsg().From(c.From); err != nil {
		return c, fmt.Errorf("SMTP_FROM=%q: %w", c.From, err)
	}
	return c, nil
}

// Email is one message to one person.
type Email struct {
	To        string
	ToName    string
	Subject   string
	Text      string
	HTML      string
	MessageID string // stable id derived from the idempotency key, so receivers can dedupe
}

// Mailer sends emails through the configured relay.
type Mailer struct{ cfg Config }

// New returns a Mailer for cfg.
func New(cfg Config) *Mailer { return &Mailer{cfg: cfg} }

// Enabled reports whether a relay is configured.
func (m *Mailer) Enabled() bool { return m != nil && m.cfg.Host != "" }

// PermanentError is a refusal that retrying cannot fix (a 5xx answer, a bad address).
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }
func (e *PermanentError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// Build renders e as a go-mail message with the configured sender.
func (m *Mailer) Build(e Email) (*mail.Msg, error) {
	msg := mail.NewMsg()
	if err := msg.From(m.cfg.From); err != nil {
		return nil, fmt.Errorf("from: %w", err)
	}
	var err error
	if e.ToName != "" {
		err = msg.AddToFormat(e.ToName, e.To)
	} else {
		err = msg.AddTo(e.To)
	}
	if err != nil {
		return nil, &PermanentError{Err: fmt.Errorf("recipient %q: %w", e.To, err)}
	}
	msg.Subject(e.Subject)
	if e.MessageID != "" {
		msg.SetMessageIDWithValue(e.MessageID)
	} else {
		msg.SetMessageID()
	}
	msg.SetDate()
	msg.SetBodyString(mail.TypeTextPlain, e.Text)
	if e.HTML != "" {
		msg.AddAlternativeString(mail.TypeTextHTML, e.HTML)
	}
	return msg, nil
}

// Send delivers e. Temporary failures (connection refused, 4xx) are returned as plain
// errors; refusals that retrying cannot fix are *PermanentError.
func (m *Mailer) Send(ctx context.Context, e Email) error {
	if !m.Enabled() {
		return errors.New("smtp not configured (SMTP_HOST is empty)")
	}
	msg, err := m.Build(e)
	if err != nil {
		return err
	}
	opts := []mail.Option{mail.WithPort(m.cfg.Port), mail.WithTimeout(m.cfg.Timeout)}
	switch m.cfg.TLS {
	case TLSNone:
		opts = append(opts, mail.WithTLSPolicy(mail.NoTLS))
	case TLSOpportunistic:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSOpportunistic))
	case TLSImplicit:
		opts = append(opts, mail.WithSSL())
	default:
		opts = append(opts, mail.WithTLSPolicy(mail.TLSMandatory))
	}
	if m.cfg.Username != "" {
		auth := mail.SMTPAuthPlain
		if m.cfg.TLS == TLSNone {
			// The operator chose plain SMTP explicitly; PLAIN would refuse it otherwise.
			auth = mail.SMTPAuthPlainNoEnc
		}
		opts = append(opts, mail.WithSMTPAuth(auth), mail.WithUsername(m.cfg.Username), mail.WithPassword(m.cfg.Password))
	}
	client, err := mail.NewClient(m.cfg.Host, opts...)
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("smtp client: %w", err)}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		var se *mail.SendError
		// Only an explicit 5xx answer is final; network errors and 4xx are retried.
		if errors.As(err, &se) && se.ErrorCode() >= 500 && se.ErrorCode() < 600 {
			return &PermanentError{Err: fmt.Errorf("send to %s: %w", e.To, err)}
		}
		return fmt.Errorf("send to %s: %w", e.To, err)
	}
	return nil
}

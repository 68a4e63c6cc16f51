package mailer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/conectarpro/conectar/services/notifications/mailer"
	"github.com/conectarpro/conectar/services/notifications/smtpcatch"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigFromEnv(t *testing.T) {
	c, err := mailer.ConfigFromEnv(env(nil))
	if err != nil || c.Host != "" || c.Port != 587 || c.TLS != mailer.TLSMandatory || c.From != mailer.DefaultFrom {
		t.Fatalf("defaults: %+v %v", c, err)
	}
	for _, bad := range []map[string]string{{"SMTP_TLS": "maybe"}, {"SMTP_PORT": "70000"}, {"SMTP_PORT": "x"}, {"SMTP_FROM": "not an address"}} {
		if _, err := mailer.ConfigFromEnv(env(bad)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
	if mailer.New(c).Enabled() {
		t.Fatal("enabled without SMTP_HOST")
	}
}

func TestSendOverRealSMTPHonoursTLSPolicy(t *testing.T) {
	catcher, err := smtpcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer catcher.Close()
	base := map[string]string{"SMTP_HOST": catcher.Host(), "SMTP_PORT": strconv.Itoa(catcher.Port())}
	e := mailer.Email{To: "dest@example.com", ToName: "José Núñez", Subject: "Pago aprobado ✅", Text: "Hola José, recibimos tu pago.",
		HTML: "<p>Hola José, recibimos tu <b>pago</b>.</p>", MessageID: "abc123@conectarprofesionales"}

	// The production default (STARTTLS mandatory) refuses a relay without TLS.
	c, err := mailer.ConfigFromEnv(env(base))
	if err != nil {
		t.Fatal(err)
	}
	if err := mailer.New(c).Send(context.Background(), e); err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("mandatory TLS against a plain relay: %v", err)
	}
	if len(catcher.Messages()) != 0 {
		t.Fatal("sent without TLS")
	}

	base["SMTP_TLS"] = "none"
	c, _ = mailer.ConfigFromEnv(env(base))
	if err := mailer.New(c).Send(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	msgs := catcher.To("dest@example.com")
	if len(msgs) != 1 {
		t.Fatalf("caught %d", len(msgs))
	}
	m := msgs[0]
	if m.Subject != e.Subject || m.MessageID != e.MessageID || !strings.Contains(m.Text, "Hola José") ||
		!strings.Contains(m.HTML, "<b>pago</b>") || !strings.Contains(m.From, "no-reply@conectarprofesionales.com.ar") {
		t.Fatalf("caught: %+v", m)
	}

	// A temporary refusal is retryable; a bad address is permanent.
	catcher.RejectNext(1)
	if err := mailer.New(c).Send(context.Background(), e); err == nil || mailer.IsPermanent(err) {
		t.Fatalf("451 should be a temporary error, got %v", err)
	}
	if err := mailer.New(c).Send(context.Background(), mailer.Email{To: "not an address", Subject: "x", Text: "y"}); !mailer.IsPermanent(err) {
		t.Fatalf("bad address should be permanent, got %v", err)
	}
}

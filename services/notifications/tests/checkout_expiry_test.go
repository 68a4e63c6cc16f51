package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// An expired payment link tells the client in the app and by email, and the professional
// in the app, once each even when the event is delivered twice.
func TestCheckoutExpiredNotifiesOnce(t *testing.T) {
	h := start(t, nil)
	cli, cliEmail := h.register("CLIENTE", "Ana")
	prof, profEmail := h.register("PROFESIONAL", "Pablo")
	job := uuid.NewString()
	env := h.publish(events.PaymentCheckoutExpiredV1{TrabajoID: job, OfertaID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof,
		PreferenceID: "pref-1", MontoCentavos: 2500000, VenceAt: time.Now().UTC()})
	h.publishEnv(env, env.ID.String()+"-again") // a redelivery JetStream's dedupe cannot see
	testkit.Eventually(t, 15*time.Second, "expiry notifications", func() bool {
		return len(h.withEvento(cli, "link_pago_vencido")) == 1 && len(h.withEvento(prof, "trabajo_sin_pago")) == 1 &&
			len(h.catcher.To(cliEmail)) == 2
	})
	h.settle()
	n := h.withEvento(cli, "link_pago_vencido")
	if len(n) != 1 || n[0].Tipo != "pago" || !strings.Contains(n[0].Titulo, "link de pago venció") || !strings.Contains(n[0].Mensaje, "$ 25.000,00") ||
		n[0].Data["trabajo_id"] != job {
		t.Fatalf("client notice %+v", n)
	}
	if p := h.withEvento(prof, "trabajo_sin_pago"); len(p) != 1 || !strings.Contains(p[0].Mensaje, "Ana") {
		t.Fatalf("professional notice %+v", p)
	}
	mails := h.catcher.To(cliEmail)
	if len(mails) != 2 || mails[1].Subject != "Tu link de pago venció" || !strings.Contains(mails[1].Text, "devolvemos") {
		t.Fatalf("client emails %d: %+v", len(mails), mails)
	}
	if got := len(h.catcher.To(profEmail)); got != 1 {
		t.Fatalf("the professional got %d emails, want only the welcome", got)
	}
}

package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// countRows runs a count query on the marketplace schema.
func countRows(t *testing.T, h *harness, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pgConn(t, h).QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// drained waits until the durable consumer has been handed everything its stream holds
// and acknowledged it all: what it would apply has been applied.
func (h *harness) drained(durable string) {
	h.t.Helper()
	h.eventually(durable+" drained", func() bool {
		return testkit.CaughtUp(context.Background(), h.env.NATS.JS, events.StreamPayments, durable)
	})
}

// expiryInfos counts the chat's "link expired" system messages.
func expiryInfos(h *harness, chat string, as user) int {
	n := 0
	for _, m := range h.messages(chat, as) {
		if s, _ := m["text"].(string); strings.Contains(s, "link de pago venció") {
			n++
		}
	}
	return n
}

// TestCheckoutExpiredCancelsJobOnce: payments' PaymentCheckoutExpired cancels a job
// still waiting for its payment (vencer_checkout), closes its offer as EXPIRADO
// (vencer_pago) and posts one chat message; a redelivery applies nothing twice; a payment
// that arrives afterwards is held and refunded (cobrar_cancelado).
func TestCheckoutExpiredCancelsJobOnce(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	oid, chat := h.offer(cli, pro, 25000)
	jobID := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)
	if j := h.job(jobID, cli); j["estado"] != "PENDIENTE_PAGO" || j["payment_url"] == nil {
		t.Fatalf("accepted job %v", j)
	}

	env := h.publish("payments", jobID, events.PaymentCheckoutExpiredV1{TrabajoID: jobID, OfertaID: oid, ClienteID: cli.ID,
		ProfesionalID: pro.ID, PreferenceID: "pref-" + jobID[:8], MontoCentavos: 2500000, VenceAt: time.Now().UTC()})
	h.eventually("job cancelled by the expiry", func() bool { return h.job(jobID, cli)["estado"] == "CANCELADO" })
	j := h.job(jobID, cli)
	if j["estado_escrow"] != "CANCELADO" || j["motivo_cancelacion"] == nil {
		t.Fatalf("expired job %v", j)
	}
	if o := h.want(200, "GET", "/api/v1/ofertas/"+oid, cli.Token, nil).Map(t); o["estado"] != "EXPIRADO" {
		t.Fatalf("offer after the link expired: %v", o)
	}
	if n := expiryInfos(h, chat, pro); n != 1 {
		t.Fatalf("%d expiry messages in the chat", n)
	}

	// The same event stored again (a redelivery past JetStream's duplicate window).
	publishEnv(t, h.env.NATS.JS, env, env.ID.String()+"-again")
	h.waitCount(events.StreamPayments, events.SubjPaymentCheckoutExpired, 2)
	h.drained("marketplace-payments")
	if n := expiryInfos(h, chat, pro); n != 1 {
		t.Fatalf("%d expiry messages after a redelivery", n)
	}
	if n := countRows(t, h, "SELECT count(*) FROM marketplace.trabajo_eventos WHERE trabajo_id = $1 AND descripcion LIKE '%link de pago venció%'", jobID); n != 1 {
		t.Fatalf("%d timeline entries of the expiry", n)
	}
	if n := countRows(t, h, "SELECT count(*) FROM marketplace.oferta_eventos WHERE oferta_id = $1 AND estado = 'EXPIRADO'", oid); n != 1 {
		t.Fatalf("%d offer history entries of the expiry", n)
	}

	// An old tab paid anyway: the money is held and refunded in full.
	h.publish("payments", jobID, events.PaymentApprovedV1{TrabajoID: jobID, PaymentID: "mp-late", Status: "approved", MontoCentavos: 2500000})
	h.eventually("late payment refunded", func() bool { return h.job(jobID, cli)["estado_escrow"] == "CANCELADO_REEMBOLSADO" })
	if j := h.job(jobID, cli); j["estado"] != "CANCELADO" {
		t.Fatalf("after the refund the job is %v", j["estado"])
	}
	if got := lastEvent[events.JobCancelledV1](h, events.StreamMarketplace); got.TrabajoID != jobID || !got.Paid {
		t.Fatalf("JobCancelled %+v", got)
	}
}

// An expiry that reaches a job already paid (the payment won the race at payments'
// side too, or events crossed) changes nothing.
func TestCheckoutExpiredIgnoredForPaidJob(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	jobID, chat := h.paidJob(cli, pro, 300)
	env := h.publish("payments", jobID, events.PaymentCheckoutExpiredV1{TrabajoID: jobID, ClienteID: cli.ID, ProfesionalID: pro.ID,
		MontoCentavos: 30000, VenceAt: time.Now().UTC()})
	h.eventually("expiry handled", func() bool {
		return countRows(t, h, "SELECT count(*) FROM marketplace.inbox WHERE event_id = $1", env.ID) == 1
	})
	h.drained("marketplace-payments")
	if j := h.job(jobID, cli); j["estado"] != "PAGADO" || j["estado_escrow"] != "PAGADO_EN_ESCROW" {
		t.Fatalf("paid job after a stale expiry: %v", j)
	}
	if n := expiryInfos(h, chat, cli); n != 0 {
		t.Fatalf("%d expiry messages for a paid job", n)
	}
}

package tests

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	payments "github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

const ttl = 72 * time.Hour // events.DefaultCheckoutTTL, the harness does not change it

// tickAll runs ExpireCheckouts on every replica three times at once, as the loops of
// replicas that wake together would, and returns the errors.
func tickAll(t *testing.T, apps ...*payments.App) []error {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 3*len(apps))
	for _, a := range apps {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- a.ExpireCheckouts(context.Background())
			}()
		}
	}
	wg.Wait()
	close(errs)
	var out []error
	for err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	return out
}

func mustTick(t *testing.T, apps ...*payments.App) {
	t.Helper()
	if errs := tickAll(t, apps...); len(errs) > 0 {
		t.Fatalf("expiry pass: %v", errs)
	}
}

// outboxed counts the events of subject about job id that payments committed, before
// any publishing.
func (h *harness) outboxed(subject, id string) int {
	h.t.Helper()
	return h.count("SELECT count(*) FROM outbox WHERE subject = $1 AND aggregate_id = $2", subject, id)
}

// TestCheckoutExpiresOnceAcrossReplicas: the link carries its deadline to MercadoPago;
// a minute before it nothing happens; past it two replicas ticking at once cancel the
// money state once and emit PaymentCheckoutExpired once; a later pass and a redelivered
// OfferAccepted change nothing and make no new link.
func TestCheckoutExpiresOnceAcrossReplicas(t *testing.T) {
	h := newHarness(t, nil)
	second := h.startReplica(nil)
	prof := uuid.NewString()
	id, cliente, _ := h.accept(45000, prof)

	var creado, vence time.Time
	if err := h.pool.QueryRow(context.Background(), "SELECT checkout_creado_at, checkout_vence_at FROM trabajos WHERE trabajo_id=$1", id).
		Scan(&creado, &vence); err != nil {
		t.Fatal(err)
	}
	if d := vence.Sub(creado); d != ttl {
		t.Fatalf("link lasts %s, want %s", d, ttl)
	}
	var prefs []struct {
		Expires bool       `json:"expires"`
		To      *time.Time `json:"expiration_date_to"`
	}
	h.simCall("GET", "/_sim/preferences?external_reference="+id, nil, &prefs)
	if len(prefs) != 1 || !prefs[0].Expires || prefs[0].To == nil || !prefs[0].To.Equal(vence) {
		t.Fatalf("preference at MercadoPago %+v, want it to expire at %v", prefs, vence)
	}

	h.clock.Advance(ttl - time.Minute)
	mustTick(t, h.app, second)
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("a minute before the deadline the job is %s", e)
	}
	if n := h.outboxed(events.SubjPaymentCheckoutExpired, id); n != 0 {
		t.Fatalf("%d expiry events before the deadline", n)
	}

	h.clock.Advance(2 * time.Minute)
	mustTick(t, h.app, second)
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("past the deadline the job is %s", e)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id=$1 AND checkout_estado='VENCIDO' AND checkout_vencido_at IS NOT NULL", id); n != 1 {
		t.Fatal("checkout not recorded as expired")
	}
	if n := h.outboxed(events.SubjPaymentCheckoutExpired, id); n != 1 {
		t.Fatalf("%d expiry events committed, want 1", n)
	}
	ev, err := events.Decode[events.PaymentCheckoutExpiredV1](h.waitEvent("PaymentCheckoutExpired", id))
	if err != nil {
		t.Fatal(err)
	}
	if ev.TrabajoID != id || ev.ClienteID != cliente || ev.ProfesionalID != prof || ev.MontoCentavos != 45000 ||
		ev.PreferenceID == "" || ev.OfertaID == "" || !ev.VenceAt.Equal(vence) {
		t.Fatalf("event %+v", ev)
	}

	// Later passes and a redelivered OfferAccepted change nothing.
	h.clock.Advance(time.Hour)
	mustTick(t, h.app, second)
	var offer events.OfferAcceptedV1
	if err := h.pool.QueryRow(context.Background(), `SELECT COALESCE(oferta_id,''), cliente_id, cliente_email, profesional_id, descripcion, precio_centavos
		FROM trabajos WHERE trabajo_id=$1`, id).Scan(&offer.OfertaID, &offer.ClienteID, &offer.ClienteEmail, &offer.ProfesionalID,
		&offer.Descripcion, &offer.PrecioCentavos); err != nil {
		t.Fatal(err)
	}
	offer.TrabajoID = id
	h.publish(offer, id)
	marker := uuid.NewString()
	h.accept(1000, marker) // processed after the redelivery by the same consumer
	if n := h.outboxed(events.SubjPaymentCheckoutCreated, id); n != 1 {
		t.Fatalf("%d checkouts created for the expired job", n)
	}
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("after the redelivery the job is %s", e)
	}
	time.Sleep(200 * time.Millisecond) // let any second event reach the stream
	if n := len(h.events("PaymentCheckoutExpired", id)); n != 1 {
		t.Fatalf("%d expiry events published, want 1", n)
	}
	if n := h.outboxed(events.SubjPaymentCheckoutExpired, id); n != 1 {
		t.Fatalf("%d expiry events committed, want 1", n)
	}
}

// A payment approved at MercadoPago whose webhook was lost is found by the expiry's own
// search and applied: the job is paid, not expired.
func TestLostPaymentAppliedInsteadOfExpired(t *testing.T) {
	h := newHarness(t, nil)
	second := h.startReplica(nil)
	id, _, _ := h.accept(52000, uuid.NewString())
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	h.simPay(id, "approved", "")
	time.Sleep(300 * time.Millisecond) // the dropped delivery would have arrived by now
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("the webhook was dropped, yet the job is %s", e)
	}
	h.clock.Advance(ttl + time.Minute)
	mustTick(t, h.app, second)
	if e := h.estado(id); e != "PAGADO_EN_ESCROW" {
		t.Fatalf("a paid job past its deadline is %s, want PAGADO_EN_ESCROW", e)
	}
	h.waitEvent("EscrowHeld", id)
	if n := h.outboxed(events.SubjPaymentCheckoutExpired, id); n != 0 {
		t.Fatalf("%d expiry events for a paid job", n)
	}
	if n := h.outboxed(events.SubjEscrowHeld, id); n != 1 {
		t.Fatalf("%d holds", n)
	}
}

// When MercadoPago cannot be asked, nothing is expired blind; the next pass after the
// hold lapses asks again and expires.
func TestExpiryWaitsForMercadoPago(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(21000, uuid.NewString())
	h.clock.Advance(ttl + time.Minute)
	h.simCall("POST", "/_sim/faults", mpsim.Faults{FailNextSearches: 3}, nil) // the client's three attempts
	if errs := tickAll(t, h.app); len(errs) != 1 {
		t.Fatalf("errors %v, want the one failed search", errs)
	}
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("expired without asking MercadoPago: %s", e)
	}
	h.clock.Advance(2 * time.Minute) // past the hold
	mustTick(t, h.app)
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("job %s after MercadoPago answered", e)
	}
	if n := h.outboxed(events.SubjPaymentCheckoutExpired, id); n != 1 {
		t.Fatalf("%d expiry events", n)
	}
}

// A payment approved after the link expired (a cash ticket paid late, an old tab) is
// held and refunded in full: the cobrar_cancelado row of the lifecycle.
func TestPaymentAfterExpiryRefunded(t *testing.T) {
	h := newHarness(t, nil)
	id, _, link := h.accept(38000, uuid.NewString())
	h.clock.Advance(ttl + time.Minute)
	mustTick(t, h.app)
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("job %s", e)
	}
	h.payOnCheckoutPage(link, "approved")
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitEvent("RefundIssued", id)
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1 AND tipo IN ('HOLD','REFUND')", id); n != 2 {
		t.Fatalf("%d hold/refund transactions", n)
	}
	if n := h.outboxed(events.SubjPaymentCheckoutExpired, id); n != 1 {
		t.Fatalf("%d expiry events", n)
	}
}

// A payment approved after the link expired whose webhook is lost too is still found:
// expired links are searched again every MP_RECONCILE_HELD_EVERY, and the payment is
// held and refunded.
func TestLatePaymentOfExpiredLinkFoundWithoutWebhook(t *testing.T) {
	h := newHarness(t, nil)
	second := h.startReplica(nil)
	id, _, _ := h.accept(27000, uuid.NewString())
	h.clock.Advance(ttl + time.Minute)
	mustTick(t, h.app, second)
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("job %s", e)
	}
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	h.simPay(id, "approved", "")
	time.Sleep(300 * time.Millisecond) // the dropped delivery would have arrived by now
	mustTick(t, h.app, second)
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("searched again before MP_RECONCILE_HELD_EVERY: %s", e)
	}
	h.clock.Advance(time.Hour)
	mustTick(t, h.app, second)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitEvent("RefundIssued", id)
	if n := h.outboxed(events.SubjEscrowHeld, id); n != 1 {
		t.Fatalf("%d holds", n)
	}
	if n := h.count("SELECT count(*) FROM refunds WHERE trabajo_id=$1 AND estado='EMITIDO'", id); n != 1 {
		t.Fatalf("%d refunds issued", n)
	}
}

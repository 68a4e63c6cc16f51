package tests

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// A chargeback of released money decided for the seller gives back exactly what it took:
// the commission to the platform, the share to the professional's balance, once however
// often MercadoPago repeats itself, and the professional's statement shows both moves.
func TestChargebackAfterReleaseReversed(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	id, _ := h.released(prof, 200000) // net 1600.00, commission 400.00
	pay := h.paymentOf(id)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEvent("PaymentChargedBack", id)
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "0" || fmt.Sprint(b["total_comisiones"]) != "0" {
		t.Fatalf("balance after the chargeback %v", b)
	}

	h.simCall("POST", "/_sim/payments/"+pay+"/reimburse", nil, nil)
	rev, err := events.Decode[events.PaymentChargebackReversedV1](h.waitEvent("PaymentChargebackReversed", id))
	if err != nil || rev.ReintegradoCentavos != 160000 || rev.Retenido || rev.ProfesionalID != prof || rev.StatusDetail != "reimbursed" {
		t.Fatalf("PaymentChargebackReversed %+v %v", rev, err)
	}
	h.redeliver(pay, 5)
	if n := len(h.events("PaymentChargebackReversed", id)); n != 1 {
		t.Fatalf("%d PaymentChargebackReversed", n)
	}
	if n := len(h.events("PaymentChargedBack", id)); n != 1 {
		t.Fatalf("%d PaymentChargedBack", n)
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id = $1 AND tipo = 'CHARGEBACK_REVERSAL'", id); n != 1 {
		t.Fatalf("%d reversal transactions", n)
	}
	if st := h.estado(id); st != "LIBERADO" {
		t.Fatalf("estado after the reversal %s", st)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND NOT congelado AND alerta = $2", id, "contracargo_revertido:"+pay); n != 1 {
		t.Fatal("the job is not thawed and flagged as reversed")
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "1600" || fmt.Sprint(b["deuda"]) != "0" || fmt.Sprint(b["total_comisiones"]) != "400" {
		t.Fatalf("balance after the reversal %v", b)
	}
	rep, err := payments.CheckLedger(context.Background(), h.pool)
	if err != nil || len(rep.Problems) > 0 || len(rep.Debts) != 0 || rep.Balances["platform_revenue"] != -40000 {
		t.Fatalf("ledger after the reversal %+v %v", rep, err)
	}
	var hist struct {
		Movimientos []map[string]any `json:"movimientos"`
	}
	if st := h.api("GET", "/api/v1/pagos/historial", proTok, &hist); st != 200 {
		t.Fatalf("historial → %d", st)
	}
	moves := map[string]string{}
	for _, m := range hist.Movimientos {
		moves[fmt.Sprint(m["id"])] = fmt.Sprintf("%v %v", m["tipo"], m["monto"])
	}
	if moves["contracargo-"+id] != "egreso 1600" || moves["contracargo-revertido-"+id] != "ingreso 1600" {
		t.Fatalf("chargeback movements in %v", moves)
	}
}

// A professional who withdrew the money before the chargeback owed it; the reversal pays
// that debt.
func TestChargebackReversalPaysTheDebt(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id := h.releasedAndWithdrawn(prof)
	pay := h.paymentOf(id)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEvent("PaymentChargedBack", id)
	if b := h.balanceOf(prof); fmt.Sprint(b["deuda"]) != "1600" {
		t.Fatalf("balance after the chargeback %v", b)
	}
	h.simCall("POST", "/_sim/payments/"+pay+"/reimburse", nil, nil)
	h.waitEvent("PaymentChargebackReversed", id)
	if b := h.balanceOf(prof); fmt.Sprint(b["deuda"]) != "0" || fmt.Sprint(b["disponible"]) != "0" {
		t.Fatalf("balance after the reversal %v", b)
	}
	h.assertNoDebts("after the reversal")
}

// Held money a chargeback took comes back to the escrow; the job was completed meanwhile,
// so it is released now.
func TestChargebackWhileHeldReversedReleasesACompletedJob(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, pay := h.held(200000, prof)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.completeWhileFrozen(id, cliente, prof, 200000)

	h.simCall("POST", "/_sim/payments/"+pay+"/reimburse", nil, nil)
	rev, err := events.Decode[events.PaymentChargebackReversedV1](h.waitEvent("PaymentChargebackReversed", id))
	if err != nil || !rev.Retenido || rev.ReintegradoCentavos != 0 {
		t.Fatalf("PaymentChargebackReversed %+v %v", rev, err)
	}
	rel, err := events.Decode[events.EscrowReleasedV1](h.waitEvent("EscrowReleased", id))
	if err != nil || rel.LiberadoCentavos != 160000 {
		t.Fatalf("EscrowReleased %+v %v", rel, err)
	}
	h.waitEstado(id, "LIBERADO")
	h.redeliver(pay, 5)
	if n, m := len(h.events("EscrowReleased", id)), len(h.events("PaymentChargebackReversed", id)); n != 1 || m != 1 {
		t.Fatalf("%d EscrowReleased, %d PaymentChargebackReversed", n, m)
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "1600" {
		t.Fatalf("balance after the release %v", b)
	}
	h.assertLedgerBalanced()
}

// A job cancelled while a chargeback had its money is owed to the client: when the money
// comes back it is not released, nor refunded through MercadoPago (which refunds only
// approved payments), but frozen and queued as a MANUAL refund, which an admin transfers
// and records.
func TestChargebackWhileHeldReversedAfterCancellationWaitsForAnAdmin(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, pay := h.held(150000, prof)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.publish(events.JobCancelledV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 150000, Paid: true,
		Motivo: "cancelado", By: "cliente"}, id)
	h.waitFor("the refund owed, waiting", "SELECT count(*) FROM refunds WHERE trabajo_id = $1 AND estado = 'CONTRACARGO'", id)

	h.reverseHeldChargeback(id, pay)
	h.quiesce()
	h.assertWaitsForAnAdmin(id, cliente, pay, 150000)
}

// A refund under way when a chargeback gives the client the money stops rather than
// being retried at MercadoPago, which refuses it; the chargeback reversed, the client is
// still owed the money, and the refund waits for an admin.
func TestRefundUnderWayStopsAtAChargebackAndWaitsForAnAdminAfterItsReversal(t *testing.T) {
	// A failed refund waits an hour before its next try: the chargeback comes first.
	h := newHarness(t, map[string]string{"MP_PAYOUT_RETRY_BASE": "1h"})
	prof := uuid.NewString()
	id, cliente, pay := h.held(130000, prof)
	h.sim.SetFaults(mpsim.Faults{FailNextRefunds: 100}) // every attempt of the client fails: no refund goes through here
	h.publish(events.JobCancelledV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 130000, Paid: true,
		Motivo: "cancelado", By: "cliente"}, id)
	h.waitFor("the refund failed once", "SELECT count(*) FROM refunds WHERE trabajo_id = $1 AND estado = 'FALLIDO'", id)

	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitFor("the refund stopped", "SELECT count(*) FROM refunds WHERE trabajo_id = $1 AND estado = 'CONTRACARGO'", id)
	// Due now: were it still retried, the payout loop would take it within its tick.
	calls := h.refundCalls()
	if _, err := h.pool.Exec(context.Background(), "UPDATE refunds SET next_attempt_at = now() WHERE trabajo_id = $1", id); err != nil {
		t.Fatal(err)
	}
	time.Sleep(1500 * time.Millisecond)
	if n := h.refundCalls(); n != calls {
		t.Fatalf("a stopped refund was tried at MercadoPago: %d calls, %d before", n, calls)
	}
	if n := h.count("SELECT count(*) FROM refunds WHERE trabajo_id = $1 AND estado = 'CONTRACARGO' AND intentos = 1", id); n != 1 {
		t.Fatal("the stopped refund changed")
	}

	h.reverseHeldChargeback(id, pay)
	h.quiesce()
	h.assertWaitsForAnAdmin(id, cliente, pay, 130000)
}

// A dispute still open when the chargeback is reversed keeps the money frozen; decided
// for the client, the refund it asks for cannot go through MercadoPago either and waits
// for an admin.
func TestDisputeOpenAtReversalDecidedForTheClientWaitsForAnAdmin(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, pay := h.held(110000, prof)
	disputa := uuid.NewString()
	h.publish(events.DisputeOpenedV1{DisputaID: disputa, TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AbiertaPor: cliente, Tipo: "OTRO"}, id)
	h.waitFor("the dispute freezes the job", "SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND disputa_abierta", id)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.reverseHeldChargeback(id, pay)
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND congelado", id); n != 1 {
		t.Fatal("the open dispute no longer holds the money")
	}

	h.publish(events.DisputeResolvedV1{DisputaID: disputa, TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AFavor: "cliente"}, id)
	h.waitFor("the refund queued", "SELECT count(*) FROM refunds WHERE trabajo_id = $1", id)
	h.assertWaitsForAnAdmin(id, cliente, pay, 110000)
}

// assertWaitsForAnAdmin checks that job id, whose payment pay was charged back and given
// back, waits frozen for a MANUAL refund that MercadoPago is never asked for; then records
// it as an admin would, with the refusals a careless call meets on the way.
func (h *harness) assertWaitsForAnAdmin(id, cliente, pay string, precio int64) {
	h.t.Helper()
	calls := h.refundCalls()
	time.Sleep(1200 * time.Millisecond) // a payout loop tick: a queued refund would be tried
	if n := h.refundCalls(); n != calls {
		h.t.Fatalf("MercadoPago was asked to refund a charged-back payment: %d calls, %d before", n, calls)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND congelado AND alerta = $2", id, "reembolso_manual:"+pay); n != 1 {
		h.t.Fatal("the job is not frozen and flagged for a manual refund")
	}
	if n := len(h.events("EscrowReleased", id)); n != 0 {
		h.t.Fatalf("%d releases", n)
	}
	adminID := uuid.NewString()
	admin := h.env.Keys.Token(adminID, "ADMIN", "a@x")
	var list payments.Refunds
	if st := h.api("GET", "/api/v1/admin/pagos/reembolsos", admin, &list); st != 200 {
		h.t.Fatalf("reembolsos → %d", st)
	}
	var r *payments.Refund
	for i := range list.Reembolsos {
		if list.Reembolsos[i].TrabajoID == id {
			r = &list.Reembolsos[i]
		}
	}
	if r == nil || r.Estado != "MANUAL" || r.PaymentID != pay || r.ClienteID != cliente || int64(r.Monto) != precio || r.UltimoError == "" {
		h.t.Fatalf("the refund as admins see it: %+v", r)
	}
	path := "/api/v1/admin/pagos/reembolsos/" + id + "/manual"
	if st, body := h.call("POST", path, h.env.Keys.Token(cliente, "CLIENTE", "c@x"), map[string]string{"referencia": "TRF-1"}, nil); st != 403 {
		h.t.Fatalf("a client recording a refund → %d %v", st, body)
	}
	if st, body := h.call("POST", path, admin, map[string]string{"referencia": " x "}, nil); st != 400 || body["code"] != "referencia_required" {
		h.t.Fatalf("no reference → %d %v", st, body)
	}
	if st, body := h.call("POST", "/api/v1/admin/pagos/reembolsos/"+uuid.NewString()+"/manual", admin, map[string]string{"referencia": "TRF-1"}, nil); st != 404 {
		h.t.Fatalf("an unknown job → %d %v", st, body)
	}
	if st := h.estado(id); st != "PAGADO_EN_ESCROW" || len(h.events("RefundIssued", id)) != 0 {
		h.t.Fatalf("a refused call changed the job: %s", st)
	}
	var done payments.Refund
	if st, body := h.call("POST", path, admin, map[string]string{"referencia": "TRF-000123"}, &done); st != 200 {
		h.t.Fatalf("record the manual refund → %d %v", st, body)
	}
	if done.Estado != "EMITIDO" || done.ExternalID == nil || *done.ExternalID != "manual:TRF-000123" || done.RegistradoPor == nil || *done.RegistradoPor != adminID {
		h.t.Fatalf("the recorded refund %+v", done)
	}
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	ri, err := events.Decode[events.RefundIssuedV1](h.waitEvent("RefundIssued", id))
	if err != nil || ri.ClienteID != cliente || ri.MontoCentavos != precio {
		h.t.Fatalf("RefundIssued %+v %v", ri, err)
	}
	if st, body := h.call("POST", path, admin, map[string]string{"referencia": "TRF-000124"}, nil); st != 409 || body["code"] != "refund_not_manual" {
		h.t.Fatalf("recording it twice → %d %v", st, body)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND NOT congelado", id); n != 1 {
		h.t.Fatal("the refunded job stays frozen")
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id = $1 AND tipo = 'REFUND'", id); n != 1 {
		h.t.Fatalf("%d refund transactions", n)
	}
	if n := h.refundCalls(); n != calls {
		h.t.Fatalf("MercadoPago was asked to refund: %d calls, %d before", n, calls)
	}
	h.quiesce()
	if n := len(h.events("RefundIssued", id)); n != 1 {
		h.t.Fatalf("%d RefundIssued", n)
	}
	h.assertLedgerBalanced()
}

// reverseHeldChargeback has the card issuer decide job id's chargeback for the seller and
// waits until its held money is back in escrow.
func (h *harness) reverseHeldChargeback(id, pay string) {
	h.t.Helper()
	h.simCall("POST", "/_sim/payments/"+pay+"/reimburse", nil, nil)
	h.waitEvent("PaymentChargebackReversed", id)
	h.waitEstado(id, "PAGADO_EN_ESCROW")
}

// refundCalls is how many refunds MercadoPago (the simulator) was asked for.
func (h *harness) refundCalls() int {
	h.t.Helper()
	var calls map[string]int
	h.simCall("GET", "/_sim/calls", nil, &calls)
	return calls["POST POST /v1/payments/{id}/refunds"]
}

// The first news may already be the decision (the chargeback's own webhook lost): the
// chargeback and its reversal are both recorded, once, and the held job goes on.
func TestChargebackFirstSeenReversed(t *testing.T) {
	h := newHarness(t, nil)
	id, _, pay := h.held(90000, uuid.NewString())
	h.simCall("POST", "/_sim/payments/"+pay+"/reimburse", nil, nil)
	h.waitEvent("PaymentChargebackReversed", id)
	h.quiesce()
	if st := h.estado(id); st != "PAGADO_EN_ESCROW" {
		t.Fatalf("estado %s", st)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND NOT congelado", id); n != 1 {
		t.Fatal("the job stays frozen with its money back and no dispute")
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id = $1 AND tipo IN ('CHARGEBACK','CHARGEBACK_REVERSAL')", id); n != 2 {
		t.Fatalf("%d chargeback transactions", n)
	}
	if n, m := len(h.events("PaymentChargedBack", id)), len(h.events("PaymentChargebackReversed", id)); n != 1 || m != 1 {
		t.Fatalf("%d PaymentChargedBack, %d PaymentChargebackReversed", n, m)
	}
	h.assertLedgerBalanced()
}

// A claim (in_mediation) freezes held money; closed for the seller, the payment is
// approved again and the job thaws, releasing what was completed meanwhile, once.
func TestMediationClosedForTheSellerThaws(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, pay := h.held(200000, prof)
	h.simCall("POST", "/_sim/payments/"+pay+"/mediate", nil, nil)
	h.waitFor("the claim freezes the job", "SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND congelado AND alerta = $2", id, "en_mediacion:"+pay)
	h.completeWhileFrozen(id, cliente, prof, 200000)

	h.simCall("POST", "/_sim/payments/"+pay+"/approve", nil, nil)
	h.waitEstado(id, "LIBERADO")
	h.redeliver(pay, 5)
	if n := len(h.events("EscrowReleased", id)); n != 1 {
		t.Fatalf("%d EscrowReleased", n)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND NOT congelado AND alerta = $2", id, "mediacion_cerrada:"+pay); n != 1 {
		t.Fatal("the job is not thawed and flagged as closed")
	}
	h.assertLedgerBalanced()
}

// A claim decided for the buyer refunds the payment: the escrow goes back to the client.
func TestMediationClosedForTheBuyerRefunds(t *testing.T) {
	h := newHarness(t, nil)
	id, _, pay := h.held(120000, uuid.NewString())
	h.simCall("POST", "/_sim/payments/"+pay+"/mediate", nil, nil)
	h.waitFor("the claim freezes the job", "SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND congelado", id)
	h.simCall("POST", "/_sim/payments/"+pay+"/refund", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitEvent("RefundIssued", id)
	if n := len(h.events("EscrowReleased", id)); n != 0 {
		t.Fatalf("%d EscrowReleased", n)
	}
	h.assertLedgerBalanced()
}

// completeWhileFrozen completes job id while a card dispute holds its money: the release
// is remembered, not carried out.
func (h *harness) completeWhileFrozen(id, cliente, prof string, precio int64) {
	h.t.Helper()
	h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: precio}, id)
	h.waitFor("the completion remembered", "SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND liberacion_pendiente", id)
	if n := len(h.events("EscrowReleased", id)); n != 0 {
		h.t.Fatalf("released while a card dispute held the money: %d", n)
	}
}

package tests

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/payments"
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
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook?times=2", nil, nil)
	h.waitDeliveries(pay, 5)
	h.quiesce()
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
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook?times=2", nil, nil)
	h.waitDeliveries(pay, 5)
	h.quiesce()
	if n, m := len(h.events("EscrowReleased", id)), len(h.events("PaymentChargebackReversed", id)); n != 1 || m != 1 {
		t.Fatalf("%d EscrowReleased, %d PaymentChargebackReversed", n, m)
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "1600" {
		t.Fatalf("balance after the release %v", b)
	}
	h.assertLedgerBalanced()
}

// A job cancelled while a chargeback had its money is owed to the client: when the money
// comes back it is not released (nor refunded through MercadoPago, which refunds only
// approved payments) but frozen and flagged for an admin.
func TestChargebackWhileHeldReversedAfterCancellationWaitsForAnAdmin(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, pay := h.held(150000, prof)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.publish(events.JobCancelledV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 150000, Paid: true,
		Motivo: "cancelado", By: "cliente"}, id)
	h.waitFor("the cancellation remembered", "SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND reembolso_pendiente", id)

	h.simCall("POST", "/_sim/payments/"+pay+"/reimburse", nil, nil)
	h.waitEvent("PaymentChargebackReversed", id)
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.quiesce()
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND congelado AND alerta = $2", id, "reembolso_manual:"+pay); n != 1 {
		t.Fatal("the job is not frozen and flagged for a manual refund")
	}
	if n, m := len(h.events("EscrowReleased", id)), h.count("SELECT count(*) FROM refunds WHERE trabajo_id = $1", id); n != 0 || m != 0 {
		t.Fatalf("%d releases, %d refunds queued", n, m)
	}
	h.assertLedgerBalanced()
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
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook?times=2", nil, nil)
	h.waitDeliveries(pay, 5)
	h.quiesce()
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

package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/testkit"
)

// TestJourneyManualRefund follows, from outside, a refund MercadoPago cannot make: the
// client's card issuer takes back a held payment, the client cancels the job, and the
// issuer then decides for the seller. The payment stays charged_back, which MercadoPago
// does not refund, so the money waits for an admin, who transfers it and records the
// transfer; the client is told, the job ends refunded and the ledger balances.
func TestJourneyManualRefund(t *testing.T) {
	sys := startSystem(t, nil)
	fx := newMoneyFixture(t, sys)
	job := fx.job
	if st, b := sys.call(http.MethodPost, "/api/v1/admin/trabajo/"+job+"/simular-pago", fx.admin, nil); st != 200 {
		t.Fatalf("simular-pago → %d %v", st, b)
	}
	testkit.Eventually(t, 15*time.Second, "the job paid into escrow", func() bool {
		_, j := sys.call(http.MethodGet, "/api/v1/trabajos/"+job, fx.cli, nil)
		return j["estado_escrow"] == "PAGADO_EN_ESCROW" && j["estado"] == "PAGADO"
	})
	_, tx := sys.call(http.MethodGet, "/api/v1/pagos/transacciones/"+job, fx.cli, nil)
	payment, _ := tx["mercadopago_payment_id"].(string)
	if payment == "" {
		t.Fatalf("transaction without its payment: %v", tx)
	}

	simPost(t, sys.env["MP_BASE_URL"], "/_sim/payments/"+payment+"/chargeback", nil)
	waitTimeline(t, sys, job, fx.cli, "MercadoPago informó un contracargo del pago")
	if st, b := sys.call(http.MethodPost, "/api/v1/cliente/trabajo/"+job+"/cancelar", fx.cli, map[string]any{"motivo": "Ya no lo necesito"}); st != 202 {
		t.Fatalf("cancel → %d %v", st, b)
	}
	simPost(t, sys.env["MP_BASE_URL"], "/_sim/payments/"+payment+"/reimburse", nil)

	var refund map[string]any
	testkit.Eventually(t, 15*time.Second, "the refund waiting for an admin", func() bool {
		_, list := sys.call(http.MethodGet, "/api/v1/admin/pagos/reembolsos?estado=MANUAL", fx.admin, nil)
		for _, r := range listOf(list["reembolsos"]) {
			if m, ok := r.(map[string]any); ok && m["trabajo_id"] == job {
				refund = m
			}
		}
		return refund != nil
	})
	if refund["monto"] != 30000.5 || refund["payment_id"] != payment || refund["cliente_id"] != fx.cliID {
		t.Fatalf("the refund as admins see it: %v", refund)
	}
	if calls := simCalls(t, sys); calls["POST POST /v1/payments/{id}/refunds"] != 0 {
		t.Fatalf("MercadoPago was asked to refund a charged-back payment: %v", calls)
	}
	path := "/api/v1/admin/pagos/reembolsos/" + job + "/manual"
	st, done := sys.call(http.MethodPost, path, fx.admin, map[string]any{"referencia": "TRF-2026-000981"})
	if st != 200 || done["estado"] != "EMITIDO" || done["external_id"] != "manual:TRF-2026-000981" {
		t.Fatalf("record the transfer → %d %v", st, done)
	}
	if st, b := sys.call(http.MethodPost, path, fx.admin, map[string]any{"referencia": "TRF-2026-000982"}); st != 409 || b["code"] != "refund_not_manual" {
		t.Fatalf("record it again → %d %v", st, b)
	}

	testkit.Eventually(t, 15*time.Second, "the job refunded, the client told", func() bool {
		_, j := sys.call(http.MethodGet, "/api/v1/trabajos/"+job, fx.cli, nil)
		_, ns := sys.call(http.MethodGet, "/api/v1/notificaciones", fx.cli, nil)
		told := 0
		for _, n := range listOf(ns["notificaciones"]) {
			if m, ok := n.(map[string]any); ok && strings.Contains(fmt.Sprint(m["mensaje"]), "Te devolvimos $ 30.000,50") {
				told++
			}
		}
		return j["estado_escrow"] == "CANCELADO_REEMBOLSADO" && j["estado"] == "CANCELADO" && told == 1
	})
	_, check := sys.call(http.MethodGet, "/api/v1/escrow/ledger/check", fx.admin, nil)
	if len(listOf(check["problemas"])) != 0 || len(listOf(check["deudas"])) != 0 {
		t.Fatalf("ledger check after the manual refund %v", check)
	}
	_, list := sys.call(http.MethodGet, "/api/v1/admin/pagos/reembolsos", fx.admin, nil)
	for _, r := range listOf(list["reembolsos"]) {
		if m, ok := r.(map[string]any); ok && m["trabajo_id"] == job {
			t.Fatalf("a refund issued is still listed as waiting: %v", m)
		}
	}
}

// waitTimeline waits until job's timeline, as who sees it, has an entry starting with
// desc.
func waitTimeline(t *testing.T, sys *system, job, who, desc string) {
	t.Helper()
	testkit.Eventually(t, 15*time.Second, "timeline: "+desc, func() bool {
		_, tl := sys.call(http.MethodGet, "/api/v1/trabajos/"+job+"/timeline", who, nil)
		for _, e := range listOf(tl) {
			if m, ok := e.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["descripcion"]), desc) {
				return true
			}
		}
		return false
	})
}

// simCalls is how many calls the MercadoPago simulator answered, by method and route.
func simCalls(t *testing.T, sys *system) map[string]int {
	t.Helper()
	resp, err := http.Get(sys.env["MP_BASE_URL"] + "/_sim/calls")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return out
}

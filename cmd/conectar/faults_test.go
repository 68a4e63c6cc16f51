package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/testkit"
)

// TestPaymentsKilledMidFlow stops the payments service after the client accepted an
// offer, pays while it is down (the simulator's webhooks fail against the gateway),
// brings a new payments process up, and checks that the money arrives exactly once:
// the job is held in escrow, released with the right commission, and the ledger balances.
func TestPaymentsKilledMidFlow(t *testing.T) {
	sys := startSystem(t, map[string]string{"GATEWAY_BREAKER_OPEN": "300ms"})
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")
	proTok, _, proID := sys.register("juan@example.com", "Juan", "PROFESIONAL", nil)
	cliTok, _, cliID := sys.register("ana@example.com", "Ana", "CLIENTE", nil)
	_, me := sys.call(http.MethodGet, "/api/v1/professional/me", proTok, nil)
	if st, b := sys.call(http.MethodPost, "/api/v1/admin/kyc/approve/"+me["id"].(string), adminTok, nil); st >= 300 {
		// Approval needs documents in review first.
		sys.upload("/api/v1/professional/kyc/upload", proTok, "files", "dni.pdf", "application/pdf", []byte("%PDF-1.4\n%%EOF\n"))
		sys.call(http.MethodPost, "/api/v1/professional/kyc/submit", proTok, nil)
		if st, b = sys.call(http.MethodPost, "/api/v1/admin/kyc/approve/"+me["id"].(string), adminTok, nil); st >= 300 {
			t.Fatalf("approve → %d %v", st, b)
		}
	}
	sys.call(http.MethodPut, "/api/v1/professional/payout-info", proTok, map[string]any{"payout_account": "juan.plomero"})
	_, chat := sys.call(http.MethodPost, "/api/v1/chat/conversations", cliTok, map[string]any{"profesional_id": proID})
	_, oferta := sys.call(http.MethodPost, "/api/v1/professional/ofertas", proTok, map[string]any{
		"cliente_id": cliID, "chat_id": chat["chat_id"], "descripcion": "Instalación de termotanque", "precio_final": 10000})
	st, acc := sys.call(http.MethodPost, "/api/v1/cliente/ofertas/"+oferta["id"].(string)+"/accept", cliTok, nil)
	jobID, _ := acc["trabajo_id"].(string)
	if st != 200 || jobID == "" {
		t.Fatalf("accept → %d %v", st, acc)
	}

	sys.kill("payments")
	payOnCheckout(t, acc["payment_url"].(string))
	// The simulator's first deliveries meet a dead service (503 at the gateway).
	time.Sleep(1500 * time.Millisecond)
	_, job := sys.call(http.MethodGet, "/api/v1/trabajos/"+jobID, cliTok, nil)
	if job["estado_escrow"] != "PENDIENTE_PAGO" {
		t.Fatalf("paid while payments was down? %v", job["estado_escrow"])
	}
	sys.revive("payments")

	testkit.Eventually(t, 30*time.Second, "payment held after payments came back", func() bool {
		_, job := sys.call(http.MethodGet, "/api/v1/trabajos/"+jobID, cliTok, nil)
		return job["estado_escrow"] == "PAGADO_EN_ESCROW"
	})
	for _, step := range []map[string]any{{"estado": "EN_PROCESO"}, {"estado": "COMPLETADO", "nota": "Termotanque instalado y probado"}} {
		if st, b := sys.call(http.MethodPut, "/api/v1/trabajos/"+jobID+"/status", proTok, step); st != 200 {
			t.Fatalf("step → %d %v", st, b)
		}
	}
	st, fin := sys.call(http.MethodPost, "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cliTok, nil)
	job, _ = fin["trabajo"].(map[string]any)
	if st != 200 || job["estado_escrow"] != "LIBERADO" || job["monto_liberado"] != 8000.0 {
		t.Fatalf("finalizar → %d %v", st, fin)
	}
	st, check := sys.call(http.MethodGet, "/api/v1/escrow/ledger/check", adminTok, nil)
	if st != 200 {
		t.Fatalf("ledger check → %d %v", st, check)
	}
	if problems := listOf(check["problemas"]); len(problems) != 0 || check["transacciones"] == 0.0 {
		t.Fatalf("ledger after the crash: %v", check)
	}
	_, fm := sys.call(http.MethodGet, "/api/v1/admin/metrics/financials", adminTok, nil)
	if fm["total_facturado"] != 10000.0 || fm["comision_total"] != 2000.0 {
		t.Fatalf("money moved more than once: %v", fm)
	}
}

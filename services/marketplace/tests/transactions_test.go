package tests

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/conectarpro/conectar/events"
)

// transactionFields are the frontend's Transaction (frontend-shapes §2.9), plus
// created_at, which every creation date carries under both names.
var transactionFields = []string{"id", "trabajo_id", "cliente_id", "profesional_id", "monto", "estado", "estado_escrow",
	"metodo_pago", "mercadopago_preference_id", "mercadopago_payment_id", "fecha_creacion", "created_at", "fecha_liberacion",
	"descripcion", "cliente_nombre", "profesional_nombre", "puede_liberar", "puede_solicitar_reembolso",
	"comision_plataforma", "monto_neto_profesional"}

func checkTransactionShape(t *testing.T, tx map[string]any) {
	t.Helper()
	var got []string
	for k := range tx {
		got = append(got, k)
	}
	want := append([]string(nil), transactionFields...)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("transaction fields %v, want %v", got, want)
	}
}

// The payment card's release: POST /pagos/transacciones/{id}/liberar is the client's
// approval (the finalizar handler and its rules), answered as the Transaction.
func TestTransactionRelease(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	jobID, _ := h.paidJob(cli, pro, 500)
	liberar := "/api/v1/pagos/transacciones/" + jobID + "/liberar"

	h.want(403, "POST", liberar, stranger.Token, nil)
	h.want(403, "POST", liberar, pro.Token, nil)
	h.want(404, "POST", "/api/v1/pagos/transacciones/not-a-uuid/liberar", cli.Token, nil)
	if j := h.job(jobID, cli); j["estado_escrow"] != "PAGADO_EN_ESCROW" || h.count(events.StreamMarketplace, events.SubjJobCompleted) != 0 {
		t.Fatalf("a refused release moved the job: %v", j)
	}

	tx := h.want(200, "POST", liberar, cli.Token, nil).Map(t)
	checkTransactionShape(t, tx)
	want := map[string]any{"id": jobID, "trabajo_id": jobID, "cliente_id": cli.ID, "profesional_id": pro.ID, "monto": "500",
		"estado": "completado", "estado_escrow": "LIBERADO", "metodo_pago": "mercadopago",
		"mercadopago_payment_id": "mp-" + jobID[:8], "mercadopago_preference_id": "pref-" + jobID[:8],
		"cliente_nombre": "Ana Test", "profesional_nombre": "Juan Test", "descripcion": "Cambio de cañería completa del baño",
		"puede_liberar": false, "puede_solicitar_reembolso": false, "comision_plataforma": "100", "monto_neto_profesional": "400"}
	for k, v := range want {
		if fmt.Sprint(tx[k]) != fmt.Sprint(v) {
			t.Errorf("liberar: %s = %v, want %v", k, tx[k], v)
		}
	}
	if tx["fecha_liberacion"] == nil || tx["fecha_creacion"] == nil {
		t.Errorf("liberar: dates %v / %v", tx["fecha_liberacion"], tx["fecha_creacion"])
	}
	if j := h.job(jobID, cli); j["estado"] != "APROBADO" || j["estado_escrow"] != "LIBERADO" {
		t.Fatalf("released job: %v", j)
	}
	// The same rules as finalizar: an approved job is not approved twice.
	h.want(400, "POST", liberar, cli.Token, nil)
	h.waitCount(events.StreamMarketplace, events.SubjJobCompleted, 1)
}

// Before payments answers, the card shows the money still held and the commission the
// professional's current rate (from professionals) would charge; for a refund, nothing.
func TestTransactionReleaseStillPending(t *testing.T) {
	h := start(t, map[string]string{"SAGA_WAIT": "300ms"})
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	h.dir.mu.Lock()
	h.dir.pros[pro.ID]["tasa_comision_bp"] = 1500
	h.dir.mu.Unlock()
	jobID, _ := h.paidJob(cli, pro, 500)
	job2, _ := h.paidJob(cli, pro, 500)
	h.pay.setMode("silent")
	r := h.want(202, "POST", "/api/v1/pagos/transacciones/"+jobID+"/liberar", cli.Token, nil)
	tx := r.Map(t)
	checkTransactionShape(t, tx)
	if tx["estado_escrow"] != "DEPOSITADO" || tx["estado"] != "pendiente" || fmt.Sprint(tx["comision_plataforma"]) != "75" ||
		fmt.Sprint(tx["monto_neto_profesional"]) != "425" || tx["fecha_liberacion"] != nil || tx["puede_liberar"] != false {
		t.Fatalf("pending release: %v", tx)
	}

	// A refund under way: the money is still held, but none of it goes to the professional.
	tx = h.want(202, "POST", "/api/v1/pagos/transacciones/"+job2+"/reembolso", cli.Token, map[string]any{"motivo": "Ya no lo necesito"}).Map(t)
	checkTransactionShape(t, tx)
	if tx["estado_escrow"] != "DEPOSITADO" || tx["estado"] != "pendiente" || fmt.Sprint(tx["comision_plataforma"]) != "0" ||
		fmt.Sprint(tx["monto_neto_profesional"]) != "0" || tx["puede_liberar"] != false || tx["puede_solicitar_reembolso"] != false {
		t.Fatalf("pending refund: %v", tx)
	}
}

// The payment card's refund: POST /pagos/transacciones/{id}/reembolso {motivo} is the
// cancel of the paid job (the cancel handler and its rules); the motivo is recorded and
// travels in JobCancelled, payments refunds, and the answer is the Transaction.
func TestTransactionRefund(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	jobID, _ := h.paidJob(cli, pro, 500)
	reembolso := "/api/v1/pagos/transacciones/" + jobID + "/reembolso"
	const motivo = "El profesional no se presentó"

	h.want(403, "POST", reembolso, stranger.Token, map[string]any{"motivo": motivo})
	if j := h.job(jobID, cli); j["estado"] != "PAGADO" || h.count(events.StreamMarketplace, events.SubjJobCancelled) != 0 {
		t.Fatalf("a refused refund moved the job: %v", j)
	}
	h.want(422, "POST", reembolso, cli.Token, map[string]any{"motivo": strings.Repeat("x", 501)})

	tx := h.want(200, "POST", reembolso, cli.Token, map[string]any{"motivo": motivo}).Map(t)
	checkTransactionShape(t, tx)
	if tx["id"] != jobID || tx["estado_escrow"] != "REEMBOLSADO" || tx["estado"] != "reembolsado" || fmt.Sprint(tx["monto"]) != "500" ||
		fmt.Sprint(tx["comision_plataforma"]) != "0" || fmt.Sprint(tx["monto_neto_profesional"]) != "0" ||
		tx["puede_liberar"] != false || tx["puede_solicitar_reembolso"] != false || tx["fecha_liberacion"] != nil {
		t.Fatalf("reembolso: %v", tx)
	}
	if j := h.job(jobID, cli); j["estado"] != "CANCELADO" || j["estado_escrow"] != "CANCELADO_REEMBOLSADO" || j["motivo_cancelacion"] != motivo {
		t.Fatalf("refunded job: %v", j)
	}
	if e := lastEvent[events.JobCancelledV1](h, events.StreamMarketplace); e.TrabajoID != jobID || !e.Paid || e.Motivo != motivo || e.By != cli.ID {
		t.Fatalf("JobCancelled %+v", e)
	}
	// Cancelled already: the cancel rules refuse a second one.
	h.want(400, "POST", reembolso, cli.Token, map[string]any{"motivo": motivo})
}

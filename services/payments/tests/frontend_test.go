package tests

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

func (h *harness) names(id, nombre, apellido string) {
	h.t.Helper()
	testkit.Publish(h.t, h.env.NATS.JS, "auth", id, events.UserRegisteredV1{UserID: id, Email: id + "@x", Nombre: nombre, Apellido: apellido, Rol: "CLIENTE"})
}

// The frontend's transaction view of a job, its list and filter, and the checkout under
// the frontend's path.
func TestTransactionsShape(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	h.names(prof, "Juan", "Plomero")
	held, cliente, link := h.accept(2500050, prof)
	h.names(cliente, "Ana", "Cliente")
	testkit.Publish(t, h.env.NATS.JS, "users", cliente, events.UserProfileUpdatedV1{UserID: cliente, Nombre: "Ana María", Apellido: "Cliente"})
	cliTok := h.env.Keys.Token(cliente, "CLIENTE", "c@x")

	// crear-pago is create-preference under the frontend's path and body: same link.
	var pref map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/crear-pago", cliTok, map[string]any{"trabajo_id": held, "monto": 1, "descripcion": "x",
		"metodo_pago": "mercadopago"}, &pref); st != 200 || pref["init_point"] != link || pref["transaction_id"] != held || pref["preference_id"] == "" {
		t.Fatalf("crear-pago → %d %v %v", st, e, pref)
	}
	if st, _ := h.call("POST", "/api/v1/pagos/crear-pago", cliTok, map[string]any{}, nil); st != 422 {
		t.Fatalf("crear-pago without trabajo_id → %d", st)
	}
	var tx map[string]any
	if st := h.api("GET", "/api/v1/pagos/transacciones/"+held, cliTok, &tx); st != 200 || tx["estado_escrow"] != "PENDIENTE" || tx["estado"] != "pendiente" ||
		tx["puede_liberar"] != false || fmt.Sprint(tx["comision_plataforma"]) != "5000.1" || fmt.Sprint(tx["monto_neto_profesional"]) != "20000.4" {
		t.Fatalf("pending transaction → %d %v", st, tx)
	}
	h.payOnCheckoutPage(link, "approved")
	h.waitEstado(held, "PAGADO_EN_ESCROW")
	testkit.Eventually(t, 5*time.Second, "names replica", func() bool {
		h.api("GET", "/api/v1/pagos/transacciones/"+held, cliTok, &tx)
		return tx["cliente_nombre"] == "Ana María Cliente" && tx["profesional_nombre"] == "Juan Plomero"
	})
	for k, want := range map[string]any{"id": held, "trabajo_id": held, "cliente_id": cliente, "profesional_id": prof, "estado_escrow": "DEPOSITADO",
		"estado": "pendiente", "metodo_pago": "mercadopago", "puede_liberar": true, "puede_solicitar_reembolso": true,
		"descripcion": "Cambio de cañería de la cocina", "fecha_liberacion": nil} {
		if tx[k] != want {
			t.Errorf("transaction %s = %v, want %v", k, tx[k], want)
		}
	}
	if fmt.Sprint(tx["monto"]) != "25000.5" || tx["mercadopago_payment_id"] == nil || tx["mercadopago_preference_id"] == nil || tx["fecha_creacion"] == nil {
		t.Fatalf("transaction %v", tx)
	}
	// The professional sees it without the client's buttons; a stranger does not see it.
	h.api("GET", "/api/v1/pagos/transacciones/"+held, h.env.Keys.Token(prof, "PROFESIONAL", "p@x"), &tx)
	if tx["puede_liberar"] != false || tx["puede_solicitar_reembolso"] != false {
		t.Fatalf("professional's transaction view %v", tx)
	}
	if st := h.api("GET", "/api/v1/pagos/transacciones/"+held, h.env.Keys.Token(uuid.NewString(), "CLIENTE", "o@x"), nil); st != 403 {
		t.Fatalf("stranger → %d", st)
	}
	if st := h.api("GET", "/api/v1/pagos/transacciones/"+uuid.NewString(), cliTok, nil); st != 404 {
		t.Fatalf("unknown transaction → %d", st)
	}

	h.accept(10000, prof) // a second job of another client, never paid
	var list struct {
		Transacciones []map[string]any `json:"transacciones"`
		Total         int              `json:"total"`
	}
	if st := h.api("GET", "/api/v1/pagos/mis-transacciones?page=1&limit=20", cliTok, &list); st != 200 || list.Total != 1 || list.Transacciones[0]["id"] != held {
		t.Fatalf("client's transactions → %d %+v", st, list)
	}
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	if st := h.api("GET", "/api/v1/pagos/mis-transacciones", proTok, &list); st != 200 || list.Total != 2 {
		t.Fatalf("professional's transactions → %d %+v", st, list)
	}
	for _, estado := range []string{"DEPOSITADO", "PAGADO_EN_ESCROW"} {
		if st := h.api("GET", "/api/v1/pagos/mis-transacciones?estado="+estado, proTok, &list); st != 200 || list.Total != 1 || list.Transacciones[0]["id"] != held {
			t.Fatalf("filter %s → %d %+v", estado, st, list)
		}
	}
	if st := h.api("GET", "/api/v1/pagos/mis-transacciones?estado=LIBERADO", proTok, &list); st != 200 || list.Total != 0 || len(list.Transacciones) != 0 {
		t.Fatalf("filter LIBERADO → %d %+v", st, list)
	}
	if st := h.api("GET", "/api/v1/pagos/mis-transacciones?estado=VOLANDO", proTok, nil); st != 400 {
		t.Fatalf("bad filter → %d", st)
	}
}

// After the money moved (a release and a refund, which marketplace's approval and cancel
// start), the transaction shows it; releasing and refunding are marketplace's paths, not
// served here.
func TestTransactionAfterReleaseAndRefund(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, _ := h.accept(50000, prof)
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	cliTok := h.env.Keys.Token(cliente, "CLIENTE", "c@x")
	for _, cmd := range []string{"liberar", "reembolso"} {
		if st, _ := h.call("POST", "/api/v1/pagos/transacciones/"+id+"/"+cmd, cliTok, map[string]any{"motivo": "x"}, nil); st != 404 {
			t.Fatalf("payments still answers %s: %d", cmd, st)
		}
	}
	h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 50000}, id)
	h.waitEstado(id, "LIBERADO")
	var tx map[string]any
	if st := h.api("GET", "/api/v1/pagos/transacciones/"+id, cliTok, &tx); st != 200 || tx["estado_escrow"] != "LIBERADO" || tx["estado"] != "completado" ||
		fmt.Sprint(tx["comision_plataforma"]) != "100" || fmt.Sprint(tx["monto_neto_profesional"]) != "400" || tx["fecha_liberacion"] == nil ||
		tx["puede_liberar"] != false || tx["puede_solicitar_reembolso"] != false {
		t.Fatalf("released transaction → %d %v", st, tx)
	}

	id2, cliente2, _ := h.accept(50000, prof)
	h.simPay(id2, "approved", "")
	h.waitEstado(id2, "PAGADO_EN_ESCROW")
	h.publish(events.JobCancelledV1{TrabajoID: id2, ClienteID: cliente2, ProfesionalID: prof, PrecioCentavos: 50000, Paid: true,
		Motivo: "El profesional no se presentó", By: cliente2}, id2)
	h.waitEstado(id2, "CANCELADO_REEMBOLSADO")
	if st := h.api("GET", "/api/v1/pagos/transacciones/"+id2, h.env.Keys.Token(cliente2, "CLIENTE", "c2@x"), &tx); st != 200 ||
		tx["estado_escrow"] != "REEMBOLSADO" || tx["estado"] != "reembolsado" || fmt.Sprint(tx["comision_plataforma"]) != "0" ||
		fmt.Sprint(tx["monto_neto_profesional"]) != "0" || tx["fecha_liberacion"] != nil || tx["puede_solicitar_reembolso"] != false {
		t.Fatalf("refunded transaction → %d %v", st, tx)
	}
}

// History: movements in the frontend's vocabulary, filters by kind and dates, totals.
func TestHistoryFiltersAndVocabulary(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	h.names(prof, "Juan", "Plomero")
	rel, cliente := h.released(prof, 100000)
	h.names(cliente, "Ana", "Cliente")
	heldID, _, _ := h.accept(30000, prof)
	h.simPay(heldID, "approved", "")
	h.waitEstado(heldID, "PAGADO_EN_ESCROW")
	h.publish(events.DisputeOpenedV1{DisputaID: uuid.NewString(), TrabajoID: heldID, ProfesionalID: prof, Tipo: "calidad"}, heldID)
	testkit.Eventually(t, 5*time.Second, "frozen", func() bool {
		return h.count("SELECT count(*) FROM trabajos WHERE trabajo_id=$1 AND congelado", heldID) == 1
	})
	type histT struct {
		Movimientos []map[string]any `json:"movimientos"`
		Total       int              `json:"total"`
		Resumen     map[string]any   `json:"resumen"`
	}
	var hist histT
	testkit.Eventually(t, 5*time.Second, "names in history", func() bool {
		h.api("GET", "/api/v1/pagos/historial?tipo=ingreso", proTok, &hist)
		for _, m := range hist.Movimientos {
			if m["id"] == rel && m["cliente_nombre"] == "Ana Cliente" && m["profesional_nombre"] == "Juan Plomero" {
				return true
			}
		}
		return false
	})
	estados := map[any]any{}
	for _, m := range hist.Movimientos {
		estados[m["id"]] = m["estado"]
		if m["tipo"] != "ingreso" || m["fecha_creacion"] == nil {
			t.Fatalf("movement %v", m)
		}
	}
	if hist.Total != 2 || estados[rel] != "completado" || estados[heldID] != "en_disputa" {
		t.Fatalf("ingresos %+v", hist)
	}
	if st := h.api("GET", "/api/v1/pagos/historial?tipo=comision", proTok, &hist); st != 200 || hist.Total != 1 ||
		fmt.Sprint(hist.Movimientos[0]["monto"]) != "200" || fmt.Sprint(hist.Resumen["total_comisiones"]) != "200" || fmt.Sprint(hist.Resumen["total_ingresos"]) != "0" {
		t.Fatalf("comisiones → %d %+v", st, hist)
	}
	today := time.Now().UTC().Format("2006-01-02")
	if st := h.api("GET", "/api/v1/pagos/historial?desde="+today+"&hasta="+today, proTok, &hist); st != 200 || hist.Total != 3 {
		t.Fatalf("today → %d %+v", st, hist)
	}
	if st := h.api("GET", "/api/v1/pagos/historial?desde=2100-01-01", proTok, &hist); st != 200 || hist.Total != 0 || len(hist.Movimientos) != 0 {
		t.Fatalf("after 2100 → %d %+v", st, hist)
	}
	if st := h.api("GET", "/api/v1/pagos/historial?page=2&limit=2", proTok, &hist); st != 200 || hist.Total != 3 || len(hist.Movimientos) != 1 {
		t.Fatalf("page 2 → %d %+v", st, hist)
	}
	for _, q := range []string{"tipo=regalo", "desde=ayer", "desde=2026-02-01&hasta=2026-01-01", "limit=0"} {
		if st := h.api("GET", "/api/v1/pagos/historial?"+q, proTok, nil); st/100 != 4 {
			t.Fatalf("%s → %d", q, st)
		}
	}
	// The client sees egresos; the earlier path is the same handler.
	cliTok := h.env.Keys.Token(cliente, "CLIENTE", "c@x")
	if st := h.api("GET", "/api/v1/payments/history", cliTok, &hist); st != 200 || hist.Total != 1 || hist.Movimientos[0]["tipo"] != "egreso" ||
		fmt.Sprint(hist.Resumen["total_egresos"]) != "1000" {
		t.Fatalf("client history → %d %+v", st, hist)
	}
}

// Dashboards: every figure a number, from the ledger.
func TestDashboards(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	var d map[string]any
	if st := h.api("GET", "/api/v1/pagos/dashboard", proTok, &d); st != 200 || fmt.Sprint(d["ingresos_mes_actual"]) != "0" ||
		fmt.Sprint(d["promedio_por_trabajo"]) != "0" || fmt.Sprint(d["proximos_pagos"]) != "[]" || fmt.Sprint(d["retiros_pendientes"]) != "[]" {
		t.Fatalf("empty professional dashboard → %d %v", st, d)
	}
	if st := h.api("GET", "/api/v1/admin/pagos/dashboard", admin, &d); st != 200 || fmt.Sprint(d["total_monto_procesado"]) != "0" || d["total_transacciones"] != 0.0 {
		t.Fatalf("empty admin dashboard → %d %v", st, d)
	}
	h.released(prof, 100000)
	h.released(prof, 200001) // commission 40000.2 → 40000, net 160001
	heldID, _, _ := h.accept(50000, prof)
	h.simPay(heldID, "approved", "")
	h.waitEstado(heldID, "PAGADO_EN_ESCROW")
	h.accept(70000, prof) // waiting for payment
	h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"alias": "juan.plomero", "titular": "Juan Pérez"}, nil)
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1500}, nil); st != 201 {
		t.Fatalf("withdraw → %d %v", st, e)
	}
	if st := h.api("GET", "/api/v1/pagos/dashboard", proTok, &d); st != 200 {
		t.Fatalf("professional dashboard → %d", st)
	}
	// Earned 800.00 + 1600.01 this month over two jobs: average 1200.005 → 1200.01.
	want := map[string]string{"ingresos_mes_actual": "2400.01", "ingresos_mes_anterior": "0", "trabajos_completados_mes": "2",
		"promedio_por_trabajo": "1200.01", "comisiones_pagadas": "600", "disponible": "900.01", "pendiente": "500"}
	for k, v := range want {
		if fmt.Sprint(d[k]) != v {
			t.Errorf("professional dashboard %s = %v, want %s", k, d[k], v)
		}
	}
	if p, _ := d["proximos_pagos"].([]any); len(p) != 1 || p[0].(map[string]any)["id"] != heldID {
		t.Errorf("proximos_pagos %v", d["proximos_pagos"])
	}
	if r, _ := d["retiros_pendientes"].([]any); len(r) != 1 || r[0].(map[string]any)["estado"] != "PENDIENTE" {
		t.Errorf("retiros_pendientes %v", d["retiros_pendientes"])
	}
	if st := h.api("GET", "/api/v1/admin/pagos/dashboard", admin, &d); st != 200 {
		t.Fatalf("admin dashboard → %d", st)
	}
	want = map[string]string{"total_monto_procesado": "3500.01", "total_transacciones": "3", "pagos_pendientes": "1",
		"retiros_pendientes": "1", "total_comisiones": "600", "ingresos_ultimo_mes": "3500.01", "dinero_en_escrow": "500"}
	for k, v := range want {
		if fmt.Sprint(d[k]) != v {
			t.Errorf("admin dashboard %s = %v, want %s", k, d[k], v)
		}
	}
	if st := h.api("GET", "/api/v1/admin/pagos/dashboard", proTok, nil); st != 403 {
		t.Fatalf("professional on the admin dashboard → %d", st)
	}
	if st := h.api("GET", "/api/v1/pagos/dashboard", admin, nil); st != 403 {
		t.Fatalf("admin on the professional dashboard → %d", st)
	}
}

// The unsigned /pagos/webhook/mercadopago is only a hint: the payment is read from the
// API and applied once; bad ids are refused; hints are rate limited.
func TestUnsignedPaymentHint(t *testing.T) {
	h := newHarness(t, map[string]string{"MP_HINT_RATE": "1", "MP_HINT_BURST": "3"})
	prof := uuid.NewString()
	id, _, _ := h.accept(40000, prof)
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 10}, nil)
	pay := h.simPay(id, "approved", "")
	time.Sleep(300 * time.Millisecond)
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("held without a webhook: %s", e)
	}
	for _, bad := range []any{"abc", "", 0, "-5", "12345678901234567890123"} {
		if st, e := h.call("POST", "/api/v1/pagos/webhook/mercadopago", "", map[string]any{"payment_id": bad}, nil); st != 400 || e["detail"] == "" {
			t.Fatalf("hint %v → %d %v", bad, st, e)
		}
	}
	// A hint claiming another amount or status changes nothing: only the API is read.
	if st, e := h.call("POST", "/api/v1/pagos/webhook/mercadopago", "", map[string]any{"payment_id": pay, "status": "refunded", "amount": 1}, nil); st != 202 {
		t.Fatalf("hint → %d %v", st, e)
	}
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.quiesce()
	if st, _ := h.call("POST", "/api/v1/pagos/webhook/mercadopago", "", map[string]any{"payment_id": json.Number(pay)}, nil); st != 202 {
		t.Fatalf("second hint → %d", st)
	}
	h.quiesce()
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1", id); n != 1 {
		t.Fatalf("%d ledger transactions after two hints", n)
	}
	if n := len(h.events("EscrowHeld", id)); n != 1 {
		t.Fatalf("%d EscrowHeld", n)
	}
	// The burst is spent: the next hints are refused until the bucket refills.
	limited := 0
	for i := 0; i < 5; i++ {
		if st, _ := h.call("POST", "/api/v1/pagos/webhook/mercadopago", "", map[string]any{"payment_id": fmt.Sprint(900000 + i)}, nil); st == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("no hint was rate limited")
	}
}

// The sandbox payment answers the job as the frontend reads it: marketplace's TrabajoRead
// (work state, dates, notes, images) once marketplace saw the payment.
func TestSimulatePaymentAnswersTrabajoRead(t *testing.T) {
	var h *harness
	var keyOK bool
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := strings.TrimPrefix(r.URL.Path, "/internal/trabajos/")
		keyOK = r.Header.Get("X-Internal-Key") != ""
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "estado": "PAGADO", "estado_escrow": h.estado(id),
			"created_at": "2026-12-05T10:00:00Z", "fecha_inicio": nil, "imagenes": []string{}, "notas_cliente": nil})
	}))
	defer fake.Close()
	h = newHarnessWith(t, map[string]string{"MP_SANDBOX": "true"}, map[string]string{"marketplace": fake.URL})
	id, _, _ := h.accept(15000, uuid.NewString())
	var out map[string]any
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	if st := h.api("POST", "/api/v1/admin/trabajo/"+id+"/simular-pago", admin, &out); st != 200 || out["estado_escrow"] != "PAGADO_EN_ESCROW" ||
		out["estado"] != "PAGADO" || out["created_at"] != "2026-12-05T10:00:00Z" || out["imagenes"] == nil || out["mercadopago_payment_id"] == nil || !keyOK {
		t.Fatalf("simular-pago → %d %v", st, out)
	}
}

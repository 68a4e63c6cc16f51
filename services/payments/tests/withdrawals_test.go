package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mp"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// validCBU is a real-format CBU with valid check digits (Banco Macro's public example).
const validCBU = "2850590940090418135201"

// call sends body as JSON and returns the status and the decoded error or answer.
func (h *harness) call(method, path, token string, body any, out any) (int, map[string]any) {
	h.t.Helper()
	r := testkit.Client{T: h.t, Base: h.base}.JSON(method, path, token, body, out)
	var m map[string]any
	_ = json.Unmarshal(r.Body, &m)
	return r.Status, m
}

// released runs one job of price precio through payment and release for prof (BRONCE,
// 20 %) and returns its id and client.
func (h *harness) released(prof string, precio int64) (string, string) {
	h.t.Helper()
	id, cliente, _ := h.accept(precio, prof)
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: precio}, id)
	h.waitEstado(id, "LIBERADO")
	return id, cliente
}

func (h *harness) balanceOf(prof string) map[string]any {
	h.t.Helper()
	var bal map[string]any
	if st := h.api("GET", "/api/v1/pagos/balance", h.env.Keys.Token(prof, "PROFESIONAL", "p@x"), &bal); st != 200 {
		h.t.Fatalf("balance → %d", st)
	}
	return bal
}

// The whole withdrawal path: a release credits the available balance; the request needs a
// bank account, respects the minimum and the balance, and reserves the amount; the admin's
// approval pays it out through MercadoPago exactly once even when the API fails at first.
func TestWithdrawalApprovedPaidOnceThroughRetries(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	h.released(prof, 100000) // net 800.00
	h.released(prof, 100000) // net 800.00 → 1600.00 available
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "1600" || fmt.Sprint(b["total_comisiones"]) != "400" {
		t.Fatalf("balance after two releases %v", b)
	}

	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000}, nil); st != 400 || e["code"] != "no_bank_account" {
		t.Fatalf("withdrawal without account → %d %v", st, e)
	}
	// A CBU with a wrong check digit is refused and stores nothing.
	if st, e := h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"tipo_cuenta": "cbu",
		"cbu": "2850590940090418135202", "titular": "Juan Pérez", "banco": "Macro"}, nil); st != 400 || e["code"] != "invalid_cbu" || e["detail"] == "" {
		t.Fatalf("bad CBU → %d %v", st, e)
	}
	if r := (testkit.Client{T: t, Base: h.base}).Do("GET", "/api/v1/pagos/cuenta-bancaria", proTok, nil); r.Status != 200 || strings.TrimSpace(string(r.Body)) != "null" {
		t.Fatalf("account after a refused one → %d %s", r.Status, r.Body)
	}
	var acct map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"tipo_cuenta": "cbu",
		"cbu": validCBU, "titular": "Juan Pérez", "banco": "Macro"}, &acct); st != 200 {
		t.Fatalf("set account → %d %v", st, e)
	}
	h.api("GET", "/api/v1/pagos/cuenta-bancaria", proTok, &acct)
	if acct["tipo_cuenta"] != "cbu" || acct["cbu_oculto"] != "******************5201" || acct["titular"] != "Juan Pérez" || acct["banco"] != "Macro" {
		t.Fatalf("account %v", acct)
	}
	if _, ok := acct["cbu"]; ok {
		t.Fatalf("the whole CBU is shown: %v", acct)
	}

	for _, c := range []struct {
		monto any
		code  string
	}{{999.99, "below_minimum"}, {1600.01, "insufficient_funds"}, {"abc", ""}, {nil, "monto_required"}} {
		st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": c.monto}, nil)
		if st/100 != 4 || (c.code != "" && e["code"] != c.code) {
			t.Fatalf("withdraw %v → %d %v", c.monto, st, e)
		}
	}
	if n := h.count("SELECT count(*) FROM retiros"); n != 0 {
		t.Fatalf("%d withdrawals after refused requests", n)
	}
	var w map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000}, &w); st != 201 {
		t.Fatalf("withdraw → %d %v", st, e)
	}
	if w["estado"] != "PENDIENTE" || fmt.Sprint(w["monto"]) != "1000" || w["usuario_id"] != prof || w["cuenta_destino"] != validCBU ||
		w["fecha_solicitud"] == nil || w["fecha_procesado"] != nil || w["motivo_rechazo"] != nil {
		t.Fatalf("withdrawal %v", w)
	}
	wid := w["id"].(string)
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "600" || fmt.Sprint(b["en_retiro"]) != "1000" {
		t.Fatalf("balance with a pending withdrawal %v", b)
	}
	// The reserved amount cannot be asked for twice.
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000}, nil); st != 400 || e["code"] != "insufficient_funds" {
		t.Fatalf("second withdrawal → %d %v", st, e)
	}
	h.waitEvent("WithdrawalRequested", wid)

	h.names(prof, "Juan", "Plomero")
	var list []map[string]any
	testkit.Eventually(t, 5*time.Second, "the professional's name in the admin list", func() bool {
		h.api("GET", "/api/v1/admin/pagos/retiros", admin, &list)
		return len(list) == 1 && list[0]["profesional_nombre"] == "Juan Plomero"
	})
	if st := h.api("GET", "/api/v1/admin/pagos/retiros?estado=PENDIENTE", admin, &list); st != 200 || len(list) != 1 || list[0]["id"] != wid {
		t.Fatalf("admin list → %d %v", st, list)
	}
	if st := h.api("GET", "/api/v1/admin/pagos/retiros?estado=PROCESADO", admin, &list); st != 200 || len(list) != 0 {
		t.Fatalf("admin list PROCESADO → %d %v", st, list)
	}
	if st := h.api("GET", "/api/v1/admin/pagos/retiros?estado=RARO", admin, nil); st != 400 {
		t.Fatalf("admin list with a bad state → %d", st)
	}
	if st := h.api("POST", "/api/v1/admin/pagos/retiros/"+wid+"/aprobar", proTok, nil); st != 403 {
		t.Fatalf("professional approving → %d", st)
	}

	// MercadoPago fails the first call (its three attempts) and one more attempt: retried, never lost, never doubled.
	h.simCall("POST", "/_sim/faults", mpsim.Faults{FailNextPayouts: 4}, nil)
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/aprobar", admin, nil, &w); st != 200 || w["estado"] != "APROBADO" {
		t.Fatalf("approve → %d %v %v", st, e, w)
	}
	h.waitEvent("WithdrawalApproved", wid)
	failed, err := events.Decode[events.PayoutFailedV1](h.waitEvent("PayoutFailed", wid))
	if err != nil || failed.RetiroID != wid || failed.MontoCentavos != 100000 {
		t.Fatalf("payout failed %+v %v", failed, err)
	}
	sent, err := events.Decode[events.PayoutSentV1](h.waitEvent("PayoutSent", wid))
	if err != nil || sent.RetiroID != wid || sent.MontoCentavos != 100000 || sent.ProfesionalID != prof || sent.ExternalID == "" {
		t.Fatalf("payout sent %+v %v", sent, err)
	}
	payouts := h.sim.Payouts()
	if len(payouts) != 1 || payouts[0].Destination != validCBU || payouts[0].Amount != 1000 || payouts[0].ExternalReference != "retiro-"+wid {
		t.Fatalf("simulator payouts %+v", payouts)
	}
	testkit.Eventually(t, 5*time.Second, "withdrawal processed", func() bool {
		return h.count("SELECT count(*) FROM retiros WHERE id=$1 AND estado='PROCESADO' AND fecha_procesado IS NOT NULL", wid) == 1
	})
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/aprobar", admin, nil, nil); st != 409 || e["code"] != "retiro_not_pending" {
		t.Fatalf("second approval → %d %v", st, e)
	}
	if st := h.api("GET", "/api/v1/pagos/retiros", proTok, &list); st != 200 || len(list) != 1 || list[0]["estado"] != "PROCESADO" || list[0]["fecha_procesado"] == nil {
		t.Fatalf("own withdrawals → %d %v", st, list)
	}
	b := h.balanceOf(prof)
	if fmt.Sprint(b["disponible"]) != "600" || fmt.Sprint(b["en_retiro"]) != "0" || fmt.Sprint(b["pagado"]) != "1000" || fmt.Sprint(b["total_ganado"]) != "1600" {
		t.Fatalf("balance after the payout %v", b)
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE retiro_id=$1", wid); n != 2 {
		t.Fatalf("%d ledger transactions for the withdrawal, want RESERVE+PAYOUT", n)
	}
	if n := len(h.events("PayoutSent", wid)); n != 1 {
		t.Fatalf("%d PayoutSent", n)
	}

	// The history shows the two jobs (gross), the two commissions and the withdrawal.
	var hist struct {
		Movimientos []map[string]any `json:"movimientos"`
		Total       int              `json:"total"`
		Resumen     map[string]any   `json:"resumen"`
	}
	if st := h.api("GET", "/api/v1/pagos/historial", proTok, &hist); st != 200 || hist.Total != 5 || len(hist.Movimientos) != 5 ||
		fmt.Sprint(hist.Resumen["total_ingresos"]) != "2000" || fmt.Sprint(hist.Resumen["total_comisiones"]) != "400" ||
		fmt.Sprint(hist.Resumen["total_egresos"]) != "1000" {
		t.Fatalf("history → %d %+v", st, hist)
	}
	if st := h.api("GET", "/api/v1/pagos/historial?tipo=egreso", proTok, &hist); st != 200 || hist.Total != 1 ||
		hist.Movimientos[0]["estado"] != "completado" || hist.Movimientos[0]["id"] != wid || fmt.Sprint(hist.Movimientos[0]["monto"]) != "1000" {
		t.Fatalf("history of egresos → %d %+v", st, hist)
	}
}

// A rejected withdrawal gives the amount back; the reason is required and shown.
func TestWithdrawalRejectedReturnsFunds(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	h.released(prof, 150000) // net 1200.00
	h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"tipo_cuenta": "alias", "alias": "Juan.Plomero", "titular": "Juan Pérez"}, nil)
	var w map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": "1200.00"}, &w); st != 201 || w["cuenta_destino"] != "juan.plomero" {
		t.Fatalf("withdraw → %d %v %v", st, e, w)
	}
	wid := w["id"].(string)
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/rechazar", admin, map[string]any{}, nil); st != 400 || e["code"] != "motivo_required" {
		t.Fatalf("reject without a reason → %d %v", st, e)
	}
	if st, _ := h.call("POST", "/api/v1/admin/pagos/retiros/"+uuid.NewString()+"/rechazar", admin, map[string]any{"motivo": "cuenta inválida"}, nil); st != 404 {
		t.Fatalf("reject of an unknown withdrawal → %d", st)
	}
	if st, _ := h.call("POST", "/api/v1/admin/pagos/retiros/no-es-un-id/aprobar", admin, nil, nil); st != 404 {
		t.Fatalf("approve of a malformed id → %d", st)
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "0" {
		t.Fatalf("balance with the whole amount reserved %v", b)
	}
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/rechazar", admin, map[string]any{"motivo": "La cuenta no es del titular"}, &w); st != 200 ||
		w["estado"] != "RECHAZADO" || w["motivo_rechazo"] != "La cuenta no es del titular" || w["fecha_procesado"] == nil {
		t.Fatalf("reject → %d %v %v", st, e, w)
	}
	rej, err := events.Decode[events.WithdrawalRejectedV1](h.waitEvent("WithdrawalRejected", wid))
	if err != nil || rej.MontoCentavos != 120000 || rej.Motivo != "La cuenta no es del titular" || rej.ProfesionalID != prof {
		t.Fatalf("rejected event %+v %v", rej, err)
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "1200" || fmt.Sprint(b["en_retiro"]) != "0" {
		t.Fatalf("balance after the rejection %v", b)
	}
	for _, path := range []string{"/rechazar", "/aprobar"} {
		if st, _ := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+path, admin, map[string]any{"motivo": "otra vez"}, nil); st != 409 {
			t.Fatalf("%s after the rejection → %d", path, st)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(h.sim.Payouts()); n != 0 {
		t.Fatalf("%d payouts for a rejected withdrawal", n)
	}
	// The money can be asked for again.
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1200}, nil); st != 201 {
		t.Fatalf("withdraw again → %d %v", st, e)
	}
}

// Concurrent requests never reserve more than the available balance.
func TestConcurrentWithdrawalsNeverOverdraw(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	h.released(prof, 200000) // net 1600.00
	h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"cbu": validCBU, "titular": "Juan Pérez"}, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	statuses := map[int]int{}
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := testkit.Client{T: t, Base: h.base}.Do("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000})
			mu.Lock()
			statuses[r.Status]++
			mu.Unlock()
		}()
	}
	wg.Wait()
	if statuses[201] != 1 || statuses[400] != 7 {
		t.Fatalf("statuses %v, want one 201 and seven 400", statuses)
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "600" || fmt.Sprint(b["en_retiro"]) != "1000" {
		t.Fatalf("balance %v", b)
	}
}

// The payout account set in professionals (PUT /professional/payout-info) becomes the bank
// account when it changes; an unrelated profile edit does not undo one set here.
func TestBankAccountOneSourceOfTruth(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	profile := func(account string) {
		h.publish(events.ProfessionalProfileUpdatedV1{ProfesionalID: "perfil-" + prof, UsuarioID: prof, PayoutAccount: account}, prof)
	}
	account := func() map[string]any {
		var a map[string]any
		h.api("GET", "/api/v1/pagos/cuenta-bancaria", proTok, &a)
		return a
	}
	profile("juan.plomero")
	testkit.Eventually(t, 5*time.Second, "account from the profile", func() bool {
		a := account()
		return a != nil && a["tipo_cuenta"] == "alias" && a["alias"] == "juan.plomero"
	})
	if st, e := h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"tipo_cuenta": "cbu", "cbu": validCBU, "titular": "Juan Pérez", "banco": "Macro"}, nil); st != 200 {
		t.Fatalf("set account → %d %v", st, e)
	}
	profile("juan.plomero") // another profile edit, same payout account
	profile("")             // and one without it
	time.Sleep(500 * time.Millisecond)
	if a := account(); a["tipo_cuenta"] != "cbu" || a["cbu_oculto"] != "******************5201" {
		t.Fatalf("an unrelated profile edit replaced the account: %v", a)
	}
	profile("0000003110001000000011")
	testkit.Eventually(t, 5*time.Second, "changed payout account", func() bool {
		a := account()
		return a["tipo_cuenta"] == "cbu" && a["cbu_oculto"] == "******************0011" && a["titular"] == ""
	})
	for _, bad := range []map[string]any{
		{"tipo_cuenta": "alias", "alias": "ab", "titular": "Juan Pérez"},
		{"tipo_cuenta": "cheque", "cbu": validCBU, "titular": "Juan Pérez"},
		{"tipo_cuenta": "cbu", "titular": "Juan Pérez"},
		{"tipo_cuenta": "cbu", "cbu": validCBU},
	} {
		if st, e := h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, bad, nil); st != 400 || e["detail"] == "" {
			t.Fatalf("bad account %v → %d %v", bad, st, e)
		}
	}
	if st := h.api("GET", "/api/v1/pagos/cuenta-bancaria", h.env.Keys.Token(uuid.NewString(), "CLIENTE", "c@x"), nil); st != 403 {
		t.Fatalf("client reading a bank account → %d", st)
	}
}

// A transfer MercadoPago took whose answer we never recorded (a crash after the call) is
// not sent twice: the retry carries the same withdrawal-derived idempotency key and
// MercadoPago answers the first transfer again.
func TestWithdrawalPayoutNotDoubledAfterLostAnswer(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	h.released(prof, 200000)
	h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"alias": "juan.plomero", "titular": "Juan Pérez"}, nil)
	var w map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1500}, &w); st != 201 {
		t.Fatalf("withdraw → %d %v", st, e)
	}
	wid := w["id"].(string)
	client, err := mp.New(mp.Config{AccessToken: testToken, BaseURL: h.simURL})
	if err != nil {
		t.Fatal(err)
	}
	first, err := client.Payout(t.Context(), mp.PayoutInput{Key: "retiro-" + wid, Reference: "retiro-" + wid, Destination: "juan.plomero", AmountCentavos: 150000})
	if err != nil {
		t.Fatal(err)
	}
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/aprobar", admin, nil, nil); st != 200 {
		t.Fatalf("approve → %d %v", st, e)
	}
	sent, err := events.Decode[events.PayoutSentV1](h.waitEvent("PayoutSent", wid))
	if err != nil || sent.ExternalID != first {
		t.Fatalf("payout sent %+v %v, want the first transfer %s", sent, err, first)
	}
	if n := len(h.sim.Payouts()); n != 1 {
		t.Fatalf("%d transfers at MercadoPago, want 1", n)
	}
}

// MercadoPago refusing the transfer (an account that does not exist) closes the
// withdrawal and gives the money back: nothing left, nothing is retried.
func TestWithdrawalRefusedByMercadoPagoReturnsFunds(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	h.released(prof, 200000) // net 1600.00
	h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"alias": "cuenta.inexistente", "titular": "Juan Pérez"}, nil)
	var w map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000}, &w); st != 201 {
		t.Fatalf("withdraw → %d %v", st, e)
	}
	wid := w["id"].(string)
	h.simCall("POST", "/_sim/faults", mpsim.Faults{RefuseNextPayouts: 1}, nil)
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/aprobar", admin, nil, nil); st != 200 {
		t.Fatalf("approve → %d %v", st, e)
	}
	h.waitEvent("PayoutFailed", wid)
	rej, err := events.Decode[events.WithdrawalRejectedV1](h.waitEvent("WithdrawalRejected", wid))
	if err != nil || rej.RechazadoPor != "mercadopago" || !strings.Contains(rej.Motivo, "cuenta.inexistente") {
		t.Fatalf("rejected %+v %v", rej, err)
	}
	var list []map[string]any
	if st := h.api("GET", "/api/v1/pagos/retiros", proTok, &list); st != 200 || len(list) != 1 || list[0]["estado"] != "RECHAZADO" || list[0]["motivo_rechazo"] == nil {
		t.Fatalf("own withdrawals → %d %v", st, list)
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "1600" || fmt.Sprint(b["en_retiro"]) != "0" || fmt.Sprint(b["pagado"]) != "0" {
		t.Fatalf("balance after the refusal %v", b)
	}
	// Not retried, not retriable: the money is already back.
	if st := h.api("POST", "/api/v1/payout/"+wid+"/reintentar", admin, nil); st != 404 {
		t.Fatalf("retry of a refused payout → %d", st)
	}
	time.Sleep(700 * time.Millisecond) // several retry periods (base 200ms)
	if n := len(h.events("PayoutFailed", wid)); n != 1 || len(h.sim.Payouts()) != 0 {
		t.Fatalf("%d PayoutFailed, %d transfers after a refusal", n, len(h.sim.Payouts()))
	}
}

// A chargeback of money already released and withdrawn is taken back from the
// professional: the commission is given up, their share becomes a debt that blocks
// withdrawals and that their next release pays first, and redelivered notifications take
// nothing twice.
func TestChargebackAfterReleaseIsTheProfessionalsDebt(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	id := h.releasedAndWithdrawn(prof)
	pay := h.paymentOf(id)
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	cb, err := events.Decode[events.PaymentChargedBackV1](h.waitEvent("PaymentChargedBack", id))
	if err != nil || cb.DescontadoCentavos != 160000 || cb.ProfesionalID != prof {
		t.Fatalf("PaymentChargedBack %+v %v", cb, err)
	}
	h.redeliver(pay, 4)
	if n := len(h.events("PaymentChargedBack", id)); n != 1 {
		t.Fatalf("%d PaymentChargedBack", n)
	}
	if st := h.estado(id); st != "LIBERADO" {
		t.Fatalf("estado after a chargeback of released money: %s", st)
	}
	if n := h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND congelado AND alerta = $2", id, "contracargo:"+pay); n != 1 {
		t.Fatal("the job is not flagged for the admins")
	}
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "0" || fmt.Sprint(b["deuda"]) != "1600" || fmt.Sprint(b["total_comisiones"]) != "0" {
		t.Fatalf("balance after the chargeback %v", b)
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id = $1 AND tipo = 'CHARGEBACK'", id); n != 1 {
		t.Fatalf("%d chargeback transactions", n)
	}
	rep, err := payments.CheckLedger(context.Background(), h.pool)
	if err != nil || len(rep.Problems) > 0 || len(rep.Debts) != 1 || rep.Debts[0].UsuarioID != prof || rep.Debts[0].Monto != 160000 ||
		rep.Balances["chargeback_losses"] != 0 {
		t.Fatalf("ledger after the chargeback %+v %v", rep, err)
	}
	var hist struct {
		Movimientos []map[string]any `json:"movimientos"`
	}
	if st := h.api("GET", "/api/v1/pagos/historial?tipo=egreso", proTok, &hist); st != 200 {
		t.Fatalf("historial → %d", st)
	}
	var back []map[string]any
	for _, m := range hist.Movimientos {
		if m["id"] == "contracargo-"+id {
			back = append(back, m)
		}
	}
	if len(back) != 1 || fmt.Sprint(back[0]["monto"]) != "1600" {
		t.Fatalf("chargeback movements %v in %v", back, hist.Movimientos)
	}

	// Owing money, nothing can be withdrawn; the next release pays the debt first.
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000}, nil); st != 400 || e["code"] != "insufficient_funds" {
		t.Fatalf("withdrawal while owing → %d %v", st, e)
	}
	h.released(prof, 300000) // net 2400.00
	if b := h.balanceOf(prof); fmt.Sprint(b["disponible"]) != "800" || fmt.Sprint(b["deuda"]) != "0" {
		t.Fatalf("balance after the next release %v", b)
	}
	h.assertNoDebts("after the next release")
}

// releasedAndWithdrawn releases a job of ARS 2000.00 for prof (net 1600.00, commission
// 400.00) and has prof withdraw the whole 1600.00, approved and paid out; it returns the
// job.
func (h *harness) releasedAndWithdrawn(prof string) string {
	h.t.Helper()
	proTok := h.env.Keys.Token(prof, "PROFESIONAL", "p@x")
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	id, _ := h.released(prof, 200000)
	if st, e := h.call("POST", "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"tipo_cuenta": "cbu",
		"cbu": validCBU, "titular": "Juan Pérez", "banco": "Macro"}, nil); st != 200 {
		h.t.Fatalf("set account → %d %v", st, e)
	}
	var w map[string]any
	if st, e := h.call("POST", "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1600}, &w); st != 201 {
		h.t.Fatalf("withdraw → %d %v", st, e)
	}
	wid := w["id"].(string)
	if st, e := h.call("POST", "/api/v1/admin/pagos/retiros/"+wid+"/aprobar", admin, nil, nil); st != 200 {
		h.t.Fatalf("approve → %d %v", st, e)
	}
	h.waitEvent("PayoutSent", wid)
	return id
}

// assertNoDebts checks that the ledger balances and nobody owes anything.
func (h *harness) assertNoDebts(when string) {
	h.t.Helper()
	h.assertLedgerBalanced()
	if rep, err := payments.CheckLedger(context.Background(), h.pool); err != nil || len(rep.Debts) != 0 {
		h.t.Fatalf("debts %s: %+v %v", when, rep.Debts, err)
	}
}

// The ledger check finds a withdrawal reserved beyond the balance of its moment, even when
// a later release covers it (written straight into the ledger: the API refuses it).
func TestLedgerCheckFindsAnOverdrawnWithdrawal(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	h.released(prof, 200000) // net 1600.00
	ctx := context.Background()
	txn, retiro := uuid.New(), uuid.New()
	h.tampered = true
	if _, err := h.pool.Exec(ctx, `INSERT INTO ledger_txns (id, retiro_id, tipo) VALUES ($1, $2, 'RESERVE')`, txn, retiro); err != nil {
		t.Fatal(err)
	}
	if _, err := h.pool.Exec(ctx, `INSERT INTO ledger_entries (txn_id, retiro_id, cuenta, usuario_id, monto_centavos)
		VALUES ($1, $2, 'professional_payable', $3, 200000), ($1, $2, 'professional_reserved', $3, -200000)`, txn, retiro, prof); err != nil {
		t.Fatal(err)
	}
	h.released(prof, 100000) // net 800.00: the balance is a credit again
	rep, err := payments.CheckLedger(ctx, h.pool)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, p := range rep.Problems {
		found = found || strings.Contains(p, prof) && strings.Contains(p, "por encima de su saldo")
	}
	if !found || len(rep.Debts) != 0 {
		t.Fatalf("overdrawn withdrawal not reported: %+v", rep)
	}
}

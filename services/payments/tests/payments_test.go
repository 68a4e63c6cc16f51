package tests

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// The whole path per level: accept → checkout → approve on the checkout page → webhook →
// held → completed → released with the level's commission (centavo rounding) into the
// professional's available balance.
func TestFullPathCommissionPerLevel(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct {
		nivel      string
		bp         int // 0: no LevelChanged (default BRONCE)
		precio     int64
		commission int64
	}{
		{"BRONCE", 0, 100000, 20000},
		{"BRONCE", 0, 333, 67},            // 66.6 → 67
		{"PLATA", 1800, 12345, 2222},      // 2222.1 → 2222
		{"ORO", 1500, 1010, 152},          // 151.5 → 152 (half up)
		{"DIAMANTE", 1000, 123455, 12346}, // 12345.5 → 12346
	}
	for i, c := range cases {
		t.Run(fmt.Sprintf("%s_%d", c.nivel, c.precio), func(t *testing.T) {
			h.t = t
			prof := uuid.NewString()
			h.publish(events.ProfessionalProfileUpdatedV1{ProfesionalID: uuid.NewString(), UsuarioID: prof,
				EstadoVerificacion: "APROBADO", PayoutAccount: fmt.Sprintf("alias.prof.%d", i)}, prof)
			if c.bp > 0 {
				h.publish(events.LevelChangedV1{UsuarioID: prof, NivelAnterior: "BRONCE", Nivel: c.nivel, TasaComisionBP: c.bp}, prof)
			}
			id, cliente, link := h.accept(c.precio, prof)
			if !strings.HasPrefix(link, h.simURL+"/checkout/v1/redirect?pref_id=") {
				t.Fatalf("payment url %q", link)
			}
			// The link is reused: create-preference gives the same one.
			var again map[string]any
			if st := h.api("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+id, h.env.Keys.Token(cliente, "CLIENTE", "c@x"), &again); st != 200 || again["payment_url"] != link {
				t.Fatalf("create-preference: %d %v (want %s)", st, again, link)
			}
			if st := h.api("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+id, h.env.Keys.Token(uuid.NewString(), "CLIENTE", "o@x"), nil); st != 403 {
				t.Fatalf("stranger create-preference: %d", st)
			}

			st, loc := h.payOnCheckoutPage(link, "approved")
			if st != http.StatusFound || !strings.HasPrefix(loc, "http://front.test/payment/success?") || !strings.Contains(loc, "external_reference="+id) {
				t.Fatalf("checkout answer %d %q", st, loc)
			}
			h.waitEstado(id, "PAGADO_EN_ESCROW")
			held := h.waitEvent("EscrowHeld", id)
			if e, _ := events.Decode[events.EscrowHeldV1](held); e.MontoCentavos != c.precio {
				t.Fatalf("held %d, want %d", e.MontoCentavos, c.precio)
			}
			h.waitEvent("PaymentApproved", id)
			if st := h.api("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+id, h.env.Keys.Token(cliente, "CLIENTE", "c@x"), nil); st != 400 {
				t.Fatalf("create-preference on a paid job: %d", st)
			}

			h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: c.precio, Motivo: "cliente"}, id)
			h.waitEstado(id, "LIBERADO")
			rel, err := events.Decode[events.EscrowReleasedV1](h.waitEvent("EscrowReleased", id))
			if err != nil {
				t.Fatal(err)
			}
			if rel.ComisionCentavos != c.commission || rel.LiberadoCentavos != c.precio-c.commission || rel.PrecioCentavos != c.precio {
				t.Fatalf("released %+v, want commission %d", rel, c.commission)
			}
			wantBP := c.bp
			if wantBP == 0 {
				wantBP = 2000
			}
			if rel.TasaComisionBasisPt != wantBP {
				t.Fatalf("rate %d, want %d", rel.TasaComisionBasisPt, wantBP)
			}
			// The release credits the professional's available balance; nothing is paid out
			// until a withdrawal is approved.
			if rel.PayoutID != "" {
				t.Fatalf("release queued payout %q", rel.PayoutID)
			}
			// A redelivered JobCompleted changes nothing.
			h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: c.precio}, id)
			time.Sleep(200 * time.Millisecond)
			if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1", id); n != 2 {
				t.Fatalf("%d ledger transactions, want HOLD+RELEASE", n)
			}
			if n := len(h.events("EscrowReleased", id)); n != 1 {
				t.Fatalf("%d EscrowReleased", n)
			}
			if n := len(h.sim.Payouts()); n != 0 {
				t.Fatalf("%d payouts at the simulator after a release", n)
			}
			net := strconv.FormatFloat(float64(c.precio-c.commission)/100, 'f', -1, 64)
			var bal map[string]any
			if st := h.api("GET", "/api/v1/pagos/balance", h.env.Keys.Token(prof, "PROFESIONAL", "p@x"), &bal); st != 200 ||
				fmt.Sprint(bal["disponible"]) != net || fmt.Sprint(bal["total_ganado"]) != net || fmt.Sprint(bal["pagado"]) != "0" ||
				fmt.Sprint(bal["total_comisiones"]) != strconv.FormatFloat(float64(c.commission)/100, 'f', -1, 64) ||
				fmt.Sprint(bal["trabajos_completados"]) != "1" || fmt.Sprint(bal["pendiente"]) != "0" {
				t.Fatalf("balance %d %v (net %s)", st, bal, net)
			}
			var hist struct {
				Tipo        string           `json:"tipo"`
				Pagos       []map[string]any `json:"pagos"`
				Movimientos []map[string]any `json:"movimientos"`
			}
			if st := h.api("GET", "/api/v1/pagos/historial", h.env.Keys.Token(cliente, "CLIENTE", "c@x"), &hist); st != 200 || hist.Tipo != "cliente" ||
				len(hist.Pagos) != 1 || len(hist.Movimientos) != 1 || hist.Movimientos[0]["tipo"] != "egreso" || hist.Movimientos[0]["estado"] != "completado" {
				t.Fatalf("history %d %+v", st, hist)
			}
		})
	}
	h.t = t
	var fin map[string]any
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	if st := h.api("GET", "/api/v1/admin/metrics/financials", admin, &fin); st != 200 {
		t.Fatalf("financials %d", st)
	}
	// 1000.00 + 3.33 + 123.45 + 10.10 + 1234.55 = 2371.43; commissions 200+0.67+22.22+1.52+123.46 = 347.87
	if fmt.Sprint(fin["total_facturado"]) != "2371.43" || fmt.Sprint(fin["comision_total"]) != "347.87" ||
		fmt.Sprint(fin["trabajos_completados"]) != "5" || fmt.Sprint(fin["dinero_en_escrow"]) != "0" {
		t.Fatalf("financials %v", fin)
	}
	if st := h.api("GET", "/api/v1/admin/dashboard/stats", admin, &fin); st != 200 {
		t.Fatalf("dashboard %d", st)
	}
	var rep struct {
		Problemas []string         `json:"problemas"`
		Saldos    map[string]int64 `json:"saldos"`
	}
	if st := h.api("GET", "/api/v1/escrow/ledger/check", admin, &rep); st != 200 || len(rep.Problemas) != 0 || rep.Saldos["platform_revenue"] != -34787 {
		t.Fatalf("ledger check %d %+v", st, rep)
	}
	if st := h.api("GET", "/api/v1/admin/metrics/financials", h.env.Keys.Token(uuid.NewString(), "CLIENTE", "c@x"), nil); st != 403 {
		t.Fatalf("financials as client: %d", st)
	}
}

// Cancelling a paid job refunds it in full through the refunds API; a later "approved"
// for the same payment moves nothing back.
func TestRefundAndNoRegression(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, _ := h.accept(75050, prof)
	pay := h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.publish(events.JobCancelledV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 75050, Paid: true, Motivo: "el cliente desistió", By: cliente}, id)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	ri, err := events.Decode[events.RefundIssuedV1](h.waitEvent("RefundIssued", id))
	if err != nil || ri.MontoCentavos != 75050 || ri.ClienteID != cliente {
		t.Fatalf("refund issued %+v %v", ri, err)
	}
	h.waitEvent("PaymentRefunded", id)
	var p map[string]any
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook", nil, &p)
	if p["status"] != "refunded" || fmt.Sprint(p["transaction_amount_refunded"]) != "750.5" {
		t.Fatalf("simulator payment %v", p)
	}
	// Approved after refunded: stale or replayed, it must not hold again.
	h.simCall("POST", "/_sim/payments/"+pay+"/approve", nil, nil)
	h.redeliver(pay, 5)
	if e := h.estado(id); e != "CANCELADO_REEMBOLSADO" {
		t.Fatalf("estado %s after a late approval", e)
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1 AND tipo='HOLD'", id); n != 1 {
		t.Fatalf("%d holds", n)
	}
	if n := h.count("SELECT count(*) FROM pagos_mp WHERE payment_id=$1 AND status='refunded'", pay); n != 1 {
		t.Fatal("the recorded payment status moved back from refunded")
	}
	if n := len(h.events("EscrowHeld", id)); n != 1 {
		t.Fatalf("%d EscrowHeld", n)
	}
	if n := len(h.events("RefundIssued", id)); n != 1 {
		t.Fatalf("%d RefundIssued", n)
	}
	if n := len(h.events("PaymentRefunded", id)); n != 1 {
		t.Fatalf("%d PaymentRefunded", n)
	}
}

// Forged, stale and unsigned webhooks are refused with 401 and change nothing.
func TestWebhookAuthentication(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(10000, uuid.NewString())
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	pay := h.simPay(id, "approved", "")

	post := func(sig, reqID string) int {
		req, _ := http.NewRequest("POST", h.base+"/api/v1/webhook/mercadopago?data.id="+pay+"&type=payment",
			strings.NewReader(`{"action":"payment.updated","type":"payment","data":{"id":"`+pay+`"}}`))
		req.Header.Set("Content-Type", "application/json")
		if sig != "" {
			req.Header.Set("X-Signature", sig)
		}
		req.Header.Set("X-Request-Id", reqID)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	now := time.Now().UnixMilli()
	cases := map[string]string{
		"unsigned":         "",
		"forged":           mpsim.Sign("not-the-secret", pay, "req-1", now),
		"stale":            mpsim.Sign(testSecret, pay, "req-1", time.Now().Add(-time.Hour).UnixMilli()),
		"other payment":    mpsim.Sign(testSecret, "1", "req-1", now),
		"other request id": mpsim.Sign(testSecret, pay, "req-2", now),
		"garbage":          "ts=abc,v1=zz",
	}
	for name, sig := range cases {
		if st := post(sig, "req-1"); st != 401 {
			t.Errorf("%s: %d, want 401", name, st)
		}
	}
	time.Sleep(300 * time.Millisecond)
	if n := h.count("SELECT count(*) FROM webhook_inbox"); n != 0 {
		t.Fatalf("%d refused webhooks stored", n)
	}
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("estado %s after refused webhooks", e)
	}
	// The genuine one is accepted and applied.
	if st := post(mpsim.Sign(testSecret, pay, "req-1", now), "req-1"); st != 200 {
		t.Fatalf("genuine webhook %d", st)
	}
	h.waitEstado(id, "PAGADO_EN_ESCROW")
}

// Five duplicate notifications (plus the original) hold the money once.
func TestDuplicateWebhooksHoldOnce(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(25000, uuid.NewString())
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	pay := h.simPay(id, "approved", "")
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook?times=5", nil, nil)
	h.waitDeliveries(pay, 5)
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.quiesce()
	if n := h.count("SELECT count(*) FROM webhook_inbox WHERE data_id=$1", pay); n != 5 {
		t.Fatalf("%d stored notifications, want 5", n)
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1", id); n != 1 {
		t.Fatalf("%d ledger transactions", n)
	}
	if a, e := len(h.events("PaymentApproved", id)), len(h.events("EscrowHeld", id)); a != 1 || e != 1 {
		t.Fatalf("PaymentApproved %d, EscrowHeld %d", a, e)
	}
}

// A payment whose amount differs from the job's price is recorded, flagged, not held.
func TestAmountMismatchNotHeld(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(100000, uuid.NewString())
	pay := h.simPay(id, "approved", "1.00")
	h.waitDeliveries(pay, 1)
	h.quiesce()
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("estado %s", e)
	}
	var alerta string
	if err := h.pool.QueryRow(context.Background(), "SELECT COALESCE(alerta,'') FROM trabajos WHERE trabajo_id=$1", id).Scan(&alerta); err != nil || !strings.HasPrefix(alerta, "monto_no_coincide") {
		t.Fatalf("alerta %q %v", alerta, err)
	}
	if n := h.count("SELECT count(*) FROM pagos_mp WHERE payment_id=$1 AND alerta='monto_no_coincide'", pay); n != 1 {
		t.Fatal("payment not flagged")
	}
	if n := h.count("SELECT count(*) FROM ledger_entries"); n != 0 {
		t.Fatalf("%d ledger entries", n)
	}
	if n := len(h.events("EscrowHeld", id)); n != 0 {
		t.Fatal("held")
	}
}

// A rejected payment keeps the job waiting (the client may pay again) and is announced.
func TestRejectedThenApproved(t *testing.T) {
	h := newHarness(t, nil)
	id, _, link := h.accept(40000, uuid.NewString())
	st, body := h.payOnCheckoutPage(link, "rejected")
	if st != 200 || !strings.Contains(body, "rechazado") {
		t.Fatalf("reject answer %d %s", st, body)
	}
	h.waitEvent("PaymentRejected", id)
	if e := h.estado(id); e != "PENDIENTE_PAGO" {
		t.Fatalf("estado %s", e)
	}
	h.payOnCheckoutPage(link, "approved")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
}

// A lost webhook is recovered by the reconciliation loop.
func TestLostWebhookReconciled(t *testing.T) {
	h := newHarness(t, map[string]string{"MP_RECONCILE_INTERVAL": "200ms", "MP_RECONCILE_MIN_AGE": "0s", "MP_RECONCILE_HELD_EVERY": "0s"})
	id, _, _ := h.accept(33300, uuid.NewString())
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	if n := h.count("SELECT count(*) FROM webhook_inbox"); n != 0 {
		t.Fatalf("%d webhooks arrived although dropped", n)
	}
	h.waitEvent("EscrowHeld", id)
	// A chargeback whose webhook is lost is found by re-reading held payments.
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	h.simCall("POST", "/_sim/payments/"+h.paymentOf(id)+"/chargeback", nil, nil)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitEvent("PaymentChargedBack", id)
	// So is the chargeback's decision for the seller: charged-back jobs are re-read too.
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	h.simCall("POST", "/_sim/payments/"+h.paymentOf(id)+"/reimburse", nil, nil)
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.waitEvent("PaymentChargebackReversed", id)
}

// MercadoPago down: after the bounded retries PaymentCheckoutFailed goes out quickly;
// once it is back, create-preference makes the one link.
func TestCheckoutFailureAndRetry(t *testing.T) {
	h := newHarness(t, nil)
	h.simCall("POST", "/_sim/faults", mpsim.Faults{FailNextPreference: 3}, nil)
	id, cliente := uuid.NewString(), uuid.NewString()
	start := time.Now()
	h.publish(events.OfferAcceptedV1{OfertaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ClienteEmail: "c@x.com",
		ProfesionalID: uuid.NewString(), Descripcion: "Pintura de living", PrecioCentavos: 90000}, id)
	f, err := events.Decode[events.PaymentCheckoutFailedV1](h.waitEvent("PaymentCheckoutFailed", id))
	if err != nil || f.Motivo == "" {
		t.Fatalf("checkout failed %+v %v", f, err)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Fatalf("failure took %s", d)
	}
	var calls map[string]int
	h.simCall("GET", "/_sim/calls", nil, &calls)
	if calls["POST POST /checkout/preferences"] != 3 {
		t.Fatalf("preference attempts %v, want 3", calls)
	}
	// The marketplace compensates by cancelling the job: no link can be made for it later.
	if st := h.api("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+id, h.env.Keys.Token(cliente, "CLIENTE", "c@x"), nil); st != 400 {
		t.Fatalf("create-preference after a failed checkout %d", st)
	}
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("estado %s", e)
	}
	// MercadoPago is back: the next job gets its link, and a redelivered accept reuses it.
	id2, cliente2, link := h.accept(90000, uuid.NewString())
	var again map[string]any
	h.api("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+id2, h.env.Keys.Token(cliente2, "CLIENTE", "c@x"), &again)
	if again["payment_url"] != link {
		t.Fatalf("second link %v != %v", again, link)
	}
	h.publish(events.OfferAcceptedV1{OfertaID: uuid.NewString(), TrabajoID: id2, ClienteID: cliente2, ProfesionalID: uuid.NewString(),
		Descripcion: "Pintura de living", PrecioCentavos: 90000}, id2)
	time.Sleep(300 * time.Millisecond)
	var prefs []map[string]any
	h.simCall("GET", "/_sim/preferences?external_reference="+id2, nil, &prefs)
	if len(prefs) != 1 || len(h.events("PaymentCheckoutCreated", id2)) != 1 {
		t.Fatalf("%d preferences, %d PaymentCheckoutCreated for one job", len(prefs), len(h.events("PaymentCheckoutCreated", id2)))
	}
	if st := h.api("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+uuid.NewString(), h.env.Keys.Token(cliente2, "CLIENTE", "c@x"), nil); st != 404 {
		t.Fatalf("unknown job %d", st)
	}
	if st := h.api("POST", "/api/v1/mercadopago/create-preference", h.env.Keys.Token(cliente, "CLIENTE", "c@x"), nil); st != 422 {
		t.Fatalf("no trabajo_id %d", st)
	}
}

// A dispute freezes the release; resolving it for the professional releases.
func TestDisputeFreezesThenReleases(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	h.publish(events.ProfessionalProfileUpdatedV1{ProfesionalID: uuid.NewString(), UsuarioID: prof, PayoutAccount: "alias.disputa"}, prof)
	id, cliente, _ := h.accept(20000, prof)
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.publish(events.DisputeOpenedV1{DisputaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AbiertaPor: cliente, Tipo: "calidad"}, id)
	h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 20000}, id)
	testkit.Eventually(t, 5*time.Second, "release pending", func() bool {
		return h.count("SELECT count(*) FROM trabajos WHERE trabajo_id=$1 AND liberacion_pendiente", id) == 1
	})
	if e := h.estado(id); e != "PAGADO_EN_ESCROW" {
		t.Fatalf("released while disputed: %s", e)
	}
	h.publish(events.DisputeResolvedV1{DisputaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AFavor: "profesional", PrecioCentavos: 20000}, id)
	h.waitEstado(id, "LIBERADO")
	h.waitEvent("EscrowReleased", id)
}

// A dispute resolved for the client refunds.
func TestDisputeResolvedForClientRefunds(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, _ := h.accept(20000, prof)
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.publish(events.DisputeOpenedV1{DisputaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ProfesionalID: prof}, id)
	h.publish(events.DisputeResolvedV1{DisputaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AFavor: "cliente"}, id)
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitEvent("RefundIssued", id)
}

// A chargeback on held money reverses the escrow and is announced once.
func TestChargebackWhileHeld(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(20000, uuid.NewString())
	pay := h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.simCall("POST", "/_sim/payments/"+pay+"/chargeback", nil, nil)
	if cb, err := events.Decode[events.PaymentChargedBackV1](h.waitEvent("PaymentChargedBack", id)); err != nil || cb.DescontadoCentavos != 0 {
		t.Fatalf("PaymentChargedBack of held money %+v %v", cb, err)
	}
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.redeliver(pay, 4)
	if n := len(h.events("PaymentChargedBack", id)); n != 1 {
		t.Fatalf("%d PaymentChargedBack", n)
	}
}

// simular-pago (sandbox) pays through the simulator and the real webhook path.
func TestSimulatePaymentSandbox(t *testing.T) {
	h := newHarness(t, map[string]string{"MP_SANDBOX": "true"})
	id, _, _ := h.accept(15000, uuid.NewString())
	var out map[string]any
	admin := h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x")
	if st := h.api("POST", "/api/v1/admin/trabajo/"+id+"/simular-pago", admin, &out); st != 200 || out["estado_escrow"] != "PAGADO_EN_ESCROW" {
		t.Fatalf("simular-pago %d %v", st, out)
	}
	if n := h.count("SELECT count(*) FROM webhook_inbox WHERE processed_at IS NOT NULL"); n < 1 {
		t.Fatal("not paid through the webhook")
	}
	if st := h.api("POST", "/api/v1/admin/trabajo/"+id+"/simular-pago", admin, nil); st != 400 {
		t.Fatalf("second simular-pago %d", st)
	}
}

func TestSimulatePaymentOffOutsideSandbox(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(15000, uuid.NewString())
	if st := h.api("POST", "/api/v1/admin/trabajo/"+id+"/simular-pago", h.env.Keys.Token(uuid.NewString(), "ADMIN", "a@x"), nil); st != 404 {
		t.Fatalf("simular-pago outside sandbox %d", st)
	}
}

// The database itself refuses unbalanced transactions and edits of the ledger.
func TestLedgerGuardsInDatabase(t *testing.T) {
	h := newHarness(t, nil)
	id, _, _ := h.accept(10000, uuid.NewString())
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	ctx := context.Background()
	if _, err := h.pool.Exec(ctx, "UPDATE ledger_entries SET monto_centavos = monto_centavos * 2"); err == nil {
		t.Fatal("ledger entry updated")
	}
	if _, err := h.pool.Exec(ctx, "DELETE FROM ledger_txns"); err == nil {
		t.Fatal("ledger transaction deleted")
	}
	tx, err := h.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	txn := uuid.New()
	_, _ = tx.Exec(ctx, "INSERT INTO ledger_txns (id, trabajo_id, tipo) VALUES ($1, $2, 'PAYOUT')", txn, id)
	_, _ = tx.Exec(ctx, "INSERT INTO ledger_entries (txn_id, trabajo_id, cuenta, monto_centavos) VALUES ($1, $2, 'escrow', 500)", txn, id)
	if err := tx.Commit(ctx); err == nil {
		t.Fatal("unbalanced transaction committed")
	}
}

// Money that arrives for a job cancelled before payment (an old link) is held and
// refunded in full.
func TestPaidAfterCancellationRefunded(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	id, cliente, link := h.accept(30000, prof)
	h.publish(events.JobCancelledV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 30000, By: cliente}, id)
	h.waitEstado(id, "CANCELADO")
	h.payOnCheckoutPage(link, "approved")
	h.waitEstado(id, "CANCELADO_REEMBOLSADO")
	h.waitEvent("RefundIssued", id)
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1 AND tipo IN ('HOLD','REFUND')", id); n != 2 {
		t.Fatalf("%d hold/refund transactions", n)
	}
}

// A job cancelled unpaid before its OfferAccepted reaches payments (the checkout
// consumer lagging): the cancellation is recorded at once, the escrow consumer moves on
// to other jobs' events, and the late acceptance makes no payment link.
func TestCancelledBeforeAcceptanceArrives(t *testing.T) {
	h := newHarness(t, nil)
	prof, cliente, id := uuid.NewString(), uuid.NewString(), uuid.NewString()
	h.publish(events.JobCancelledV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 41000, By: cliente}, id)
	testkit.Eventually(t, 10*time.Second, "the cancellation recorded", func() bool {
		return h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND estado_escrow = 'CANCELADO'", id) == 1
	})

	// Another job's money events are not held up behind it.
	other, otherCliente, _ := h.accept(12000, prof)
	h.publish(events.JobCancelledV1{TrabajoID: other, ClienteID: otherCliente, ProfesionalID: prof, PrecioCentavos: 12000, By: otherCliente}, other)
	h.waitEstado(other, "CANCELADO")

	h.publish(events.OfferAcceptedV1{OfertaID: uuid.NewString(), TrabajoID: id, ChatID: uuid.NewString(), ClienteID: cliente,
		ClienteEmail: "cliente@example.com", ProfesionalID: prof, Descripcion: "Pintura del living", PrecioCentavos: 41000}, id)
	testkit.Eventually(t, 10*time.Second, "the late acceptance recorded", func() bool {
		return h.count("SELECT count(*) FROM trabajos WHERE trabajo_id = $1 AND descripcion = 'Pintura del living' AND oferta_id IS NOT NULL", id) == 1
	})
	if n := h.outboxed(events.SubjPaymentCheckoutCreated, id); n != 0 {
		t.Fatalf("%d checkout links made for a cancelled job", n)
	}
	if e := h.estado(id); e != "CANCELADO" {
		t.Fatalf("job %s after its late acceptance", e)
	}
}

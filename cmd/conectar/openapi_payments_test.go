package main

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/webhook"
)

// paymentsAndNotifications are the services whose every operation
// TestOpenAPIPaymentsNotifications drives through the contract.
var paymentsAndNotifications = []string{"payments", "notifications"}

// TestOpenAPIPaymentsNotifications drives every public operation of payments and
// notifications through the gateway and the contract (cmd/conectar/openapi_check_test.go):
// each request and answer, success and refusal, must be what /docs/openapi.json says.
// A contract fed tampered payments and notifications answers reports each.
func TestOpenAPIPaymentsNotifications(t *testing.T) {
	sys := startSystem(t, nil)
	c := loadContract(t, t, sys.gateway)
	for _, svc := range paymentsAndNotifications {
		if c.undocumented[svc] {
			t.Fatalf("%s is listed as undocumented: its /openapi.json did not reach the gateway's document", svc)
		}
	}
	if strings.Contains(c.doc.Info.Description, "routed to another service") {
		t.Errorf("a service describes paths the gateway does not route to it: %s", c.doc.Info.Description)
	}
	fx := newMoneyFixture(t, sys)
	exercisePayments(t, sys, c, fx)
	exerciseNotifications(t, sys, c, fx)
	if missing := c.unexercised(paymentsAndNotifications...); len(missing) > 0 {
		t.Errorf("operations of %v not exercised through the contract:\n  %s", paymentsAndNotifications, strings.Join(missing, "\n  "))
	}
	paymentsContractFails(t, sys, fx)
}

// moneyFixture is what the payments calls need: an admin, a verified professional, a
// client, and an accepted offer whose job waits for payment. It is built with
// sys.call (not through the contract): those calls belong to other services.
type moneyFixture struct {
	admin, pro, cli    string // tokens
	proID, cliID, job  string
	otherCli, otherPro string // tokens of people who are not the job's parties
}

func newMoneyFixture(t *testing.T, sys *system) *moneyFixture {
	t.Helper()
	fx := &moneyFixture{}
	fx.admin, _, _ = sys.login("admin@conectar.test", "admin-password-1")
	_, oficios := sys.call(http.MethodGet, "/api/v1/public/oficios", "", nil)
	oficio := ""
	for _, o := range listOf(oficios) {
		if m, ok := o.(map[string]any); ok && oficio == "" {
			oficio, _ = m["id"].(string)
		}
	}
	fx.pro, _, fx.proID = sys.register("pagos-pro@example.com", "Pedro", "PROFESIONAL", map[string]any{"oficio_id": oficio})
	fx.cli, _, fx.cliID = sys.register("pagos-cli@example.com", "Clara", "CLIENTE", nil)
	fx.otherCli, _, _ = sys.register("pagos-otro@example.com", "Otro", "CLIENTE", nil)
	fx.otherPro, _, _ = sys.register("pagos-otro-pro@example.com", "Olga", "PROFESIONAL", map[string]any{"oficio_id": oficio})

	if st, b := sys.upload("/api/v1/professional/kyc/upload", fx.pro, "files", "dni.pdf", "application/pdf",
		[]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")); st >= 300 {
		t.Fatalf("kyc upload → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/professional/kyc/submit", fx.pro, nil); st >= 300 {
		t.Fatalf("kyc submit → %d %v", st, b)
	}
	_, me := sys.call(http.MethodGet, "/api/v1/professional/me", fx.pro, nil)
	if st, b := sys.call(http.MethodPost, "/api/v1/admin/kyc/approve/"+fmt.Sprint(me["id"]), fx.admin, nil); st >= 300 {
		t.Fatalf("approve → %d %v", st, b)
	}
	// Releasing needs the professional's payout account.
	if st, b := sys.call(http.MethodPut, "/api/v1/professional/payout-info", fx.pro, map[string]any{"payout_account": "pedro.termo"}); st >= 300 {
		t.Fatalf("payout → %d %v", st, b)
	}
	st, chat := sys.call(http.MethodPost, "/api/v1/chat/conversations", fx.cli, map[string]any{"profesional_id": fx.proID})
	chatID, _ := chat["chat_id"].(string)
	if st >= 300 || chatID == "" {
		t.Fatalf("conversation → %d %v", st, chat)
	}
	// The offer waits until marketplace has seen the KYC approval (an event).
	var ofertaID string
	testkit.Eventually(t, 10*time.Second, "the offer", func() bool {
		st, oferta := sys.call(http.MethodPost, "/api/v1/professional/ofertas", fx.pro, map[string]any{
			"cliente_id": fx.cliID, "chat_id": chatID, "descripcion": "Instalación de termotanque", "precio_final": 30000.5})
		ofertaID, _ = oferta["id"].(string)
		return st == 201 && ofertaID != ""
	})
	st, acc := sys.call(http.MethodPost, "/api/v1/cliente/ofertas/"+ofertaID+"/accept", fx.cli, nil)
	fx.job, _ = acc["trabajo_id"].(string)
	if st != 200 || fx.job == "" {
		t.Fatalf("accept → %d %v", st, acc)
	}
	return fx
}

// expect returns a checker for one call: want(what, status)(c.call(…)) stops the test
// on another status and returns the decoded body.
func expect(t *testing.T) func(what string, status int) func(int, map[string]any) map[string]any {
	return func(what string, status int) func(int, map[string]any) map[string]any {
		return func(st int, body map[string]any) map[string]any {
			t.Helper()
			if st != status {
				t.Fatalf("%s → %d %v, want %d", what, st, body, status)
			}
			return body
		}
	}
}

// exercisePayments calls every public operation of payments through the contract,
// following one job from checkout to a withdrawal.
func exercisePayments(t *testing.T, sys *system, c *contract, fx *moneyFixture) {
	t.Helper()
	g := sys.gateway
	call := func(method, path, token string, body any) (int, map[string]any) {
		return c.call(g, method, path, token, body)
	}
	want := expect(t)
	job := fx.job
	unknown := "00000000-0000-0000-0000-00000000beef"

	// Checkout, under its three paths; only the job's client (or an admin).
	want("crear-pago", 200)(call("POST", "/api/v1/pagos/crear-pago", fx.cli, map[string]any{
		"trabajo_id": job, "monto": 30000.5, "descripcion": "x", "metodo_pago": "mercadopago"}))
	want("create-preference (query)", 200)(call("POST", "/api/v1/mercadopago/create-preference?trabajo_id="+job, fx.cli, nil))
	want("create-preference as professional", 403)(call("POST", "/api/v1/payments/create-preference", fx.pro, map[string]any{"trabajo_id": job}))
	want("create-preference, another client", 403)(call("POST", "/api/v1/payments/create-preference", fx.otherCli, map[string]any{"trabajo_id": job}))
	want("create-preference without job", 422)(call("POST", "/api/v1/payments/create-preference", fx.cli, nil))
	want("create-preference unknown job", 404)(call("POST", "/api/v1/payments/create-preference", fx.cli, map[string]any{"trabajo_id": unknown}))
	want("create-preference", 200)(call("POST", "/api/v1/payments/create-preference", fx.admin, map[string]any{"trabajo_id": job}))

	want("transaction, pending", 200)(call("GET", "/api/v1/pagos/transacciones/"+job, fx.cli, nil))
	want("transaction, not a party", 403)(call("GET", "/api/v1/pagos/transacciones/"+job, fx.otherCli, nil))
	want("transaction unknown", 404)(call("GET", "/api/v1/pagos/transacciones/"+unknown, fx.cli, nil))
	want("escrow, pending", 200)(call("GET", "/api/v1/escrow/"+job, fx.pro, nil))
	want("escrow, not a party", 403)(call("GET", "/api/v1/escrow/"+job, fx.otherPro, nil))
	want("simular-pago as client", 403)(call("POST", "/api/v1/admin/trabajo/"+job+"/simular-pago", fx.cli, nil))
	want("simular-pago unknown", 404)(call("POST", "/api/v1/admin/trabajo/"+unknown+"/simular-pago", fx.admin, nil))
	// The simulator pays and sends the signed webhook through the gateway.
	want("simular-pago", 200)(call("POST", "/api/v1/admin/trabajo/"+job+"/simular-pago", fx.admin, nil))
	testkit.Eventually(t, 15*time.Second, "the job held in escrow", func() bool {
		_, tr := call("GET", "/api/v1/pagos/transacciones/"+job, fx.cli, nil)
		return tr["estado_escrow"] == "DEPOSITADO"
	})
	want("simular-pago again", 400)(call("POST", "/api/v1/admin/trabajo/"+job+"/simular-pago", fx.admin, nil))
	testkit.Eventually(t, 15*time.Second, "marketplace sees the payment", func() bool {
		_, j := sys.call(http.MethodGet, "/api/v1/trabajos/"+job, fx.cli, nil)
		return j["estado"] == "PAGADO"
	})
	want("crear-pago once paid", 400)(call("POST", "/api/v1/pagos/crear-pago", fx.cli, map[string]any{"trabajo_id": job}))

	// The professional does the work and the client approves it (marketplace's calls).
	for _, step := range []map[string]any{{"estado": "EN_PROCESO"}, {"estado": "COMPLETADO", "nota": "Termotanque instalado y probado"}} {
		if st, b := sys.call(http.MethodPut, "/api/v1/trabajos/"+job+"/status", fx.pro, step); st != 200 {
			t.Fatalf("step %v → %d %v", step, st, b)
		}
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/cliente/trabajo/"+job+"/finalizar", fx.cli, nil); st != 200 {
		t.Fatalf("finalizar → %d %v", st, b)
	}
	testkit.Eventually(t, 15*time.Second, "the release credited", func() bool {
		_, b := call("GET", "/api/v1/pagos/balance", fx.pro, nil)
		return b["disponible"] != nil && b["disponible"] != 0.0
	})
	want("escrow, released", 200)(call("GET", "/api/v1/escrow/"+job, fx.cli, nil))
	want("transaction, released", 200)(call("GET", "/api/v1/pagos/transacciones/"+job, fx.pro, nil))
	want("balance as client", 403)(call("GET", "/api/v1/pagos/balance", fx.cli, nil))
	want("balance without token", 401)(call("GET", "/api/v1/pagos/balance", "", nil))
	want("pro dashboard", 200)(call("GET", "/api/v1/pagos/dashboard", fx.pro, nil))

	for _, p := range []string{"/api/v1/pagos/historial", "/api/v1/payments/history"} {
		for _, who := range []string{fx.cli, fx.pro, fx.admin} {
			want(p, 200)(call("GET", p, who, nil))
		}
		want(p+" filtered", 200)(call("GET", p+"?tipo=ingreso&desde=2020-01-01&hasta=2099-12-31&page=1&limit=5", fx.pro, nil))
		want(p+" bad tipo", 400)(call("GET", p+"?tipo=regalo", fx.pro, nil))
		want(p+" bad limit", 422)(call("GET", p+"?limit=0", fx.pro, nil))
	}
	want("mis-transacciones", 200)(call("GET", "/api/v1/pagos/mis-transacciones?estado=LIBERADO", fx.cli, nil))
	want("mis-transacciones admin", 200)(call("GET", "/api/v1/pagos/mis-transacciones?page=1&limit=10", fx.admin, nil))
	want("mis-transacciones bad estado", 400)(call("GET", "/api/v1/pagos/mis-transacciones?estado=ROTO", fx.cli, nil))

	// Bank account (null until set), withdrawals and their review.
	st, acct := call("GET", "/api/v1/pagos/cuenta-bancaria", fx.otherPro, nil)
	want("bank account unset", 200)(st, acct)
	want("bank account as client", 403)(call("GET", "/api/v1/pagos/cuenta-bancaria", fx.cli, nil))
	want("withdrawal without account", 400)(call("POST", "/api/v1/pagos/retiros", fx.otherPro, map[string]any{"monto": 1500}))
	want("bank account bad alias", 400)(call("POST", "/api/v1/pagos/cuenta-bancaria", fx.pro, map[string]any{
		"tipo_cuenta": "alias", "alias": "x", "titular": "Pedro Prueba"}))
	want("bank account", 200)(call("POST", "/api/v1/pagos/cuenta-bancaria", fx.pro, map[string]any{
		"tipo_cuenta": "alias", "alias": "pedro.termo", "titular": "Pedro Prueba", "banco": "Banco Nación"}))
	want("bank account set", 200)(call("GET", "/api/v1/pagos/cuenta-bancaria", fx.pro, nil))
	want("withdrawal below minimum", 400)(call("POST", "/api/v1/pagos/retiros", fx.pro, map[string]any{"monto": 10}))
	want("withdrawal too many decimals", 422)(call("POST", "/api/v1/pagos/retiros", fx.pro, map[string]any{"monto": 1000.001}))
	first := want("withdrawal", 201)(call("POST", "/api/v1/pagos/retiros", fx.pro, map[string]any{"monto": 1000}))
	second := want("withdrawal", 201)(call("POST", "/api/v1/pagos/retiros", fx.pro, map[string]any{"monto": 1200.5}))
	want("my withdrawals", 200)(call("GET", "/api/v1/pagos/retiros?estado=pendiente", fx.pro, nil))
	want("my withdrawals bad estado", 400)(call("GET", "/api/v1/pagos/retiros?estado=X", fx.pro, nil))
	want("admin withdrawals", 200)(call("GET", "/api/v1/admin/pagos/retiros", fx.admin, nil))
	want("admin withdrawals as pro", 403)(call("GET", "/api/v1/admin/pagos/retiros", fx.pro, nil))
	want("pro dashboard with withdrawals", 200)(call("GET", "/api/v1/pagos/dashboard", fx.pro, nil))
	want("reject without motivo", 400)(call("POST", fmt.Sprintf("/api/v1/admin/pagos/retiros/%v/rechazar", first["id"]), fx.admin, nil))
	want("reject", 200)(call("POST", fmt.Sprintf("/api/v1/admin/pagos/retiros/%v/rechazar", first["id"]), fx.admin,
		map[string]any{"motivo": "Cuenta a nombre de otra persona"}))
	want("reject unknown", 404)(call("POST", "/api/v1/admin/pagos/retiros/"+unknown+"/rechazar", fx.admin, map[string]any{"motivo": "No existe"}))
	want("approve", 200)(call("POST", fmt.Sprintf("/api/v1/admin/pagos/retiros/%v/aprobar", second["id"]), fx.admin, nil))
	want("approve again", 409)(call("POST", fmt.Sprintf("/api/v1/admin/pagos/retiros/%v/aprobar", second["id"]), fx.admin, nil))

	// The admin's pages.
	want("admin payments dashboard", 200)(call("GET", "/api/v1/admin/pagos/dashboard", fx.admin, nil))
	want("financials", 200)(call("GET", "/api/v1/admin/metrics/financials", fx.admin, nil))
	want("dashboard stats", 200)(call("GET", "/api/v1/admin/dashboard/stats", fx.admin, nil))
	want("failed payouts", 200)(call("GET", "/api/v1/payout/fallidos", fx.admin, nil))
	want("refunds", 200)(call("GET", "/api/v1/admin/pagos/reembolsos?estado=manual", fx.admin, nil))
	want("refunds bad estado", 400)(call("GET", "/api/v1/admin/pagos/reembolsos?estado=X", fx.admin, nil))
	want("refunds as client", 403)(call("GET", "/api/v1/admin/pagos/reembolsos", fx.cli, nil))
	manual := "/api/v1/admin/pagos/reembolsos/" + job + "/manual"
	want("manual refund without referencia", 400)(call("POST", manual, fx.admin, map[string]any{}))
	want("manual refund of a job without one", 404)(call("POST", manual, fx.admin, map[string]any{"referencia": "TRF-1"}))
	want("manual refund as professional", 403)(call("POST", manual, fx.pro, map[string]any{"referencia": "TRF-1"}))
	want("retry payout unknown", 404)(call("POST", "/api/v1/payout/"+unknown+"/reintentar", fx.admin, nil))
	want("ledger check", 200)(call("GET", "/api/v1/escrow/ledger/check", fx.admin, nil))
	want("ledger check as client", 403)(call("GET", "/api/v1/escrow/ledger/check", fx.cli, nil))

	// MercadoPago's webhook: unsigned is refused; a signed delivery of another topic is
	// acknowledged and ignored.
	want("webhook unsigned", 401)(call("POST", "/api/v1/webhook/mercadopago?data.id=1&type=payment", "", map[string]any{"type": "payment"}))
	ts := fmt.Sprint(time.Now().UnixMilli())
	req, _ := http.NewRequest(http.MethodPost, g+"/api/v1/webhook/mercadopago?data.id=77&type=merchant_order",
		strings.NewReader(`{"id":1,"live_mode":false,"type":"merchant_order","action":"updated","data":{"id":"77"}}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", "contract-webhook-1")
	req.Header.Set("X-Signature", "ts="+ts+",v1="+webhook.Sign(sys.env["MP_WEBHOOK_SECRET"], "77", "contract-webhook-1", ts))
	want("webhook signed, other topic", 200)(c.do(req, ""))
	// The earlier frontend's unsigned hint.
	want("payment hint bad id", 400)(call("POST", "/api/v1/pagos/webhook/mercadopago", "", map[string]any{"payment_id": "abc"}))
	want("payment hint", 202)(call("POST", "/api/v1/pagos/webhook/mercadopago", "", map[string]any{"payment_id": 987654321}))
}

// exerciseNotifications calls every public operation of notifications through the
// contract, under both spellings (/notificaciones and /notifications).
func exerciseNotifications(t *testing.T, sys *system, c *contract, fx *moneyFixture) {
	t.Helper()
	g := sys.gateway
	call := func(method, path, token string, body any) (int, map[string]any) {
		return c.call(g, method, path, token, body)
	}
	want := expect(t)
	unknown := "00000000-0000-0000-0000-00000000beef"

	for i, base := range []string{"/api/v1/notificaciones", "/api/v1/notifications"} {
		// The job above notified the client already; a test notification is one more.
		n := want("test notification", 201)(call("POST", base+"/test", fx.cli, map[string]any{"tipo": "pago"}))
		id := fmt.Sprint(n["id"])
		want("list", 200)(call("GET", base+"?solo_no_leidas=true&tipo=pago&page=1&limit=5", fx.cli, nil))
		want("list bad tipo", 422)(call("GET", base+"?tipo=spam", fx.cli, nil))
		want("list without token", 401)(call("GET", base, "", nil))
		want("unread", 200)(call("GET", base+"/no-leidas", fx.cli, nil))
		want("unread counter", 200)(call("GET", base+"/no-leidas/contador", fx.cli, nil))
		want("mark read, not the owner", 403)(call("PUT", base+"/"+id+"/leer", fx.pro, nil))
		want("mark read, bad id", 422)(call("PUT", base+"/not-a-uuid/leer", fx.cli, nil))
		want("mark read (PUT)", 200)(call("PUT", base+"/"+id+"/leer", fx.cli, nil))
		want("mark read (POST)", 200)(call("POST", base+"/"+id+"/leer", fx.cli, nil))
		want("mark read unknown", 404)(call("POST", base+"/"+unknown+"/leer", fx.cli, nil))
		want("read all (POST)", 200)(call("POST", base+"/leer-todas", fx.cli, nil))
		want("read all (PUT)", 200)(call("PUT", base+"/leer-todas", fx.cli, nil))
		for _, p := range []string{"/preferencias", "/preferences"} {
			want("preferences", 200)(call("GET", base+p, fx.cli, nil))
			want("preferences put", 200)(call("PUT", base+p, fx.cli, map[string]any{"email_mensajes": i == 0, "frecuencia_resumen": "semanal"}))
			want("preferences bad", 422)(call("PUT", base+p, fx.cli, map[string]any{"frecuencia_resumen": "horaria"}))
		}
		want("vapid key", 200)(call("GET", base+"/push/vapid-public-key", "", nil))
		sub := browserSubscription(t, i)
		want("subscribe", 201)(call("POST", base+"/push/subscribe", fx.pro, sub))
		want("subscribe invalid", 422)(call("POST", base+"/push/subscribe", fx.pro, map[string]any{"endpoint": "ftp://x"}))
		want("unsubscribe", 204)(call("DELETE", base+"/push/subscribe", fx.pro, map[string]any{"endpoint": sub["endpoint"]}))
		want("unsubscribe again", 404)(call("DELETE", base+"/push/subscribe?endpoint="+url.QueryEscape(fmt.Sprint(sub["endpoint"])), fx.pro, nil))
		token := fmt.Sprintf("device-token-%d-abcdefghijklmnop", i)
		want("register device", 201)(call("POST", base+"/push/registrar", fx.cli, map[string]any{"token": token, "device_type": "android"}))
		want("register device again", 200)(call("POST", base+"/fcm-token", fx.cli, map[string]any{"fcmToken": token, "platform": "android", "userId": fx.cliID}))
		want("register device for another", 403)(call("POST", base+"/fcm-token", fx.cli, map[string]any{"fcmToken": token, "userId": fx.proID}))
		want("register device invalid", 422)(call("POST", base+"/push/registrar", fx.cli, map[string]any{"token": "short"}))
		want("unregister device", 204)(call("POST", base+"/push/desregistrar", fx.cli, map[string]any{"token": token}))
		want("unregister device again", 404)(call("DELETE", base+"/fcm-token", fx.cli, map[string]any{"fcmToken": token}))
		want("unregister nothing", 422)(call("DELETE", base+"/fcm-token", fx.cli, nil))
		want("clear read", 200)(call("DELETE", base+"/limpiar-leidas", fx.cli, nil))
		n = want("test notification", 201)(call("POST", base+"/test", fx.cli, nil))
		want("delete", 204)(call("DELETE", base+"/"+fmt.Sprint(n["id"]), fx.cli, nil))
		want("delete again", 404)(call("DELETE", base+"/"+fmt.Sprint(n["id"]), fx.cli, nil))
		want("delete bad id", 422)(call("DELETE", base+"/x", fx.cli, nil))
	}
	// Four test notifications so far this hour: one more, then the limit.
	want("test notification", 201)(call("POST", "/api/v1/notificaciones/test", fx.cli, map[string]any{"tipo": "sistema"}))
	want("test notification past the limit", 429)(call("POST", "/api/v1/notificaciones/test", fx.cli, nil))

	want("admin email", 202)(call("POST", "/api/v1/notifications/email", fx.admin, map[string]any{
		"usuario_id": fx.cliID, "asunto": "Hola", "mensaje": "Un mensaje de la administración"}))
	want("admin email unknown", 404)(call("POST", "/api/v1/notifications/email", fx.admin, map[string]any{
		"usuario_id": unknown, "asunto": "Hola", "mensaje": "x"}))
	want("admin email invalid", 422)(call("POST", "/api/v1/notifications/email", fx.admin, map[string]any{"asunto": "Hola"}))
	want("admin email as client", 403)(call("POST", "/api/v1/notifications/email", fx.cli, map[string]any{
		"email": "x@example.com", "asunto": "Hola", "mensaje": "x"}))
	want("admin push", 202)(call("POST", "/api/v1/notifications/push", fx.admin, map[string]any{
		"usuario_id": fx.proID, "titulo": "Aviso", "mensaje": "Mantenimiento el domingo", "url": "/dashboard"}))
	want("admin push invalid", 422)(call("POST", "/api/v1/notifications/push", fx.admin, map[string]any{"usuario_id": "x"}))

	want("gamification of a professional", 200)(call("GET", "/api/v1/gamification/user/"+fx.proID, "", nil))
	// A client is known to notifications once its registration event arrived.
	testkit.Eventually(t, 10*time.Second, "a client has no gamification", func() bool {
		st, _ := call("GET", "/api/v1/gamification/user/"+fx.cliID, "", nil)
		return st == 404
	})
	want("gamification bad id", 422)(call("GET", "/api/v1/gamification/user/x", "", nil))
	want("leaderboard", 200)(call("GET", "/api/v1/gamification/leaderboard?limit=5", "", nil))
	want("leaderboard bad limit", 422)(call("GET", "/api/v1/gamification/leaderboard?limit=0", "", nil))
	want("levels", 200)(call("GET", "/api/v1/gamification/niveles", "", nil))
	want("medals", 200)(call("GET", "/api/v1/gamification/medallas", "", nil))
	want("client-reported XP", 403)(call("POST", "/api/v1/gamification/event", fx.pro, map[string]any{"tipo": "trabajo_completado"}))
	want("client-reported XP without token", 401)(call("POST", "/api/v1/gamification/event", "", nil))
}

// browserSubscription is a PushSubscription.toJSON() as a browser makes it: a fresh
// P-256 key and auth secret (an endpoint nobody answers: it is removed at once).
func browserSubscription(t *testing.T, i int) map[string]any {
	t.Helper()
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 16)
	_, _ = rand.Read(secret)
	b64 := base64.RawURLEncoding.EncodeToString
	return map[string]any{"endpoint": fmt.Sprintf("https://push.example.invalid/contract/%d", i), "expirationTime": nil,
		"keys": map[string]any{"p256dh": b64(key.PublicKey().Bytes()), "auth": b64(secret)}}
}

// paymentsContractFails feeds a contract tampered payments and notifications answers
// and expects each reported, so drift in these services fails a test.
func paymentsContractFails(t *testing.T, sys *system, fx *moneyFixture) {
	t.Helper()
	rec := &recorder{}
	c := loadContract(t, rec, sys.gateway)
	c.next = tamperMoney{next: http.DefaultTransport}
	g := sys.gateway
	c.call(g, "GET", "/api/v1/gamification/niveles", "", nil)
	if rec.count() != 0 {
		t.Fatalf("untampered exchanges reported: %v", rec.all())
	}
	for _, tc := range []struct {
		name, method, path, token, want string
	}{
		{"undocumented field", "GET", "/api/v1/pagos/balance", fx.pro, "does not match"},
		{"null where the document has a number", "GET", "/api/v1/admin/metrics/financials", fx.admin, "does not match"},
		{"undocumented status", "GET", "/api/v1/notificaciones/no-leidas", fx.cli, "status is not supported"},
		{"undocumented error code", "GET", "/api/v1/pagos/dashboard", fx.cli, "does not match"},
		{"undocumented route", "GET", "/api/v1/pagos/no-such-call", fx.pro, "not in the document"},
	} {
		before := rec.count()
		c.call(g, tc.method, tc.path, tc.token, nil)
		got := rec.since(before)
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("%s: reported %q, want one report containing %q", tc.name, got, tc.want)
		}
	}
}

// tamperMoney breaks answers the way drift would: a field the document does not have
// (balance), a null for a number (financials), a status it does not list (no-leidas 200
// → 203), an error code it does not list (the dashboard's 403 to a client).
type tamperMoney struct{ next http.RoundTripper }

func (tp tamperMoney) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tp.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	switch {
	case req.URL.Path == "/api/v1/pagos/balance" && resp.StatusCode == 200:
		m["saldo_secreto"] = 1
	case req.URL.Path == "/api/v1/admin/metrics/financials" && resp.StatusCode == 200:
		m["comision_total"] = nil
	case req.URL.Path == "/api/v1/notificaciones/no-leidas" && resp.StatusCode == 200:
		resp.StatusCode = 203
	case req.URL.Path == "/api/v1/pagos/dashboard" && resp.StatusCode == 403:
		m["code"] = "made_up"
	}
	if m != nil {
		raw, _ = json.Marshal(m)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	return resp, nil
}

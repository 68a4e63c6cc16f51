package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/conectarpro/conectar/platform/testkit"
)

// register creates an account through the gateway and logs it in.
func (s *system) register(email, nombre, rol string, extra map[string]any) (token, refresh, userID string) {
	s.t.Helper()
	body := map[string]any{"email": email, "password": "password-123", "nombre": nombre, "apellido": "Prueba", "rol": rol}
	for k, v := range extra {
		body[k] = v
	}
	if st, b := s.call(http.MethodPost, "/api/v1/auth/register", "", body); st != 201 {
		s.t.Fatalf("register %s → %d %v", email, st, b)
	}
	return s.login(email, "password-123")
}

func (s *system) login(email, password string) (token, refresh, userID string) {
	s.t.Helper()
	// The login form is the OAuth2 password form the frontend sends.
	form := url.Values{"username": {email}, "password": {password}}
	resp, err := s.client().Post(s.gateway+"/api/v1/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode != 200 || out["token_type"] != "bearer" {
		s.t.Fatalf("login %s → %d %v", email, resp.StatusCode, out)
	}
	token, refresh = out["access_token"].(string), out["refresh_token"].(string)
	_, me := s.call(http.MethodGet, "/api/v1/users/me", token, nil)
	id, _ := me["id"].(string)
	if id == "" {
		s.t.Fatalf("/users/me right after register: %v", me)
	}
	return token, refresh, id
}

func (s *system) upload(path, token, field, name, contentType string, data []byte) (int, map[string]any) {
	s.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name)}
	h["Content-Type"] = []string{contentType}
	part, _ := w.CreatePart(h)
	_, _ = part.Write(data)
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, s.gateway+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := s.client().Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// A tiny valid PNG (1×1).
var pngBytes = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0, 0x1f, 0x15, 0xc4,
	0x89, 0, 0, 0, 13, 'I', 'D', 'A', 'T', 0x78, 0x9c, 0x63, 0, 1, 0, 0, 5, 0, 1, 0x0d, 0x0a, 0x2d, 0xb4, 0, 0, 0, 0, 'I', 'E', 'N', 'D', 0xae, 0x42, 0x60, 0x82}

func TestJourneyIdentity(t *testing.T) {
	sys := startSystem(t, nil)
	token, refresh, id := sys.register("ana@example.com", "Ana", "CLIENTE", nil)

	// The time the sign-up answers is the one every later read answers: PostgreSQL
	// keeps microseconds, so an answer with nanoseconds would never be seen again.
	st, reg := sys.call(http.MethodPost, "/api/v1/auth/register", "", map[string]any{"email": "bea@example.com",
		"password": "password-123", "nombre": "Bea", "apellido": "Prueba", "rol": "CLIENTE"})
	if st != 201 {
		t.Fatalf("register bea → %d %v", st, reg)
	}
	beaTok, _, _ := sys.login("bea@example.com", "password-123")
	if _, me := sys.call(http.MethodGet, "/api/v1/users/me", beaTok, nil); me["fecha_creacion"] != reg["fecha_creacion"] {
		t.Errorf("fecha_creacion: register answered %v, /users/me answers %v", reg["fecha_creacion"], me["fecha_creacion"])
	}

	// Refresh rotates: the new pair works, the old refresh token is refused.
	st, pair := sys.call(http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh})
	if st != 200 || pair["access_token"] == "" {
		t.Fatalf("refresh → %d %v", st, pair)
	}
	if st, _ := sys.call(http.MethodPost, "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh}); st != 401 {
		t.Fatalf("reused refresh token → %d, want 401", st)
	}
	token = pair["access_token"].(string)
	if st, me := sys.call(http.MethodGet, "/api/v1/users/me", token, nil); st != 401 {
		// Reuse revoked the family; the rotated access token may still be valid until it
		// expires, which is fine: what must hold is that the refresh chain is dead.
		_ = me
	}
	token, _, _ = sys.login("ana@example.com", "password-123")

	st, me := sys.call(http.MethodPut, "/api/v1/users/me", token, map[string]any{"nombre": "Ana María"})
	if st != 200 || me["nombre"] != "Ana María" || me["id"] != id || me["es_cliente"] != true {
		t.Fatalf("PUT /users/me → %d %v", st, me)
	}
	st, me = sys.upload("/api/v1/users/me/avatar", token, "file", "a.png", "image/png", pngBytes)
	avatar, _ := me["avatar_url"].(string)
	if st != 200 || avatar == "" {
		t.Fatalf("avatar upload → %d %v", st, me)
	}
	if !strings.HasPrefix(avatar, "http") {
		avatar = sys.gateway + avatar
	}
	resp, err := sys.client().Get(avatar)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Equal(got, pngBytes) || resp.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("avatar fetch → %d %q (%d bytes)", resp.StatusCode, resp.Header.Get("Content-Type"), len(got))
	}
	// A text file posing as an image is refused by content, not by name.
	if st, _ := sys.upload("/api/v1/users/me/avatar", token, "file", "x.png", "image/png", []byte("hello, not an image")); st != 400 {
		t.Fatalf("fake image → %d, want 400", st)
	}
}

// TestJourneyHireAndPay is the marketplace's main path, driven only through the gateway:
// a professional gets verified and findable, a client finds him, chats (watching the
// WebSocket), receives an offer, pays through the MercadoPago simulator and the real
// webhook path, the work is done and approved, the escrow is released with the
// commission, and the review shows on the public profile.
func TestJourneyHireAndPay(t *testing.T) {
	sys := startSystem(t, nil)
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")

	_, oficios := sys.call(http.MethodGet, "/api/v1/public/oficios", "", nil)
	var plomeria string
	for _, o := range listOf(oficios) {
		if m, ok := o.(map[string]any); ok && m["nombre"] == "Plomería" {
			plomeria, _ = m["id"].(string)
		}
	}
	if plomeria == "" {
		t.Fatalf("no Plomería in %v", oficios)
	}

	proTok, _, proID := sys.register("juan@example.com", "Juan", "PROFESIONAL", map[string]any{"oficio_id": plomeria})
	cliTok, _, cliID := sys.register("ana@example.com", "Ana", "CLIENTE", nil)

	// Profile, location (Palermo), KYC, payout account.
	if st, b := sys.call(http.MethodPut, "/api/v1/professional/profile", proTok, map[string]any{"radio_cobertura_km": 15, "tarifa_por_hora": 8000}); st != 200 {
		t.Fatalf("profile → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPut, "/api/v1/professional/profile/location", proTok, map[string]any{"latitude": -34.5889, "longitude": -58.4306}); st != 200 {
		t.Fatalf("location → %d %v", st, b)
	}
	if st, b := sys.upload("/api/v1/professional/kyc/upload", proTok, "files", "dni.pdf", "application/pdf", []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")); st >= 300 {
		t.Fatalf("kyc upload → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/professional/kyc/submit", proTok, nil); st >= 300 {
		t.Fatalf("kyc submit → %d %v", st, b)
	}
	_, me := sys.call(http.MethodGet, "/api/v1/professional/me", proTok, nil)
	profileID, _ := me["id"].(string)
	if st, b := sys.call(http.MethodPost, "/api/v1/admin/kyc/approve/"+profileID, adminTok, nil); st >= 300 {
		t.Fatalf("approve → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPut, "/api/v1/professional/payout-info", proTok, map[string]any{"payout_account": "juan.plomero"}); st >= 300 {
		t.Fatalf("payout → %d %v", st, b)
	}

	// The client finds him: within 5 km of Villa Crespo, trade written without accent.
	var found map[string]any
	testkit.Eventually(t, 10*time.Second, "professional in search results", func() bool {
		_, res := sys.call(http.MethodPost, "/api/v1/search", cliTok, map[string]any{
			"oficio": "plomeria", "latitude": -34.5995, "longitude": -58.4400, "radio_km": 5})
		for _, r := range listOf(res["resultados"]) {
			if m, _ := r.(map[string]any); m != nil && m["id"] == profileID {
				found = m
			}
		}
		return found != nil
	})
	if d, _ := found["distancia_km"].(float64); d <= 0 || d > 5 {
		t.Fatalf("distancia_km = %v", found["distancia_km"])
	}

	// The professional listens on the WebSocket while the client writes.
	ws := sys.dialWS(t, proTok)
	st, chat := sys.call(http.MethodPost, "/api/v1/chat/conversations", cliTok, map[string]any{"profesional_id": proID})
	chatID, _ := chat["chat_id"].(string)
	if st >= 300 || chatID == "" {
		t.Fatalf("conversation → %d %v", st, chat)
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/chat/"+chatID+"/messages", cliTok, map[string]any{"text": "Hola, ¿podés pasar el martes?"}); st >= 300 {
		t.Fatalf("send → %d %v", st, b)
	}
	ws.expect(t, "Hola, ¿podés pasar el martes?")

	st, oferta := sys.call(http.MethodPost, "/api/v1/professional/ofertas", proTok, map[string]any{
		"cliente_id": cliID, "chat_id": chatID, "descripcion": "Cambio de cañería del baño", "precio_final": 25000.5})
	ofertaID, _ := oferta["id"].(string)
	if st != 201 || ofertaID == "" || oferta["precio_final"] != 25000.5 {
		t.Fatalf("offer → %d %v", st, oferta)
	}
	st, acc := sys.call(http.MethodPost, "/api/v1/cliente/ofertas/"+ofertaID+"/accept", cliTok, nil)
	jobID, _ := acc["trabajo_id"].(string)
	if st != 200 || jobID == "" || !strings.HasPrefix(fmt.Sprint(acc["payment_url"]), "http") {
		t.Fatalf("accept → %d %v", st, acc)
	}

	// Pay on the simulator's checkout page, as a person would: the simulator then sends
	// the signed webhook to the gateway, and payments fetches and verifies the payment.
	payOnCheckout(t, acc["payment_url"].(string))
	testkit.Eventually(t, 15*time.Second, "job paid into escrow", func() bool {
		_, job := sys.call(http.MethodGet, "/api/v1/trabajos/"+jobID, cliTok, nil)
		return job["estado_escrow"] == "PAGADO_EN_ESCROW" && job["estado"] == "PAGADO"
	})

	for _, step := range []map[string]any{{"estado": "EN_PROCESO"}, {"estado": "COMPLETADO", "nota": "Cañería cambiada y probada"}} {
		if st, b := sys.call(http.MethodPut, "/api/v1/trabajos/"+jobID+"/status", proTok, step); st != 200 {
			t.Fatalf("step %v → %d %v", step, st, b)
		}
	}
	// Only the client approves.
	if st, _ := sys.call(http.MethodPost, "/api/v1/cliente/trabajo/"+jobID+"/finalizar", proTok, nil); st != 403 && st != 404 {
		t.Fatalf("professional approving → %d, want 403/404", st)
	}
	st, fin := sys.call(http.MethodPost, "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cliTok, nil)
	job, _ := fin["trabajo"].(map[string]any)
	if st != 200 || job["estado_escrow"] != "LIBERADO" {
		t.Fatalf("finalizar → %d %v", st, fin)
	}
	// BRONCE: 20 % of 25,000.50 is 5,000.10; the professional gets 20,000.40.
	if job["comision_plataforma"] != 5000.1 || job["monto_liberado"] != 20000.4 {
		t.Fatalf("amounts: comision %v liberado %v", job["comision_plataforma"], job["monto_liberado"])
	}

	st, res := sys.call(http.MethodPost, "/api/v1/resenas", cliTok, map[string]any{"trabajo_id": jobID, "rating": 5, "texto_resena": "Excelente, muy prolijo"})
	if st != 201 {
		t.Fatalf("review → %d %v", st, res)
	}
	if st, _ := sys.call(http.MethodPost, "/api/v1/resenas", cliTok, map[string]any{"trabajo_id": jobID, "rating": 4}); st != 400 {
		t.Fatalf("second review → %d, want 400", st)
	}
	testkit.Eventually(t, 10*time.Second, "rating on the public profile", func() bool {
		_, pub := sys.call(http.MethodGet, "/api/v1/public/professional/"+profileID, "", nil)
		resenas := listOf(pub["resenas"])
		if len(resenas) != 1 {
			return false
		}
		r, _ := resenas[0].(map[string]any)
		return pub["total_resenas"] == 1.0 && pub["rating_promedio"] == 5.0 && pub["email"] == nil &&
			r["texto_resena"] == "Excelente, muy prolijo" && strings.HasPrefix(fmt.Sprint(r["nombre_cliente"]), "Ana")
	})
	// The money is visible to the admin, and the gamification saw the release.
	testkit.Eventually(t, 10*time.Second, "financial metrics", func() bool {
		_, fm := sys.call(http.MethodGet, "/api/v1/admin/metrics/financials", adminTok, nil)
		return fm["comision_total"] == 5000.1 && fm["trabajos_completados"] == 1.0
	})
	testkit.Eventually(t, 10*time.Second, "XP for the released job and the 5★ review", func() bool {
		_, g := sys.call(http.MethodGet, "/api/v1/gamification/user/"+proID, "", nil)
		return g["puntos_experiencia"] == 150.0
	})

	// He withdraws his share; then the client's card issuer takes the payment back. The
	// platform gives up its commission and he owes what he was paid.
	if st, b := sys.call(http.MethodPost, "/api/v1/pagos/cuenta-bancaria", proTok, map[string]any{"tipo_cuenta": "cbu",
		"cbu": "2850590940090418135201", "titular": "Juan Plomero", "banco": "Macro"}); st != 200 {
		t.Fatalf("bank account → %d %v", st, b)
	}
	st, w := sys.call(http.MethodPost, "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 20000.4})
	if st != 201 {
		t.Fatalf("withdrawal → %d %v", st, w)
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/admin/pagos/retiros/"+fmt.Sprint(w["id"])+"/aprobar", adminTok, nil); st != 200 {
		t.Fatalf("approve withdrawal → %d %v", st, b)
	}
	_, tx := sys.call(http.MethodGet, "/api/v1/pagos/transacciones/"+jobID, cliTok, nil)
	payment, _ := tx["mercadopago_payment_id"].(string)
	if payment == "" {
		t.Fatalf("transaction without its payment: %v", tx)
	}
	simPost(t, sys.env["MP_BASE_URL"], "/_sim/payments/"+payment+"/chargeback", nil)
	testkit.Eventually(t, 15*time.Second, "the chargeback owed by the professional", func() bool {
		_, bal := sys.call(http.MethodGet, "/api/v1/pagos/balance", proTok, nil)
		return bal["deuda"] == 20000.4 && bal["disponible"] == 0.0 && bal["total_comisiones"] == 0.0
	})
	if st, b := sys.call(http.MethodPost, "/api/v1/pagos/retiros", proTok, map[string]any{"monto": 1000}); st != 400 || b["code"] != "insufficient_funds" {
		t.Fatalf("withdrawal while owing → %d %v", st, b)
	}
	_, check := sys.call(http.MethodGet, "/api/v1/escrow/ledger/check", adminTok, nil)
	debts := listOf(check["deudas"])
	if len(listOf(check["problemas"])) != 0 || len(debts) != 1 || debts[0].(map[string]any)["monto_centavos"] != 2000040.0 {
		t.Fatalf("ledger check after the chargeback %v", check)
	}

	// The card issuer decides for the seller: the money comes back, his debt is paid, the
	// platform has its commission again, and he is told.
	simPost(t, sys.env["MP_BASE_URL"], "/_sim/payments/"+payment+"/reimburse", nil)
	testkit.Eventually(t, 15*time.Second, "the chargeback reversed", func() bool {
		_, bal := sys.call(http.MethodGet, "/api/v1/pagos/balance", proTok, nil)
		return bal["deuda"] == 0.0 && bal["disponible"] == 0.0 && bal["total_comisiones"] == 5000.1
	})
	testkit.Eventually(t, 15*time.Second, "the reversal in his notifications and the job's timeline", func() bool {
		_, ns := sys.call(http.MethodGet, "/api/v1/notificaciones", proTok, nil)
		told := false
		for _, n := range listOf(ns["notificaciones"]) {
			if m, ok := n.(map[string]any); ok && strings.Contains(fmt.Sprint(m["mensaje"]), "Devolvimos $ 20.000,40 a tu saldo") {
				told = true
			}
		}
		_, tl := sys.call(http.MethodGet, "/api/v1/trabajos/"+jobID+"/timeline", cliTok, nil)
		recorded := false
		for _, e := range listOf(tl) {
			if m, ok := e.(map[string]any); ok && strings.HasPrefix(fmt.Sprint(m["descripcion"]), "El contracargo se resolvió a favor del vendedor") {
				recorded = true
			}
		}
		return told && recorded
	})
	_, check = sys.call(http.MethodGet, "/api/v1/escrow/ledger/check", adminTok, nil)
	if len(listOf(check["problemas"])) != 0 || len(listOf(check["deudas"])) != 0 {
		t.Fatalf("ledger check after the reversal %v", check)
	}
}

func listOf(v any) []any {
	switch x := v.(type) {
	case []any:
		return x
	case map[string]any:
		if items, ok := x["items"].([]any); ok {
			return items
		}
	}
	return nil
}

// payOnCheckout loads the checkout page and submits its approve form.
func payOnCheckout(t *testing.T, paymentURL string) {
	t.Helper()
	resp, err := http.Get(paymentURL)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !bytes.Contains(page, []byte("<form")) {
		t.Fatalf("checkout page → %d %.300s", resp.StatusCode, page)
	}
	action, fields := approveForm(t, string(page))
	u, _ := url.Parse(paymentURL)
	target, _ := u.Parse(action)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = client.PostForm(target.String(), fields)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 400 {
		t.Fatalf("approve on checkout → %d", resp.StatusCode)
	}
}

// approveForm finds the form whose submit button approves, and its hidden fields.
func approveForm(t *testing.T, page string) (string, url.Values) {
	t.Helper()
	for _, chunk := range strings.Split(page, "<form")[1:] {
		form := chunk[:strings.Index(chunk, "</form>")]
		lower := strings.ToLower(form)
		if !strings.Contains(lower, "aprobar") && !strings.Contains(lower, "approve") {
			continue
		}
		action := attr(form, "action")
		vals := url.Values{}
		for _, in := range strings.Split(form, "<input")[1:] {
			if n := attr(in, "name"); n != "" {
				vals.Set(n, attr(in, "value"))
			}
		}
		for _, b := range strings.Split(form, "<button")[1:] {
			if n := attr(b, "name"); n != "" && strings.Contains(strings.ToLower(b), "aprobar") {
				vals.Set(n, attr(b, "value"))
			}
		}
		return action, vals
	}
	t.Fatalf("no approve form on the checkout page:\n%s", page)
	return "", nil
}

func attr(tag, name string) string {
	i := strings.Index(tag, name+`="`)
	if i < 0 {
		return ""
	}
	rest := tag[i+len(name)+2:]
	return strings.ReplaceAll(rest[:strings.Index(rest, `"`)], "&amp;", "&")
}

type wsConn struct {
	c    *websocket.Conn
	msgs chan string
}

func (s *system) dialWS(t *testing.T, token string) *wsConn {
	t.Helper()
	u := strings.Replace(s.gateway, "http", "ws", 1) + "/api/v1/ws?token=" + url.QueryEscape(token)
	c, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("websocket: %v", err)
	}
	w := &wsConn{c: c, msgs: make(chan string, 64)}
	if s.contract != nil {
		s.contract.checkPushesDescribed()
	}
	go func() {
		defer close(w.msgs)
		for {
			_, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			if s.contract != nil {
				s.contract.checkFrame(data)
			}
			w.msgs <- string(data)
		}
	}()
	t.Cleanup(func() {
		c.Close()
		// Wait for the reader, so a frame it is still checking reports to a live test.
		for range w.msgs {
		}
	})
	return w
}

func (w *wsConn) expect(t *testing.T, substr string) {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-w.msgs:
			if !ok {
				t.Fatalf("websocket closed before %q arrived", substr)
			}
			if strings.Contains(m, substr) {
				return
			}
		case <-deadline:
			t.Fatalf("no websocket message containing %q", substr)
		}
	}
}

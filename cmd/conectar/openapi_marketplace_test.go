package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/testkit"
)

// marketplaceNotDriven are the marketplace operations this test does not call, each
// with why; every other one must be exercised through the contract.
var marketplaceNotDriven = map[string]string{}

// TestOpenAPIMarketplace drives marketplace's operations through the gateway and the
// contract (openapi_check_test.go): chat, offers, jobs, the payment card, reviews and
// disputes, on our paths, the earlier monolith's and the web frontend's /chat_ofertas
// views, answers and refusals both. An answer with a field, status or error code the
// document does not give that operation, or a call to a route it does not describe,
// fails the test.
func TestOpenAPIMarketplace(t *testing.T) {
	const webhookKey = "contract-webhook-key"
	sys := startSystem(t, map[string]string{"CHAT_WEBHOOK_API_KEY": webhookKey})
	c := loadContract(t, t, sys.gateway)
	checkMarketplaceMerged(t, sys, c)

	g := sys.gateway
	// want(what, status)(call(…)) stops the test on another status.
	want := func(what string, status int) func(int, map[string]any) map[string]any {
		return func(st int, body map[string]any) map[string]any {
			t.Helper()
			if st != status {
				t.Fatalf("%s → %d %v, want %d", what, st, body, status)
			}
			return body
		}
	}
	call := func(method, path, token string, body any) (int, map[string]any) {
		return c.call(g, method, path, token, body)
	}
	id := func(m map[string]any, key string) string {
		t.Helper()
		s, _ := m[key].(string)
		if s == "" {
			t.Fatalf("no %s in %v", key, m)
		}
		return s
	}

	// Set-up outside marketplace, unchecked: a verified professional with a payout
	// account, two clients and an admin.
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")
	proTok, _, proID := sys.register("pro-contrato@example.com", "Pedro", "PROFESIONAL", nil)
	cliTok, _, cliID := sys.register("cli-contrato@example.com", "Clara", "CLIENTE", nil)
	otherTok, _, otherID := sys.register("otro-contrato@example.com", "Otto", "CLIENTE", nil)
	var profileID string
	testkit.Eventually(t, 10*time.Second, "professional profile", func() bool {
		_, me := sys.call(http.MethodGet, "/api/v1/professional/me", proTok, nil)
		profileID, _ = me["id"].(string)
		return profileID != ""
	})
	if st, b := sys.upload("/api/v1/professional/kyc/upload", proTok, "files", "dni.pdf", "application/pdf",
		[]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")); st >= 300 {
		t.Fatalf("kyc upload → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/professional/kyc/submit", proTok, nil); st >= 300 {
		t.Fatalf("kyc submit → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPost, "/api/v1/admin/kyc/approve/"+profileID, adminTok, nil); st >= 300 {
		t.Fatalf("kyc approve → %d %v", st, b)
	}
	if st, b := sys.call(http.MethodPut, "/api/v1/professional/payout-info", proTok, map[string]any{"payout_account": "pedro.contrato"}); st >= 300 {
		t.Fatalf("payout → %d %v", st, b)
	}

	// Chat.
	chat := want("conversation", 201)(call("POST", "/api/v1/chat/conversations", cliTok, map[string]any{"profesional_id": proID}))
	chatID := id(chat, "chat_id")
	want("conversation again", 200)(call("POST", "/api/v1/chat/conversations", cliTok, map[string]any{"profesional_id": proID}))
	want("chat/create", 200)(call("POST", "/api/v1/chat/create", proTok, map[string]any{"cliente_id": cliID}))
	want("cliente/chat/create", 200)(call("POST", "/api/v1/cliente/chat/create", cliTok, map[string]any{"profesional_id": proID}))
	want("conversation with nobody", 422)(call("POST", "/api/v1/chat/conversations", cliTok, map[string]any{}))
	want("conversation with a client", 400)(call("POST", "/api/v1/chat/conversations", cliTok, map[string]any{"profesional_id": otherID}))
	want("send", 201)(call("POST", "/api/v1/chat/"+chatID+"/messages", cliTok, map[string]any{"text": "Hola, ¿podés pasar el martes?"}))
	want("send-message", 201)(call("POST", "/api/v1/chat/send-message", proTok, map[string]any{"chat_id": chatID, "text": "Sí, a las 10"}))
	want("send censored", 201)(call("POST", "/api/v1/chat/"+chatID+"/messages", cliTok, map[string]any{"text": "llamame al 11 4567 8901"}))
	want("send empty", 422)(call("POST", "/api/v1/chat/"+chatID+"/messages", cliTok, map[string]any{"text": "  "}))
	want("send as a stranger", 403)(call("POST", "/api/v1/chat/"+chatID+"/messages", otherTok, map[string]any{"text": "hola"}))
	want("send to no chat", 404)(call("POST", "/api/v1/chat/00000000-0000-0000-0000-000000000001/messages", cliTok, map[string]any{"text": "hola"}))
	want("conversations", 200)(call("GET", "/api/v1/chat/conversations", cliTok, nil))
	want("my-chats", 200)(call("GET", "/api/v1/chat/my-chats", proTok, nil))
	want("unread-count", 200)(call("GET", "/api/v1/chat/unread-count", proTok, nil))
	msgs := want("messages", 200)(call("GET", "/api/v1/chat/"+chatID+"/messages?limit=2", proTok, nil))
	if len(listOf(msgs)) != 2 {
		t.Fatalf("messages?limit=2: %v", msgs)
	}
	last, _ := listOf(msgs)[1].(map[string]any)
	want("messages before", 200)(call("GET", "/api/v1/chat/messages/"+chatID+"?before="+id(last, "id"), proTok, nil))
	want("messages bad limit", 422)(call("GET", "/api/v1/chat/"+chatID+"/messages?limit=0", proTok, nil))
	want("messages of a stranger", 403)(call("GET", "/api/v1/chat/messages/"+chatID, otherTok, nil))
	want("read", 204)(call("POST", "/api/v1/chat/"+chatID+"/read", proTok, nil))
	want("mark-read", 204)(call("POST", "/api/v1/chat/mark-read/"+chatID, cliTok, nil))
	want("mark-read of no chat", 404)(call("POST", "/api/v1/chat/mark-read/not-a-uuid", cliTok, nil))
	infraction := func(key string, body any) (int, map[string]any) {
		raw, _ := json.Marshal(body)
		req, _ := http.NewRequest("POST", g+"/api/v1/webhook/chat/infraction", bytes.NewReader(raw))
		req.Header.Set("Content-Type", "application/json")
		if key != "" {
			req.Header.Set("X-API-Key", key)
		}
		return c.do(req, "")
	}
	want("infraction", 202)(infraction(webhookKey, map[string]any{"user_id": otherID, "reason": "spam"}))
	want("infraction wrong key", 401)(infraction("nope", map[string]any{"user_id": otherID}))
	want("infraction without key", 422)(infraction("", map[string]any{"user_id": otherID}))
	// An unknown user is asked of users' internal API: 404 when it says so, 503 when it
	// cannot tell (both documented; which one is users' business).
	if st, b := infraction(webhookKey, map[string]any{"user_id": "00000000-0000-0000-0000-000000000002"}); st != 404 && st != 503 {
		t.Fatalf("infraction unknown user → %d %v", st, b)
	}

	// Offers: the professional's replica learns of the KYC approval by event, so the
	// first offer is retried until it is accepted.
	offer := func(path, desc string, precio float64) map[string]any {
		t.Helper()
		var o map[string]any
		testkit.Eventually(t, 10*time.Second, "offer through "+path, func() bool {
			st, b := call("POST", path, proTok, map[string]any{"cliente_id": cliID, "chat_id": chatID, "descripcion": desc, "precio_final": precio})
			if st == 201 {
				o = b
			} else if st != 403 {
				t.Fatalf("offer → %d %v", st, b)
			}
			return o != nil
		})
		return o
	}
	o1 := id(offer("/api/v1/professional/ofertas", "Cambio de cañería del baño", 25000.5), "id")
	o2 := id(offer("/api/v1/ofertas", "Arreglo de la canilla de la cocina", 8000), "id")
	o3 := id(offer("/api/v1/chat_ofertas/ofertas", "Instalación de un termotanque nuevo", 90000), "id")
	if w := want("web offer", 200)(call("GET", "/api/v1/chat_ofertas/ofertas/"+o3, cliTok, nil)); w["estado"] != "OFERTADO" {
		t.Errorf("web offer: %v", w)
	}
	o4 := id(offer("/api/v1/ofertas", "Destapación de la pileta del lavadero", 12000), "id")
	want("offer by a client", 403)(call("POST", "/api/v1/ofertas", cliTok, map[string]any{"chat_id": chatID, "descripcion": "no corresponde acá", "precio_final": 1}))
	want("offer invalid", 422)(call("POST", "/api/v1/professional/ofertas", proTok, map[string]any{"chat_id": chatID, "descripcion": "corta", "precio_final": 0}))
	for _, p := range []struct{ path, tok string }{{"/api/v1/ofertas", cliTok}, {"/api/v1/professional/ofertas?estado=OFERTADO", proTok},
		{"/api/v1/cliente/ofertas?limit=5", cliTok}, {"/api/v1/chat_ofertas/ofertas", cliTok},
		{"/api/v1/ofertas/chat/" + chatID, proTok}, {"/api/v1/professional/ofertas/chat/" + chatID, proTok},
		{"/api/v1/chat_ofertas/ofertas/chat/" + chatID, cliTok}} {
		want("GET "+p.path, 200)(call("GET", p.path, p.tok, nil))
	}
	want("professional list as a client", 403)(call("GET", "/api/v1/professional/ofertas", cliTok, nil))
	want("offers bad page", 422)(call("GET", "/api/v1/ofertas?page=0", cliTok, nil))
	for _, p := range []string{"/api/v1/ofertas/", "/api/v1/professional/ofertas/", "/api/v1/cliente/ofertas/", "/api/v1/chat_ofertas/ofertas/"} {
		want("GET "+p+"{id}", 200)(call("GET", p+o1, cliTok, nil))
	}
	want("offer of others", 403)(call("GET", "/api/v1/ofertas/"+o1, otherTok, nil))
	want("no offer", 404)(call("GET", "/api/v1/ofertas/00000000-0000-0000-0000-000000000003", cliTok, nil))
	for _, p := range []string{"/api/v1/ofertas/", "/api/v1/professional/ofertas/", "/api/v1/chat_ofertas/ofertas/"} {
		want("timeline "+p, 200)(call("GET", p+o1+"/timeline", cliTok, nil))
	}
	want("update", 200)(call("PUT", "/api/v1/ofertas/"+o2, proTok, map[string]any{"precio_final": 8500}))
	want("update (professional path)", 200)(call("PUT", "/api/v1/professional/ofertas/"+o2, proTok, map[string]any{"descripcion": "Arreglo de la canilla y el sifón"}))
	want("update (web)", 200)(call("PUT", "/api/v1/chat_ofertas/ofertas/"+o2, proTok, map[string]any{"precio_final": 8700}))
	want("update by the client", 403)(call("PUT", "/api/v1/ofertas/"+o2, cliTok, map[string]any{"precio_final": 1}))
	want("update nothing", 422)(call("PUT", "/api/v1/ofertas/"+o2, proTok, map[string]any{}))

	// Closing offers, through every alias: each move on a fresh offer.
	closeOn := func(what, method, path, tok string) {
		t.Helper()
		o := id(offer("/api/v1/ofertas", "Oferta para "+what+" por contrato", 1000), "id")
		want(what, 200)(call(method, strings.ReplaceAll(path, "{id}", o), tok, nil))
		want(what+" again", 400)(call(method, strings.ReplaceAll(path, "{id}", o), tok, nil))
	}
	closeOn("reject", "POST", "/api/v1/cliente/ofertas/{id}/reject", cliTok)
	closeOn("reject (ofertas)", "POST", "/api/v1/ofertas/{id}/reject", cliTok)
	closeOn("reject (PUT)", "PUT", "/api/v1/ofertas/{id}/reject", cliTok)
	closeOn("reject (professional path)", "POST", "/api/v1/professional/ofertas/{id}/reject", cliTok)
	closeOn("reject (professional path, PUT)", "PUT", "/api/v1/professional/ofertas/{id}/reject", cliTok)
	closeOn("reject (web)", "POST", "/api/v1/chat_ofertas/ofertas/{id}/reject", cliTok)
	closeOn("reject (web, PUT)", "PUT", "/api/v1/chat_ofertas/ofertas/{id}/reject", cliTok)
	closeOn("retirar", "POST", "/api/v1/ofertas/{id}/retirar", proTok)
	closeOn("withdraw", "POST", "/api/v1/ofertas/{id}/withdraw", proTok)
	closeOn("withdraw (DELETE)", "DELETE", "/api/v1/ofertas/{id}", proTok)
	closeOn("retirar (professional path)", "POST", "/api/v1/professional/ofertas/{id}/retirar", proTok)
	closeOn("withdraw (professional path)", "POST", "/api/v1/professional/ofertas/{id}/withdraw", proTok)
	closeOn("withdraw (professional path, DELETE)", "DELETE", "/api/v1/professional/ofertas/{id}", proTok)
	closeOn("retirar (web)", "POST", "/api/v1/chat_ofertas/ofertas/{id}/retirar", proTok)
	closeOn("withdraw (web)", "POST", "/api/v1/chat_ofertas/ofertas/{id}/withdraw", proTok)
	closeOn("withdraw (web, DELETE)", "DELETE", "/api/v1/chat_ofertas/ofertas/{id}", proTok)
	want("reject by the professional", 403)(call("POST", "/api/v1/ofertas/"+o4+"/reject", proTok, nil))
	// The web's view knows no withdrawn offer: it shows EXPIRADO.
	wdr := id(offer("/api/v1/ofertas", "Oferta que se retira enseguida", 1000), "id")
	want("withdraw", 200)(call("POST", "/api/v1/ofertas/"+wdr+"/retirar", proTok, nil))
	if w := want("withdrawn (web)", 200)(call("GET", "/api/v1/chat_ofertas/ofertas/"+wdr, cliTok, nil)); w["estado"] != "EXPIRADO" {
		t.Errorf("a withdrawn offer on /chat_ofertas: estado %v", w["estado"])
	}
	want("timeline (web) of a withdrawn offer", 200)(call("GET", "/api/v1/chat_ofertas/ofertas/"+wdr+"/timeline", cliTok, nil))

	// Accepting makes the job and the checkout; paying it is the simulator's.
	pay := func(acc map[string]any) string {
		t.Helper()
		job := id(acc, "trabajo_id")
		pref := id(acc, "payment_preference_id")
		resp, err := http.Post(sys.env["MP_BASE_URL"]+"/_sim/preferences/"+url.PathEscape(pref)+"/pay?status=approved", "application/json", nil)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("simulator pay → %v %v", resp, err)
		}
		resp.Body.Close()
		testkit.Eventually(t, 15*time.Second, "job paid", func() bool {
			_, j := sys.call(http.MethodGet, "/api/v1/trabajos/"+job, cliTok, nil)
			return j["estado_escrow"] == "PAGADO_EN_ESCROW"
		})
		return job
	}
	accept := func(method, path string) map[string]any {
		t.Helper()
		o := id(offer("/api/v1/ofertas", "Oferta aceptada por contrato", 10000), "id")
		return want("accept "+path, 200)(call(method, strings.ReplaceAll(path, "{id}", o), cliTok, nil))
	}
	acc1 := want("accept", 200)(call("POST", "/api/v1/cliente/ofertas/"+o1+"/accept", cliTok, nil))
	want("accept again", 400)(call("POST", "/api/v1/cliente/ofertas/"+o1+"/accept", cliTok, nil))
	job1 := pay(acc1)
	accs := []map[string]any{}
	for _, a := range [][2]string{{"PUT", "/api/v1/ofertas/{id}/accept"}, {"POST", "/api/v1/ofertas/{id}/accept"},
		{"PUT", "/api/v1/professional/ofertas/{id}/accept"}, {"POST", "/api/v1/professional/ofertas/{id}/accept"},
		{"PUT", "/api/v1/chat_ofertas/ofertas/{id}/accept"}, {"POST", "/api/v1/chat_ofertas/ofertas/{id}/accept"}} {
		accs = append(accs, accept(a[0], a[1]))
	}
	want("hire an unknown service", 404)(call("POST", "/api/v1/cliente/servicios/00000000-0000-0000-0000-000000000004/contratar", cliTok, nil))
	want("hire as a professional", 403)(call("POST", "/api/v1/cliente/servicios/00000000-0000-0000-0000-000000000004/contratar", proTok, nil))

	// Jobs: lists and reads on every path, and the admin's view.
	for _, p := range []struct{ path, tok string }{{"/api/v1/trabajos", cliTok}, {"/api/v1/trabajos?estado=PAGADO", proTok},
		{"/api/v1/cliente/trabajos", cliTok}, {"/api/v1/professional/trabajos", proTok}, {"/api/v1/chat_ofertas/trabajos", cliTok},
		{"/api/v1/admin/trabajos", adminTok}} {
		want("GET "+p.path, 200)(call("GET", p.path, p.tok, nil))
	}
	if a := want("admin jobs", 200)(call("GET", "/api/v1/admin/trabajos?estado=PAGADO_EN_ESCROW", adminTok, nil)); len(listOf(a)) == 0 {
		t.Errorf("admin jobs: none in escrow")
	}
	want("admin jobs as a client", 403)(call("GET", "/api/v1/admin/trabajos", cliTok, nil))
	want("professional jobs as a client", 403)(call("GET", "/api/v1/professional/trabajos", cliTok, nil))
	for _, p := range []string{"/api/v1/trabajos/", "/api/v1/cliente/trabajo/", "/api/v1/chat_ofertas/trabajos/"} {
		want("GET "+p+"{id}", 200)(call("GET", p+job1, cliTok, nil))
	}
	want("job of others", 403)(call("GET", "/api/v1/trabajos/"+job1, otherTok, nil))
	want("no job", 404)(call("GET", "/api/v1/trabajos/00000000-0000-0000-0000-000000000005", cliTok, nil))
	want("timeline", 200)(call("GET", "/api/v1/trabajos/"+job1+"/timeline", proTok, nil))
	want("timeline (web)", 200)(call("GET", "/api/v1/chat_ofertas/trabajos/"+job1+"/timeline", cliTok, nil))

	// Work steps through /status, the bare PUT and the web's path (whose delivery note
	// may be empty).
	want("start", 200)(call("PUT", "/api/v1/trabajos/"+job1+"/status", proTok, map[string]any{"estado": "EN_PROCESO"}))
	want("start again", 400)(call("PUT", "/api/v1/trabajos/"+job1, proTok, map[string]any{"estado": "EN_PROCESO"}))
	want("deliver without a note", 422)(call("PUT", "/api/v1/trabajos/"+job1, proTok, map[string]any{"estado": "COMPLETADO"}))
	want("deliver (web)", 200)(call("PUT", "/api/v1/chat_ofertas/trabajos/"+job1, proTok, map[string]any{"estado": "COMPLETADO", "imagenes": []string{"https://img.example/a.png"}}))
	want("approve by the professional", 403)(call("POST", "/api/v1/cliente/trabajo/"+job1+"/finalizar", proTok, nil))
	fin := want("finalizar", 200)(call("POST", "/api/v1/cliente/trabajo/"+job1+"/finalizar", cliTok, map[string]any{"nota": "Impecable"}))
	if tr, _ := fin["trabajo"].(map[string]any); tr["estado_escrow"] != "LIBERADO" {
		t.Fatalf("finalizar: %v", fin)
	}
	want("finalizar again", 400)(call("POST", "/api/v1/trabajos/"+job1+"/finalizar", cliTok, nil))

	// The other accepted offers' jobs: approval and cancellation on every path and view.
	jobs := make([]string, len(accs))
	for i, a := range accs {
		jobs[i] = pay(a)
	}
	for _, p := range []struct{ path, view string }{{"/api/v1/trabajos/{id}/finalizar", "ours"},
		{"/api/v1/chat_ofertas/trabajos/{id}/finalizar", "web"}, {"/api/v1/pagos/transacciones/{id}/liberar", "card"}} {
		out := want("approve "+p.path, 200)(call("POST", strings.ReplaceAll(p.path, "{id}", jobs[0]), cliTok, nil))
		jobs = jobs[1:]
		checkView(t, p.view, out)
	}
	for _, p := range []struct{ method, path, view string }{{"PUT", "/api/v1/trabajos/{id}/cancel", "ours"},
		{"POST", "/api/v1/chat_ofertas/trabajos/{id}/cancelar", "web"}, {"POST", "/api/v1/pagos/transacciones/{id}/reembolso", "card"}} {
		out := want("cancel "+p.path, 200)(call(p.method, strings.ReplaceAll(p.path, "{id}", jobs[0]), cliTok, map[string]any{"motivo": "ya no hace falta"}))
		jobs = jobs[1:]
		checkView(t, p.view, out)
	}
	// Unpaid jobs cancel at once, on the remaining paths.
	unpaid := func() string {
		return id(accept("POST", "/api/v1/cliente/ofertas/{id}/accept"), "trabajo_id")
	}
	for _, p := range []struct{ method, path, tok string }{{"POST", "/api/v1/trabajos/{id}/cancel", cliTok},
		{"POST", "/api/v1/trabajos/{id}/cancelar", proTok}, {"POST", "/api/v1/cliente/trabajo/{id}/cancelar", cliTok},
		{"PUT", "/api/v1/chat_ofertas/trabajos/{id}/cancel", cliTok}, {"POST", "/api/v1/chat_ofertas/trabajos/{id}/cancel", cliTok},
		{"POST", "/api/v1/admin/trabajo/{id}/cancelar", adminTok}} {
		j := unpaid()
		want("cancel "+p.path, 200)(call(p.method, strings.ReplaceAll(p.path, "{id}", j), p.tok, nil))
		want("cancel again "+p.path, 400)(call(p.method, strings.ReplaceAll(p.path, "{id}", j), p.tok, nil))
	}
	want("admin cancel as a client", 403)(call("POST", "/api/v1/admin/trabajo/"+unpaid()+"/cancelar", cliTok, nil))
	// The web's status path: a paid job through its whole work and approval.
	webJob := pay(accept("POST", "/api/v1/cliente/ofertas/{id}/accept"))
	want("start (web status)", 200)(call("PUT", "/api/v1/chat_ofertas/trabajos/"+webJob+"/status", proTok, map[string]any{"estado": "EN_PROCESO", "notas_profesional": "Arranco mañana"}))
	want("deliver (status)", 200)(call("PUT", "/api/v1/trabajos/"+webJob+"/status", proTok, map[string]any{"estado": "COMPLETADO", "nota": "Terminado y probado"}))
	want("approve (status)", 200)(call("PUT", "/api/v1/trabajos/"+webJob+"/status", cliTok, map[string]any{"estado": "APROBADO", "notas_cliente": "Gracias"}))
	want("bad estado", 422)(call("PUT", "/api/v1/trabajos/"+webJob+"/status", cliTok, map[string]any{"estado": "VOLANDO"}))

	// Reviews.
	want("can review", 200)(call("GET", "/api/v1/resenas/puede-resenar/"+job1, cliTok, nil))
	posted := want("review", 201)(call("POST", "/api/v1/resenas", cliTok, map[string]any{"trabajo_id": job1, "rating": 5, "texto_resena": "Excelente, muy prolijo"}))
	resena, _ := posted["resena"].(map[string]any)
	resenaID := id(resena, "id")
	want("review again", 400)(call("POST", "/api/v1/resenas", cliTok, map[string]any{"trabajo_id": job1, "rating": 4}))
	want("review (cliente path)", 201)(call("POST", "/api/v1/cliente/trabajo/"+webJob+"/resena", cliTok, map[string]any{"rating": 4}))
	want("review an unpaid job", 400)(call("POST", "/api/v1/cliente/trabajo/"+unpaid()+"/resena", cliTok, map[string]any{"rating": 3}))
	want("review bad rating", 422)(call("POST", "/api/v1/resenas", cliTok, map[string]any{"trabajo_id": job1, "rating": 9}))
	if cr := want("can review again", 200)(call("GET", "/api/v1/resenas/puede-resenar/"+job1, cliTok, nil)); cr["puede_resenar"] != false || cr["motivo"] == nil {
		t.Errorf("puede-resenar after reviewing: %v", cr)
	}
	for _, p := range []string{"/api/v1/resenas/professional/" + proID, "/api/v1/resenas/profesional/" + profileID + "?limit=5",
		"/api/v1/public/professional/" + profileID + "/resenas", "/api/v1/resenas/professional/" + proID + "/estadisticas",
		"/api/v1/resenas/profesional/" + profileID + "/estadisticas", "/api/v1/resenas/" + resenaID} {
		want("GET "+p, 200)(call("GET", p, "", nil))
	}
	want("reviews of no professional", 404)(call("GET", "/api/v1/resenas/professional/not-a-uuid", "", nil))
	if r := want("review as admin", 200)(call("GET", "/api/v1/resenas/"+resenaID, adminTok, nil)); r["reportes"] == nil {
		t.Errorf("an admin sees reportes: %v", r)
	}
	want("no review", 404)(call("GET", "/api/v1/resenas/00000000-0000-0000-0000-000000000006", "", nil))
	want("my reviews", 200)(call("GET", "/api/v1/resenas/mis-resenas", cliTok, nil))
	want("my reviews (professional)", 200)(call("GET", "/api/v1/resenas/mis-resenas?page=1&limit=5", proTok, nil))
	want("edit", 200)(call("PUT", "/api/v1/resenas/"+resenaID, cliTok, map[string]any{"comentario": "Excelente, volvería a llamarlo"}))
	want("edit by another", 403)(call("PUT", "/api/v1/resenas/"+resenaID, otherTok, map[string]any{"rating": 1}))
	want("reply", 200)(call("POST", "/api/v1/resenas/"+resenaID+"/responder", proTok, map[string]any{"respuesta": "¡Gracias, Clara!"}))
	want("reply by the client", 403)(call("POST", "/api/v1/resenas/"+resenaID+"/responder", cliTok, map[string]any{"respuesta": "yo no"}))
	want("report", 201)(call("POST", "/api/v1/resenas/"+resenaID+"/reportar", otherTok, map[string]any{"motivo": "Parece falsa"}))
	want("report again", 400)(call("POST", "/api/v1/resenas/"+resenaID+"/reportar", otherTok, map[string]any{"motivo": "Parece falsa"}))
	want("reported", 200)(call("GET", "/api/v1/resenas/reportadas", adminTok, nil))
	want("reported as a client", 403)(call("GET", "/api/v1/resenas/reportadas", cliTok, nil))
	want("delete by another", 403)(call("DELETE", "/api/v1/resenas/"+resenaID, otherTok, nil))
	want("delete", 200)(call("DELETE", "/api/v1/resenas/"+resenaID, cliTok, nil))
	want("delete again", 404)(call("DELETE", "/api/v1/resenas/"+resenaID, cliTok, nil))

	// Disputes: one dismissed by the admin's page, one withdrawn, one settled on ours.
	dispute := func(tipo string) (string, string) {
		t.Helper()
		job := pay(accept("POST", "/api/v1/cliente/ofertas/{id}/accept"))
		d := want("dispute "+tipo, 201)(call("POST", "/api/v1/disputas", cliTok, map[string]any{"trabajo_id": job, "tipo": tipo,
			"descripcion": "El trabajo no quedó como se acordó", "evidencias": []string{"https://img.example/antes.png"}}))
		return id(d, "id"), job
	}
	d1, dj1 := dispute("calidad")
	want("dispute again", 400)(call("POST", "/api/v1/disputas", cliTok, map[string]any{"trabajo_id": dj1, "tipo": "OTRO", "descripcion": "Otra disputa más"}))
	want("dispute invalid", 422)(call("POST", "/api/v1/disputas", cliTok, map[string]any{"trabajo_id": dj1, "tipo": "nada", "descripcion": "x"}))
	if j := want("disputed job (web)", 200)(call("GET", "/api/v1/chat_ofertas/trabajos/"+dj1, cliTok, nil)); j["estado"] != "PAGADO" || j["en_disputa"] != true {
		t.Errorf("a disputed job on /chat_ofertas: %v %v", j["estado"], j["en_disputa"])
	}
	want("disputes", 200)(call("GET", "/api/v1/disputas?estado=ABIERTA", cliTok, nil))
	want("disputes bad estado", 422)(call("GET", "/api/v1/disputas?estado=VOLANDO", cliTok, nil))
	want("mis-disputas", 200)(call("GET", "/api/v1/disputas/mis-disputas?tipo=calidad", proTok, nil))
	want("admin disputes", 200)(call("GET", "/api/v1/admin/disputas", adminTok, nil))
	want("admin disputes as a client", 403)(call("GET", "/api/v1/admin/disputas", cliTok, nil))
	want("dispute", 200)(call("GET", "/api/v1/disputas/"+d1, proTok, nil))
	want("dispute of others", 403)(call("GET", "/api/v1/disputas/"+d1, otherTok, nil))
	want("no dispute", 404)(call("GET", "/api/v1/disputas/00000000-0000-0000-0000-000000000007", cliTok, nil))
	want("evidence", 201)(call("POST", "/api/v1/disputas/"+d1+"/evidencias", proTok, map[string]any{"evidencia": "https://img.example/despues.png"}))
	want("evidence not a URL", 422)(call("POST", "/api/v1/disputas/"+d1+"/evidencias", proTok, map[string]any{"evidencia": "no"}))
	want("message", 201)(call("POST", "/api/v1/disputas/"+d1+"/mensajes", proTok, map[string]any{"mensaje": "Lo reviso el lunes"}))
	want("message (admin)", 201)(call("POST", "/api/v1/disputas/"+d1+"/mensajes", adminTok, map[string]any{"mensaje": "Estoy mirando el caso"}))
	want("messages", 200)(call("GET", "/api/v1/disputas/"+d1+"/mensajes", cliTok, nil))
	want("cancel by the other party", 403)(call("POST", "/api/v1/disputas/"+d1+"/cancelar", proTok, nil))
	want("resolve as a client", 403)(call("POST", "/api/v1/admin/disputas/"+d1+"/resolver", cliTok, map[string]any{"favorece_a": "cliente", "resolucion": "no"}))
	want("dismiss (admin page)", 200)(call("POST", "/api/v1/admin/disputas/"+d1+"/resolver", adminTok, map[string]any{"favorece_a": "ninguno", "resolucion": "No hay motivo"}))
	want("resolve again", 400)(call("POST", "/api/v1/disputas/"+d1+"/resolver", adminTok, map[string]any{"a_favor": "cliente", "resolucion": "Otra vez"}))
	want("message when closed", 400)(call("POST", "/api/v1/disputas/"+d1+"/mensajes", cliTok, map[string]any{"mensaje": "¿Y ahora?"}))
	d2, _ := dispute("REEMBOLSO")
	want("withdraw the dispute", 200)(call("POST", "/api/v1/disputas/"+d2+"/cancelar", cliTok, nil))
	d3, _ := dispute("NO_REALIZADO")
	want("resolve as a client (ours)", 403)(call("POST", "/api/v1/disputas/"+d3+"/resolver", cliTok, map[string]any{"a_favor": "cliente", "resolucion": "Reembolso"}))
	res := want("resolve (ours)", 200)(call("POST", "/api/v1/disputas/"+d3+"/resolver", adminTok, map[string]any{"a_favor": "cliente", "resolucion": "Reembolso total"}))
	if res["disputa"] == nil || res["trabajo"] == nil {
		t.Errorf("resolution on our path: %v", res)
	}

	// The lifecycles, public: their tables and diagrams (shown at /docs/lifecycle).
	for _, p := range []string{"/api/v1/ofertas/lifecycle", "/api/v1/ofertas/lifecycle.svg", "/api/v1/trabajos/lifecycle", "/api/v1/trabajos/lifecycle.svg"} {
		want(p, 200)(call("GET", p, "", nil))
	}

	var missing []string
	for _, op := range c.unexercised("marketplace") {
		if _, ok := marketplaceNotDriven[op]; !ok {
			missing = append(missing, op)
		}
	}
	if len(missing) > 0 {
		t.Errorf("marketplace operations not exercised through the contract:\n  %s", strings.Join(missing, "\n  "))
	}
}

// checkView checks the shape of a job action's answer on each path's view (the
// contract checks the schema; this checks the path got its own view's shape).
func checkView(t *testing.T, view string, out map[string]any) {
	t.Helper()
	var ok bool
	switch view {
	case "ours":
		_, ok = out["trabajo"].(map[string]any)
		ok = ok && out["mensaje"] != nil
	case "web":
		ok = out["estado_escrow"] != nil && out["trabajo"] == nil
	case "card":
		ok = out["trabajo_id"] != nil && out["monto"] != nil && out["puede_liberar"] != nil
	}
	if !ok {
		t.Errorf("answer in the %s view: %v", view, out)
	}
}

// checkMarketplaceMerged checks marketplace publishes its document and every public
// operation of it reaches the gateway's.
func checkMarketplaceMerged(t *testing.T, sys *system, c *contract) {
	t.Helper()
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/openapi.json", sys.env["MARKETPLACE_PORT"]))
	if err != nil {
		t.Fatal(err)
	}
	var own api.Document
	err = json.NewDecoder(resp.Body).Decode(&own)
	resp.Body.Close()
	if err != nil || own.OpenAPI != api.Version {
		t.Fatalf("marketplace /openapi.json: %v %q", err, own.OpenAPI)
	}
	n := 0
	for _, op := range api.Operations(&own) {
		method, path, _ := strings.Cut(op, " ")
		if !strings.HasPrefix(path, "/api/v1/") {
			continue
		}
		n++
		if item := c.doc.Paths.Find(path); item == nil || item.GetOperation(method) == nil {
			t.Errorf("marketplace's %s is not in the gateway's document", op)
		}
	}
	if n < 100 {
		t.Errorf("marketplace documents %d public operations", n)
	}
	// Each view is described in its own words: the web's offers know no RETIRADO, its jobs
	// no DISPUTADO, the admin's jobs carry estado_trabajo always.
	views := map[string]struct {
		path, method, schema, prop, absent string
	}{
		"web offer":   {"/api/v1/chat_ofertas/ofertas/{id}", "GET", "OfertaWeb", "estado", "RETIRADO"},
		"our offer":   {"/api/v1/ofertas/{id}", "GET", "Oferta", "estado", ""},
		"web job":     {"/api/v1/chat_ofertas/trabajos/{id}", "GET", "TrabajoWeb", "estado", "DISPUTADO"},
		"our job":     {"/api/v1/trabajos/{id}", "GET", "Trabajo", "estado", ""},
		"web dispute": {"/api/v1/disputas/{id}", "GET", "DisputaWeb", "estado", "ABIERTA"},
	}
	for what, v := range views {
		op := c.doc.Paths.Find(v.path).GetOperation(v.method)
		ref := op.Responses.Status(200).Value.Content.Get("application/json").Schema.Ref
		s := c.doc.Components.Schemas[v.schema]
		if !strings.HasSuffix(ref, "/"+v.schema) || s == nil {
			t.Errorf("%s: answers %s, want %s", what, ref, v.schema)
			continue
		}
		enum := fmt.Sprint(s.Value.Properties[v.prop].Value.Enum)
		if len(s.Value.Properties[v.prop].Value.Enum) == 0 || (v.absent != "" && strings.Contains(enum, v.absent)) {
			t.Errorf("%s: %s.%s enum %s", what, v.schema, v.prop, enum)
		}
	}
	if adm := c.doc.Components.Schemas["TrabajoAdmin"]; adm == nil || !slices.Contains(adm.Value.Required, "estado_trabajo") {
		t.Errorf("the admin's jobs: %v", adm)
	}
	if c.undocumented["marketplace"] {
		t.Error("marketplace is listed as undocumented")
	}
	if strings.Contains(c.doc.Info.Description, "routed to another service") {
		t.Errorf("a service describes paths the gateway does not route to it: %s", c.doc.Info.Description)
	}
}

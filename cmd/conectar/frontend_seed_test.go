package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// feFixture is the world the frontend contract test reads and acts on: accounts, their
// tokens, and ids of objects seeded in every state the frontend's pages show. It is
// built only through the gateway, as the frontend and an admin would build it.
type feFixture struct {
	sys *system
	t   *testing.T
	// tok holds access tokens by who: admin, cli, pro, proNew, pendA, pendB, pwUser.
	tok map[string]string
	// ids holds seeded ids by name (see seedFrontend).
	ids map[string]string
	// missing says why a seed step did not produce its id: a subtest that needs it
	// fails with this reason instead of calling a path with an empty segment.
	missing map[string]string
	// lazy resolves ids known only once earlier calls ran (transactions, notifications).
	lazy map[string]func() (string, error)
}

// feDo is one raw request through the gateway: JSON (body), form-urlencoded (form) or
// multipart (files). It returns the status, the decoded answer (object, array or nil)
// and the raw bytes for messages.
func (s *system) feDo(method, path, token string, body any, form url.Values, files []feFile) (int, any, []byte) {
	s.t.Helper()
	var rd io.Reader
	ctype := ""
	switch {
	case form != nil:
		rd, ctype = strings.NewReader(form.Encode()), "application/x-www-form-urlencoded"
	case files != nil:
		var buf bytes.Buffer
		w := multipart.NewWriter(&buf)
		for _, f := range files {
			h := map[string][]string{
				"Content-Disposition": {fmt.Sprintf(`form-data; name=%q; filename=%q`, f.field, f.name)},
				"Content-Type":        {f.ctype},
			}
			part, _ := w.CreatePart(h)
			_, _ = part.Write(f.data)
		}
		_ = w.Close()
		rd, ctype = &buf, w.FormDataContentType()
	case body != nil:
		b, _ := json.Marshal(body)
		rd, ctype = bytes.NewReader(b), "application/json"
	}
	req, _ := http.NewRequest(method, s.gateway+path, rd)
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client().Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out any
	if len(bytes.TrimSpace(raw)) > 0 {
		if err := json.Unmarshal(raw, &out); err != nil {
			out = nil
		}
	}
	return resp.StatusCode, out, raw
}

type feFile struct {
	field, name, ctype string
	data               []byte
}

var pdfBytes = []byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")

// must runs a seed request that has to succeed for the fixture to make sense at all.
func (fx *feFixture) must(method, path, who string, body any) map[string]any {
	fx.t.Helper()
	st, out, raw := fx.sys.feDo(method, path, fx.tok[who], body, nil, nil)
	if st < 200 || st > 299 {
		fx.t.Fatalf("seed %s %s as %s → %d %.400s", method, path, who, st, raw)
	}
	m, _ := out.(map[string]any)
	return m
}

// try runs a seed request that may fail while the route is being built; the id it
// would give is recorded as missing with the reason, so only the subtests that need it
// fail.
func (fx *feFixture) try(key, method, path, who string, body any, pick func(map[string]any) string) string {
	fx.t.Helper()
	st, out, raw := fx.sys.feDo(method, path, fx.tok[who], body, nil, nil)
	m, _ := out.(map[string]any)
	if st < 200 || st > 299 {
		if key != "" {
			fx.missing[key] = fmt.Sprintf("seed %s %s → %d %.300s", method, path, st, raw)
		}
		return ""
	}
	id := ""
	if pick != nil {
		id = pick(m)
	}
	if key != "" {
		if id == "" {
			fx.missing[key] = fmt.Sprintf("seed %s %s answered no id: %.300s", method, path, raw)
		} else {
			fx.ids[key] = id
		}
	}
	return id
}

func field(name string) func(map[string]any) string {
	return func(m map[string]any) string { s, _ := m[name].(string); return s }
}

// id gives a fixture id by name, resolving lazy ones.
func (fx *feFixture) id(key string) (string, error) {
	if v, ok := fx.ids[key]; ok {
		return v, nil
	}
	if f, ok := fx.lazy[key]; ok {
		v, err := f()
		if err == nil && v != "" {
			fx.ids[key] = v
		}
		return v, err
	}
	if why, ok := fx.missing[key]; ok {
		return "", fmt.Errorf("fixture %s: %s", key, why)
	}
	return "", fmt.Errorf("fixture %s was never seeded", key)
}

// registerOnly creates an account without logging it in (the register answer carries
// the id), so the seed spends logins only on accounts that act.
func (fx *feFixture) registerOnly(email, nombre, rol string, extra map[string]any) string {
	fx.t.Helper()
	body := map[string]any{"email": email, "password": "password-123", "nombre": nombre, "apellido": "Prueba", "rol": rol}
	for k, v := range extra {
		body[k] = v
	}
	u := fx.must(http.MethodPost, "/api/v1/auth/register", "", body)
	id, _ := u["id"].(string)
	if id == "" {
		fx.t.Fatalf("register %s answered no id: %v", email, u)
	}
	return id
}

// profileID is the professional PROFILE id of a professional account.
func (fx *feFixture) profileID(who string) string {
	fx.t.Helper()
	me := fx.must(http.MethodGet, "/api/v1/professional/me", who, nil)
	id, _ := me["id"].(string)
	if id == "" {
		fx.t.Fatalf("/professional/me of %s: %v", who, me)
	}
	return id
}

func (fx *feFixture) submitKYC(who string) {
	fx.t.Helper()
	if st, b := fx.sys.upload("/api/v1/professional/kyc/upload", fx.tok[who], "files", "dni.pdf", "application/pdf", pdfBytes); st >= 300 {
		fx.t.Fatalf("seed kyc upload %s → %d %v", who, st, b)
	}
	fx.must(http.MethodPost, "/api/v1/professional/kyc/submit", who, nil)
}

// offer creates an open offer from the professional to the client in the seeded chat.
func (fx *feFixture) offer(key, desc string, price float64) string {
	fx.t.Helper()
	o := fx.must(http.MethodPost, "/api/v1/professional/ofertas", "pro", map[string]any{
		"cliente_id": fx.ids["cliUser"], "chat_id": fx.ids["chat"], "descripcion": desc, "precio_final": price})
	id, _ := o["id"].(string)
	if id == "" {
		fx.t.Fatalf("offer %s: %v", key, o)
	}
	fx.ids[key] = id
	return id
}

// accept accepts an offer as the client and returns the job and its checkout link.
func (fx *feFixture) accept(offerID string) (jobID, payURL string) {
	fx.t.Helper()
	acc := fx.must(http.MethodPost, "/api/v1/cliente/ofertas/"+offerID+"/accept", "cli", nil)
	jobID, _ = acc["trabajo_id"].(string)
	payURL, _ = acc["payment_url"].(string)
	if jobID == "" || !strings.HasPrefix(payURL, "http") {
		fx.t.Fatalf("accept %s: %v", offerID, acc)
	}
	return jobID, payURL
}

// waitJob waits until the job (read on our own path) satisfies ok.
func (fx *feFixture) waitJob(jobID, what string, ok func(map[string]any) bool) {
	fx.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last map[string]any
	for time.Now().Before(deadline) {
		_, out, _ := fx.sys.feDo(http.MethodGet, "/api/v1/trabajos/"+jobID, fx.tok["cli"], nil, nil, nil)
		last, _ = out.(map[string]any)
		if last != nil && ok(last) {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	fx.t.Fatalf("job %s never became %s: %v", jobID, what, last)
}

func escrowIs(v string) func(map[string]any) bool {
	return func(j map[string]any) bool { return j["estado_escrow"] == v }
}

func (fx *feFixture) step(jobID, estado, nota string) {
	fx.t.Helper()
	body := map[string]any{"estado": estado}
	if nota != "" {
		body["nota"] = nota
	}
	fx.must(http.MethodPut, "/api/v1/trabajos/"+jobID+"/status", "pro", body)
}

// dispute opens a dispute as the client, in the frontend's vocabulary when the backend
// takes it and in ours otherwise: the seed needs a disputed job either way.
func (fx *feFixture) dispute(key, jobID string) {
	fx.t.Helper()
	desc := "El trabajo quedó mal terminado y pierde agua por la unión nueva"
	var last string
	for _, tipo := range []string{"calidad", "CALIDAD_TRABAJO"} {
		st, out, raw := fx.sys.feDo(http.MethodPost, "/api/v1/disputas", fx.tok["cli"], map[string]any{
			"trabajo_id": jobID, "tipo": tipo, "descripcion": desc}, nil, nil)
		if m, _ := out.(map[string]any); st == 201 || st == 200 {
			if id, _ := m["id"].(string); id != "" {
				fx.ids[key] = id
				return
			}
		}
		last = fmt.Sprintf("%d %.300s", st, raw)
	}
	fx.t.Fatalf("seed dispute %s on %s: %s", key, jobID, last)
}

// resetTokenFor reads the newest password-reset link mailed to email from the SMTP
// catcher and returns its token.
func (fx *feFixture) resetTokenFor(email string) (string, error) {
	web := fx.sys.env["SMTP_WEB_URL"]
	if web == "" {
		return "", fmt.Errorf("no SMTP catcher")
	}
	re := regexp.MustCompile(`token=([A-Za-z0-9%._~-]+)`)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(web + "api/messages")
		if err == nil {
			var msgs []struct {
				To   []string `json:"to"`
				Text string   `json:"text"`
				HTML string   `json:"html"`
			}
			_ = json.NewDecoder(resp.Body).Decode(&msgs)
			resp.Body.Close()
			for _, m := range msgs { // newest first
				if len(m.To) == 0 || !strings.Contains(strings.Join(m.To, ","), email) {
					continue
				}
				if g := re.FindStringSubmatch(m.Text + m.HTML); g != nil {
					return url.QueryUnescape(g[1])
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	return "", fmt.Errorf("no reset mail for %s", email)
}

// firstWhere lists path as who and returns the id of the first item (in the named
// list of the answer, or the bare array) that match accepts.
func (fx *feFixture) firstWhere(path, who, list string, match func(map[string]any) bool) (string, error) {
	st, out, raw := fx.sys.feDo(http.MethodGet, path, fx.tok[who], nil, nil, nil)
	if st != 200 {
		return "", fmt.Errorf("GET %s → %d %.200s", path, st, raw)
	}
	items, _ := out.([]any)
	if m, ok := out.(map[string]any); ok {
		items, _ = m[list].([]any)
	}
	for _, it := range items {
		if m, _ := it.(map[string]any); m != nil && match(m) {
			if id, _ := m["id"].(string); id != "" {
				return id, nil
			}
		}
	}
	return "", fmt.Errorf("GET %s: no matching item in %.300s", path, raw)
}

// seedFrontend builds the marketplace the frontend's pages show: an admin, a client, an
// approved professional with location, trades, payout and bank account, two pending
// professionals and a new one, a chat, offers in every state, jobs paid through the
// simulator's checkout in every state, reviews, disputes, a portfolio with images and
// fixed-price services.
func seedFrontend(t *testing.T, sys *system) *feFixture {
	t.Helper()
	fx := &feFixture{sys: sys, t: t, tok: map[string]string{}, ids: map[string]string{},
		missing: map[string]string{}, lazy: map[string]func() (string, error){}}
	fx.tok["admin"], _, _ = sys.login("admin@conectar.test", "admin-password-1")

	_, oficios := sys.call(http.MethodGet, "/api/v1/public/oficios", "", nil)
	for _, o := range listOf(oficios) {
		m, _ := o.(map[string]any)
		switch m["nombre"] {
		case "Plomería":
			fx.ids["plomeria"], _ = m["id"].(string)
		case "Electricidad":
			fx.ids["electricidad"], _ = m["id"].(string)
		}
	}
	if fx.ids["plomeria"] == "" || fx.ids["electricidad"] == "" {
		t.Fatalf("seeded trades missing: %v", oficios)
	}

	// Accounts.
	fx.tok["pro"], _, fx.ids["proUser"] = sys.register("juan@example.com", "Juan", "PROFESIONAL", map[string]any{"oficio_id": fx.ids["plomeria"]})
	fx.tok["cli"], _, fx.ids["cliUser"] = sys.register("ana@example.com", "Ana", "CLIENTE", nil)
	fx.tok["pendA"], _, _ = sys.register("pedro@example.com", "Pedro", "PROFESIONAL", map[string]any{"oficio_id": fx.ids["plomeria"]})
	fx.tok["pendB"], _, _ = sys.register("rosa@example.com", "Rosa", "PROFESIONAL", map[string]any{"oficio_id": fx.ids["electricidad"]})
	fx.tok["proNew"], _, _ = sys.register("nico@example.com", "Nicolás", "PROFESIONAL", map[string]any{"oficio_id": fx.ids["electricidad"]})
	fx.tok["pwUser"], _, _ = sys.register("clave@example.com", "Clara", "CLIENTE", nil)
	fx.ids["banUser"] = fx.registerOnly("baneo@example.com", "Bruno", "CLIENTE", nil)
	fx.registerOnly("olvido@example.com", "Olga", "CLIENTE", nil)

	// Avatars, so every avatar the pages show is a real image URL.
	for _, who := range []string{"cli", "pro"} {
		if st, b := sys.upload("/api/v1/users/me/avatar", fx.tok[who], "file", "a.png", "image/png", pngBytes); st != 200 {
			t.Fatalf("seed avatar %s → %d %v", who, st, b)
		}
	}

	// The approved professional: profile, location (Palermo), two trades, KYC, payout.
	fx.must(http.MethodPut, "/api/v1/professional/profile", "pro", map[string]any{"radio_cobertura_km": 15, "tarifa_por_hora": 8000, "descripcion": "Plomero matriculado"})
	fx.must(http.MethodPut, "/api/v1/professional/profile/location", "pro", map[string]any{"latitude": -34.5889, "longitude": -58.4306})
	fx.must(http.MethodPut, "/api/v1/professional/profile/oficios", "pro", map[string]any{"oficio_ids": []string{fx.ids["plomeria"], fx.ids["electricidad"]}})
	fx.submitKYC("pro")
	fx.ids["proProfile"] = fx.profileID("pro")
	fx.must(http.MethodPost, "/api/v1/admin/kyc/approve/"+fx.ids["proProfile"], "admin", nil)
	fx.must(http.MethodPut, "/api/v1/professional/payout-info", "pro", map[string]any{"payout_account": "juan.plomero"})
	// Two professionals waiting for review: one the admin approves, one rejects.
	fx.submitKYC("pendA")
	fx.ids["pendAProfile"] = fx.profileID("pendA")
	fx.submitKYC("pendB")
	fx.ids["pendBProfile"] = fx.profileID("pendB")

	// Portfolio: items with an image each (one read, one edited, one deleted).
	for _, key := range []string{"pf1", "pfEdit", "pfDel"} {
		it := fx.must(http.MethodPost, "/api/v1/professional/portfolio", "pro", map[string]any{"titulo": "Baño completo " + key, "descripcion": "Cañerías nuevas y grifería"})
		fx.ids[key], _ = it["id"].(string)
		st, b := sys.upload("/api/v1/professional/portfolio/"+fx.ids[key]+"/image", fx.tok["pro"], "file", "obra.png", "image/png", pngBytes)
		if st >= 300 {
			t.Fatalf("seed portfolio image → %d %v", st, b)
		}
		if imgs, _ := b["imagenes"].([]any); len(imgs) > 0 {
			if m, _ := imgs[0].(map[string]any); m != nil {
				fx.ids[key+"Img"], _ = m["id"].(string)
				fx.ids[key+"ImgURL"], _ = m["imagen_url"].(string)
			}
		}
	}
	if fx.ids["pfEditImg"] == "" {
		fx.missing["pfEditImg"] = "the portfolio upload answer listed no imagenes[].id"
	}
	// The frontend attaches image URLs it already has: an absolute URL of one of ours.
	if u := fx.ids["pf1ImgURL"]; u != "" && !strings.HasPrefix(u, "http") {
		fx.ids["pf1ImgURL"] = sys.gateway + u
	}

	// Fixed-price services: one read, edited and hired; one deleted.
	for _, key := range []string{"sv1", "svDel"} {
		sv := fx.must(http.MethodPost, "/api/v1/profesional/servicios", "pro", map[string]any{
			"nombre": "Destape de cañerías " + key, "descripcion": "Destape con máquina, garantía 30 días", "precio_fijo": 15000, "oficio_id": fx.ids["plomeria"]})
		fx.ids[key], _ = sv["id"].(string)
	}

	// Catalogue objects the admin edits.
	ofi := fx.must(http.MethodPost, "/api/v1/admin/oficios", "admin", map[string]any{"nombre": "Herrería artística", "descripcion": "Rejas y portones a medida"})
	fx.ids["ofAdmin"], _ = ofi["id"].(string)
	fx.must(http.MethodPost, "/api/v1/admin/servicios-instant", "admin", map[string]any{"nombre": "Cambio de cuerito", "descripcion": "Canilla que gotea", "oficio_id": fx.ids["plomeria"]})

	// The chat, and offers in every state.
	chat := fx.must(http.MethodPost, "/api/v1/chat/conversations", "cli", map[string]any{"profesional_id": fx.ids["proUser"]})
	fx.ids["chat"], _ = chat["chat_id"].(string)
	if fx.ids["chat"] == "" {
		t.Fatalf("seed chat: %v", chat)
	}
	for _, key := range []string{"oOpen", "oAcceptCli", "oAcceptChat", "oRejectCli", "oRejectChat", "oEdit", "oDelete", "oRejected", "oWithdrawn"} {
		fx.offer(key, "Arreglo de pérdida en la cocina ("+key+")", 18000)
	}
	fx.must(http.MethodPost, "/api/v1/cliente/ofertas/"+fx.ids["oRejected"]+"/reject", "cli", nil)
	fx.must(http.MethodPost, "/api/v1/ofertas/"+fx.ids["oWithdrawn"]+"/retirar", "pro", nil)

	// Jobs: one left unpaid, the others paid on the simulator's checkout page.
	paid := []string{"jPaid", "jProgress", "jDone", "jDone2", "jRel1", "jRel2", "jRel3", "jCancelled",
		"jDisp1", "jDisp2", "jForDispute", "jCancelChat", "jCancelCli", "jCancelAdmin", "jRefund", "jLife"}
	links := map[string]string{}
	for _, key := range append([]string{"jPending"}, paid...) {
		o := fx.offer("o_"+key, "Cambio de cañería del baño ("+key+")", 25000.5)
		fx.ids[key], links[key] = fx.accept(o)
	}
	for _, key := range paid {
		payOnCheckout(t, links[key])
	}
	for _, key := range paid {
		fx.waitJob(fx.ids[key], "paid", escrowIs("PAGADO_EN_ESCROW"))
	}
	for _, key := range []string{"jProgress", "jDone", "jDone2", "jRel1", "jRel2", "jRel3"} {
		fx.step(fx.ids[key], "EN_PROCESO", "")
	}
	for _, key := range []string{"jDone", "jDone2", "jRel1", "jRel2", "jRel3"} {
		fx.step(fx.ids[key], "COMPLETADO", "Cañería cambiada y probada")
	}
	for _, key := range []string{"jRel1", "jRel2", "jRel3"} {
		fx.must(http.MethodPost, "/api/v1/cliente/trabajo/"+fx.ids[key]+"/finalizar", "cli", nil)
		fx.waitJob(fx.ids[key], "released", escrowIs("LIBERADO"))
	}
	fx.must(http.MethodPost, "/api/v1/trabajos/"+fx.ids["jCancelled"]+"/cancel", "cli", nil)
	fx.dispute("d1", fx.ids["jDisp1"])
	fx.dispute("d2", fx.ids["jDisp2"])

	// A review with the client's avatar, on the first released job.
	rv := fx.must(http.MethodPost, "/api/v1/resenas", "cli", map[string]any{"trabajo_id": fx.ids["jRel1"], "rating": 5, "texto_resena": "Excelente, muy prolijo"})
	if r, _ := rv["resena"].(map[string]any); r != nil {
		fx.ids["rev1"], _ = r["id"].(string)
	}
	if fx.ids["rev1"] == "" {
		fx.ids["rev1"], _ = rv["id"].(string)
	}

	// Bank account and two withdrawals from the released balance (routes being built:
	// a failure here fails only the calls that use them).
	fx.try("", http.MethodPost, "/api/v1/pagos/cuenta-bancaria", "pro", map[string]any{
		"tipo_cuenta": "cbu", "cbu": "0170099220000067797370", "alias": "juan.plomero", "titular": "Juan Prueba", "banco": "Banco Galicia"}, nil)
	fx.waitBalance(2000)
	fx.try("wApprove", http.MethodPost, "/api/v1/pagos/retiros", "pro", map[string]any{"monto": 1000}, field("id"))
	fx.try("wReject", http.MethodPost, "/api/v1/pagos/retiros", "pro", map[string]any{"monto": 1000}, field("id"))

	// Ids the contract calls find by listing, once the routes exist.
	txOf := func(job string) func() (string, error) {
		return func() (string, error) {
			return fx.firstWhere("/api/v1/pagos/mis-transacciones?page=1&limit=100", "cli", "transacciones",
				func(m map[string]any) bool { return m["trabajo_id"] == fx.ids[job] })
		}
	}
	fx.lazy["txProgress"] = txOf("jProgress")
	fx.lazy["txRelease"] = txOf("jDone2")
	fx.lazy["txRefund"] = txOf("jRefund")
	notif := func(n int) func() (string, error) {
		return func() (string, error) {
			seen := 0
			return fx.firstWhere("/api/v1/notificaciones?page=1&limit=50", "cli", "notificaciones", func(map[string]any) bool {
				seen++
				return seen == n
			})
		}
	}
	fx.lazy["notifRead"] = notif(1)
	fx.lazy["notifDelete"] = notif(2)

	// Notifications arrive asynchronously: wait for some before the reads.
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		_, out, _ := sys.feDo(http.MethodGet, "/api/v1/notificaciones?limit=50", fx.tok["cli"], nil, nil, nil)
		if m, _ := out.(map[string]any); m != nil && len(listOf(m["notificaciones"])) >= 3 {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	return fx
}

// waitBalance waits (without failing: the balance shape is one of the contract's
// calls) until the professional's available balance covers min.
func (fx *feFixture) waitBalance(min float64) {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		_, out, _ := fx.sys.feDo(http.MethodGet, "/api/v1/pagos/balance", fx.tok["pro"], nil, nil, nil)
		m, _ := out.(map[string]any)
		d, ok := m["disponible"].(float64)
		if !ok || d >= min {
			return
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// in is the fixture as seen from subtest t: its failures (and the system's) are t's.
func (fx *feFixture) in(t *testing.T) *feFixture {
	ss := *fx.sys
	ss.t = t
	sub := *fx
	sub.sys, sub.t = &ss, t
	return &sub
}

// do is a JSON call as who, with "{key}" fixture ids filled in the path and body.
func (fx *feFixture) do(method, path, who string, body any) (int, map[string]any, []byte) {
	st, out, raw := fx.sys.feDo(method, "/api/v1"+fx.fill(fx.t, path).(string), fx.tok[who], fx.fill(fx.t, body), nil, nil)
	return st, obj(out), raw
}

// settledXP is the approved professional's XP once it stops moving: XP follows events
// asynchronously, so a snapshot taken mid-flight would blame the wrong call.
func (fx *feFixture) settledXP(t *testing.T) string {
	t.Helper()
	last := ""
	for i := 0; i < 40; i++ {
		_, g, _ := fx.sys.feDo(http.MethodGet, "/api/v1/gamification/user/"+fx.ids["proUser"], "", nil, nil, nil)
		xp := fmt.Sprint(obj(g)["puntos_experiencia"])
		if xp == last {
			return xp
		}
		last = xp
		time.Sleep(500 * time.Millisecond)
	}
	t.Fatalf("the professional's XP never settled (last %s)", last)
	return ""
}

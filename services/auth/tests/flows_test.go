package tests

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

func TestRegisterShapeRulesAndEvent(t *testing.T) {
	h := start(t, nil)
	r := h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "  Ana.Perez@Example.COM ", "password": "secreto123",
		"nombre": "Ana", "apellido": "Pérez"})
	r.Expect(t, 201, "register")
	m := r.Map(t)
	if m["email"] != "ana.perez@example.com" || m["rol"] != "CLIENTE" || m["is_active"] != true || m["es_cliente"] != true ||
		m["es_admin"] != false || m["es_profesional"] != false || m["infracciones_chat"] != float64(0) ||
		m["is_chat_banned"] != false || m["nombre"] != "Ana" || m["apellido"] != "Pérez" {
		t.Fatalf("UserRead: %s", r.Body)
	}
	for _, k := range []string{"id", "fecha_creacion", "avatar_url"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("UserRead lacks %s: %s", k, r.Body)
		}
	}
	if _, ok := m["password_hash"]; ok {
		t.Fatal("hash leaked")
	}

	// Same email in another case: the SPEC's message.
	r = h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "ANA.PEREZ@example.com", "password": "secreto123",
		"nombre": "Ana", "apellido": "Otra"})
	if e := r.ExpectError(t, 400, "duplicate"); e["detail"] != "El email ya está registrado" {
		t.Fatalf("duplicate message: %s", r.Body)
	}
	// ADMIN is never self-registered.
	r = h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "root@example.com", "password": "secreto123",
		"nombre": "R", "apellido": "R", "rol": "ADMIN"})
	r.ExpectError(t, 403, "admin self-registration")
	// Field rules.
	for name, body := range map[string]map[string]any{
		"short password": {"email": "a@example.com", "password": "1234567", "nombre": "A", "apellido": "B"},
		"bad email":      {"email": "not-an-email", "password": "secreto123", "nombre": "A", "apellido": "B"},
		"empty nombre":   {"email": "b@example.com", "password": "secreto123", "nombre": " ", "apellido": "B"},
		"long apellido":  {"email": "c@example.com", "password": "secreto123", "nombre": "A", "apellido": strings.Repeat("x", 101)},
		"unknown rol":    {"email": "d@example.com", "password": "secreto123", "nombre": "A", "apellido": "B", "rol": "JEFE"},
		"bad oficio":     {"email": "e@example.com", "password": "secreto123", "nombre": "A", "apellido": "B", "rol": "PROFESIONAL", "oficio_id": "x"},
	} {
		h.do("POST", "/api/v1/auth/register", "", body).ExpectError(t, 422, name)
	}

	// A PROFESIONAL's trade travels in UserRegistered.
	oficio := "6f1c2d3e-4b5a-4c6d-8e7f-001122334455"
	r = h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "pro@example.com", "password": "secreto123",
		"nombre": "Pro", "apellido": "Fesional", "rol": "PROFESIONAL", "oficio_id": oficio})
	r.Expect(t, 201, "register pro")
	pro := r.Map(t)
	if pro["es_profesional"] != true {
		t.Fatalf("pro: %s", r.Body)
	}
	evs := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjUserRegistered, 2, 5*time.Second)
	if len(evs) != 2 {
		t.Fatalf("UserRegistered events: %d, want 2", len(evs))
	}
	e, err := events.Decode[events.UserRegisteredV1](evs[1])
	if err != nil {
		t.Fatal(err)
	}
	if e.UserID != pro["id"] || e.Rol != "PROFESIONAL" || e.OficioID != oficio || e.Email != "pro@example.com" || e.Nombre != "Pro" {
		t.Fatalf("event: %+v", e)
	}

	// The internal read API.
	r = h.do("GET", "/internal/accounts/"+e.UserID, "", nil)
	r.ExpectError(t, 401, "internal without key")
	req := internalGet(t, h.base+"/internal/accounts/"+e.UserID)
	req.Expect(t, 200, "internal account")
	ia := req.Map(t)
	if ia["id"] != e.UserID || ia["oficio_id"] != oficio || ia["rol"] != "PROFESIONAL" || ia["is_active"] != true || ia["fecha_creacion"] == nil {
		t.Fatalf("internal account: %s", req.Body)
	}
	internalGet(t, h.base+"/internal/accounts/6f1c2d3e-4b5a-4c6d-8e7f-001122334400").ExpectError(t, 404, "internal unknown")
}

func decodeSegment(t *testing.T, s string) map[string]any {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestLoginTokensRefreshLogout(t *testing.T) {
	h := start(t, nil)
	u := h.register("Juan@Example.com", "secreto123", "CLIENTE")

	// OAuth2 password form, as the frontend sends it (email in another case).
	r := do(t, "POST", h.base+"/api/v1/auth/login", "", "application/x-www-form-urlencoded",
		form(map[string]string{"username": "JUAN@example.com", "password": "secreto123"}))
	r.Expect(t, 200, "form login")
	m := r.Map(t)
	// A working day by default: the web frontend never refreshes (ACCESS_TOKEN_TTL).
	if m["token_type"] != "bearer" || m["expires_in"].(float64) != 8*3600 {
		t.Fatalf("login answer: %s", r.Body)
	}
	access, refresh := m["access_token"].(string), m["refresh_token"].(string)
	parts := strings.Split(access, ".")
	if len(parts) != 3 {
		t.Fatal("not a JWT")
	}
	hdr, cl := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
	if hdr["alg"] != "EdDSA" || hdr["kid"] == "" || hdr["kid"] == nil {
		t.Fatalf("header: %v", hdr)
	}
	if cl["sub"] != u.ID || cl["rol"] != "CLIENTE" || cl["email"] != "juan@example.com" || cl["jti"] == nil {
		t.Fatalf("claims: %v", cl)
	}
	life := cl["exp"].(float64) - cl["iat"].(float64)
	if life != 8*3600 {
		t.Fatalf("token lifetime %vs", life)
	}
	// The kid is published.
	jr := h.do("GET", "/api/v1/auth/.well-known/jwks.json", "", nil)
	jr.Expect(t, 200, "jwks")
	if !strings.Contains(string(jr.Body), hdr["kid"].(string)) || strings.Contains(string(jr.Body), `"d"`) {
		t.Fatalf("jwks: %s", jr.Body)
	}
	h.do("GET", "/auth/.well-known/jwks.json", "", nil).Expect(t, 200, "jwks without prefix")

	// JSON login and multipart form login work too.
	a2, _ := h.login("juan@example.com", "secreto123")
	if a2 == access {
		t.Fatal("tokens must differ (jti)")
	}
	mp := "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\njuan@example.com\r\n--XX\r\n" +
		"Content-Disposition: form-data; name=\"password\"\r\n\r\nsecreto123\r\n--XX--\r\n"
	do(t, "POST", h.base+"/api/v1/auth/login", "", "multipart/form-data; boundary=XX", mp).Expect(t, 200, "multipart login")

	// validate-token.
	r = h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": access})
	r.Expect(t, 200, "validate")
	if v := r.Map(t); v["user_id"] != u.ID || v["rol"] != "CLIENTE" || v["email"] != "juan@example.com" {
		t.Fatalf("validate: %s", r.Body)
	}
	h.do("POST", "/api/v1/auth/validate-token", access, nil).Expect(t, 200, "validate by header")
	h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": "garbage"}).ExpectError(t, 401, "validate garbage")

	// Bad credentials: same answer for a wrong password and an unknown email.
	r1 := h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "juan@example.com", "password": "wrongpass"})
	r2 := h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": "nadie@example.com", "password": "wrongpass"})
	e1, e2 := r1.ExpectError(t, 401, "wrong password"), r2.ExpectError(t, 401, "unknown email")
	if e1["detail"] != "Email o contraseña incorrectos" || string(r1.Body) != string(r2.Body) {
		t.Fatalf("answers differ: %s vs %s", r1.Body, r2.Body)
	}
	_ = e2

	// Refresh rotates.
	r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	r.Expect(t, 200, "refresh")
	m = r.Map(t)
	refresh2 := m["refresh_token"].(string)
	if refresh2 == refresh || m["access_token"] == "" {
		t.Fatalf("refresh did not rotate: %s", r.Body)
	}
	h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": m["access_token"].(string)}).Expect(t, 200, "refreshed access")
	// Reusing the rotated token revokes the family: the successor dies too.
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh}).ExpectError(t, 401, "reuse")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh2}).ExpectError(t, 401, "successor after reuse")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": "nope"}).ExpectError(t, 401, "unknown refresh")

	// Logout revokes the session's refresh token; other sessions live on.
	_, ra := h.login("juan@example.com", "secreto123")
	_, rb := h.login("juan@example.com", "secreto123")
	h.do("POST", "/api/v1/auth/logout", "", map[string]string{"refresh_token": ra}).Expect(t, 200, "logout")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": ra}).ExpectError(t, 401, "refresh after logout")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": rb}).Expect(t, 200, "other session")

	// Refresh tokens expire.
	_, rc := h.login("juan@example.com", "secreto123")
	h.clock.Advance(31 * 24 * time.Hour)
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": rc}).ExpectError(t, 401, "expired refresh")
}

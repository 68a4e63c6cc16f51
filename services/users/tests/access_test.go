package tests

import (
	"strings"
	"testing"
	"time"
)

// TestBannedUserTokenRefusedOnNextRequest: an admin bans through auth; the user's live
// access token (still unexpired) is refused by users within a second, through the
// replicated ban list users' verifier honours (env.Bans); unban restores it.
func TestBannedUserTokenRefusedOnNextRequest(t *testing.T) {
	s := startBoth(t)
	adm := s.admin("admin@example.com")
	u := s.account("malo@example.com", "CLIENTE")
	testTok := s.env.Keys.Token(u.ID, "CLIENTE", u.Email) // also a token of the test key
	s.get("/api/v1/users/me", u.Access).Expect(t, 200, "before the ban")
	s.get("/api/v1/users/me", testTok).Expect(t, 200, "before the ban (test key)")

	do(t, "POST", s.authURL+"/api/v1/admin/users/"+u.ID+"/ban", adm.Access, "", nil).Expect(t, 200, "ban")
	t0 := time.Now()
	var r resp
	for {
		r = s.get("/api/v1/users/me", u.Access)
		if r.Status == 401 || time.Since(t0) > time.Second {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	m := r.ExpectError(t, 401, "live token after the ban (within 1s)")
	t.Logf("banned token refused %s after the ban answered", time.Since(t0))
	if !strings.Contains(m["detail"].(string), "desactivada") {
		t.Fatalf("ban message: %s", r.Body)
	}
	s.get("/api/v1/users/me", testTok).ExpectError(t, 401, "test-key token after the ban")
	s.get("/api/v1/users/search?q=ma", u.Access).ExpectError(t, 401, "search after the ban")

	// The is_active replica follows.
	deadline := time.Now().Add(5 * time.Second)
	for internalGet(t, s.usersURL+"/internal/users/"+u.ID).Map(t)["is_active"] != false {
		if time.Now().After(deadline) {
			t.Fatal("is_active replica not updated")
		}
		time.Sleep(20 * time.Millisecond)
	}
	do(t, "POST", s.authURL+"/api/v1/admin/users/"+u.ID+"/unban", adm.Access, "", nil).Expect(t, 200, "unban")
	deadline = time.Now().Add(time.Second)
	for s.get("/api/v1/users/me", testTok).Status != 200 {
		if time.Now().After(deadline) {
			t.Fatal("unban not effective within a second")
		}
		time.Sleep(5 * time.Millisecond)
	}
	deadline = time.Now().Add(5 * time.Second)
	for s.get("/api/v1/users/me", testTok).Map(t)["is_active"] != true {
		if time.Now().After(deadline) {
			t.Fatal("is_active replica not restored")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRenameReachesAuthListing: a rename in users reaches auth's admin listing.
func TestRenameReachesAuthListing(t *testing.T) {
	s := startBoth(t)
	adm := s.admin("admin@example.com")
	u := s.account("renombrar@example.com", "CLIENTE")
	do(t, "PUT", s.usersURL+"/api/v1/users/me", u.Access, "", map[string]string{"nombre": "Rosa", "apellido": "Nueva"}).Expect(t, 200, "rename")
	deadline := time.Now().Add(5 * time.Second)
	for {
		l := do(t, "GET", s.authURL+"/api/v1/admin/users/search?email=renombrar", adm.Access, "", nil).List(t)
		if len(l) == 1 && l[0].(map[string]any)["nombre"] == "Rosa" && l[0].(map[string]any)["apellido"] == "Nueva" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("auth listing not renamed: %v", l)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestRoleMatrixUsers: every users endpoint for anonymous, each role and other users.
func TestRoleMatrixUsers(t *testing.T) {
	s := startBoth(t)
	adm := s.admin("admin@example.com")
	cli := s.account("cli@example.com", "CLIENTE")
	pro := s.account("pro@example.com", "PROFESIONAL")
	tokens := map[string]string{"anonymous": "", "cliente": cli.Access, "profesional": pro.Access, "admin": adm.Access}
	ids := map[string]string{"cliente": cli.ID, "profesional": pro.ID, "admin": adm.ID}
	for who, tok := range tokens {
		want := 200
		if who == "anonymous" {
			want = 401
		}
		r := s.get("/api/v1/users/me", tok)
		if r.Status != want {
			t.Errorf("GET /users/me as %s: %d", who, r.Status)
		}
		// Each caller sees only itself: there is no path to another user's profile.
		if want == 200 && r.Map(t)["id"] != ids[who] {
			t.Errorf("GET /users/me as %s returned another user: %s", who, r.Body)
		}
		if r := do(t, "PUT", s.usersURL+"/api/v1/users/me", tok, "", map[string]string{"apellido": "X" + who}); r.Status != want {
			t.Errorf("PUT /users/me as %s: %d", who, r.Status)
		}
		if r := s.get("/api/v1/users/search?q=example", tok); r.Status != want {
			t.Errorf("search as %s: %d", who, r.Status)
		}
		ct, body := multipartBody(t, "file", "a.png", pngBytes(t))
		if r := do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", tok, ct, body); r.Status != want {
			t.Errorf("avatar as %s: %d", who, r.Status)
		}
	}
	// The PUT of one user did not touch the others.
	if m := s.get("/api/v1/users/me", cli.Access).Map(t); m["apellido"] != "Xcliente" {
		t.Fatalf("cliente apellido: %v", m["apellido"])
	}
	// Internal routes need the internal key, whatever the token.
	for who, tok := range tokens {
		r := do(t, "GET", s.usersURL+"/internal/users/"+cli.ID, tok, "", nil)
		r.ExpectError(t, 401, "internal as "+who)
	}
	internalGet(t, s.usersURL+"/internal/users/"+cli.ID).Expect(t, 200, "internal with key")
	internalGet(t, s.usersURL+"/internal/users/6f1c2d3e-4b5a-4c6d-8e7f-001122334400").ExpectError(t, 404, "internal unknown")
	internalGet(t, s.usersURL+"/internal/users/nope").ExpectError(t, 404, "internal malformed")
}

func TestBadBodiesUsers(t *testing.T) {
	s := startBoth(t)
	u := s.account("cuerpo@example.com", "CLIENTE")
	for _, c := range []struct {
		name, ct, body string
		want           int
	}{
		{"malformed", "application/json", `{"nombre": `, 422},
		{"array", "application/json", `[]`, 422},
		{"oversized", "application/json", `{"nombre":"` + strings.Repeat("a", 2<<20) + `"}`, 413},
		{"text", "text/plain", "hola", 415},
		{"form", "application/x-www-form-urlencoded", "nombre=x", 415},
		{"wrong type", "application/json", `{"nombre": ["x"]}`, 422},
	} {
		do(t, "PUT", s.usersURL+"/api/v1/users/me", u.Access, c.ct, c.body).ExpectError(t, c.want, c.name)
	}
	// A broken multipart body is refused by the HTTP layer (400) before the handler.
	if r := do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", u.Access, "multipart/form-data; boundary=x", "garbage"); r.Status != 400 && r.Status != 422 {
		t.Fatalf("broken multipart: %d", r.Status)
	} else {
		r.ExpectError(t, r.Status, "broken multipart")
	}
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", u.Access, "multipart/form-data", "garbage").ExpectError(t, 422, "multipart without boundary")
	s.get("/api/v1/users/search?q="+strings.Repeat("a", 101), u.Access).ExpectError(t, 400, "long search")
}

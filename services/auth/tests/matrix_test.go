package tests

import (
	"strings"
	"testing"
)

// TestRoleMatrix checks every identity endpoint of auth for anonymous callers, each role
// and, where a target exists, another user.
func TestRoleMatrix(t *testing.T) {
	h := start(t, map[string]string{"FORGOT_RATE_PER_ACCOUNT": "100"})
	adm := h.admin("admin@example.com")
	cli := h.user("cli@example.com", "CLIENTE")
	pro := h.user("pro@example.com", "PROFESIONAL")
	target := h.register("target@example.com", "secreto123", "CLIENTE")
	tokens := map[string]string{"anonymous": "", "cliente": cli.Access, "profesional": pro.Access, "admin": adm.Access}

	type row struct {
		method, path string
		body         any
		want         map[string]int // caller → status
	}
	adminOnly := func(ok int) map[string]int {
		return map[string]int{"anonymous": 401, "cliente": 403, "profesional": 403, "admin": ok}
	}
	rows := []row{
		{"GET", "/api/v1/admin/users", nil, adminOnly(200)},
		{"GET", "/api/v1/admin/users/search?email=target", nil, adminOnly(200)},
		// Another user's account: only an admin may ban it (and only once).
		{"POST", "/api/v1/admin/users/" + target.ID + "/ban", nil, adminOnly(200)},
		{"POST", "/api/v1/admin/users/" + target.ID + "/unban", nil, adminOnly(200)},
		{"POST", "/api/v1/auth/admin/keys/rotate", nil, adminOnly(200)},
		// Any authenticated user, own account only (wrong current password → 400).
		{"POST", "/api/v1/users/me/change-password", map[string]string{"current_password": "no-es-esta", "new_password": "nuevaclave1"},
			map[string]int{"anonymous": 401, "cliente": 400, "profesional": 400, "admin": 400}},
		// Public endpoints.
		{"GET", "/api/v1/auth/.well-known/jwks.json", nil, map[string]int{"anonymous": 200, "cliente": 200, "profesional": 200, "admin": 200}},
		{"POST", "/api/v1/auth/forgot-password", map[string]string{"email": "target@example.com"},
			map[string]int{"anonymous": 200, "cliente": 200, "profesional": 200, "admin": 200}},
		{"POST", "/api/v1/auth/validate-token", nil, map[string]int{"anonymous": 401, "cliente": 200, "profesional": 200, "admin": 200}},
		{"POST", "/api/v1/auth/reset-password", map[string]string{"token": "x", "new_password": "nuevaclave1"},
			map[string]int{"anonymous": 400, "cliente": 400, "profesional": 400, "admin": 400}},
		{"POST", "/api/v1/auth/refresh", map[string]string{"refresh_token": "x"},
			map[string]int{"anonymous": 401, "cliente": 401, "profesional": 401, "admin": 401}},
	}
	for _, rw := range rows {
		for _, who := range []string{"anonymous", "cliente", "profesional", "admin"} {
			want := rw.want[who]
			// ban/unban as admin alternate: the unban row runs after the ban row.
			r := h.do(rw.method, rw.path, tokens[who], rw.body)
			if r.Status != want {
				t.Errorf("%s %s as %s: %d, want %d: %s", rw.method, rw.path, who, r.Status, want, r.Body)
			}
			if r.Status >= 400 {
				r.ExpectError(t, r.Status, who+" "+rw.path)
			}
		}
	}
	// Register and login are public; an authenticated caller gets the same.
	for who, tok := range tokens {
		email := strings.ReplaceAll(who, " ", "") + "-new@example.com"
		r := h.do("POST", "/api/v1/auth/register", tok, map[string]any{"email": email, "password": "secreto123", "nombre": "N", "apellido": "A"})
		r.Expect(t, 201, "register as "+who)
		h.do("POST", "/api/v1/auth/login", tok, map[string]string{"email": email, "password": "secreto123"}).Expect(t, 200, "login as "+who)
	}
	// A user can never act on another through its own token: change-password only
	// touches the caller (the target's password still works).
	h.login(target.Email, "secreto123")
}

// TestBadBodies: malformed, oversized and wrong-type bodies get 4xx JSON errors.
func TestBadBodies(t *testing.T) {
	h := start(t, nil)
	u := h.user("cuerpos@example.com", "CLIENTE")
	big := `{"email":"` + strings.Repeat("a", 2<<20) + `"}`
	endpoints := []struct {
		path, token string
	}{
		{"/api/v1/auth/register", ""},
		{"/api/v1/auth/login", ""},
		{"/api/v1/auth/refresh", ""},
		{"/api/v1/auth/logout", ""},
		{"/api/v1/auth/forgot-password", ""},
		{"/api/v1/auth/reset-password", ""},
		{"/api/v1/auth/validate-token", ""},
		{"/api/v1/users/me/change-password", u.Access},
	}
	cases := []struct {
		name, ct, body string
		want           []int
	}{
		{"malformed", "application/json", `{"email": `, []int{422}},
		{"array", "application/json", `[1,2,3]`, []int{422}},
		{"wrong types", "application/json", `{"email": 5, "password": true, "token": 1, "refresh_token": [], "current_password": {}, "new_password": 1}`, []int{422}},
		{"trailing", "application/json", `{"email":"a@b.co"} {}`, []int{422}},
		{"oversized", "application/json", big, []int{413}},
		{"text/plain", "text/plain", `hola`, []int{415}},
		{"xml", "application/xml", `<a/>`, []int{415}},
		{"bad content type", "application/json; =x", `{}`, []int{415}},
		{"null", "application/json", `null`, []int{400, 401, 422}},
		{"binary", "application/json", "\x00\xff\xfe", []int{422}},
	}
	for _, e := range endpoints {
		for _, c := range cases {
			r := do(t, "POST", h.base+e.path, e.token, c.ct, c.body)
			ok := false
			for _, w := range c.want {
				ok = ok || r.Status == w
			}
			if !ok {
				t.Errorf("%s %s: %d, want %v: %.200s", e.path, c.name, r.Status, c.want, r.Body)
				continue
			}
			r.ExpectError(t, r.Status, e.path+" "+c.name)
		}
	}
	// Login: form without fields, unknown form media type.
	do(t, "POST", h.base+"/api/v1/auth/login", "", "application/x-www-form-urlencoded", "username=").ExpectError(t, 422, "empty form")
	do(t, "POST", h.base+"/api/v1/auth/login", "", "multipart/form-data", "x").ExpectError(t, 422, "multipart without boundary")
	do(t, "POST", h.base+"/api/v1/auth/login", "", "application/x-www-form-urlencoded", "%zz").ExpectError(t, 422, "bad form")
}

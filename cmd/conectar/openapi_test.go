package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/testkit"
)

// exercised are the documented services whose every operation this test drives
// through the contract (professionals' are driven by TestFrontendContract's calls once
// system.call goes through the contract).
var exercised = []string{"auth", "users"}

// TestOpenAPI: /docs/openapi.json of a running system is valid OpenAPI 3.1 with every
// public operation of the services that publish a document, and auth's and users'
// operations, driven through the gateway, answer exactly what it says (the contract); a
// contract fed wrong answers reports them.
func TestOpenAPI(t *testing.T) {
	sys := startSystem(t, nil)
	c := loadContract(t, t, sys.gateway)

	checkMerged(t, sys, c)
	exerciseAuthAndUsers(t, sys, c)
	if missing := c.unexercised(exercised...); len(missing) > 0 {
		t.Errorf("operations of %v not exercised through the contract:\n  %s", exercised, strings.Join(missing, "\n  "))
	}
	contractFails(t, sys)
}

// checkMerged compares the merged document with each service's own: a service that
// publishes one (platform/api) has every public operation in the merged document; one
// that does not yet is listed by prefix. auth, users and professionals must publish.
func checkMerged(t *testing.T, sys *system, c *contract) {
	t.Helper()
	for _, svc := range serviceNames() {
		resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%s/openapi.json", sys.env[strings.ToUpper(svc)+"_PORT"]))
		if err != nil {
			t.Fatal(err)
		}
		var own api.Document
		if resp.StatusCode == http.StatusOK {
			err = json.NewDecoder(resp.Body).Decode(&own)
		}
		resp.Body.Close()
		if err != nil || own.OpenAPI == "" {
			if slices.Contains([]string{"auth", "users", "professionals"}, svc) {
				t.Errorf("%s publishes no document: %d %v", svc, resp.StatusCode, err)
			}
			if !c.undocumented[svc] {
				t.Errorf("%s has no document and is not listed by prefix", svc)
			}
			continue
		}
		if own.OpenAPI != api.Version {
			t.Errorf("%s /openapi.json is %q", svc, own.OpenAPI)
		}
		if c.undocumented[svc] {
			t.Errorf("%s publishes a document but is listed as undocumented", svc)
		}
		for _, op := range api.Operations(&own) {
			method, path, _ := strings.Cut(op, " ")
			if !strings.HasPrefix(path, "/api/v1/") {
				continue
			}
			item := c.doc.Paths.Find(path)
			if item == nil || item.GetOperation(method) == nil {
				t.Errorf("%s's %s is not in the gateway's document", svc, op)
			}
		}
	}
	if strings.Contains(c.doc.Info.Description, "routed to another service") {
		t.Errorf("a service describes paths the gateway does not route to it: %s", c.doc.Info.Description)
	}
	if c.doc.Components.SecuritySchemes["bearer"] == nil || c.doc.Components.Schemas["ErrorBody"] == nil {
		t.Errorf("the bearer scheme and the error shape must be components")
	}
}

// exerciseAuthAndUsers calls every public operation of auth and users through the
// contract, answers and refusals both.
func exerciseAuthAndUsers(t *testing.T, sys *system, c *contract) {
	t.Helper()
	g := sys.gateway
	call := func(method, path, token string, body any) (int, map[string]any) {
		return c.call(g, method, path, token, body)
	}
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

	want("jwks", 200)(call("GET", "/api/v1/auth/.well-known/jwks.json", "", nil))
	reg := map[string]any{"email": "contrato@example.com", "password": "password-123", "nombre": "Carla", "apellido": "Contrato", "rol": "CLIENTE"}
	st, user := call("POST", "/api/v1/auth/register", "", reg)
	want("register", 201)(st, user)
	want("register again", 400)(call("POST", "/api/v1/auth/register", "", reg))
	want("register invalid", 422)(call("POST", "/api/v1/auth/register", "", map[string]any{"email": "x"}))
	want("register admin", 403)(call("POST", "/api/v1/auth/register", "", map[string]any{
		"email": "a2@example.com", "password": "password-123", "nombre": "A", "apellido": "B", "rol": "ADMIN"}))

	// Login in its three encodings.
	st, pair := c.form(g, "/api/v1/auth/login", url.Values{"username": {"contrato@example.com"}, "password": {"password-123"}})
	want("login form", 200)(st, pair)
	want("login multipart", 200)(c.multipart(g, "/api/v1/auth/login", "", map[string]string{
		"username": "contrato@example.com", "password": "password-123"}, nil))
	st, pair = call("POST", "/api/v1/auth/login", "", map[string]any{"email": "contrato@example.com", "password": "password-123"})
	want("login json", 200)(st, pair)
	want("login wrong", 401)(call("POST", "/api/v1/auth/login", "", map[string]any{"email": "contrato@example.com", "password": "nope-nope-1"}))
	token, refresh := pair["access_token"].(string), pair["refresh_token"].(string)

	st, pair = call("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh})
	want("refresh", 200)(st, pair)
	want("refresh reused", 401)(call("POST", "/api/v1/auth/refresh", "", map[string]any{"refresh_token": refresh}))
	st, pair = c.form(g, "/api/v1/auth/login", url.Values{"username": {"contrato@example.com"}, "password": {"password-123"}})
	want("login again", 200)(st, pair)
	token, refresh = pair["access_token"].(string), pair["refresh_token"].(string)

	want("validate-token", 200)(call("POST", "/api/v1/auth/validate-token", token, nil))
	want("validate-token none", 401)(call("POST", "/api/v1/auth/validate-token", "", nil))
	want("forgot", 200)(call("POST", "/api/v1/auth/forgot-password", "", map[string]any{"email": "contrato@example.com"}))
	want("reset bad token", 400)(call("POST", "/api/v1/auth/reset-password", "", map[string]any{
		"token": "not-a-token", "new_password": "password-456"}))

	// users
	st, me := call("GET", "/api/v1/users/me", token, nil)
	want("me", 200)(st, me)
	want("me without token", 401)(call("GET", "/api/v1/users/me", "", nil))
	want("put me", 200)(call("PUT", "/api/v1/users/me", token, map[string]any{"nombre": "Carla María", "telefono": "+54 11 5555-0000"}))
	want("put me email", 400)(call("PUT", "/api/v1/users/me", token, map[string]any{"email": "otra@example.com"}))
	st, me = c.multipart(g, "/api/v1/users/me/avatar", token, nil, pngBytes)
	want("avatar", 200)(st, me)
	avatar, _ := me["avatar_url"].(string)
	if !strings.HasPrefix(avatar, "http") {
		avatar = g + avatar
	}
	resp, err := c.client().Get(avatar)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("avatar fetch: %v %v", resp, err)
	}
	resp.Body.Close()
	want("avatar not an image", 400)(c.multipart(g, "/api/v1/users/me/avatar", token, nil, []byte("hello")))
	want("search", 200)(call("GET", "/api/v1/users/search?q=carla", token, nil))
	want("search short", 400)(call("GET", "/api/v1/users/search?q=c", token, nil))

	// Admin calls, and the role check.
	st, apair := c.form(g, "/api/v1/auth/login", url.Values{"username": {sys.env["ADMIN_EMAIL"]}, "password": {sys.env["ADMIN_PASSWORD"]}})
	want("admin login", 200)(st, apair)
	admin := apair["access_token"].(string)
	want("admin list as client", 403)(call("GET", "/api/v1/admin/users", token, nil))
	want("admin list", 200)(call("GET", "/api/v1/admin/users?page=1&limit=5", admin, nil))
	want("admin search", 200)(call("GET", "/api/v1/admin/users/search?email=contrato", admin, nil))
	want("admin metrics", 200)(call("GET", "/api/v1/admin/metrics/users", admin, nil))
	id, _ := user["id"].(string)
	want("ban unknown", 404)(call("POST", "/api/v1/admin/users/00000000-0000-0000-0000-000000000001/ban", admin, nil))
	want("ban", 200)(call("POST", "/api/v1/admin/users/"+id+"/ban", admin, nil))
	// The ban reaches every component through the replicated ban list: soon, not at once.
	testkit.Eventually(t, 10*time.Second, "the ban refuses the token", func() bool {
		st, _ := call("GET", "/api/v1/users/me", token, nil)
		return st == 401
	})
	want("unban", 200)(call("POST", "/api/v1/admin/users/"+id+"/unban", admin, nil))
	want("unban again", 400)(call("POST", "/api/v1/admin/users/"+id+"/unban", admin, nil))

	// The session ended by the ban: sign in again, change the password, log out.
	st, pair = c.form(g, "/api/v1/auth/login", url.Values{"username": {"contrato@example.com"}, "password": {"password-123"}})
	want("login after unban", 200)(st, pair)
	token, refresh = pair["access_token"].(string), pair["refresh_token"].(string)
	// The unban travels the same replicated list: until it reaches the users service the
	// new token is refused as banned.
	testkit.Eventually(t, 10*time.Second, "the unban admits the token", func() bool {
		st, _ := call("GET", "/api/v1/users/me", token, nil)
		return st == 200
	})
	want("change password wrong", 400)(call("POST", "/api/v1/users/me/change-password", token, map[string]any{
		"current_password": "not-it-123", "new_password": "password-456"}))
	want("change password", 200)(call("POST", "/api/v1/users/me/change-password", token, map[string]any{
		"current_password": "password-123", "new_password": "password-456"}))
	want("logout", 200)(call("POST", "/api/v1/auth/logout", "", map[string]any{"refresh_token": refresh}))
	// Last: a token signed with a brand-new key is refused for up to the JWKS clients'
	// MinRefresh (2 s) after their last fetch.
	want("rotate keys", 200)(call("POST", "/api/v1/auth/admin/keys/rotate", admin, nil))
}

// contractFails feeds a contract answers the document does not allow and expects each
// reported: the contract is what makes drift fail a test, so it must be able to fail.
func contractFails(t *testing.T, sys *system) {
	t.Helper()
	rec := &recorder{}
	c := loadContract(t, rec, sys.gateway)
	c.next = tamper{next: http.DefaultTransport}
	g := sys.gateway
	st, _ := c.call(g, "POST", "/api/v1/auth/register", "", map[string]any{
		"email": "tamper@example.com", "password": "password-123", "nombre": "T", "apellido": "T"})
	if st != 201 {
		t.Fatalf("register → %d", st)
	}
	_, pair := c.call(g, "POST", "/api/v1/auth/login", "", map[string]any{"email": "tamper@example.com", "password": "password-123"})
	token, _ := pair["access_token"].(string)
	// exerciseAuthAndUsers ended by rotating the signing keys: this token is signed with
	// the new key, refused until the services' JWKS clients refetch (MinRefresh). Wait,
	// or every case below would see invalid_token instead of what it tampers with.
	testkit.Eventually(t, 10*time.Second, "the new signing key is known", func() bool {
		st, _ := sys.call(http.MethodGet, "/api/v1/users/me", token, nil)
		return st == 200
	})
	if rec.count() != 0 {
		t.Fatalf("untampered exchanges reported: %v", rec.all())
	}
	for _, tc := range []struct {
		name, method, path, token, want string
	}{
		{"undocumented field", "GET", "/api/v1/users/me", token, "does not match"},
		{"undocumented status", "POST", "/api/v1/auth/validate-token", token, "status is not supported"},
		{"undocumented error code", "GET", "/api/v1/users/me", "", "does not match"},
		{"undocumented route", "GET", "/api/v1/auth/no-such-call", "", "not in the document"},
	} {
		before := rec.count()
		c.call(g, tc.method, tc.path, tc.token, nil)
		got := rec.since(before)
		if len(got) != 1 || !strings.Contains(got[0], tc.want) {
			t.Errorf("%s: reported %q, want one report containing %q", tc.name, got, tc.want)
		}
	}
	// A request with a field the document does not have, which the service ignores and
	// accepts: the system test sending it is out of date with the document.
	before := rec.count()
	if st, _ := c.call(g, "PUT", "/api/v1/users/me", token, map[string]any{"nombre": "T", "apodo": "x"}); st != 200 {
		t.Fatalf("PUT /users/me → %d", st)
	}
	if got := rec.since(before); len(got) != 1 || !strings.Contains(got[0], "accepted a request the document calls invalid") {
		t.Errorf("undocumented request field: reported %q", got)
	}
	// A service without a document yet is routed but not checked.
	before = rec.count()
	c.call(g, "GET", "/api/v1/notificaciones", "", nil)
	if got := rec.since(before); len(got) != 0 {
		t.Errorf("an undocumented service's route was checked: %q", got)
	}
}

// tamper breaks answers the way drift would: a field the document does not have (GET
// /users/me 200), a status it does not list (validate-token 200 → 203), an error code it
// does not list (GET /users/me 401).
type tamper struct{ next http.RoundTripper }

func (tp tamper) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := tp.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	switch {
	case req.Method == http.MethodGet && req.URL.Path == "/api/v1/users/me" && resp.StatusCode == 200:
		m["sobra"] = true
	case req.URL.Path == "/api/v1/users/me" && resp.StatusCode == 401:
		m["code"] = "made_up"
	case req.URL.Path == "/api/v1/auth/validate-token" && resp.StatusCode == 200:
		resp.StatusCode = 203
	}
	if m != nil {
		raw, _ = json.Marshal(m)
	}
	resp.Body = io.NopCloser(bytes.NewReader(raw))
	resp.ContentLength = int64(len(raw))
	return resp, nil
}

// recorder collects what a contract reports.
type recorder struct {
	mu   sync.Mutex
	msgs []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.msgs = append(r.msgs, fmt.Sprintf(format, args...))
}

func (r *recorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.msgs)
}

func (r *recorder) since(n int) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs[n:])
}

func (r *recorder) all() []string { return r.since(0) }

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/logx"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/auth"
)

// TestRoleMatrix is issue #14's role and owner matrix, generated from the route table
// as the gateway publishes it (/docs/openapi.json, merged from every service's
// platform/api registry) rather than from a hand list: a route added tomorrow is tried
// tomorrow. For every authenticated operation it sends no token, an expired token signed
// with auth's real key, a token of each role the operation does not allow, and the
// token of a banned client and of a banned professional, through the gateway and
// straight to the owning service; operations with a path id are called with a random
// and with the all-zero UUID by every allowed role, and for the owner-scoped objects
// (job, offer, chat, review, dispute, portfolio item, withdrawal, KYC document,
// notification) with a real id, in the path or in the body, by someone who is not a
// party. Internal operations (each service's own document) must not be reachable
// through the gateway nor without the internal key; the WebSocket must not connect an
// expired or banned token. Every one of these must be refused: never 2xx, never 5xx.
// Public and optional operations are listed and skipped (an optional one still refuses
// an expired token), and there must stay few of them. The document's role data itself
// must follow roleDataProblems' rule.
func TestRoleMatrix(t *testing.T) {
	sys := startSystem(t, nil)
	doc := fetchAPIDocument(t, sys.gateway+"/docs/openapi.json")
	ops := matrixOps(doc)
	// An exception naming no operation any more is removed, not kept "just in case".
	for _, exceptions := range []map[string]string{anyRoleAdmin, strangerAnswers} {
		for key := range exceptions {
			if !slices.ContainsFunc(ops, func(op matrixOp) bool { return op.key() == key }) {
				t.Errorf("exception %q names no operation of the document", key)
			}
		}
	}
	if problems := roleDataProblems(ops); len(problems) > 0 {
		t.Errorf("operations whose role data is missing or breaks a rule:\n  %s", strings.Join(problems, "\n  "))
	}

	var open []string
	var authed []matrixOp
	for _, op := range ops {
		switch op.Access {
		case string(api.Authenticated):
			authed = append(authed, op)
		case string(api.Public), string(api.Optional):
			open = append(open, op.Access+" "+op.key())
		case string(api.Internal):
			t.Errorf("%s is internal but the gateway's document lists it", op.key())
		}
	}
	// A public operation is a door without a lock: each one should be a decision, so a
	// sudden growth of the list is a finding in itself.
	const maxOpen = 45
	t.Logf("public/optional operations skipped (%d):\n  %s", len(open), strings.Join(open, "\n  "))
	if len(open) >= maxOpen {
		t.Errorf("%d public/optional operations, want fewer than %d: was one meant to be authenticated?", len(open), maxOpen)
	}
	if len(authed) < 150 {
		t.Fatalf("only %d authenticated operations in the document: is it the merged one?", len(authed))
	}

	m := &matrix{t: t, sys: sys, hc: &http.Client{Timeout: 20 * time.Second}, checks: map[string]int{}, schemas: doc.Components.Schemas}
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")
	cliTok, _, cliID := sys.register("rm-cliente@conectar.test", "Rol", "CLIENTE", nil)
	proTok, _, _ := sys.register("rm-pro@conectar.test", "Rol", "PROFESIONAL", nil)
	byRole := map[string]string{authn.RoleCliente: cliTok, authn.RoleProfesional: proTok, authn.RoleAdmin: adminTok}

	expired := m.expiredToken(cliID)

	// Canary: the matrix's own check reports an operation that lets the caller in. Its
	// every refusal below is only worth something if this one is caught.
	rec := &recorder{}
	canary := &matrix{t: t, sys: sys, hc: m.hc, checks: map[string]int{}, schemas: m.schemas, rep: rec}
	canary.expect(findOp(t, ops, http.MethodGet, "/api/v1/users/me"), "canary", cliTok, nil, 401, 403, 404)
	if rec.count() != 1 {
		t.Fatalf("the matrix did not report GET /users/me answering its own user: %v", rec.msgs)
	}

	// No token, an expired one, and each role the operation does not allow.
	for _, op := range authed {
		for _, expect := range []func(matrixOp, string, string, map[string]string, ...int){m.expect, m.expectDirect} {
			expect(op, "no token", "", nil, 401)
			expect(op, "expired token", expired, nil, 401)
			for _, role := range []string{authn.RoleCliente, authn.RoleProfesional, authn.RoleAdmin} {
				if len(op.Roles) > 0 && !slices.Contains(op.Roles, role) {
					expect(op, "role "+role, byRole[role], nil, 403, 404)
				}
			}
		}
	}

	// An optional operation answers everyone, but a token that is sent is verified: an
	// expired one is refused rather than taken for nobody.
	for _, op := range ops {
		if op.Access == string(api.Optional) {
			m.expect(op, "expired token", expired, nil, 401)
			m.expectDirect(op, "expired token", expired, nil, 401)
		}
	}

	// An id like any other: a random UUID names nobody's object, so every role the
	// operation allows is refused (not found, or not yours). The all-zero UUID too: it
	// is an id like any other (docs/api.md), never "no filter" or "everyone's".
	for _, op := range authed {
		if len(op.pathParams()) == 0 {
			continue
		}
		for _, role := range []string{authn.RoleCliente, authn.RoleProfesional, authn.RoleAdmin} {
			if len(op.Roles) == 0 || slices.Contains(op.Roles, role) {
				m.expect(op, "random id as "+role, byRole[role], nil, 403, 404)
				zero := map[string]string{}
				for _, p := range op.pathParams() {
					zero[p] = uuid.Nil.String()
				}
				m.expect(op, "random id 0000… as "+role, byRole[role], zero, 403, 404)
			}
		}
	}

	// Another owner's real objects.
	objs := m.seedOwners(adminTok)
	for _, op := range authed {
		kind := ownerKind(op.Path)
		if kind == "" {
			continue
		}
		m.expectStrangers(t, op, "stranger", kind, objs[kind])
	}
	// Operations naming the object in their body or query instead (trabajo_id,
	// chat_id, …): reviewing, disputing, paying for or writing in someone else's.
	for _, op := range authed {
		if len(op.pathParams()) > 0 {
			continue
		}
		fields := op.idFields(m.schemas)
		for kind, field := range kindFields {
			if !slices.Contains(fields, field) {
				continue
			}
			m.expectStrangers(t, op, "stranger-by-"+field, kind, objs[kind])
		}
	}
	// The ids are real: their owner reads each through at least one of the same
	// operations, so the refusals above are about the caller, not a wrong id.
	for kind, o := range objs {
		var tried, read []string
		for _, op := range authed {
			if op.Method != http.MethodGet || ownerKind(op.Path) != kind || len(op.pathParams()) != 1 {
				continue
			}
			if len(op.Roles) > 0 && !slices.Contains(op.Roles, o.ownerRole) {
				continue
			}
			tried = append(tried, op.key())
			if st, _ := m.do(op.Method, m.sys.gateway+op.url(map[string]string{"id": o.id}), o.owner, nil, nil); st == 200 {
				read = append(read, op.key())
			}
		}
		if len(tried) > 0 && len(read) == 0 {
			t.Errorf("the owner of %s %s reads it through none of %v: the stranger refusals prove nothing", kind, o.id, tried)
		}
	}

	// Banned: one ban cuts every token of the account on every route at once.
	banned := map[string]string{}
	for _, who := range []struct{ email, rol string }{{"rm-ban-cli@conectar.test", authn.RoleCliente}, {"rm-ban-pro@conectar.test", authn.RoleProfesional}} {
		tok, _, id := sys.register(who.email, "Baneado", who.rol, nil)
		banOp := findOp(t, ops, http.MethodPost, "/api/v1/admin/users/{id}/ban")
		if st, b := m.do(http.MethodPost, sys.gateway+banOp.url(map[string]string{"id": id}), adminTok, sampleBody(doc, banOp), nil); st != 200 {
			t.Fatalf("ban %s → %d %s", who.email, st, b)
		}
		testkit.Eventually(t, 10*time.Second, "ban of "+who.email+" in force", func() bool {
			st, _ := m.do(http.MethodGet, sys.gateway+"/api/v1/users/me", tok, nil, nil)
			return st == 401
		})
		banned[who.rol] = tok
	}
	// Every operation that reads the caller's token. Public ones are left out: the
	// gateway deliberately skips the token check where a header is not the credential
	// (login, register, password reset, key discovery, webhooks: gateway/edge.go), and
	// there the banned account is nobody.
	for _, op := range ops {
		if op.Access != string(api.Authenticated) && op.Access != string(api.Optional) {
			continue
		}
		for rol, tok := range banned {
			m.expect(op, "banned "+rol, tok, nil, 401, 403)
			m.expectDirect(op, "banned "+rol, tok, nil, 401, 403)
		}
	}

	// The WebSocket is a route too: an expired or banned token never gets connected.
	for what, tok := range map[string]string{"expired": expired, "banned CLIENTE": banned[authn.RoleCliente], "banned PROFESIONAL": banned[authn.RoleProfesional]} {
		if got := m.wsAnswer(tok); got != "refused" {
			t.Errorf("WebSocket with a %s token: %s", what, got)
		}
	}
	if got := m.wsAnswer(cliTok); got != "connected" {
		t.Errorf("WebSocket with a live token: %s (the refusals above prove nothing)", got)
	}

	m.internal()
	t.Logf("role matrix: %d requests over %d authenticated operations; checks by kind %v", m.requests, len(authed), m.checks)
}

// matrixOp is one operation of the document with the facts the matrix needs.
type matrixOp struct {
	Method, Path string
	*api.Operation
}

func (o matrixOp) key() string { return o.Method + " " + o.Path }

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func (o matrixOp) pathParams() []string {
	var out []string
	for _, m := range pathParam.FindAllStringSubmatch(o.Path, -1) {
		out = append(out, m[1])
	}
	return out
}

// url fills the path: the given values, a fresh random UUID for every other parameter,
// and the required query parameters from their schemas.
func (o matrixOp) url(values map[string]string) string {
	p := pathParam.ReplaceAllStringFunc(o.Path, func(s string) string {
		if v, ok := values[s[1:len(s)-1]]; ok {
			return v
		}
		return uuid.NewString()
	})
	q := url.Values{}
	for _, prm := range o.Parameters {
		if prm.In != "query" {
			continue
		}
		if v, ok := values[prm.Name]; ok && prm.Name != "id" {
			q.Set(prm.Name, v)
		} else if prm.Required {
			q.Set(prm.Name, fmt.Sprint(sampleValue(nil, prm.Schema, 0)))
		}
	}
	if len(q) > 0 {
		p += "?" + q.Encode()
	}
	return p
}

// fetchAPIDocument reads an OpenAPI document written by platform/api.
func fetchAPIDocument(t *testing.T, u string) *api.Document {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc api.Document
	if resp.StatusCode != 200 {
		t.Fatalf("%s → %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		t.Fatalf("%s: %v", u, err)
	}
	return &doc
}

// matrixOps lists the document's operations, sorted so failures read in a stable order.
func matrixOps(doc *api.Document) []matrixOp {
	var out []matrixOp
	for path, item := range doc.Paths {
		for method, op := range map[string]*api.Operation{"GET": item.Get, "PUT": item.Put, "POST": item.Post, "DELETE": item.Delete, "PATCH": item.Patch} {
			if op != nil {
				out = append(out, matrixOp{Method: method, Path: path, Operation: op})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].key() < out[j].key() })
	return out
}

// anyRoleAdmin are the authenticated operations under /admin that any signed-in user
// may call, each with why; every other /admin operation must be ADMIN only.
var anyRoleAdmin = map[string]string{
	"GET /api/v1/admin/oficios/{id}/servicios-instant": "the professional's instant-service picker reads a trade's services (documented 'any user')",
	"GET /api/v1/admin/oficios":                        "the whole catalogue, disabled trades too, is readable by any signed-in user on purpose (services/professionals/tests/profile_test.go pins 'admin oficios as client' → 200)",
}

// roleDataProblems is the rule the document's role data must follow, decided here:
//   - every operation says its access (public, optional, authenticated, internal), and
//     an authenticated or internal one which service enforces it;
//   - x-roles names known roles and only narrows an authenticated operation;
//   - an authenticated operation without x-roles is open to every role, which is a
//     decision only an owner-scoped (a path id: the random-id and stranger checks
//     apply) or self-scoped (the caller's own things) operation can make; under
//     /api/v1/admin nobody but an admin has own things, so there it must be ADMIN only
//     unless anyRoleAdmin says why not;
//   - the security requirement matches the access (a client reads one, the gateway and
//     services enforce the other).
func roleDataProblems(ops []matrixOp) []string {
	known := []string{authn.RoleCliente, authn.RoleProfesional, authn.RoleAdmin}
	var out []string
	bad := func(op matrixOp, f string, a ...any) { out = append(out, op.key()+": "+fmt.Sprintf(f, a...)) }
	for _, op := range ops {
		switch api.Access(op.Access) {
		case api.Public, api.Optional, api.Authenticated, api.Internal:
		default:
			bad(op, "x-access %q is not one of public, optional, authenticated, internal", op.Access)
			continue
		}
		if (op.Access == string(api.Authenticated) || op.Access == string(api.Internal)) && op.Service == "" {
			bad(op, "no x-service: which service enforces it?")
		}
		for _, r := range op.Roles {
			if !slices.Contains(known, r) {
				bad(op, "unknown role %q in x-roles", r)
			}
		}
		if len(op.Roles) > 0 && op.Access != string(api.Authenticated) {
			bad(op, "x-roles %v on a %s operation", op.Roles, op.Access)
		}
		hasBearer := slices.ContainsFunc(op.Security, func(s map[string][]string) bool { _, ok := s[api.SchemeBearer]; return ok })
		if op.Access == string(api.Authenticated) && !hasBearer {
			bad(op, "authenticated without the bearer security requirement")
		}
		if op.Access == string(api.Authenticated) && strings.HasPrefix(op.Path, "/api/v1/admin/") {
			_, excused := anyRoleAdmin[op.key()]
			if !excused && !slices.Equal(op.Roles, []string{authn.RoleAdmin}) {
				bad(op, "an admin operation open to roles %v (no x-roles means every role)", op.Roles)
			}
		}
	}
	return out
}

func TestRoleDataProblems(t *testing.T) {
	op := func(method, path, access string, roles ...string) matrixOp {
		o := &api.Operation{Access: access, Roles: roles, Service: "x"}
		if access == "authenticated" {
			o.Security = []map[string][]string{{api.SchemeBearer: {}}}
		}
		return matrixOp{Method: method, Path: path, Operation: o}
	}
	good := []matrixOp{op("GET", "/api/v1/a", "public"), op("GET", "/api/v1/b", "authenticated"),
		op("GET", "/api/v1/admin/c", "authenticated", "ADMIN"), op("GET", "/internal/d", "internal")}
	if p := roleDataProblems(good); len(p) > 0 {
		t.Fatalf("good data reported: %v", p)
	}
	noSec := op("GET", "/api/v1/e", "authenticated")
	noSec.Security = nil
	noSvc := op("GET", "/api/v1/f", "authenticated")
	noSvc.Service = ""
	for _, o := range []matrixOp{op("GET", "/api/v1/x", ""), op("GET", "/api/v1/admin/x", "authenticated"),
		op("GET", "/api/v1/admin/x", "authenticated", "ADMIN", "CLIENTE"), op("GET", "/api/v1/x", "public", "ADMIN"),
		op("GET", "/api/v1/x", "authenticated", "ROOT"), noSec, noSvc} {
		if p := roleDataProblems([]matrixOp{o}); len(p) != 1 {
			t.Errorf("%s access %q roles %v: problems %v, want one", o.key(), o.Access, o.Roles, p)
		}
	}
}

// strangerAnswers are the owner-scoped operations a non-party may call on purpose.
var strangerAnswers = map[string]string{
	"POST /api/v1/resenas/{id}/reportar": "reviews are public: anyone signed in may flag one for an admin to look at",
}

// ownerKinds maps a path segment before {id} to the kind of object the id names.
var ownerKinds = []struct {
	re   *regexp.Regexp
	kind string
}{
	{regexp.MustCompile(`/(chat|chat/messages|chat/mark-read|ofertas/chat)/\{id\}`), "chat"},
	{regexp.MustCompile(`/ofertas/\{id\}`), "offer"},
	{regexp.MustCompile(`/(trabajos|trabajo|transacciones|escrow)/\{id\}`), "job"},
	{regexp.MustCompile(`/resenas/\{id\}`), "review"},
	{regexp.MustCompile(`/disputas/\{id\}`), "dispute"},
	{regexp.MustCompile(`/portfolio/\{id\}`), "portfolio"},
	{regexp.MustCompile(`/retiros/\{id\}`), "withdrawal"},
	{regexp.MustCompile(`/kyc/documentos/\{id\}`), "kyc document"},
	{regexp.MustCompile(`/(notificaciones|notifications)/\{id\}`), "notification"},
}

func ownerKind(path string) string {
	for _, k := range ownerKinds {
		if k.re.MatchString(path) {
			return k.kind
		}
	}
	return ""
}

// owned is a seeded object: its id, its owner's token and role, and tokens of people
// who are not a party to it.
type owned struct {
	id, owner, ownerRole string
	strangers            map[string]string
	// cliente and profesional are the user ids of the parties, for bodies that name them.
	cliente, profesional string
}

// kindFields is the body or query field naming an object of each kind.
var kindFields = map[string]string{"job": "trabajo_id", "chat": "chat_id", "offer": "oferta_id", "review": "resena_id", "dispute": "disputa_id"}

// values are what an operation on o is filled with: the path id, the same id under its
// field name, and its parties.
func (o owned) values(kind string) map[string]string {
	v := map[string]string{"id": o.id, "cliente_id": o.cliente, "profesional_id": o.profesional}
	if f := kindFields[kind]; f != "" {
		v[f] = o.id
	}
	return v
}

// idFields are the names of the JSON body's properties and the query parameters.
func (o matrixOp) idFields(comps map[string]map[string]any) []string {
	var out []string
	for _, p := range o.Parameters {
		if p.In == "query" {
			out = append(out, p.Name)
		}
	}
	if o.RequestBody != nil {
		if obj, ok := sampleBodyOf(comps, o).(map[string]any); ok {
			for k := range obj {
				out = append(out, k)
			}
		}
	}
	return out
}

// matrix sends the requests and reports every one answered outside what is due.
type matrix struct {
	t        *testing.T
	sys      *system
	hc       *http.Client
	requests int
	checks   map[string]int            // requests by kind of check, for the log
	schemas  map[string]map[string]any // the document's components, for request bodies
	// rep, when set, hears the unexpected answers instead of the test (the canary).
	rep reporter
}

func (m *matrix) report() reporter {
	if m.rep != nil {
		return m.rep
	}
	return m.t
}

// do sends one request (a JSON body when body is not nil) and returns the status and
// a clipped answer for the report.
func (m *matrix) do(method, u, token string, body any, hdr map[string]string) (int, string) {
	m.t.Helper()
	m.requests++
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		m.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := m.hc.Do(req)
	if err != nil {
		m.t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
	return resp.StatusCode, string(raw)
}

// expect calls op through the gateway as token and reports an answer not in want.
// expectStrangers calls op on o (another owner's kind of object) with each stranger's
// token: never 200, only 403 or 404, unless strangerAnswers explains why not.
func (m *matrix) expectStrangers(t *testing.T, op matrixOp, label, kind string, o owned) {
	if why, ok := strangerAnswers[op.key()]; ok {
		t.Logf("stranger not checked on %s: %s", op.key(), why)
		return
	}
	for who, tok := range o.strangers {
		m.expect(op, fmt.Sprintf("%s: %s's %s as %s", label, kind, o.id, who), tok, o.values(kind), 403, 404)
	}
}

func (m *matrix) expect(op matrixOp, what, token string, values map[string]string, want ...int) {
	m.t.Helper()
	m.expectAt(m.sys.gateway, op, what, token, values, want...)
}

// expectDirect calls op on its own service's port, as a request that got past the
// gateway (or never went through it) would arrive: every service verifies the token
// itself, and the gateway's edge check must not be what hides a service's gap.
func (m *matrix) expectDirect(op matrixOp, what, token string, values map[string]string, want ...int) {
	m.t.Helper()
	port := m.sys.env[strings.ToUpper(op.Service)+"_PORT"]
	if port == "" {
		m.t.Errorf("%s: no port for x-service %q", op.key(), op.Service)
		return
	}
	m.expectAt("http://127.0.0.1:"+port, op, "direct "+what, token, values, want...)
}

func (m *matrix) expectAt(base string, op matrixOp, what, token string, values map[string]string, want ...int) {
	m.t.Helper()
	var body any
	if op.RequestBody != nil {
		body = sampleBodyOf(m.schemas, op)
	}
	// The object's id and its parties go wherever the body names them too, so a
	// handler reading the id from the body meets the same object as the path's.
	if obj, ok := body.(map[string]any); ok {
		for k, v := range values {
			if _, has := obj[k]; has && k != "id" {
				obj[k] = v
			}
		}
	}
	u := op.url(values)
	st, raw := m.do(op.Method, base+u, token, body, nil)
	m.checks[strings.TrimSuffix(what[:strings.IndexAny(what+" ", " '")], ":")]++
	if !slices.Contains(want, st) {
		m.report().Errorf("%s [%s] %s → %d %s, want %v", op.key(), what, u, st, raw, want)
	}
}

// expiredToken is an access token for userID that auth itself could have issued eight
// hours ago: signed with auth's current key (read and unsealed the way auth does), with
// exp an hour past. ACCESS_TOKEN_TTL cannot go below 15 minutes, so waiting one out is
// not an option. The same key signing a live token must be accepted, or a refusal of
// the expired one would prove only that the key is wrong.
func (m *matrix) expiredToken(userID string) string {
	m.t.Helper()
	pool := testkit.ServicePool(m.t, m.sys.env["DATABASE_URL"], "auth")
	secret := m.sys.env["AUTH_KEYS_SECRET"]
	if secret == "" {
		secret = auth.DefaultKeysSecret
	}
	ks, err := auth.NewKeyStore(pool, auth.Config{KeysSecret: secret}, time.Now, logx.New(io.Discard, "roles-test", "error"))
	if err != nil {
		m.t.Fatal(err)
	}
	kid, priv := ks.Signer(context.Background())
	if kid == "" {
		m.t.Fatal("auth has no signing key")
	}
	sign := func(iat, exp time.Time) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, authn.Claims{Rol: authn.RoleCliente, Email: "rm-cliente@conectar.test",
			RegisteredClaims: jwt.RegisteredClaims{Subject: userID, ID: uuid.NewString(),
				IssuedAt: jwt.NewNumericDate(iat), ExpiresAt: jwt.NewNumericDate(exp)}})
		tok.Header["kid"] = kid
		s, err := tok.SignedString(priv)
		if err != nil {
			m.t.Fatal(err)
		}
		return s
	}
	now := time.Now()
	if st, raw := m.do(http.MethodGet, m.sys.gateway+"/api/v1/users/me", sign(now, now.Add(10*time.Minute)), nil, nil); st != 200 {
		m.t.Fatalf("a live token signed with auth's key → %d %s: the expired one would prove nothing", st, raw)
	}
	return sign(now.Add(-9*time.Hour), now.Add(-time.Hour))
}

// seedOwners builds, through the API as the journeys do, one object of each owner-scoped
// kind, and the strangers that must not reach it: two complete hire-and-pay journeys
// (each a client and a professional), the first released and reviewed, the second held
// in escrow and disputed; the first professional's portfolio item, withdrawal and KYC
// document; the first client's notification.
func (m *matrix) seedOwners(adminTok string) map[string]owned {
	t := m.t
	t.Helper()
	a := m.sys.newJourney(adminTok, "rm-a")
	if err := a.run(); err != nil {
		t.Fatal(err)
	}
	b := m.sys.newJourney(adminTok, "rm-b")
	for _, step := range []func() error{b.signup, b.hire, func() error { _, err := b.pay("approved"); return err },
		func() error { return b.waitEscrow("PAGADO_EN_ESCROW") }} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	must := func(method, path, token string, body any, want int) map[string]any {
		st, out := m.sys.call(method, path, token, body)
		if st != want {
			t.Fatalf("seed %s %s → %d %v", method, path, st, out)
		}
		return out
	}
	idOf := func(out map[string]any, keys ...string) string {
		for _, k := range keys {
			if s, _ := out[k].(string); s != "" {
				return s
			}
		}
		t.Fatalf("no %v in %v", keys, out)
		return ""
	}
	chat := must(http.MethodPost, "/api/v1/chat/conversations", a.cliTok, map[string]any{"profesional_id": a.proID}, 200)
	created := must(http.MethodPost, "/api/v1/resenas", a.cliTok, map[string]any{"trabajo_id": a.jobID, "rating": 4, "texto_resena": "Bien, prolijo y puntual"}, 201)
	review, _ := created["resena"].(map[string]any)
	dispute := must(http.MethodPost, "/api/v1/disputas", b.cliTok, map[string]any{"trabajo_id": b.jobID, "tipo": "CALIDAD_TRABAJO",
		"descripcion": "El trabajo quedó mal terminado y pierde agua"}, 201)
	item := must(http.MethodPost, "/api/v1/professional/portfolio", a.proTok, map[string]any{"titulo": "Baño", "descripcion": "Cañerías nuevas"}, 201)
	must(http.MethodPost, "/api/v1/pagos/cuenta-bancaria", a.proTok, map[string]any{"tipo_cuenta": "cbu", "cbu": "0170099220000067797370",
		"titular": "Pro Prueba", "banco": "Banco Galicia"}, 200)
	var withdrawal string
	testkit.Eventually(t, 15*time.Second, "a withdrawal from the released balance", func() bool {
		st, out := m.sys.call(http.MethodPost, "/api/v1/pagos/retiros", a.proTok, map[string]any{"monto": 1000})
		withdrawal, _ = out["id"].(string)
		return st == 201 && withdrawal != ""
	})
	// A KYC document is served only to its owner and admins; a notification is its
	// addressee's.
	_, kyc := m.sys.call(http.MethodGet, "/api/v1/professional/kyc/status", a.proTok, nil)
	docs := listOf(kyc["documentos"])
	if len(docs) == 0 {
		t.Fatalf("no KYC document in %v", kyc)
	}
	kycDoc, _ := docs[0].(map[string]any)
	var notice map[string]any
	testkit.Eventually(t, 15*time.Second, "a notification for the client", func() bool {
		_, list := m.sys.call(http.MethodGet, "/api/v1/notificaciones", a.cliTok, nil)
		if ns := listOf(list["notificaciones"]); len(ns) > 0 {
			notice, _ = ns[0].(map[string]any)
		}
		return notice != nil
	})
	// Strangers to a's objects are b's parties and the other way round.
	strangersOfA := map[string]string{"another client": b.cliTok, "another professional": b.proTok}
	strangersOfB := map[string]string{"another client": a.cliTok, "another professional": a.proTok}
	return map[string]owned{
		"chat":         {idOf(chat, "chat_id", "id"), a.cliTok, authn.RoleCliente, strangersOfA, a.cliID, a.proID},
		"offer":        {a.ofertaID, a.cliTok, authn.RoleCliente, strangersOfA, a.cliID, a.proID},
		"job":          {a.jobID, a.cliTok, authn.RoleCliente, strangersOfA, a.cliID, a.proID},
		"review":       {idOf(review, "id"), a.cliTok, authn.RoleCliente, strangersOfA, a.cliID, a.proID},
		"dispute":      {idOf(dispute, "id"), b.cliTok, authn.RoleCliente, strangersOfB, b.cliID, b.proID},
		"portfolio":    {idOf(item, "id"), a.proTok, authn.RoleProfesional, strangersOfA, a.cliID, a.proID},
		"withdrawal":   {withdrawal, a.proTok, authn.RoleProfesional, strangersOfA, a.cliID, a.proID},
		"kyc document": {idOf(kycDoc, "id"), a.proTok, authn.RoleProfesional, strangersOfA, a.cliID, a.proID},
		"notification": {idOf(notice, "id"), a.cliTok, authn.RoleCliente, strangersOfA, a.cliID, a.proID},
	}
}

// internal: each service's own document lists its internal operations; through the
// gateway they do not exist, and on the service's port they need X-Internal-Key.
func (m *matrix) internal() {
	t := m.t
	var n int
	for _, svc := range serviceNames() {
		own := fetchAPIDocument(t, fmt.Sprintf("http://127.0.0.1:%s/openapi.json", m.sys.env[strings.ToUpper(svc)+"_PORT"]))
		for _, op := range matrixOps(own) {
			if op.Access != string(api.Internal) {
				continue
			}
			n++
			direct := fmt.Sprintf("http://127.0.0.1:%s", m.sys.env[strings.ToUpper(svc)+"_PORT"])
			u := op.url(nil)
			for _, c := range []struct {
				what, base string
				hdr        map[string]string
				want       []int
			}{
				{"through the gateway", m.sys.gateway, nil, []int{404}},
				{"through the gateway under /api/v1", m.sys.gateway + "/api/v1", nil, []int{404}},
				{"through the gateway with a key", m.sys.gateway, map[string]string{"X-Internal-Key": "guess"}, []int{404}},
				{"directly without the key", direct, nil, []int{401}},
				{"directly with a wrong key", direct, map[string]string{"X-Internal-Key": "not-the-key"}, []int{401}},
			} {
				if st, raw := m.do(op.Method, c.base+u, "", nil, c.hdr); !slices.Contains(c.want, st) {
					t.Errorf("internal %s %s [%s] → %d %s, want %v", svc, op.key(), c.what, st, raw, c.want)
				}
			}
		}
	}
	if n == 0 {
		t.Error("no internal operation in any service's document: nothing of the internal boundary was tried")
	}
}

// wsAnswer dials the gateway's WebSocket with token in the query and says what came
// back: "refused" (the upgrade answered 401/403, or the socket closed with 4401/4403),
// "connected", or what else happened.
func (m *matrix) wsAnswer(token string) string {
	m.requests++
	u := strings.Replace(m.sys.gateway, "http", "ws", 1) + "/api/v1/ws?token=" + url.QueryEscape(token)
	c, resp, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		if resp != nil && (resp.StatusCode == 401 || resp.StatusCode == 403) {
			return "refused"
		}
		return fmt.Sprintf("dial: %v", err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, msg, err := c.ReadMessage()
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce) && (ce.Code == 4401 || ce.Code == 4403):
		return "refused"
	case err != nil:
		return fmt.Sprintf("read: %v", err)
	case strings.Contains(string(msg), `"connected"`):
		return "connected"
	}
	return "first message " + string(msg)
}

func findOp(t *testing.T, ops []matrixOp, method, path string) matrixOp {
	t.Helper()
	for _, op := range ops {
		if op.Method == method && op.Path == path {
			return op
		}
	}
	t.Fatalf("%s %s is not in the document", method, path)
	return matrixOp{}
}

func sampleBody(doc *api.Document, op matrixOp) any {
	if op.RequestBody == nil {
		return nil
	}
	return sampleBodyOf(doc.Components.Schemas, op)
}

// sampleBodyOf is a minimal valid-looking JSON body from the operation's schema, so a
// refusal is about who calls, not what was sent. An operation without a JSON body
// (multipart only) gets an empty object: the access check runs before the body is read.
func sampleBodyOf(comps map[string]map[string]any, op matrixOp) any {
	mt, ok := op.RequestBody.Content["application/json"]
	if !ok {
		return map[string]any{}
	}
	return sampleValue(comps, mt.Schema, 0)
}

// sampleByName fills the fields whose rule the schema states only in words (a
// description) with a value that keeps it: ids, URLs, and a dispute's verdict.
func sampleByName(name string, v any) (any, bool) {
	if _, isString := v.(string); !isString {
		return nil, false
	}
	switch {
	case name == "a_favor":
		return "cliente", true
	case name == "tipo": // a dispute's: the one body with a free-text tipo
		return "calidad", true
	case name == "id" || strings.HasSuffix(name, "_id"):
		return uuid.NewString(), true
	case strings.Contains(name, "url") || strings.HasPrefix(name, "evidencia"):
		return "https://example.com/evidencia.png", true
	}
	return nil, false
}

// sampleValue makes a value for a JSON schema: every property filled (not only the
// required ones, so a handler that checks a field before the owner finds it), ids as
// random UUIDs, the first enum value, lengths and minimums met.
func sampleValue(comps map[string]map[string]any, s map[string]any, depth int) any {
	if s == nil || depth > 6 {
		return nil
	}
	if ref, _ := s["$ref"].(string); ref != "" {
		return sampleValue(comps, comps[strings.TrimPrefix(ref, "#/components/schemas/")], depth+1)
	}
	for _, k := range []string{"allOf", "anyOf", "oneOf"} {
		if list, _ := s[k].([]any); len(list) > 0 {
			if sub, _ := list[0].(map[string]any); sub != nil {
				return sampleValue(comps, sub, depth+1)
			}
		}
	}
	if enum, _ := s["enum"].([]any); len(enum) > 0 {
		return enum[0]
	}
	typ, _ := s["type"].(string)
	if list, _ := s["type"].([]any); len(list) > 0 {
		for _, x := range list {
			if x != "null" {
				typ, _ = x.(string)
				break
			}
		}
	}
	num := func(k string) (float64, bool) { f, ok := s[k].(float64); return f, ok }
	switch typ {
	case "object":
		out := map[string]any{}
		props, _ := s["properties"].(map[string]any)
		for name, p := range props {
			ps, _ := p.(map[string]any)
			if ps == nil {
				continue
			}
			out[name] = sampleValue(comps, ps, depth+1)
			_, enum := ps["enum"]
			_, format := ps["format"]
			if v, ok := sampleByName(name, out[name]); ok && !enum && !format {
				out[name] = v
			}
		}
		return out
	case "array":
		n, _ := num("minItems")
		items, _ := s["items"].(map[string]any)
		out := []any{}
		for i := 0; i < int(n); i++ {
			out = append(out, sampleValue(comps, items, depth+1))
		}
		return out
	case "integer", "number":
		if v, ok := num("minimum"); ok {
			return v
		}
		if v, ok := num("maximum"); ok && v < 1000 {
			return v
		}
		return 1000
	case "boolean":
		return false
	case "string":
		switch s["format"] {
		case "uuid":
			return uuid.NewString()
		case "email":
			return "alguien@example.com"
		case "date-time":
			return time.Now().UTC().Format(time.RFC3339)
		case "date":
			return time.Now().UTC().Format("2006-01-02")
		case "uri":
			return "https://example.com/a"
		}
		v := "Texto de prueba suficiente"
		if n, ok := num("minLength"); ok && int(n) > len(v) {
			v = strings.Repeat("a", int(n))
		}
		if n, ok := num("maxLength"); ok && int(n) < len(v) {
			v = v[:int(n)]
		}
		return v
	}
	return nil
}

// Package tests drives the auth service's real composition root over HTTP against a
// real PostgreSQL database and an in-process JetStream server.
package tests

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/auth"
)

// fastHash keeps argon2id cheap in tests; production defaults stay strong.
var fastHash = map[string]string{"ARGON2_MEMORY_KIB": "1024", "ARGON2_ITERATIONS": "1", "ARGON2_PARALLELISM": "1"}

func settings(extra map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range fastHash {
		out[k] = v
	}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

// clock is a settable clock injected through Deps.Now.
type clock struct {
	mu sync.Mutex
	d  time.Duration
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.d) }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.d += d
	c.mu.Unlock()
}

// publicURL is the gateway's public base the tests configure: avatar URLs start with it.
const publicURL = "https://api.conectar.test"

type harness struct {
	t     *testing.T
	env   *testkit.Env
	base  string
	clock *clock
	svc   *kit.Service
}

func start(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	env := testkit.NewEnv(t)
	return startIn(t, env, extra)
}

func startIn(t *testing.T, env *testkit.Env, extra map[string]string) *harness {
	t.Helper()
	return startAt(t, env, extra, 0)
}

// startAt starts another auth instance on env whose clock runs offset ahead.
func startAt(t *testing.T, env *testkit.Env, extra map[string]string, offset time.Duration) *harness {
	t.Helper()
	clk := &clock{d: offset}
	d := env.Deps(t, auth.Name, settings(extra))
	d.Now = clk.Now
	d.PublicURL = publicURL
	svc, err := auth.New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, env: env, base: testkit.Serve(t, svc), clock: clk, svc: svc}
}

// resp is an answer read whole.
type resp = testkit.Response

// do sends a request. body may be nil, a string/[]byte (sent as is with ct) or any
// other value (sent as JSON).
func do(t *testing.T, method, u, token, ct string, body any) resp {
	t.Helper()
	return testkit.Send(t, method, u, token, ct, body)
}

func (h *harness) do(method, path, token string, body any) resp {
	h.t.Helper()
	return do(h.t, method, h.base+path, token, "", body)
}

type user struct {
	ID, Email, Password, Rol string
	Access, Refresh          string
}

func (h *harness) register(email, password, rol string) user {
	h.t.Helper()
	r := h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": email, "password": password,
		"nombre": "Nombre", "apellido": "Apellido", "rol": rol})
	r.Expect(h.t, 201, "register "+email)
	m := r.Map(h.t)
	return user{ID: m["id"].(string), Email: strings.ToLower(email), Password: password, Rol: rol}
}

func (h *harness) login(email, password string) (access, refresh string) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
	r.Expect(h.t, 200, "login "+email)
	m := r.Map(h.t)
	return m["access_token"].(string), m["refresh_token"].(string)
}

func (h *harness) user(email, rol string) user {
	h.t.Helper()
	u := h.register(email, "secreto123", rol)
	u.Access, u.Refresh = h.login(email, "secreto123")
	return u
}

// admin creates an admin through the operator function and logs it in.
func (h *harness) admin(email string) user {
	h.t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.env.DSN)
	if err != nil {
		h.t.Fatal(err)
	}
	defer conn.Close(ctx)
	id, created, err := auth.CreateAdmin(ctx, conn, func(k string) string { return fastHash[k] },
		auth.AdminInput{Email: email, Password: "adminpass1"}, time.Now())
	if err != nil || !created {
		h.t.Fatalf("create admin: %v (created=%v)", err, created)
	}
	u := user{ID: id, Email: email, Password: "adminpass1", Rol: "ADMIN"}
	u.Access, u.Refresh = h.login(email, "adminpass1")
	return u
}

func form(v map[string]string) string {
	q := url.Values{}
	for k, x := range v {
		q.Set(k, x)
	}
	return q.Encode()
}

// internalGet reads an internal route with the development internal key.
func internalGet(t *testing.T, u string) resp {
	t.Helper()
	return testkit.Send(t, "GET", u, "", "", nil, kit.HeaderInternalKey, kit.DefaultInternalKey)
}

// eventually is testkit.Eventually.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, d, what, cond)
}

// publish sends env to its subject as a producer would (relay semantics).
func publish(t *testing.T, h *harness, env events.Envelope) {
	t.Helper()
	testkit.PublishEnvelope(t, h.env.NATS.JS, env, env.ID.String())
}

// doHdr posts a JSON body with extra headers (name, value pairs).
func doHdr(t *testing.T, method, u, body string, hdr ...string) resp {
	t.Helper()
	return testkit.Send(t, method, u, "", "application/json", body, hdr...)
}

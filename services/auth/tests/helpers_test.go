// Package tests drives the auth service's real composition root over HTTP against a
// real PostgreSQL database and an in-process JetStream server.
package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

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
	svc, err := auth.New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, env: env, base: testkit.Serve(t, svc), clock: clk, svc: svc}
}

type resp struct {
	Status int
	Header http.Header
	Raw    []byte
}

func (r resp) JSON(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.Raw, &m); err != nil {
		t.Fatalf("body is not a JSON object (status %d): %s", r.Status, r.Raw)
	}
	return m
}

func (r resp) List(t *testing.T) []any {
	t.Helper()
	var l []any
	if err := json.Unmarshal(r.Raw, &l); err != nil {
		t.Fatalf("body is not a JSON list (status %d): %s", r.Status, r.Raw)
	}
	return l
}

// do sends a request. body may be nil, a string/[]byte (sent as is with ct) or any
// other value (sent as JSON).
func do(t *testing.T, method, u, token, ct string, body any) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
		if ct == "" {
			ct = "application/json"
		}
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
}

func (h *harness) do(method, path, token string, body any) resp {
	h.t.Helper()
	return do(h.t, method, h.base+path, token, "", body)
}

func expect(t *testing.T, r resp, status int, what string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %s", what, r.Status, status, r.Raw)
	}
}

// expectError checks status and the SPEC error shape (JSON with detail and code).
func expectError(t *testing.T, r resp, status int, what string) map[string]any {
	t.Helper()
	expect(t, r, status, what)
	m := r.JSON(t)
	if d, _ := m["detail"].(string); d == "" {
		t.Fatalf("%s: error without detail: %s", what, r.Raw)
	}
	if c, _ := m["code"].(string); c == "" {
		t.Fatalf("%s: error without code: %s", what, r.Raw)
	}
	return m
}

type user struct {
	ID, Email, Password, Rol string
	Access, Refresh          string
}

func (h *harness) register(email, password, rol string) user {
	h.t.Helper()
	r := h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": email, "password": password,
		"nombre": "Nombre", "apellido": "Apellido", "rol": rol})
	expect(h.t, r, 201, "register "+email)
	m := r.JSON(h.t)
	return user{ID: m["id"].(string), Email: strings.ToLower(email), Password: password, Rol: rol}
}

func (h *harness) login(email, password string) (access, refresh string) {
	h.t.Helper()
	r := h.do("POST", "/api/v1/auth/login", "", map[string]any{"email": email, "password": password})
	expect(h.t, r, 200, "login "+email)
	m := r.JSON(h.t)
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

// streamEvents returns the envelopes on subject in stream (waiting up to wait for at
// least min of them).
func streamEvents(t *testing.T, js jetstream.JetStream, stream, subject string, min int, wait time.Duration) []events.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait+2*time.Second)
	defer cancel()
	var out []events.Envelope
	deadline := time.Now().Add(wait)
	for {
		out = out[:0]
		c, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{FilterSubjects: []string{subject}})
		if err != nil {
			t.Fatal(err)
		}
		info, err := c.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := int(info.NumPending)
		if n > 0 {
			batch, err := c.Fetch(n, jetstream.FetchMaxWait(2*time.Second))
			if err != nil {
				t.Fatal(err)
			}
			for m := range batch.Messages() {
				env, err := events.Parse(m.Data())
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, env)
			}
		}
		if len(out) >= min || time.Now().After(deadline) {
			return out
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// internalGet reads an internal route with the development internal key.
func internalGet(t *testing.T, u string) resp {
	t.Helper()
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(kit.HeaderInternalKey, kit.DefaultInternalKey)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
}

// eventually is testkit.Eventually.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	testkit.Eventually(t, d, what, cond)
}

// publish sends env to its subject as a producer would (relay semantics).
func publish(t *testing.T, h *harness, env events.Envelope) {
	t.Helper()
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.env.NATS.JS.Publish(context.Background(), env.Subject, raw, jetstream.WithMsgID(env.ID.String())); err != nil {
		t.Fatal(err)
	}
}

// doHdr posts a JSON body with extra headers (name, value pairs).
func doHdr(t *testing.T, method, u, body string, hdr ...string) resp {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return resp{Status: res.StatusCode, Header: res.Header, Raw: raw}
}

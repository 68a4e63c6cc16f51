package gateway_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/testkit"
)

func TestEdgeAuth(t *testing.T) {
	s := newStack(t, nil)
	users := s.Services["users"]
	const uid = "7d3f1a52-2c4e-4a61-b1f2-0c9d5e6f7a80"
	good := s.Keys.Token(uid, "CLIENTE", "ana@example.com")
	other := testkit.NewKeys(t).Token(uid, "CLIENTE", "ana@example.com") // signed by an unknown key

	// No token: passes, the service decides.
	if r := s.do(http.MethodGet, "/api/v1/users/me", nil, nil, nil); r.StatusCode != http.StatusOK {
		t.Fatalf("no token: %d", r.StatusCode)
	}
	// Valid token: passes, Authorization still reaches the service (defence in depth).
	var e echo
	if r := s.do(http.MethodGet, "/api/v1/users/me", nil, map[string]string{"Authorization": "Bearer " + good}, &e); r.StatusCode != http.StatusOK ||
		e.Headers["authorization"] != "Bearer "+good {
		t.Fatalf("good token: %d %v", r.StatusCode, e.Headers["authorization"])
	}
	before := users.hits.Load()
	for _, tok := range []string{"garbage", other, good[:len(good)-4] + "AAAA"} {
		var eb errorBody
		r := s.do(http.MethodGet, "/api/v1/users/me", nil, map[string]string{"Authorization": "Bearer " + tok}, &eb)
		if r.StatusCode != http.StatusUnauthorized || eb.Code != "invalid_token" || eb.Detail != "Token inválido o expirado" {
			t.Errorf("bad token: %d %+v", r.StatusCode, eb)
		}
	}
	if users.hits.Load() != before {
		t.Errorf("a request with a bad token reached the service")
	}
	// A stale token does not block logging in again.
	if r := s.do(http.MethodPost, "/api/v1/auth/login", strings.NewReader("username=a&password=b"),
		map[string]string{"Authorization": "Bearer garbage", "Content-Type": "application/x-www-form-urlencoded"}, nil); r.StatusCode != http.StatusOK {
		t.Errorf("login with stale token: %d", r.StatusCode)
	}

	// Banned: refused from the moment the ban reaches the replicated list.
	if err := natsx.SetBanned(context.Background(), s.KV, uid, true); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "ban to reach the gateway", func() bool {
		r := s.do(http.MethodGet, "/api/v1/chat/conversations", nil, map[string]string{"Authorization": "Bearer " + good}, nil)
		return r.StatusCode == http.StatusUnauthorized
	})
	var eb errorBody
	r := s.do(http.MethodGet, "/api/v1/users/me", nil, map[string]string{"Authorization": "Bearer " + good}, &eb)
	if r.StatusCode != http.StatusUnauthorized || eb.Code != "user_banned" {
		t.Errorf("banned: %d %+v", r.StatusCode, eb)
	}
	// Unban: accepted again.
	if err := natsx.SetBanned(context.Background(), s.KV, uid, false); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 5*time.Second, "unban to reach the gateway", func() bool {
		r := s.do(http.MethodGet, "/api/v1/users/me", nil, map[string]string{"Authorization": "Bearer " + good}, nil)
		return r.StatusCode == http.StatusOK
	})
}

func TestRateLimits(t *testing.T) {
	s := newStack(t, map[string]string{"RATE_LIMIT_WEBHOOK_PER_WINDOW": "5"})
	post := func(path string, hdr ...string) (*http.Response, errorBody) {
		var eb errorBody
		req, _ := http.NewRequest(http.MethodPost, s.URL+path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		_ = json.Unmarshal(b, &eb)
		return resp, eb
	}
	// Logins are auth's to throttle (failures per account and address): the edge adds
	// no request count of its own, so many people behind one address all sign in.
	for i := 0; i < 40; i++ {
		for _, p := range []string{"/api/v1/auth/login", "/api/v1/auth/forgot-password", "/api/v1/auth/reset-password"} {
			if r, _ := post(p); r.StatusCode != http.StatusOK {
				t.Fatalf("%s %d: %d", p, i, r.StatusCode)
			}
		}
	}
	for i := 0; i < 10; i++ {
		if r, _ := post("/api/v1/chat/1/messages"); r.StatusCode != http.StatusOK {
			t.Fatalf("unlimited path limited: %d", r.StatusCode)
		}
	}
	for i := 0; i < 5; i++ {
		if r, _ := post("/api/v1/webhook/mercadopago"); r.StatusCode != http.StatusOK {
			t.Fatalf("webhook %d: %d", i, r.StatusCode)
		}
	}
	r, eb := post("/api/v1/webhook/chat/infraction")
	if r.StatusCode != http.StatusTooManyRequests || eb.Code != "rate_limited" || r.Header.Get("Retry-After") == "" {
		t.Errorf("6th webhook: %d %+v retry-after %q", r.StatusCode, eb, r.Header.Get("Retry-After"))
	}
	// Spelling the path differently does not open a new bucket.
	for _, p := range []string{"/api/v1/webhook/mercadopago/", "/api/v1/WEBHOOK/mercadopago", "/api/v1/webhook//mercadopago", "/api/v1/webhook/./mercadopago"} {
		if r, _ := post(p); r.StatusCode != http.StatusTooManyRequests {
			t.Errorf("%s: %d, want 429", p, r.StatusCode)
		}
	}
	// A client cannot pick its own bucket with a forged X-Forwarded-For.
	if r, _ := post("/api/v1/webhook/mercadopago", "X-Forwarded-For", "203.0.113.9"); r.StatusCode != http.StatusTooManyRequests {
		t.Errorf("forged X-Forwarded-For: %d", r.StatusCode)
	}
}

type healthReport struct {
	Status       string                       `json:"status"`
	Gateway      string                       `json:"gateway"`
	Services     map[string]string            `json:"services"`
	Dependencies map[string]map[string]string `json:"dependencies"`
}

func TestHealthAggregates(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_HEALTH_TIMEOUT": "500ms"})
	names := []string{"autenticacion", "usuarios", "profesionales", "chat_ofertas", "pagos", "notificaciones"}
	var h healthReport
	r := s.do(http.MethodGet, "/health", nil, nil, &h)
	if r.StatusCode != http.StatusOK || h.Status != "healthy" || h.Gateway != "ok" || len(h.Services) != 6 {
		t.Fatalf("all up: %d %+v", r.StatusCode, h)
	}
	for _, n := range names {
		if h.Services[n] != "healthy" || h.Dependencies[n]["postgres"] != "ok" || h.Dependencies[n]["nats"] != "ok" {
			t.Errorf("%s: %q %v", n, h.Services[n], h.Dependencies[n])
		}
	}

	s.Services["payments"].srv.Close()
	s.Services["users"].healthy.Store(false)
	h = healthReport{}
	start := time.Now()
	r = s.do(http.MethodGet, "/health", nil, nil, &h)
	if r.StatusCode != http.StatusOK || h.Status != "degraded" {
		t.Fatalf("one down: %d %+v", r.StatusCode, h)
	}
	if h.Services["pagos"] != "unreachable" || h.Services["usuarios"] != "unhealthy" || h.Services["chat_ofertas"] != "healthy" {
		t.Errorf("states %v", h.Services)
	}
	if !strings.HasPrefix(h.Dependencies["usuarios"]["postgres"], "error") || h.Dependencies["pagos"]["postgres"] != "unknown" {
		t.Errorf("dependencies %v", h.Dependencies)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("health took %s", d)
	}
}

func TestDocsAndMetrics(t *testing.T) {
	s := newStack(t, nil)
	resp, err := http.Get(s.URL + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
		!strings.Contains(string(page), "/docs/openapi.json") {
		t.Errorf("/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                    `json:"openapi"`
		Paths   map[string]map[string]any `json:"paths"`
	}
	if r := s.do(http.MethodGet, "/docs/openapi.json", nil, nil, &doc); r.StatusCode != http.StatusOK || !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Fatalf("openapi: %d %q", r.StatusCode, doc.OpenAPI)
	}
	for prefix, owner := range specTable {
		p := "/api/v1" + strings.ReplaceAll(prefix, "*", "{param1}")
		if item, ok := doc.Paths[p]; !ok || item["x-service"] != owner {
			t.Errorf("openapi: %s missing or wrong owner (%v)", p, item["x-service"])
		}
	}
	for _, p := range []string{"/health", "/metrics", "/api/v1/ws"} {
		if _, ok := doc.Paths[p]; !ok {
			t.Errorf("openapi: %s missing", p)
		}
	}
	s.do(http.MethodGet, "/api/v1/chat/x", nil, nil, nil)
	m := s.metricsText()
	for _, want := range []string{
		`gateway_upstream_duration_seconds_count{outcome="ok",service="gateway",upstream="marketplace"} 1`,
		`gateway_breaker_state{service="gateway",upstream="auth"} 0`,
		`http_request_duration_seconds_count{method="GET",route="/api/v1/chat",service="gateway",status="200"}`, // the route table's prefix, not the raw path
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}

func TestRateLimitBehindTrustedProxy(t *testing.T) {
	s := newStack(t, map[string]string{"RATE_LIMIT_WEBHOOK_PER_WINDOW": "1", "GATEWAY_CLIENT_IP_HEADER": "X-Forwarded-For"})
	hook := func(ip string) int {
		var e echo
		r := s.do(http.MethodPost, "/api/v1/webhook/mercadopago", strings.NewReader(`{}`), map[string]string{"X-Forwarded-For": ip + ", 10.0.0.1"}, &e)
		if r.StatusCode == http.StatusOK && e.Headers["x-forwarded-for"] != ip+", 10.0.0.1, 127.0.0.1" {
			t.Errorf("forwarded chain %q", e.Headers["x-forwarded-for"])
		}
		return r.StatusCode
	}
	if hook("198.51.100.1") != http.StatusOK || hook("198.51.100.2") != http.StatusOK {
		t.Fatalf("distinct clients share a bucket")
	}
	if got := hook("198.51.100.1"); got != http.StatusTooManyRequests {
		t.Errorf("second webhook from the same client: %d", got)
	}
}

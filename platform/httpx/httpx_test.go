package httpx_test

import (
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/logx"
)

type body struct {
	Nombre string `json:"nombre"`
	Edad   int    `json:"edad"`
}

func app() *fiber.App {
	a := httpx.NewApp(httpx.Config{Name: "t", Logger: logx.Discard()})
	a.Post("/bind", func(c *fiber.Ctx) error {
		var b body
		if err := httpx.BindJSON(c, &b); err != nil {
			return err
		}
		return c.JSON(b)
	})
	a.Get("/err/:kind", func(c *fiber.Ctx) error {
		switch c.Params("kind") {
		case "invalid":
			return apperr.Invalid("rule", "Regla rota")
		case "wrapped":
			return errors.Join(errors.New("ctx"), apperr.NotFound("nf", "No existe"))
		case "panic":
			panic("boom")
		case "plain":
			return errors.New("secret internal detail")
		case "accepted":
			return apperr.Accepted(fiber.Map{"trabajo_id": "x"})
		case "busy":
			return apperr.Unavailable("busy", "Ocupado", nil)
		}
		return nil
	})
	a.Use(httpx.NotFound)
	return a
}

func do(t *testing.T, a *fiber.App, method, path, ct, payload string) (int, map[string]any) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(payload))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := a.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if resp.Header.Get(httpx.HeaderRequestID) == "" {
		t.Errorf("%s %s: no request id", method, path)
	}
	return resp.StatusCode, m
}

func TestErrorMapping(t *testing.T) {
	a := app()
	cases := []struct {
		path   string
		status int
		code   string
	}{
		{"/err/invalid", 400, "rule"},
		{"/err/wrapped", 404, "nf"},
		{"/err/panic", 500, "internal_error"},
		{"/err/plain", 500, "internal_error"},
		{"/nope", 404, "route_not_found"},
	}
	for _, c := range cases {
		status, m := do(t, a, http.MethodGet, c.path, "", "")
		if status != c.status || m["code"] != c.code || m["detail"] == "" {
			t.Errorf("%s → %d %v; want %d %s", c.path, status, m, c.status, c.code)
		}
		if strings.Contains(m["detail"].(string), "secret") {
			t.Errorf("%s leaked an internal detail: %v", c.path, m)
		}
	}
	status, m := do(t, a, http.MethodGet, "/err/accepted", "", "")
	if status != 202 || m["trabajo_id"] != "x" {
		t.Errorf("accepted → %d %v", status, m)
	}
	// A 503 says when to try again; other errors do not.
	for path, want := range map[string]bool{"/err/busy": true, "/err/invalid": false, "/err/plain": false} {
		resp, err := a.Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		if got := resp.Header.Get("Retry-After") != ""; got != want {
			t.Errorf("%s → %d with Retry-After %q; want one: %v", path, resp.StatusCode, resp.Header.Get("Retry-After"), want)
		}
	}
}

func TestBindJSON(t *testing.T) {
	a := app()
	cases := []struct {
		name, ct, payload string
		status            int
	}{
		{"ok", "application/json", `{"nombre":"Ana","edad":3}`, 200},
		{"charset", "application/json; charset=utf-8", `{"nombre":"Ana"}`, 200},
		{"wrong type", "text/plain", `{"nombre":"Ana"}`, 415},
		{"malformed", "application/json", `{"nombre":`, 422},
		{"field type", "application/json", `{"edad":"tres"}`, 422},
		{"empty", "application/json", ``, 422},
		{"trailing", "application/json", `{"nombre":"a"} {}`, 422},
		{"too large", "application/json", `{"nombre":"` + strings.Repeat("a", 1<<20) + `"}`, 413},
	}
	for _, c := range cases {
		status, m := do(t, a, http.MethodPost, "/bind", c.ct, c.payload)
		if status != c.status {
			t.Errorf("%s: status %d (%v), want %d", c.name, status, m, c.status)
		}
		if status >= 400 && m["code"] == nil {
			t.Errorf("%s: error without code: %v", c.name, m)
		}
	}
}

// A request line longer than the server's read buffer is refused by fasthttp before any
// handler runs; over a real socket the answer is still a 431 in the error shape (app.Test
// cannot show it: it returns the read error instead).
func TestRequestLineTooLong(t *testing.T) {
	a := app()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = a.Listener(ln) }()
	t.Cleanup(func() { _ = a.Shutdown() })
	for _, n := range []int{100, 8 << 10} {
		resp, err := http.Get("http://" + ln.Addr().String() + "/err/invalid?q=" + strings.Repeat("%DB", n))
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var eb httpx.ErrorBody
		if err := json.Unmarshal(raw, &eb); err != nil {
			t.Fatalf("query of %d escapes: %d %q is not the error shape", n, resp.StatusCode, raw)
		}
		want, code := http.StatusBadRequest, "rule"
		if n > 1000 {
			want, code = http.StatusRequestHeaderFieldsTooLarge, "headers_too_large"
		}
		if resp.StatusCode != want || eb.Code != code || eb.Detail == "" {
			t.Errorf("query of %d escapes → %d %+v; want %d %s", n, resp.StatusCode, eb, want, code)
		}
	}
}

// A request without an id gets a fresh random (version 4) UUID, echoed; one that brings
// an id keeps it.
func TestRequestID(t *testing.T) {
	a := app()
	seen := map[string]bool{}
	for range 50 {
		resp, err := a.Test(httptest.NewRequest("GET", "/missing", nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		id := resp.Header.Get(httpx.HeaderRequestID)
		u, err := uuid.Parse(id)
		if err != nil || u.Version() != 4 || u.Variant() != uuid.RFC4122 || seen[id] {
			t.Fatalf("request id %q: %v, version %d, variant %v, repeated %v", id, err, u.Version(), u.Variant(), seen[id])
		}
		seen[id] = true
	}
	req := httptest.NewRequest("GET", "/missing", nil)
	req.Header.Set(httpx.HeaderRequestID, "caller-id-1")
	resp, err := a.Test(req, -1)
	if err != nil || resp.Header.Get(httpx.HeaderRequestID) != "caller-id-1" {
		t.Fatalf("the caller's id was not kept: %q %v", resp.Header.Get(httpx.HeaderRequestID), err)
	}
}

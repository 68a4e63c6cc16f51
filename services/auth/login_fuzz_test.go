package auth_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/auth"
)

// FuzzLoginHTTP posts any body, as JSON, an OAuth2 password form or multipart, to the
// real auth app's login (on a fresh database, cheap argon2 settings). Nobody is
// registered, so nothing may succeed: every answer is a 4xx with the error shape (bad
// credentials, validation, throttling), never a 5xx — whatever bytes reach the account
// lookup (a NUL, invalid UTF-8 from a form) must be refused, not crash the query.
// DecodeLogin's own properties are FuzzLoginDecode's.
func FuzzLoginHTTP(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"email":"ana@example.com","password":"secreto123"}`},
		{"application/x-www-form-urlencoded", "username=ana%40example.com&password=secreto123&grant_type=password"},
		{"application/x-www-form-urlencoded", "username=a%00b%40example.com&password=x"},
		{"application/x-www-form-urlencoded", "username=%ff%fe%40example.com&password=x"},
		{"multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nana@example.com\r\n--XX\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nx\r\n--XX--\r\n"},
		{"multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\n\xffana@example.com\r\n--XX--\r\n"},
		{"application/json", `{"email":"ana\u0000@example.com","password":"x"}`},
		{"text/plain", "hola"}, {"", ""},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	env := testkit.NewEnv(f)
	d := env.Deps(f, auth.Name, map[string]string{"ARGON2_MEMORY_KIB": "1024", "ARGON2_ITERATIONS": "1", "ARGON2_PARALLELISM": "1"})
	d.PublicURL = "http://127.0.0.1:8000"
	svc, err := auth.New(context.Background(), d)
	if err != nil {
		f.Fatal(err)
	}
	// The route is live: an unknown account is refused as bad credentials, not 404.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/auth/login", strings.NewReader(`{"email":"nadie@example.com","password":"secreto123"}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := svc.App.Test(req, -1)
	if err != nil {
		f.Fatal(err)
	}
	if resp.StatusCode != http.StatusUnauthorized {
		f.Fatalf("login of an unknown account: %d", resp.StatusCode)
	}
	// Over a real listener, not App.Test: a body fasthttp refuses before routing (a
	// malformed multipart form it pre-parses) makes App.Test return the parse error,
	// while a client gets the answer Fiber's error handler writes — which is what the
	// property is about.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go func() { _ = svc.App.Listener(ln) }()
	f.Cleanup(func() { _ = svc.App.Shutdown() })
	loginURL := "http://" + ln.Addr().String() + "/api/v1/auth/login"
	client := &http.Client{Timeout: 10 * time.Second}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		if strings.ContainsFunc(ct, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return // no client can send it as a header value
		}
		req, err := http.NewRequest(http.MethodPost, loginURL, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode < 400 || resp.StatusCode >= 500 {
			t.Fatalf("login %q %q: %d %s", ct, body, resp.StatusCode, raw)
		}
		var eb httpx.ErrorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Code == "" {
			t.Fatalf("%d without the error shape: %s", resp.StatusCode, raw)
		}
	})
}

package testkit

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// echo answers what it received: method, path, content type, authorization, X-Extra and
// the body; /status/NNN answers NNN with a SPEC-like error body.
func echo(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if code, ok := strings.CutPrefix(r.URL.Path, "/status/"); ok {
			var n int
			_, _ = fmt.Sscan(code, &n)
			w.WriteHeader(n)
			_, _ = io.WriteString(w, r.URL.Query().Get("body"))
			return
		}
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
			if err := r.ParseMultipartForm(1 << 20); err != nil {
				w.WriteHeader(400)
				return
			}
			files := map[string]string{}
			for field, hs := range r.MultipartForm.File {
				f, _ := hs[0].Open()
				b, _ := io.ReadAll(f)
				files[field] = hs[0].Filename + ":" + string(b)
			}
			_ = json.NewEncoder(w).Encode(files)
			return
		}
		b, _ := io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(map[string]string{"method": r.Method, "path": r.URL.Path, "ct": r.Header.Get("Content-Type"),
			"auth": r.Header.Get("Authorization"), "extra": r.Header.Get("X-Extra"), "body": string(b)})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestSendEncodesBodies(t *testing.T) {
	srv := echo(t)
	for _, c := range []struct {
		name, ct string
		body     any
		wantCT   string
		wantBody string
	}{
		{"none", "", nil, "", ""},
		{"json value", "", map[string]int{"a": 1}, "application/json", `{"a":1}`},
		{"json value keeps ct", "application/merge-patch+json", map[string]int{"a": 1}, "application/merge-patch+json", `{"a":1}`},
		{"raw string without ct", "", "{", "", "{"},
		{"raw bytes with ct", "text/plain", []byte("hola"), "text/plain", "hola"},
		{"reader", "application/x-www-form-urlencoded", strings.NewReader("a=1"), "application/x-www-form-urlencoded", "a=1"},
	} {
		m := Send(t, "POST", srv.URL+"/x", "tok", c.ct, c.body, "X-Extra", "1").Expect(t, 200, c.name).Map(t)
		if m["ct"] != c.wantCT || m["body"] != c.wantBody || m["auth"] != "Bearer tok" || m["extra"] != "1" || m["method"] != "POST" {
			t.Errorf("%s: server saw %v", c.name, m)
		}
	}
	if m := Send(t, "GET", srv.URL+"/x", "", "", nil).Map(t); m["auth"] != "" {
		t.Errorf("empty token sent %q", m["auth"])
	}
}

func TestClient(t *testing.T) {
	srv := echo(t)
	c := Client{T: t, Base: srv.URL, RawType: "application/json"}
	if m := c.Do("PUT", "/p", "", "{}").Map(t); m["ct"] != "application/json" || m["path"] != "/p" {
		t.Errorf("raw body with RawType: %v", m)
	}
	var out map[string]string
	if r := c.JSON("POST", "/p", "", map[string]any{"x": true}, &out); r.Status != 200 || out["body"] != `{"x":true}` {
		t.Errorf("JSON: %d %v", r.Status, out)
	}
	out = nil
	if r := c.JSON("GET", "/status/404", "", nil, &out); r.Status != 404 || out != nil {
		t.Errorf("JSON decoded a non-2xx answer: %d %v", r.Status, out)
	}
	m := c.Multipart("POST", "/up", "", Part{Field: "file", Name: "a.txt", Data: []byte("uno")}).Expect(t, 200, "multipart").Map(t)
	if m["file"] != "a.txt:uno" {
		t.Errorf("multipart: %v", m)
	}
}

// recorder is a testing.TB that records Fatalf instead of stopping the test.
type recorder struct {
	testing.TB
	failed string
}

func (r *recorder) Helper() {}
func (r *recorder) Fatalf(format string, args ...any) {
	if r.failed == "" {
		r.failed = fmt.Sprintf(format, args...)
	}
}

func TestExpectFails(t *testing.T) {
	srv := echo(t)
	get := func(status int, body string) Response {
		return Send(t, "GET", fmt.Sprintf("%s/status/%d?body=%s", srv.URL, status, body), "", "", nil)
	}
	for _, c := range []struct {
		name  string
		check func(tb testing.TB)
		fails bool
	}{
		{"right status", func(tb testing.TB) { get(201, "").Expect(tb, 201, "x") }, false},
		{"wrong status", func(tb testing.TB) { get(500, "").Expect(tb, 201, "x") }, true},
		{"error shape", func(tb testing.TB) { get(422, `{"detail":"d","code":"c"}`).ExpectError(tb, 422, "x") }, false},
		{"error without code", func(tb testing.TB) { get(422, `{"detail":"d"}`).ExpectError(tb, 422, "x") }, true},
		{"error without detail", func(tb testing.TB) { get(422, `{"code":"c"}`).ExpectError(tb, 422, "x") }, true},
		{"error not JSON", func(tb testing.TB) { get(422, `nope`).ExpectError(tb, 422, "x") }, true},
	} {
		rec := &recorder{TB: t}
		c.check(rec)
		if (rec.failed != "") != c.fails {
			t.Errorf("%s: failed=%q, want failure %v", c.name, rec.failed, c.fails)
		}
	}
}

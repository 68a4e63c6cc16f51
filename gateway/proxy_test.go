package gateway_test

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestForwardsMethodPathQueryHeadersBody(t *testing.T) {
	for _, hop := range hops {
		t.Run(hop.name, func(t *testing.T) { testForwards(t, hop.inProcess) })
	}
}

// wantVia fails t unless the echo came the way the stack sends requests of its kind.
func wantVia(t *testing.T, e echo, inProcess bool) {
	t.Helper()
	if got := e.Headers[strings.ToLower(viaHeader)] == "in-process"; got != inProcess {
		t.Errorf("reached the service in process: %v, want %v", got, inProcess)
	}
}

func testForwards(t *testing.T, inProcess bool) {
	s := newStackVia(t, nil, inProcess)
	const trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	body := `{"text":"hola, ¿cómo estás?"}`
	var e echo
	resp := s.do(http.MethodPatch, "/api/v1/chat/abc/messages?limit=20&before=2026-01-01T00%3A00%3A00Z&q=ni%C3%B1o", strings.NewReader(body),
		map[string]string{"Content-Type": "application/json", "X-Custom": "valor", "Traceparent": trace,
			"X-Internal-Key": "smuggled", "X-Want-Status": "201", "X-Request-Id": "req-123"}, &e)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("status %d, want the upstream's 201", resp.StatusCode)
	}
	if e.Service != "marketplace" || e.Method != http.MethodPatch || e.Path != "/api/v1/chat/abc/messages" {
		t.Errorf("echo %+v", e)
	}
	if e.Query != "limit=20&before=2026-01-01T00%3A00%3A00Z&q=ni%C3%B1o" {
		t.Errorf("query %q not forwarded verbatim", e.Query)
	}
	if e.Body != body {
		t.Errorf("body %q, want %q", e.Body, body)
	}
	wantVia(t, e, inProcess)
	h := e.Headers
	if h["x-custom"] != "valor" || h["content-type"] != "application/json" || h["traceparent"] != trace {
		t.Errorf("headers not forwarded: %v", h)
	}
	if h["x-request-id"] != "req-123" || resp.Header.Get("X-Request-Id") != "req-123" {
		t.Errorf("request id: upstream %q, response %q", h["x-request-id"], resp.Header.Get("X-Request-Id"))
	}
	if h["x-forwarded-for"] != "127.0.0.1" || h["x-forwarded-host"] == "" || h["x-forwarded-proto"] != "http" {
		t.Errorf("forwarding headers: %v", h)
	}
	if _, ok := h["x-internal-key"]; ok {
		t.Errorf("X-Internal-Key reached the service")
	}
	if resp.Header.Get("X-Total-Count") != "42" {
		t.Errorf("upstream response header lost: %v", resp.Header)
	}

	// HEAD answers headers only, without hanging on a body.
	if r := s.do(http.MethodHead, "/api/v1/users/me", nil, nil, nil); r.StatusCode != http.StatusOK || r.Header.Get("X-Total-Count") != "42" {
		t.Errorf("HEAD: %d %v", r.StatusCode, r.Header)
	}

	// A client is not a trusted proxy: its own forwarding headers are replaced by what
	// the gateway sees (a plain HTTP connection from 127.0.0.1), never passed on.
	e = echo{}
	s.do(http.MethodGet, "/api/v1/users/me", nil, map[string]string{"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.9.9.9",
		"X-Forwarded-Host": "evil.example", "X-Url-Scheme": "https", "X-Forwarded-Ssl": "on"}, &e)
	if h := e.Headers; h["x-forwarded-proto"] != "http" || h["x-forwarded-for"] != "127.0.0.1" || h["x-forwarded-host"] == "evil.example" {
		t.Errorf("client-sent forwarding headers believed: %v", h)
	}

	// Without a request id or trace, the gateway makes both.
	e = echo{}
	resp = s.do(http.MethodGet, "/api/v1/users/me", nil, nil, &e)
	if id := e.Headers["x-request-id"]; id == "" || id != resp.Header.Get("X-Request-Id") {
		t.Errorf("generated request id %q vs response %q", id, resp.Header.Get("X-Request-Id"))
	}
	if tp := e.Headers["traceparent"]; len(tp) != 55 || !strings.HasPrefix(tp, "00-") {
		t.Errorf("generated traceparent %q", tp)
	}
}

// multipartBody builds a form with the given file sizes and one text field.
func multipartBody(t *testing.T, sizes ...int) (*bytes.Buffer, string) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("titulo", "Baño terminado"); err != nil {
		t.Fatal(err)
	}
	for i, n := range sizes {
		// Per-part headers and a field after the files: a gateway that parsed and
		// re-encoded the form would not reproduce these bytes.
		hdr := textproto.MIMEHeader{}
		hdr.Set("Content-Disposition", fmt.Sprintf(`form-data; name="files"; filename="foto%d.jpg"`, i))
		hdr.Set("Content-Type", "image/jpeg")
		hdr.Set("X-Part", fmt.Sprint(i))
		fw, err := mw.CreatePart(hdr)
		if err != nil {
			t.Fatal(err)
		}
		b := make([]byte, n)
		_, _ = rand.Read(b)
		if _, err := fw.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := mw.WriteField("descripcion", "después de las fotos"); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	return &buf, mw.FormDataContentType()
}

func TestMultipartUploadForwardedIntact(t *testing.T) {
	for _, hop := range hops {
		t.Run(hop.name, func(t *testing.T) { testMultipart(t, hop.inProcess) })
	}
}

func testMultipart(t *testing.T, inProcess bool) {
	s := newStackVia(t, nil, inProcess)
	// A form up to 1 MiB is read whole and may be handed over in process; a larger one
	// is streamed over the network.
	for _, sizes := range [][]int{{200 << 10}, {3 << 20}, {3 << 20, 512 << 10, 10 << 20}} {
		buf, ct := multipartBody(t, sizes...)
		sum := sha256.Sum256(buf.Bytes())
		n := buf.Len()
		var e echo
		// Expect: 100-continue is what curl and browsers' big uploads send.
		resp := s.do(http.MethodPost, "/api/v1/professional/portfolio/1/images", buf,
			map[string]string{"Content-Type": ct, "Expect": "100-continue"}, &e)
		if resp.StatusCode != http.StatusOK || e.Service != "professionals" {
			t.Fatalf("status %d service %q", resp.StatusCode, e.Service)
		}
		if _, ok := e.Headers["expect"]; ok {
			t.Errorf("Expect header forwarded")
		}
		if e.BodyLen != n || e.BodySHA256 != hex.EncodeToString(sum[:]) || e.Headers["content-type"] != ct {
			t.Errorf("upload altered: got %d bytes sha %s ct %q, sent %d bytes sha %x ct %q",
				e.BodyLen, e.BodySHA256, e.Headers["content-type"], n, sum, ct)
		}
		wantVia(t, e, inProcess && n <= 1<<20)
	}
}

func TestBodyLimit(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_MAX_BODY_MB": "2"})
	buf, ct := multipartBody(t, 3<<20)
	var e errorBody
	// Over the limit the gateway answers 413 and closes. A client still writing the body
	// can meet the close as a reset before it reads the answer: both are refusals, and
	// either way nothing reaches the service.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/api/v1/professional/portfolio/1/images", buf)
	req.Header.Set("Content-Type", ct)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		_ = json.Unmarshal(raw, &e)
		if resp.StatusCode != http.StatusRequestEntityTooLarge || e.Code != "body_too_large" {
			t.Errorf("declared 3 MiB over a 2 MiB limit: status %d %+v", resp.StatusCode, e)
		}
	} else if !strings.Contains(err.Error(), "reset") && !strings.Contains(err.Error(), "broken pipe") {
		t.Errorf("declared 3 MiB over a 2 MiB limit: %v", err)
	}
	// Chunked (no Content-Length): the limit is enforced while streaming.
	pr, pw := io.Pipe()
	go func() {
		chunk := make([]byte, 64<<10)
		for i := 0; i < 48; i++ { // 3 MiB
			if _, err := pw.Write(chunk); err != nil {
				return
			}
		}
		_ = pw.Close()
	}()
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/api/v1/professional/portfolio/1/images", pr)
	req.Header.Set("Content-Type", "application/octet-stream")
	r2, err := http.DefaultClient.Do(req)
	if err == nil {
		defer r2.Body.Close()
		if r2.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("chunked 3 MiB: status %d, want 413", r2.StatusCode)
		}
	} // a connection reset while the client still writes is also a refusal
	_ = pr.Close()

	// Under the limit, chunked bodies stream through intact.
	small := bytes.Repeat([]byte("x"), 1<<20)
	req, _ = http.NewRequest(http.MethodPost, s.URL+"/api/v1/chat/1/messages", io.NopCloser(bytes.NewReader(small)))
	req.ContentLength = -1
	r3, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r3.Body.Close()
	if r3.StatusCode != http.StatusOK {
		t.Errorf("chunked 1 MiB: status %d", r3.StatusCode)
	}
}

func TestDeadUpstreamAnswers503FastOthersKeepWorking(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_BREAKER_FAILURES": "3", "GATEWAY_BREAKER_OPEN": "1h"})
	s.Services["payments"].srv.Close()
	for i := 0; i < 6; i++ {
		start := time.Now()
		var e errorBody
		resp := s.do(http.MethodGet, "/api/v1/pagos/123", nil, nil, &e)
		if resp.StatusCode != http.StatusServiceUnavailable || e.Code != "service_unavailable" || e.Detail != "Servicio no disponible" {
			t.Fatalf("dead payments: status %d %+v", resp.StatusCode, e)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("dead service took %s to refuse", d)
		}
	}
	var wg sync.WaitGroup
	for _, p := range []string{"/api/v1/chat/x", "/api/v1/users/me", "/api/v1/auth/login"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := http.Get(s.URL + p)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d while payments is down", p, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	// The breaker opened after 3 failures and shows in /metrics.
	m := s.metricsText()
	if !strings.Contains(m, `gateway_breaker_state{service="gateway",upstream="payments"} 2`) {
		t.Errorf("payments breaker not open in metrics:\n%s", grep(m, "gateway_breaker_state"))
	}
	if !strings.Contains(m, `gateway_breaker_state{service="gateway",upstream="marketplace"} 0`) {
		t.Errorf("marketplace breaker not closed:\n%s", grep(m, "gateway_breaker_state"))
	}
	if !strings.Contains(m, `gateway_upstream_duration_seconds_count{outcome="breaker_open",service="gateway",upstream="payments"}`) {
		t.Errorf("no breaker_open observations:\n%s", grep(m, "gateway_upstream_duration_seconds_count"))
	}
}

func TestHangingUpstreamTimesOut(t *testing.T) {
	for _, hop := range hops {
		t.Run(hop.name, func(t *testing.T) { testHanging(t, hop.inProcess) })
	}
}

func testHanging(t *testing.T, inProcess bool) {
	s := newStackVia(t, map[string]string{"GATEWAY_UPSTREAM_TIMEOUT": "300ms"}, inProcess)
	s.Services["notifications"].hang.Store(true)
	start := time.Now()
	var e errorBody
	resp := s.do(http.MethodGet, "/api/v1/notifications", nil, nil, &e)
	if resp.StatusCode != http.StatusServiceUnavailable || e.Code != "upstream_timeout" {
		t.Errorf("hanging service: status %d %+v", resp.StatusCode, e)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 2*time.Second {
		t.Errorf("timeout after %s, want ≈300ms", d)
	}
	if r := s.do(http.MethodGet, "/api/v1/chat/x", nil, nil, nil); r.StatusCode != http.StatusOK {
		t.Errorf("other service: %d", r.StatusCode)
	}
}

func TestCORS(t *testing.T) {
	for _, hop := range hops {
		t.Run(hop.name, func(t *testing.T) { testCORS(t, hop.inProcess) })
	}
}

func testCORS(t *testing.T, inProcess bool) {
	s := newStackVia(t, map[string]string{"CORS_ORIGINS": "http://localhost:3000,https://conectarprofesionales.com"}, inProcess)
	req, _ := http.NewRequest(http.MethodOptions, s.URL+"/api/v1/chat/conversations", nil)
	req.Header.Set("Origin", "http://localhost:3000")
	req.Header.Set("Access-Control-Request-Method", "POST")
	req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent || resp.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" ||
		resp.Header.Get("Access-Control-Allow-Credentials") != "true" {
		t.Errorf("preflight: %d %v", resp.StatusCode, resp.Header)
	}
	if s.Services["marketplace"].hits.Load() != 0 {
		t.Errorf("preflight reached the service")
	}
	r2 := s.do(http.MethodGet, "/api/v1/chat/conversations", nil, map[string]string{"Origin": "https://conectarprofesionales.com"}, nil)
	if got := r2.Header.Values("Access-Control-Allow-Origin"); len(got) != 1 || got[0] != "https://conectarprofesionales.com" {
		t.Errorf("proxied answer CORS origin %v (the service's * must be replaced)", got)
	}
	if !strings.Contains(r2.Header.Get("Access-Control-Expose-Headers"), "X-Total-Count") {
		t.Errorf("expose headers %q", r2.Header.Get("Access-Control-Expose-Headers"))
	}
	r3 := s.do(http.MethodGet, "/api/v1/chat/conversations", nil, map[string]string{"Origin": "https://evil.example"}, nil)
	if r3.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("foreign origin allowed: %v", r3.Header)
	}
}

func (s *stack) metricsText() string {
	s.t.Helper()
	resp, err := http.Get(s.URL + "/metrics")
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

func grep(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestBreakerRecoversWhenServiceReturns(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_BREAKER_FAILURES": "2", "GATEWAY_BREAKER_OPEN": "300ms"})
	f := s.Services["professionals"]
	f.broken.Store(true)
	for i := 0; i < 2; i++ {
		if r := s.do(http.MethodGet, "/api/v1/search", nil, nil, nil); r.StatusCode != http.StatusServiceUnavailable {
			t.Fatalf("broken service: %d", r.StatusCode)
		}
	}
	f.broken.Store(false)
	hits := f.hits.Load()
	// Open: refused without reaching the service, although it is back.
	var e errorBody
	if r := s.do(http.MethodGet, "/api/v1/search", nil, nil, &e); r.StatusCode != http.StatusServiceUnavailable || e.Code != "service_unavailable" {
		t.Fatalf("open breaker: %d %+v", r.StatusCode, e)
	}
	if f.hits.Load() != hits {
		t.Errorf("an open breaker let a request through")
	}
	// After the open period one probe goes through, succeeds, and the breaker closes.
	time.Sleep(350 * time.Millisecond)
	for i := 0; i < 3; i++ {
		if r := s.do(http.MethodGet, "/api/v1/search", nil, nil, nil); r.StatusCode != http.StatusOK {
			t.Errorf("after recovery: %d", r.StatusCode)
		}
	}
	if !strings.Contains(s.metricsText(), `gateway_breaker_transitions_total{service="gateway",to="closed",upstream="professionals"} 1`) {
		t.Errorf("no transition back to closed recorded")
	}
}

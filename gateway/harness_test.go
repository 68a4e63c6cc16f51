package gateway_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/inmem"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/testkit"
)

// echo is what a fake service answers for every non-health request.
type echo struct {
	Service    string            `json:"service"`
	Method     string            `json:"method"`
	Path       string            `json:"path"`
	Query      string            `json:"query"`
	Body       string            `json:"body,omitempty"` // only when small
	BodyLen    int               `json:"body_len"`
	BodySHA256 string            `json:"body_sha256"`
	Headers    map[string]string `json:"headers"`
}

// fakeService stands in for one of the six services: it echoes what reached it and
// answers /health like platform/health does.
type fakeService struct {
	name    string
	srv     *httptest.Server
	hits    atomic.Int64
	healthy atomic.Bool
	hang    atomic.Bool // requests (not /health) block until the client gives up
	broken  atomic.Bool // requests (not /health) get their connection closed unanswered
	unblock chan struct{}
}

func newFakeService(t *testing.T, name string) *fakeService {
	f := &fakeService{name: name, unblock: make(chan struct{})}
	f.healthy.Store(true)
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.unblock)
		f.srv.Close()
	})
	return f
}

func (f *fakeService) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/health" {
		w.Header().Set("Content-Type", "application/json")
		if f.healthy.Load() {
			_, _ = io.WriteString(w, `{"status":"healthy","service":"`+f.name+`","dependencies":{"postgres":"ok","nats":"ok"}}`)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = io.WriteString(w, `{"status":"unhealthy","service":"`+f.name+`","dependencies":{"postgres":"error: connection refused","nats":"ok"}}`)
		return
	}
	f.hits.Add(1)
	if f.broken.Load() {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
			}
		}
		return
	}
	if f.hang.Load() {
		select {
		case <-r.Context().Done():
		case <-f.unblock:
		}
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(body)
	e := echo{Service: f.name, Method: r.Method, Path: r.URL.EscapedPath(), Query: r.URL.RawQuery, BodyLen: len(body),
		BodySHA256: hex.EncodeToString(sum[:]), Headers: map[string]string{}}
	if len(body) <= 4096 {
		e.Body = string(body)
	}
	for k, v := range r.Header {
		e.Headers[strings.ToLower(k)] = strings.Join(v, ",")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Total-Count", "42")
	w.Header().Set("Access-Control-Allow-Origin", "*") // the gateway must drop this
	if r.Header.Get("X-Want-Status") == "201" {
		w.WriteHeader(http.StatusCreated)
	}
	_ = json.NewEncoder(w).Encode(e)
}

// stack is a running gateway in front of six fake services, with NATS, keys and a ban list.
type stack struct {
	t        *testing.T
	URL      string
	GW       *gateway.Gateway
	Services map[string]*fakeService
	NATS     *testkit.NATS
	Keys     *testkit.Keys
	Bans     *natsx.BanList
	KV       jetstream.KeyValue
}

// newStack starts everything. The gateway owns no database, so the test builds the
// NATS/keys/ban-list part of testkit.Env without cloning a PostgreSQL database.
func newStack(t *testing.T, env map[string]string) *stack {
	t.Helper()
	return newStackVia(t, env, false)
}

// viaHeader is set on requests the in-process stack hands to a fake service directly,
// so its echo shows which path a request took.
const viaHeader = "X-Test-Via"

// hops names both ways the gateway reaches a service: over the network, and in process
// as `serve all` wires it (platform/inmem).
var hops = []struct {
	name      string
	inProcess bool
}{{"network", false}, {"in-process", true}}

// newStackVia is newStack whose gateway calls the fake services in process when
// inProcess is set, as `conectar serve all` calls its own services.
func newStackVia(t *testing.T, env map[string]string, inProcess bool) *stack {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TEST_LOG") == "1" {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &stack{t: t, Services: map[string]*fakeService{}, NATS: testkit.StartNATS(t), Keys: testkit.NewKeys(t)}
	var err error
	if s.Bans, err = natsx.WatchBans(ctx, s.NATS.JS, log); err != nil {
		t.Fatal(err)
	}
	if s.KV, err = natsx.BansKV(ctx, s.NATS.JS); err != nil {
		t.Fatal(err)
	}
	urls := map[string]string{}
	for _, n := range []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"} {
		f := newFakeService(t, n)
		s.Services[n] = f
		urls[n] = f.srv.URL
	}
	deps := gateway.Deps{Log: log, NC: s.NATS.NC, Verifier: s.Keys.Verifier(s.Bans),
		Env: func(k string) string { return env[k] }, Now: time.Now, ServiceURLs: urls}
	if inProcess {
		sb := inmem.New()
		for n, f := range s.Services {
			sb.Handle(n, fasthttpadaptor.NewFastHTTPHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				r.Header.Set(viaHeader, "in-process")
				f.serve(w, r)
			})))
		}
		deps.Transport = sb.Transport
	}
	gw, err := gateway.New(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	if err := gw.Start(ctx); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = gw.Serve(ln) }()
	var stopOnce sync.Once
	t.Cleanup(func() {
		stopOnce.Do(func() {
			sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer scancel()
			gw.Stop(sctx)
		})
	})
	s.GW = gw
	s.URL = "http://" + ln.Addr().String()
	return s
}

// do sends a request and decodes a JSON answer into out (when not nil).
func (s *stack) do(method, path string, body io.Reader, hdr map[string]string, out any) *http.Response {
	s.t.Helper()
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		s.t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		s.t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			s.t.Fatalf("%s %s: status %d, body %q: %v", method, path, resp.StatusCode, b, err)
		}
	}
	return resp
}

// errorBody is the SPEC §2 error shape.
type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

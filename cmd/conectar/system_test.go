package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/platform/logx"
	"github.com/conectarpro/conectar/platform/testkit"
)

// system is the whole backend (`serve all` plus dev's extras) on free ports, against a
// fresh database and an in-process JetStream server: the system tests drive it only
// through the gateway, as the frontend does.
type system struct {
	t       *testing.T
	gateway string
	env     map[string]string
	ctx     context.Context
	set     settings
	getenv  func(string) string
	in      *infra
	comps   map[string]component
	// nats is the JetStream server, so fault tests can stop and restart it on its store.
	nats *testkit.NATS
	// contract checks every exchange of s.call, s.login, s.upload and s.feDo against the
	// gateway's /docs/openapi.json (issue #11): an undocumented route, status or field
	// fails the test that exchanged it. s.raw opts one call out.
	contract *contract
}

func startSystem(t *testing.T, extra map[string]string) *system {
	t.Helper()
	if testing.Short() {
		t.Skip("system test")
	}
	dsn := testkit.DB(t)
	ns := testkit.StartNATS(t)
	env := map[string]string{
		"DATABASE_URL": dsn, "NATS_URL": ns.URL, "HOST": "127.0.0.1", "LOG_LEVEL": "error",
		"ARGON2_MEMORY_KIB": "1024", "ARGON2_ITERATIONS": "1", "ARGON2_PARALLELISM": "1",
		"ADMIN_EMAIL": "admin@conectar.test", "ADMIN_PASSWORD": "admin-password-1",
	}
	for _, n := range append(serviceNames(), "gateway") {
		p, err := testkit.FreePort()
		if err != nil {
			t.Fatal(err)
		}
		env[strings.ToUpper(n)+"_PORT"] = fmt.Sprint(p)
	}
	env["PUBLIC_URL"] = "http://127.0.0.1:" + env["GATEWAY_PORT"]
	for k, v := range extra {
		env[k] = v
	}
	getenv := func(k string) string { return env[k] }
	ctx, cancel := context.WithCancel(context.Background())
	s, err := loadSettings(getenv)
	if err != nil {
		t.Fatal(err)
	}
	dc := devContext{settings: s, getenv: getenv, dataDir: t.TempDir(), stdout: io.Discard}
	for _, x := range devExtras() {
		if x.start == nil {
			continue
		}
		o, stop, err := x.start(ctx, dc)
		if err != nil {
			t.Fatalf("start %s: %v", x.name, err)
		}
		if stop != nil {
			t.Cleanup(stop)
		}
		for k, v := range o {
			if _, set := env[k]; !set || k != "NATS_URL" {
				env[k] = v
			}
		}
	}
	if s, err = loadSettings(getenv); err != nil {
		t.Fatal(err)
	}
	dc.settings = s
	// TEST_LOG=1 shows the services' errors (as in the component tests).
	var logw io.Writer = io.Discard
	if os.Getenv("TEST_LOG") == "1" {
		logw = os.Stderr
	}
	log := logx.New(logw, "system-test", "error")
	in, err := openInfra(ctx, s, log)
	if err != nil {
		t.Fatal(err)
	}
	comps, err := buildComponents(ctx, s, getenv, in, []string{"all"})
	if err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- runComponents(ctx, s, comps, log, func() {
			for _, x := range devExtras() {
				if x.afterStart != nil {
					if err := x.afterStart(ctx, dc); err != nil {
						t.Errorf("%s: %v", x.name, err)
					}
				}
			}
			close(ready)
		})
	}()
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("system did not start: %v", err)
	case <-time.After(60 * time.Second):
		t.Fatal("system did not start in 60s")
	}
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(20 * time.Second):
		}
		in.close()
	})
	sys := &system{t: t, gateway: "http://127.0.0.1:" + env["GATEWAY_PORT"], env: env, ctx: ctx, set: s, getenv: getenv, in: in, comps: comps, nats: ns}
	// Loaded once every service is up, so the merged document holds all of them.
	sys.contract = loadContract(t, t, sys.gateway)
	return sys
}

// client is the HTTP client of the system tests' helpers: every exchange with the
// gateway goes through the contract (requests to other hosts pass unchecked).
func (s *system) client() *http.Client {
	if s.contract == nil {
		return http.DefaultClient
	}
	return s.contract.client()
}

// call sends a JSON request through the gateway and decodes the JSON answer; the
// exchange is checked against the document.
func (s *system) call(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	return s.send(s.client(), method, path, token, body)
}

// raw is call without the contract, for a request that is deliberately outside the
// document (an unknown route, a body no operation accepts). Keep it rare: each use is a
// call the document does not vouch for.
func (s *system) raw(method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	return s.send(http.DefaultClient, method, path, token, body)
}

func (s *system) send(client *http.Client, method, path, token string, body any) (int, map[string]any) {
	s.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.gateway+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	out := benchkit.DecodeAnswer(raw)
	if resp.StatusCode >= 500 {
		s.t.Errorf("%s %s → %d %s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out
}

func TestSystemStartsHealthy(t *testing.T) {
	sys := startSystem(t, nil)
	var body map[string]any
	testkit.Eventually(t, 20*time.Second, "all services healthy", func() bool {
		var status int
		status, body = sys.call(http.MethodGet, "/health", "", nil)
		return status == 200 && body["status"] == "healthy"
	})
	services, _ := body["services"].(map[string]any)
	for _, n := range []string{"autenticacion", "usuarios", "profesionales", "chat_ofertas", "pagos", "notificaciones"} {
		if services[n] != "healthy" {
			t.Errorf("%s = %v", n, services[n])
		}
	}
	// An unknown route is by definition not in the document.
	if status, body := sys.raw(http.MethodGet, "/api/v1/no-such-thing", "", nil); status != 404 || body["code"] == nil {
		t.Fatalf("unknown route → %d %v", status, body)
	}
}

// kill stops one component as a crash would look from outside: its port stops answering
// and its consumers stop acknowledging.
func (s *system) kill(name string) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.comps[name].Stop(ctx)
}

// revive builds the component again from scratch (fresh pool, fresh consumers) on its
// port, as a restarted container would be.
func (s *system) revive(name string) {
	s.t.Helper()
	comps, err := buildComponents(s.ctx, s.set, s.getenv, s.in, []string{name})
	if err != nil {
		s.t.Fatal(err)
	}
	c := comps[name]
	ln, err := net.Listen("tcp", fmt.Sprintf("%s:%d", s.set.Host, s.set.Ports[name]))
	if err != nil {
		s.t.Fatal(err)
	}
	if err := c.Start(s.ctx); err != nil {
		s.t.Fatal(err)
	}
	go func() { _ = c.Serve(ln) }()
	s.comps[name] = c
	s.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		c.Stop(ctx)
	})
}

package gateway_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/inmem"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/testkit"
)

// BenchmarkHop is the gateway's own work on an authenticated GET forwarded in process
// to a service whose handler only answers: the CPU issue #13 measures end to end,
// without the client, the service's own app and the database around it.
func BenchmarkHop(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	nc := testkit.StartNATS(b)
	keys := testkit.NewKeys(b)
	bans, err := natsx.WatchBans(ctx, nc.JS, log)
	if err != nil {
		b.Fatal(err)
	}
	sb := inmem.New()
	body := []byte(`{"id":"x","nombre":"Bench"}`)
	urls := map[string]string{}
	for _, n := range []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"} {
		urls[n] = "http://127.0.0.1:1"
		defer sb.Handle(n, func(c *fasthttp.RequestCtx) {
			c.SetContentType("application/json")
			c.SetBody(body)
		})(context.Background())
	}
	gw, err := gateway.New(ctx, gateway.Deps{Log: log, NC: nc.NC, Verifier: keys.Verifier(bans), Env: func(string) string { return "" },
		Now: time.Now, ServiceURLs: urls, Transport: sb.Transport})
	if err != nil {
		b.Fatal(err)
	}
	h := gw.App.Handler()
	tok := "Bearer " + keys.Token(uuid.NewString(), "CLIENTE", "ana@example.com")
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}
	b.ReportAllocs()
	cpu0 := processCPU(b)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		var c fasthttp.RequestCtx
		c.Init(&fasthttp.Request{}, addr, nil)
		for pb.Next() {
			c.Request.Reset()
			c.Response.Reset()
			c.Request.SetRequestURI("/api/v1/users/me")
			c.Request.Header.SetHost("localhost:8000")
			c.Request.Header.Set("Authorization", tok)
			c.Request.Header.Set("Accept", "application/json")
			c.Request.Header.Set("User-Agent", "bench")
			h(&c)
			if c.Response.StatusCode() != fasthttp.StatusOK {
				// Not Fatal: this is not the benchmark's goroutine.
				b.Errorf("status %d: %s", c.Response.StatusCode(), c.Response.Body())
				return
			}
		}
	})
	// Wall time per op halves with two cores busy; the process's CPU per request is what
	// the end-to-end benchmark's ratio follows.
	b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
}

func processCPU(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

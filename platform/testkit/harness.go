package testkit

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/natsx"
)

// Env is the infrastructure of one component test: a fresh database, an in-process
// JetStream server, a signing key and a replicated ban list.
type Env struct {
	DSN  string
	NATS *NATS
	Keys *Keys
	Bans *natsx.BanList
	Log  *slog.Logger
}

// NewEnv builds an Env. Logs are discarded unless TEST_LOG=1.
func NewEnv(t testing.TB) *Env {
	t.Helper()
	e := &Env{DSN: DB(t), NATS: StartNATS(t), Keys: NewKeys(t)}
	e.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("TEST_LOG") == "1" {
		e.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	bans, err := natsx.WatchBans(ctx, e.NATS.JS, e.Log)
	if err != nil {
		t.Fatal(err)
	}
	e.Bans = bans
	return e
}

// Verifier trusts the Env's key and honours its ban list.
func (e *Env) Verifier() *authn.Verifier { return e.Keys.Verifier(e.Bans) }

// Deps returns the dependencies of service, connected as its role. env overrides
// settings (nil means defaults).
func (e *Env) Deps(t testing.TB, service string, env map[string]string) kit.Deps {
	return kit.Deps{
		Log:      e.Log.With("service", service),
		Pool:     ServicePool(t, e.DSN, service),
		NC:       e.NATS.NC,
		JS:       e.NATS.JS,
		Verifier: e.Verifier(),
		Env:      func(k string) string { return env[k] },
	}
}

// Serve starts svc (relay, consumers, background) and its HTTP server on a free port,
// and returns the base URL. Everything stops when t ends.
func Serve(t testing.TB, svc *kit.Service) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { _ = svc.Serve(ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		svc.Stop(sctx)
		cancel()
	})
	return "http://" + ln.Addr().String()
}

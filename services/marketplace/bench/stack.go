package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/services/auth"
	"github.com/conectarpro/conectar/services/marketplace"
	"github.com/conectarpro/conectar/services/professionals"
	"github.com/conectarpro/conectar/services/users"
)

// component is a service or the gateway.
type component interface {
	Start(ctx context.Context) error
	Serve(ln net.Listener) error
	Stop(ctx context.Context)
}

// stackServices are the services the chat path touches: auth (accounts, tokens, JWKS),
// users (the profiles marketplace replicates), professionals (registration of the
// professional side) and marketplace (chat).
var stackServices = []struct {
	name string
	new  func(context.Context, kit.Deps) (*kit.Service, error)
}{
	{auth.Name, auth.New},
	{users.Name, users.New},
	{professionals.Name, professionals.New},
	{marketplace.Name, marketplace.New},
}

// startStack starts a throwaway database, an embedded JetStream, the services above and
// the gateway in front of them, wired as `conectar serve` wires them, and returns the
// gateway's base URL and a function that stops and removes everything.
func startStack(ctx context.Context) (string, func(), error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var cleanup []func()
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	fail := func(err error) (string, func(), error) { stop(); return "", nil, err }

	names := make([]string, 0, len(stackServices))
	for _, s := range stackServices {
		names = append(names, s.name)
	}
	dsn, drop, err := benchkit.DB(ctx, "chat", names...)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, drop)
	ns, stopNATS, err := benchkit.StartNATS(ctx, log)
	if err != nil {
		return fail(err)
	}
	cleanup = append(cleanup, stopNATS)

	// Listeners first: every component's URL is known before any is built. Services
	// not started here (payments, notifications) get an address nobody listens on.
	lns := map[string]net.Listener{}
	serviceURLs := map[string]string{"payments": "http://127.0.0.1:1", "notifications": "http://127.0.0.1:1"}
	for _, name := range append(names, "gateway") {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, func() { ln.Close() })
		lns[name] = ln
		serviceURLs[name] = "http://" + ln.Addr().String()
	}
	gwURL := serviceURLs["gateway"]
	delete(serviceURLs, "gateway")

	env := func(k string) string {
		if v := os.Getenv(k); v != "" {
			return v
		}
		switch k {
		case "LOGIN_RATE_PER_IP", "LOGIN_RATE_PER_ACCOUNT":
			return "0" // auth: 0 disables
		case "RATE_LIMIT_LOGIN_PER_WINDOW":
			return "1000000000" // gateway: must be positive, so very large
		}
		return ""
	}
	bans, err := natsx.WatchBans(ctx, ns.JS, log)
	if err != nil {
		return fail(err)
	}
	verifier := &authn.Verifier{Keys: authn.NewJWKSClient(serviceURLs[auth.Name] + "/auth/.well-known/jwks.json"), Bans: bans}

	var comps []component
	for _, s := range stackServices {
		pool, err := benchkit.Pool(ctx, dsn, s.name, 8)
		if err != nil {
			return fail(err)
		}
		cleanup = append(cleanup, pool.Close)
		svc, err := s.new(ctx, kit.Deps{Log: log, Pool: pool, NC: ns.NC, JS: ns.JS, Verifier: verifier, Env: env,
			Now: time.Now, PublicURL: gwURL, ServiceURLs: serviceURLs})
		if err != nil {
			return fail(fmt.Errorf("build %s: %w", s.name, err))
		}
		comps = append(comps, svc)
	}
	gw, err := gateway.New(ctx, gateway.Deps{Log: log, NC: ns.NC, Verifier: verifier, Env: env, Now: time.Now, ServiceURLs: serviceURLs})
	if err != nil {
		return fail(fmt.Errorf("build gateway: %w", err))
	}
	comps = append(comps, gw)

	// Services before the gateway, as serve does.
	sctx, cancel := context.WithCancel(ctx)
	cleanup = append(cleanup, cancel)
	for i, c := range comps {
		name := "gateway"
		if i < len(names) {
			name = names[i]
		}
		if err := c.Start(sctx); err != nil {
			return fail(fmt.Errorf("start %s: %w", name, err))
		}
		cleanup = append(cleanup, func() {
			cc, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer ccancel()
			c.Stop(cc)
		})
		go func(ln net.Listener) { _ = c.Serve(ln) }(lns[name])
	}
	return gwURL, stop, nil
}

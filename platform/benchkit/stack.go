package benchkit

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/inmem"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/natsx"
)

// deadURL is where services a bench does not start "live": nobody listens there, so a
// stray call fails fast instead of hanging.
const deadURL = "http://127.0.0.1:1"

// Component is a service or the gateway: what `conectar serve` starts, serves and stops.
type Component interface {
	Start(ctx context.Context) error
	Serve(ln net.Listener) error
	Stop(ctx context.Context)
}

// Service is one service to run: its name, composition root and pool size.
type Service struct {
	Name  string
	New   func(context.Context, kit.Deps) (*kit.Service, error)
	Conns int32
}

// Wiring is what the stack hands the gateway constructor: the same logger, connection,
// verifier, settings and service URLs every service got.
type Wiring struct {
	Log         *slog.Logger
	NC          *nats.Conn
	Verifier    *authn.Verifier
	Env         func(string) string
	ServiceURLs map[string]string
	// Transport calls the started services in process, as `conectar serve all` wires the
	// gateway (nil unless StackConfig.InProcess: TCP).
	Transport func(service string, network inmem.Doer) inmem.Doer
}

// StackConfig says what to run. platform must not import the gateway, so the caller
// passes its constructor (nil runs no gateway).
type StackConfig struct {
	DSN      string // superuser DSN of a migrated database (see DB)
	NATS     *NATS
	Log      *slog.Logger
	Env      func(string) string // settings for services and gateway (nil: none)
	Keys     authn.KeySource     // nil: the JWKS of the auth service in the stack
	Services []Service
	Gateway  func(context.Context, Wiring) (Component, error)
	// InProcess has the gateway call the services in process, as one `serve all` process
	// does; their TCP URLs stay (uploads and direct callers use them).
	InProcess bool
}

// Running is a started stack: base URLs by service name, and the gateway's.
type Running struct {
	URLs    map[string]string
	Gateway string
	DSN     string // the database's superuser DSN (set by Start)
}

// LiftedEnv returns getenv with the login rate limits lifted unless set, since a bench
// would otherwise measure the limiter, not the login.
func LiftedEnv(getenv func(string) string) func(string) string {
	return func(k string) string {
		if v := getenv(k); v != "" {
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
}

// Stack starts cfg.Services and then the gateway in front of them, wired as `conectar
// serve` wires them: listeners first (every URL is known before anything is built), one
// verifier (keys + the real ban list) for every component, services before the gateway.
// stop shuts everything down in reverse order; the database and NATS stay the caller's.
func Stack(ctx context.Context, cfg StackConfig) (*Running, func(), error) {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	env := cfg.Env
	if env == nil {
		env = func(string) string { return "" }
	}
	var cleanup []func()
	stop := func() {
		for i := len(cleanup) - 1; i >= 0; i-- {
			cleanup[i]()
		}
	}
	fail := func(err error) (*Running, func(), error) { stop(); return nil, nil, err }

	// The gateway fronts all six services; those not started here get deadURL.
	serviceURLs := map[string]string{}
	for _, name := range []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"} {
		serviceURLs[name] = deadURL
	}
	listen := func(name string) (net.Listener, string, error) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", fmt.Errorf("listen for %s: %w", name, err)
		}
		cleanup = append(cleanup, func() { ln.Close() })
		return ln, "http://" + ln.Addr().String(), nil
	}
	run := &Running{URLs: map[string]string{}}
	lns := make([]net.Listener, len(cfg.Services))
	for i, s := range cfg.Services {
		ln, u, err := listen(s.Name)
		if err != nil {
			return fail(err)
		}
		lns[i], serviceURLs[s.Name], run.URLs[s.Name] = ln, u, u
	}
	var gwLn net.Listener
	if cfg.Gateway != nil {
		ln, u, err := listen("gateway")
		if err != nil {
			return fail(err)
		}
		gwLn, run.Gateway = ln, u
	}

	bans, err := natsx.WatchBans(ctx, cfg.NATS.JS, log)
	if err != nil {
		return fail(fmt.Errorf("watch bans: %w", err))
	}
	keys := cfg.Keys
	if keys == nil {
		keys = authn.NewJWKSClient(serviceURLs["auth"] + "/auth/.well-known/jwks.json")
	}
	verifier := &authn.Verifier{Keys: keys, Bans: bans}

	type started struct {
		name string
		comp Component
		ln   net.Listener
	}
	var comps []started
	for i, s := range cfg.Services {
		pool, err := Pool(ctx, cfg.DSN, s.Name, s.Conns)
		if err != nil {
			return fail(fmt.Errorf("pool for %s: %w", s.Name, err))
		}
		cleanup = append(cleanup, pool.Close)
		svc, err := s.New(ctx, kit.Deps{Log: log, Pool: pool, NC: cfg.NATS.NC, JS: cfg.NATS.JS, Verifier: verifier,
			Env: env, PublicURL: run.Gateway, ServiceURLs: serviceURLs})
		if err != nil {
			return fail(fmt.Errorf("build %s: %w", s.Name, err))
		}
		comps = append(comps, started{s.Name, svc, lns[i]})
	}
	var sb *inmem.Switchboard
	var transport func(string, inmem.Doer) inmem.Doer
	if cfg.InProcess {
		sb = inmem.New()
		transport = sb.Transport
	}
	if cfg.Gateway != nil {
		gw, err := cfg.Gateway(ctx, Wiring{Log: log, NC: cfg.NATS.NC, Verifier: verifier, Env: env, ServiceURLs: serviceURLs, Transport: transport})
		if err != nil {
			return fail(fmt.Errorf("build gateway: %w", err))
		}
		comps = append(comps, started{"gateway", gw, gwLn})
	}

	// Services before the gateway, as serve does.
	sctx, cancel := context.WithCancel(ctx)
	cleanup = append(cleanup, cancel)
	for _, c := range comps {
		if err := c.comp.Start(sctx); err != nil {
			return fail(fmt.Errorf("start %s: %w", c.name, err))
		}
		comp := c.comp
		cleanup = append(cleanup, func() {
			cc, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer ccancel()
			comp.Stop(cc)
		})
		go func(ln net.Listener) { _ = comp.Serve(ln) }(c.ln)
		if svc, ok := comp.(*kit.Service); ok && sb != nil {
			withdraw := sb.Handle(c.name, svc.Handler())
			cleanup = append(cleanup, func() { withdraw(context.Background()) })
		}
	}
	return run, stop, nil
}

// Start is the usual whole: a throwaway database named after tag and migrated for
// cfg.Services, an embedded JetStream, and the stack on them (cfg.DSN and cfg.NATS are
// filled in). stop shuts everything down and removes the database and NATS's folder.
func Start(ctx context.Context, tag string, cfg StackConfig) (*Running, func(), error) {
	names := make([]string, 0, len(cfg.Services))
	for _, s := range cfg.Services {
		names = append(names, s.Name)
	}
	dsn, drop, err := DB(ctx, tag, names...)
	if err != nil {
		return nil, nil, err
	}
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ns, stopNATS, err := StartNATS(ctx, log)
	if err != nil {
		drop()
		return nil, nil, err
	}
	cfg.DSN, cfg.NATS = dsn, ns
	run, stopStack, err := Stack(ctx, cfg)
	if err != nil {
		stopNATS()
		drop()
		return nil, nil, err
	}
	run.DSN = dsn
	return run, func() { stopStack(); stopNATS(); drop() }, nil
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events/streams"
	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/inmem"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/logx"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/auth"
	"github.com/conectarpro/conectar/services/marketplace"
	"github.com/conectarpro/conectar/services/notifications"
	"github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/professionals"
	"github.com/conectarpro/conectar/services/users"
)

// serviceDef is one service the binary can run.
type serviceDef struct {
	name string
	port int
	new  func(context.Context, kit.Deps) (*kit.Service, error)
}

func serviceDefs() []serviceDef {
	return []serviceDef{
		{auth.Name, 8001, auth.New},
		{users.Name, 8002, users.New},
		{professionals.Name, 8003, professionals.New},
		{marketplace.Name, 8004, marketplace.New},
		{payments.Name, 8005, payments.New},
		{notifications.Name, 8006, notifications.New},
	}
}

// component is anything serve runs: a service or the gateway.
type component interface {
	Start(ctx context.Context) error
	Serve(ln net.Listener) error
	Stop(ctx context.Context)
}

// settings are the process-wide settings shared by every component.
type settings struct {
	DatabaseURL string
	NATSURL     string
	LogLevel    string
	Host        string
	PublicURL   string
	ServiceURLs map[string]string
	Ports       map[string]int
	Replicas    int
}

func loadSettings(getenv config.Getenv) (settings, error) {
	r := config.NewReader(getenv)
	s := settings{
		DatabaseURL: r.String("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/conectar?sslmode=disable"),
		NATSURL:     r.String("NATS_URL", "nats://127.0.0.1:4222"),
		LogLevel:    r.String("LOG_LEVEL", "info"),
		Host:        r.String("HOST", "127.0.0.1"),
		PublicURL:   strings.TrimRight(r.String("PUBLIC_URL", "http://localhost:8000"), "/"),
		ServiceURLs: map[string]string{},
		Ports:       map[string]int{"gateway": r.Int("GATEWAY_PORT", 8000)},
		Replicas:    r.Int("NATS_REPLICAS", 1),
	}
	for _, d := range serviceDefs() {
		key := strings.ToUpper(d.name)
		s.Ports[d.name] = r.Int(key+"_PORT", d.port)
		s.ServiceURLs[d.name] = strings.TrimRight(r.String(key+"_URL", fmt.Sprintf("http://127.0.0.1:%d", s.Ports[d.name])), "/")
	}
	return s, r.Err()
}

// infra is what every component of one process shares: the NATS connection, JetStream,
// the ban list and the token verifier.
type infra struct {
	log      *slog.Logger
	nc       *nats.Conn
	js       jetstream.JetStream
	verifier *authn.Verifier
	pools    []*pgxpool.Pool
	// hops lets the gateway reach services of this process in memory (serve all).
	hops *inmem.Switchboard
}

func openInfra(ctx context.Context, s settings, log *slog.Logger) (*infra, error) {
	nc, err := natsx.Connect(s.NATSURL, "conectar", log)
	if err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := streams.Ensure(sctx, js, s.Replicas); err != nil {
		nc.Close()
		return nil, err
	}
	bans, err := natsx.WatchBans(ctx, js, log)
	if err != nil {
		nc.Close()
		return nil, err
	}
	v := &authn.Verifier{Keys: authn.NewJWKSClient(s.ServiceURLs[auth.Name] + "/auth/.well-known/jwks.json"), Bans: bans}
	return &infra{log: log, nc: nc, js: js, verifier: v, hops: inmem.New()}, nil
}

func (in *infra) close() {
	for _, p := range in.pools {
		p.Close()
	}
	in.nc.Close()
}

// servicePool connects as the service's own role, its schema first on search_path.
func (in *infra) servicePool(ctx context.Context, s settings, getenv config.Getenv, name string) (*pgxpool.Pool, error) {
	dsn, err := pg.WithUser(s.DatabaseURL, migrations.Role(name), getenv("DB_PASSWORD_"+strings.ToUpper(name)))
	if err != nil {
		return nil, err
	}
	size, err := poolSize(getenv)
	if err != nil {
		return nil, err
	}
	pool, err := pg.Open(ctx, dsn, name, size)
	if err != nil {
		return nil, fmt.Errorf("%s: %w (did you run 'conectar migrate up'?)", name, err)
	}
	in.pools = append(in.pools, pool)
	return pool, nil
}

// poolSize is each service pool's size: DB_MAX_CONNS (default 16) and DB_MIN_CONNS
// (default pg.DefaultMinConns, or DB_MAX_CONNS when that is smaller).
func poolSize(getenv config.Getenv) (pg.Size, error) {
	r := config.NewReader(getenv)
	size := pg.Size{Max: int32(r.Int("DB_MAX_CONNS", 16))}
	size.Min = int32(r.Int("DB_MIN_CONNS", int(min(pg.DefaultMinConns, size.Max))))
	r.Check(size.Max <= 0, "DB_MAX_CONNS must be positive")
	r.Check(size.Min < 0 || size.Min > size.Max, "DB_MIN_CONNS must be between 0 and DB_MAX_CONNS")
	return size, r.Err()
}

// buildComponents creates the named components ("all", "gateway" or a service name).
func buildComponents(ctx context.Context, s settings, getenv config.Getenv, in *infra, names []string) (map[string]component, error) {
	want := map[string]bool{}
	for _, n := range names {
		if n == "all" {
			want["gateway"] = true
			for _, d := range serviceDefs() {
				want[d.name] = true
			}
			continue
		}
		want[n] = true
	}
	out := map[string]component{}
	for _, d := range serviceDefs() {
		if !want[d.name] {
			continue
		}
		delete(want, d.name)
		pool, err := in.servicePool(ctx, s, getenv, d.name)
		if err != nil {
			return nil, err
		}
		svc, err := d.new(ctx, kit.Deps{
			Log: in.log.With("service", d.name), Pool: pool, NC: in.nc, JS: in.js, Verifier: in.verifier,
			Env: getenv, PublicURL: s.PublicURL, ServiceURLs: s.ServiceURLs,
		})
		if err != nil {
			return nil, fmt.Errorf("build %s: %w", d.name, err)
		}
		out[d.name] = &inProcess{Service: svc, name: d.name, hops: in.hops}
	}
	if want["gateway"] {
		delete(want, "gateway")
		gw, err := gateway.New(ctx, gateway.Deps{Log: in.log.With("service", "gateway"), NC: in.nc, Verifier: in.verifier,
			Env: getenv, Now: time.Now, ServiceURLs: s.ServiceURLs, Transport: in.hops.Transport})
		if err != nil {
			return nil, fmt.Errorf("build gateway: %w", err)
		}
		out["gateway"] = gw
	}
	for n := range want {
		return nil, fmt.Errorf("unknown component %q (auth, users, professionals, marketplace, payments, notifications, gateway, all)", n)
	}
	return out, nil
}

// inProcess is a service the gateway of the same process calls in process (through
// the switchboard) as well as serving its port for everyone else.
type inProcess struct {
	*kit.Service
	name     string
	hops     *inmem.Switchboard
	withdraw func(context.Context)
}

// Start hands the service's handler to the switchboard once the service is started.
func (c *inProcess) Start(ctx context.Context) error {
	if err := c.Service.Start(ctx); err != nil {
		return err
	}
	c.withdraw = c.hops.Handle(c.name, c.Handler())
	return nil
}

// Stop sends the gateway's calls back to the network (where the stopping server
// refuses them) and waits for those in flight before the service stops.
func (c *inProcess) Stop(ctx context.Context) {
	if c.withdraw != nil {
		c.withdraw(ctx)
	}
	c.Service.Stop(ctx)
}

// runComponents starts every component, serves each on its port, and stops them all when
// ctx ends or one of them fails.
func runComponents(ctx context.Context, s settings, comps map[string]component, log *slog.Logger, ready func()) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, len(comps))
	var started []component
	defer func() {
		sctx, scancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer scancel()
		for i := len(started) - 1; i >= 0; i-- {
			started[i].Stop(sctx)
		}
	}()
	// Services before the gateway, so the edge never answers for a service not yet up.
	order := append([]string{}, serviceNames()...)
	order = append(order, "gateway")
	for _, name := range order {
		c, ok := comps[name]
		if !ok {
			continue
		}
		addr := fmt.Sprintf("%s:%d", s.Host, s.Ports[name])
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return fmt.Errorf("%s: listen %s: %w", name, addr, err)
		}
		if err := c.Start(ctx); err != nil {
			ln.Close()
			return fmt.Errorf("%s: %w", name, err)
		}
		started = append(started, c)
		go func(name string, c component) {
			if err := c.Serve(ln); err != nil {
				errc <- fmt.Errorf("%s: serve: %w", name, err)
			}
		}(name, c)
		log.Info("listening", "target", name, "addr", addr)
	}
	if ready != nil {
		ready()
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
		return nil
	case err := <-errc:
		return err
	}
}

func serviceNames() []string {
	var out []string
	for _, d := range serviceDefs() {
		out = append(out, d.name)
	}
	return out
}

func runServe(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New("serve: name a component: " + strings.Join(append(serviceNames(), "gateway", "all"), ", "))
	}
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	log := logx.New(os.Stderr, "conectar", s.LogLevel)
	in, err := openInfra(ctx, s, log)
	if err != nil {
		return err
	}
	defer in.close()
	comps, err := buildComponents(ctx, s, getenv, in, args)
	if err != nil {
		return err
	}
	return runComponents(ctx, s, comps, log, nil)
}

// Package kit assembles what every service has in common: the Fiber app with the shared
// error handler, /health and /metrics, token verification, the outbox relay and the
// consumer runner. A service's composition root builds a Service from its Deps, adds its
// routes and consumers, and hands it to the process runner.
package kit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/health"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/metrics"
)

// Deps are what the composition root gives every service.
type Deps struct {
	Log      *slog.Logger
	Pool     *pgxpool.Pool // opened as the service's role, its schema first on search_path
	NC       *nats.Conn
	JS       jetstream.JetStream
	Verifier *authn.Verifier // nil for auth itself, which verifies with its own keys
	Env      config.Getenv
	Now      func() time.Time // nil: Now
	// PublicURL is the gateway's public base URL (links in emails, avatar URLs, webhooks).
	PublicURL string
	// ServiceURLs maps service names to their internal base URLs (read-your-writes misses).
	ServiceURLs map[string]string
}

// Service is one running service.
type Service struct {
	Name     string
	Schema   string
	Deps     Deps
	App      *fiber.App
	Metrics  *metrics.Registry
	Relay    *outbox.Relay
	Runner   *consumer.Runner
	Realtime realtime.Publisher
	// Background tasks started with the service and stopped with it (timers, loops).
	Background []func(ctx context.Context)

	cancel context.CancelFunc
	done   chan struct{}
}

// Now is the services' clock: the time to the microsecond, as PostgreSQL keeps it. A
// time a service answers as it writes a row (an account's fecha_creacion, an event's
// occurred_at) is then the one every later read of that row returns; time.Now's
// nanoseconds would be answered once and never again.
func Now() time.Time { return time.Now().Truncate(time.Microsecond) }

// New builds the common parts. Routes under the returned App are served as is; the
// composition root adds /health and /metrics.
func New(name, schema string, d Deps) (*Service, error) {
	if d.Log == nil || d.Pool == nil || d.NC == nil || d.JS == nil {
		return nil, errors.New("kit: Log, Pool, NC and JS are required")
	}
	if d.Now == nil {
		d.Now = Now
	}
	if d.Env == nil {
		d.Env = func(string) string { return "" }
	}
	if d.Env("INTERNAL_API_KEY") == "" {
		d.Log.Warn("INTERNAL_API_KEY is not set: internal reads use the development key; set it in production")
	}
	m := metrics.New(name)
	app := httpx.NewApp(httpx.Config{Name: name, Logger: d.Log, Metrics: m})
	relay := outbox.NewRelay(d.Pool, d.JS, schema, d.Log)
	relay.Metrics = outbox.Metrics{
		Backlog:   func(n float64) { m.OutboxBacklog.WithLabelValues(schema).Set(n) },
		Published: func(n float64) { m.OutboxPublished.WithLabelValues(schema).Add(n) },
	}
	runner := &consumer.Runner{Pool: d.Pool, JS: d.JS, Log: d.Log, Now: d.Now, Metrics: consumer.Metrics{
		Handled:     func(c, o string) { m.Handled.WithLabelValues(c, o).Inc() },
		Redelivered: func(c string) { m.Redeliveries.WithLabelValues(c).Inc() },
		DeadLetter:  func(c string) { m.DeadLetters.WithLabelValues(c).Inc() },
		Lag:         func(c string, n float64) { m.ConsumerLag.WithLabelValues(c).Set(n) },
		Latency:     func(c string, s float64) { m.EventLatency.WithLabelValues(c).Observe(s) },
	}}
	s := &Service{Name: name, Schema: schema, Deps: d, App: app, Metrics: m, Relay: relay, Runner: runner,
		Realtime: realtime.Publisher{NC: d.NC}}
	// Read at scrape time: the oldest unpublished outbox row, and each durable's pending,
	// ack-pending, redelivered and parked messages straight from JetStream.
	m.WatchOutbox(d.Pool, schema)
	m.WatchConsumers(d.JS, events.StreamDLQ, func() []metrics.ConsumerRef {
		refs := make([]metrics.ConsumerRef, 0, len(runner.Specs))
		for _, sp := range runner.Specs {
			refs = append(refs, metrics.ConsumerRef{Stream: sp.Stream, Name: sp.Name})
		}
		return refs
	})
	app.Get("/health", health.Handler(name, s.HealthChecks()))
	app.Get("/metrics", m.Handler())
	return s, nil
}

// HealthChecks are the service's dependency checks.
func (s *Service) HealthChecks() map[string]health.Check {
	return map[string]health.Check{
		"postgres": func(ctx context.Context) error { return s.Deps.Pool.Ping(ctx) },
		"nats": func(context.Context) error {
			if st := s.Deps.NC.Status(); st != nats.CONNECTED {
				return fmt.Errorf("nats %s", st)
			}
			return nil
		},
	}
}

// Auth returns the middleware that requires a valid token (401 otherwise).
func (s *Service) Auth() fiber.Handler { return s.Deps.Verifier.Middleware(true) }

// OptionalAuth verifies a token when one is sent.
func (s *Service) OptionalAuth() fiber.Handler { return s.Deps.Verifier.Middleware(false) }

// Consume registers consumer specs (started by Start).
func (s *Service) Consume(specs ...consumer.Spec) {
	for _, sp := range specs {
		s.Metrics.Consumer(sp.Name)
	}
	s.Runner.Specs = append(s.Runner.Specs, specs...)
}

// Start runs the relay, the consumers and the background tasks.
func (s *Service) Start(ctx context.Context) error {
	ctx, s.cancel = context.WithCancel(ctx)
	s.done = make(chan struct{})
	// Handlers append events without a NOTIFY while this process's relay leads, and
	// the runner wakes the relay after each commit (see outbox.WithLocalRelay).
	s.Runner.Committed = s.Relay.Notify
	if err := s.Runner.Start(outbox.WithLocalRelay(ctx, s.Relay)); err != nil {
		s.cancel()
		return fmt.Errorf("%s: start consumers: %w", s.Name, err)
	}
	n := 1 + len(s.Background)
	finished := make(chan struct{}, n)
	go func() { _ = s.Relay.Run(ctx); finished <- struct{}{} }()
	for _, bg := range s.Background {
		go func(f func(context.Context)) { f(ctx); finished <- struct{}{} }(bg)
	}
	go func() {
		for i := 0; i < n; i++ {
			<-finished
		}
		close(s.done)
	}()
	return nil
}

// Serve answers HTTP on ln until the app is shut down.
func (s *Service) Serve(ln net.Listener) error { return s.App.Listener(ln) }

// Handler is the service's HTTP handler, for a gateway of the same process to call in
// process (platform/inmem).
func (s *Service) Handler() fasthttp.RequestHandler { return s.App.Handler() }

// Stop drains consumers, stops background work and the HTTP server.
func (s *Service) Stop(ctx context.Context) {
	_ = s.App.ShutdownWithContext(ctx)
	s.Runner.Stop()
	if s.cancel != nil {
		s.cancel()
		select {
		case <-s.done:
		case <-ctx.Done():
		}
	}
}

// AfterCommit returns a context collecting post-commit effects and the function that
// runs them, also waking the relay so events leave at once.
func (s *Service) AfterCommit(ctx context.Context) (context.Context, func()) {
	ctx, run := consumer.WithAfterCommit(outbox.WithLocalRelay(ctx, s.Relay))
	return ctx, func() {
		s.Relay.Notify()
		run()
	}
}

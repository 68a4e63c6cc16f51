// Package gateway is the public edge of ConectarProfesionales: one Fiber app on port
// 8000 that routes /api/v1/* to the owning service by longest prefix, verifies tokens
// and bans, limits rates, breaks circuits to dead services, aggregates health and hosts
// the WebSocket hub that forwards realtime pushes to connected users.
package gateway

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/inmem"
	"github.com/conectarpro/conectar/platform/metrics"
)

// Deps are the gateway's dependencies.
type Deps struct {
	Log      *slog.Logger
	NC       *nats.Conn
	Verifier *authn.Verifier
	Env      config.Getenv
	Now      func() time.Time
	// ServiceURLs maps service names (auth, users, …) to base URLs.
	ServiceURLs map[string]string
	// Transport, when set, wraps the network client of each service; `serve all` passes
	// an inmem.Switchboard's, which hands requests to the services of the same process
	// directly. Nil sends every request over the network to the service's URL.
	Transport func(service string, network inmem.Doer) inmem.Doer
}

// Gateway is the running edge.
type Gateway struct {
	App *fiber.App

	deps      Deps
	cfg       settings
	router    *Router
	exempt    *Router
	upstreams map[string]*upstream
	metrics   *gwMetrics
	registry  *metrics.Registry
	hub       *hub

	stopOnce sync.Once
	cancel   context.CancelFunc
}

// New builds the gateway: settings from Deps.Env, one upstream (client + breaker) per
// service in Deps.ServiceURLs, and the Fiber app with its middleware and routes.
func New(ctx context.Context, d Deps) (*Gateway, error) {
	if d.Log == nil || d.Verifier == nil {
		return nil, errors.New("gateway: Log and Verifier are required")
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	cfg, err := loadSettings(d.Env)
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	router, err := NewRouter(Routes())
	if err != nil {
		return nil, fmt.Errorf("gateway: route table: %w", err)
	}
	exempt, err := NewRouter(tokenExemptRoutes())
	if err != nil {
		return nil, fmt.Errorf("gateway: token-exempt table: %w", err)
	}
	reg := metrics.New("gateway")
	wrapped := prometheus.WrapRegistererWith(prometheus.Labels{"service": "gateway"}, reg.Reg)
	g := &Gateway{deps: d, cfg: cfg, router: router, exempt: exempt, upstreams: map[string]*upstream{}, registry: reg}
	g.metrics = newGWMetrics(wrapped)
	for _, name := range allServices {
		raw, ok := d.ServiceURLs[name]
		if !ok || raw == "" {
			return nil, fmt.Errorf("gateway: no URL for service %q", name)
		}
		u, err := newUpstream(name, raw, d.Transport, cfg, g.metrics)
		if err != nil {
			return nil, fmt.Errorf("gateway: service %s: %w", name, err)
		}
		g.upstreams[name] = u
	}
	for _, rt := range router.Routes() {
		if g.upstreams[rt.Service] == nil {
			return nil, fmt.Errorf("gateway: route %s names unknown service %q", rt.Prefix, rt.Service)
		}
	}
	registerBreakerGauges(wrapped, g.upstreams)
	g.hub = newHub(g)

	// httpx.NewApp's settings (which never pre-parse multipart: uploads stream through
	// untouched), plus what the edge needs: a body limit sized for several 10 MiB files
	// and its upload timeout.
	app := httpx.NewApp(httpx.Config{Name: "gateway", BodyLimit: cfg.MaxBody, Timeout: cfg.UploadTimeout,
		Logger: d.Log, Metrics: reg})
	corsMW, err := g.corsMiddleware()
	if err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	app.Use(corsMW)
	for _, l := range g.rateLimiters() {
		app.Use(l)
	}

	app.Get("/health", g.health)
	app.Get("/metrics", reg.Handler())
	if err := g.mountDocs(app); err != nil {
		return nil, fmt.Errorf("gateway: docs: %w", err)
	}
	app.Get(APIPrefix+"/ws", g.hub.upgrade, websocket.New(g.hub.handle, websocket.Config{
		Subprotocols:     []string{"bearer"},
		HandshakeTimeout: 10 * time.Second,
	}))
	app.All(APIPrefix+"/*", g.proxy)
	app.Use(httpx.NotFound)
	g.App = app
	return g, nil
}

// proxy routes one /api/v1 request: owner by the route table, edge token check, then
// forward.
func (g *Gateway) proxy(c *fiber.Ctx) error {
	// Match the normalized path (dot segments resolved, %xx decoded): it is the one
	// forwarded, so what is matched is what the service receives. A view: the route
	// table's values are what outlives the request, never the path.
	full := cleanPathView(c)
	if !underAny(strings.ToLower(full), []string{APIPrefix}) {
		return httpx.NotFound(c)
	}
	path := full[len(APIPrefix):]
	rt := g.router.match(path)
	if rt == nil {
		return httpx.NotFound(c)
	}
	// The route table's prefix is the template: every proxied request would otherwise be
	// measured under the one catch-all route "/api/v1/*".
	metrics.SetRoute(c, rt.label)
	if err := g.edgeAuth(c, path); err != nil {
		return err
	}
	return g.forward(c, g.upstreams[rt.Service])
}

// Start starts background work: the sweep that closes banned users' WebSockets.
func (g *Gateway) Start(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	g.cancel = cancel
	if g.deps.Verifier.Bans != nil {
		go g.hub.watchBans(ctx, g.cfg.WSBanCheck)
	}
	return nil
}

// Serve answers on ln.
func (g *Gateway) Serve(ln net.Listener) error { return g.App.Listener(ln) }

// Stop closes WebSockets (1001), then shuts the server down, letting in-flight requests
// finish until ctx ends.
func (g *Gateway) Stop(ctx context.Context) {
	g.stopOnce.Do(func() {
		if g.cancel != nil {
			g.cancel()
		}
		g.hub.shutdown(ctx, g.deps.Log)
		_ = g.App.ShutdownWithContext(ctx)
		for _, u := range g.upstreams {
			u.network.CloseIdleConnections()
		}
	})
}

// Package gateway is the public edge of ConectarProfesionales: one Fiber app on port
// 8000 that routes /api/v1/* to the owning service by longest prefix, verifies tokens
// and bans, limits rates, breaks circuits to dead services, aggregates health and hosts
// the WebSocket hub that forwards realtime pushes to connected users.
package gateway

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/httpx"
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
}

// Gateway is the running edge.
type Gateway struct {
	App  *fiber.App
	deps Deps
}

// New builds the gateway.
func New(ctx context.Context, d Deps) (*Gateway, error) {
	if d.Log == nil || d.Verifier == nil {
		return nil, errors.New("gateway: Log and Verifier are required")
	}
	app := httpx.NewApp(httpx.Config{Name: "gateway", Logger: d.Log})
	return &Gateway{App: app, deps: d}, nil
}

// Start starts background work (none yet).
func (g *Gateway) Start(ctx context.Context) error { return nil }

// Serve answers on ln.
func (g *Gateway) Serve(ln net.Listener) error { return g.App.Listener(ln) }

// Stop shuts the server down.
func (g *Gateway) Stop(ctx context.Context) { _ = g.App.ShutdownWithContext(ctx) }

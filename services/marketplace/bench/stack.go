package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/services/auth"
	"github.com/conectarpro/conectar/services/marketplace"
	"github.com/conectarpro/conectar/services/professionals"
	"github.com/conectarpro/conectar/services/users"
)

// stackServices are the services the chat path touches: auth (accounts, tokens, JWKS),
// users (the profiles marketplace replicates), professionals (registration of the
// professional side) and marketplace (chat).
var stackServices = []benchkit.Service{
	{Name: auth.Name, New: auth.New, Conns: 8},
	{Name: users.Name, New: users.New, Conns: 8},
	{Name: professionals.Name, New: professionals.New, Conns: 8},
	{Name: marketplace.Name, New: marketplace.New, Conns: 8},
}

// startStack starts a throwaway database, an embedded JetStream, the services above and
// the gateway in front of them, wired as `conectar serve` wires them, and returns the
// gateway's base URL and a function that stops and removes everything.
func startStack(ctx context.Context) (string, func(), error) {
	run, stop, err := benchkit.Start(ctx, "chat", benchkit.StackConfig{Log: slog.New(slog.DiscardHandler),
		Env: benchkit.LiftedEnv(os.Getenv), Services: stackServices, Gateway: newGateway})
	if err != nil {
		return "", nil, err
	}
	return run.Gateway, stop, nil
}

// newGateway builds the real gateway from the stack's wiring (benchkit, in platform,
// cannot import it).
func newGateway(ctx context.Context, w benchkit.Wiring) (benchkit.Component, error) {
	return gateway.New(ctx, gateway.Deps{Log: w.Log, NC: w.NC, Verifier: w.Verifier, Env: w.Env, ServiceURLs: w.ServiceURLs})
}

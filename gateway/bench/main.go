// Command bench measures what the gateway costs on a real endpoint: the same
// authenticated GET /api/v1/users/me (users verifies the token and reads the caller's
// profile row from PostgreSQL) sent directly to the users service and through the real
// gateway in front of it (which verifies the token at the edge, checks the ban list and
// forwards), at the same closed-loop load. Auth, users and the gateway run in-process,
// wired as `conectar serve` wires them, on a throwaway database and an embedded
// JetStream; the tokens are real ones from logging in at auth.
//
//	go run ./gateway/bench [-c 16] [-rounds 6] [-round 2s] [-json out.json] [-quick]
//	go run ./gateway/bench -cpuprofile gw.pprof   # where the gateway's time goes
//	go run ./gateway/bench -hop tcp               # gateway and users as separate processes
//
// By default the gateway calls users in process, as one `conectar serve all` process
// wires them (platform/inmem): the request still goes through users' own Fiber app
// (routing, middleware, error handler), without an HTTP round trip. -hop tcp measures
// the loopback hop that separate processes (docker-compose) pay.
//
// Direct and gateway alternate in short rounds (direct, gateway, direct, …) after an
// unmeasured warm-up of each, so a drift of the machine hits both alike; figures pool
// every round of a target.
//
// Aims (issue #13): through the gateway ≥ 0.85× the direct requests/s, and the p50 the
// gateway adds ≤ 0.2 ms, both at the closed loop's load. A shorter run with one client
// shows the hop's latency without queueing for the cores, not judged.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"time"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/services/auth"
	"github.com/conectarpro/conectar/services/users"
)

// Aims of issue #13.
const (
	aimRatio    = 0.85 // gateway requests/s over direct
	aimAddedP50 = 0.2  // ms the gateway adds to the p50
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	conc       int
	rounds     int
	round      time.Duration
	warmup     time.Duration
	accounts   int
	cpuProfile string
	hop        string
}

func run() error {
	var cfg config
	flag.IntVar(&cfg.conc, "c", 16, "concurrent clients (closed loop)")
	flag.IntVar(&cfg.rounds, "rounds", 6, "rounds; each measures direct then gateway")
	flag.DurationVar(&cfg.round, "round", 2*time.Second, "length of one target's turn in a round")
	flag.DurationVar(&cfg.warmup, "warmup", time.Second, "unmeasured warm-up of each target")
	flag.IntVar(&cfg.accounts, "accounts", 4, "signed-in users the clients spread over")
	flag.StringVar(&cfg.hop, "hop", "process", "how the gateway reaches users: process (in process, as one `serve all` process) or tcp (separate processes)")
	flag.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write a CPU profile of the closed-loop rounds (direct and gateway) to this file")
	common := benchkit.RegisterFlags(flag.CommandLine)
	flag.Parse()
	if cfg.hop != "process" && cfg.hop != "tcp" {
		return fmt.Errorf("-hop %q: want process or tcp", cfg.hop)
	}
	if common.Quick {
		cfg.rounds, cfg.round, cfg.warmup = 2, time.Second, 500*time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	stack, stopStack, err := benchkit.Start(ctx, "gateway", benchkit.StackConfig{
		InProcess: cfg.hop == "process",
		Env:       benchkit.LiftedEnv(os.Getenv),
		Services: []benchkit.Service{
			{Name: auth.Name, New: auth.New, Conns: 4},
			{Name: users.Name, New: users.New, Conns: int32(cfg.conc)},
		},
		Gateway: func(ctx context.Context, w benchkit.Wiring) (benchkit.Component, error) {
			return gateway.New(ctx, gateway.Deps{Log: w.Log, NC: w.NC, Verifier: w.Verifier, Env: w.Env, ServiceURLs: w.ServiceURLs, Transport: w.Transport})
		}})
	if err != nil {
		return err
	}
	defer stopStack()
	client := benchkit.HTTPClient(cfg.conc, 10*time.Second)
	tokens, err := signIn(ctx, client, stack.URLs[auth.Name], stack.URLs[users.Name], cfg.accounts)
	if err != nil {
		return err
	}

	me := func(base string) benchkit.Op {
		return func(ctx context.Context, worker int) error {
			return benchkit.Expect(ctx, client, http.StatusOK, http.MethodGet, base+"/api/v1/users/me", tokens[worker%len(tokens)], nil, nil)
		}
	}
	direct, through := me(stack.URLs[users.Name]), me(stack.Gateway)
	// The whole measured run, direct turns included: the services run in this process
	// too, so gateway.* frames are what proxying adds.
	stopProfile, err := benchkit.CPUProfile(cfg.cpuProfile)
	if err != nil {
		return err
	}
	res := benchkit.Rounds(ctx, cfg.rounds, cfg.conc, cfg.round, cfg.warmup, direct, through)
	stopProfile()
	// One client, shorter: the hop's own latency, without the queueing for the two
	// cores that the closed loop's added p50 also contains.
	one := benchkit.Rounds(ctx, max(1, cfg.rounds/2), 1, cfg.round/2, cfg.warmup/2, direct, through)
	d, g, d1, g1 := res[0], res[1], one[0], one[1]
	for name, r := range map[string]benchkit.Result{"direct": d, "gateway": g, "direct, 1 client": d1, "gateway, 1 client": g1} {
		if r.Errors > 0 {
			return fmt.Errorf("%s: %d failed requests, first: %w", name, r.Errors, r.FirstErr)
		}
	}

	table := &benchkit.Table{Title: fmt.Sprintf("Gateway overhead on GET /api/v1/users/me (%s)", time.Now().UTC().Format(time.RFC3339))}
	table.Note("%d closed-loop clients, %d rounds × %s per target after %s warm-up, %d signed-in users; raw = directly at users",
		cfg.conc, cfg.rounds, cfg.round, cfg.warmup, len(tokens))
	if cfg.hop == "process" {
		table.Note("gateway → users in process, as one `conectar serve all` process runs them (-hop tcp: over loopback TCP, as separate processes)")
	} else {
		table.Note("gateway → users over loopback TCP, as separate processes run them (-hop process: as `conectar serve all` runs them)")
	}
	table.Note("gateway and users share the process's token verifier, which remembers a verified token for up to a minute (the ban list is checked on every request)")
	ratio := g.Rate() / d.Rate()
	added := g.Ms(50) - d.Ms(50)
	table.Add(benchkit.Row{Figure: "requests/s through the gateway", Value: benchkit.PerSec(g.Rate(), "req"), Raw: benchkit.PerSec(d.Rate(), "req"),
		Ratio: benchkit.Ratio(g.Rate(), d.Rate()), Aim: fmt.Sprintf("≥ %.2f×", aimRatio), Verdict: benchkit.Verdict(ratio >= aimRatio)})
	table.Add(benchkit.Row{Figure: "p50 through the gateway", Value: benchkit.Ms(g.Ms(50)), Raw: benchkit.Ms(d.Ms(50)), Ratio: benchkit.Ratio(g.Ms(50), d.Ms(50))})
	table.Add(benchkit.Row{Figure: "p50 the gateway adds", Value: fmt.Sprintf("%+.3f ms", added),
		Aim: fmt.Sprintf("≤ %.1f ms", aimAddedP50), Verdict: benchkit.Verdict(added <= aimAddedP50)})
	table.Add(benchkit.Row{Figure: "p99 through the gateway", Value: benchkit.Ms(g.Ms(99)), Raw: benchkit.Ms(d.Ms(99)), Ratio: benchkit.Ratio(g.Ms(99), d.Ms(99))})
	table.Add(benchkit.Row{Figure: "  (shown) CPU of this process per request (client, auth, users, gateway)", Value: us(g.CPUPerOp()), Raw: us(d.CPUPerOp()),
		Ratio: fmt.Sprintf("%+.0f µs", float64(g.CPUPerOp()-d.CPUPerOp())/1e3)})
	table.Add(benchkit.Row{Figure: "  (shown) 1 client: p50 through the gateway", Value: benchkit.Ms(g1.Ms(50)), Raw: benchkit.Ms(d1.Ms(50)),
		Ratio: fmt.Sprintf("%+.3f ms", g1.Ms(50)-d1.Ms(50))})
	return common.Emit(os.Stdout, table)
}

// signIn registers n accounts at auth, logs each in for a real signed access token, and
// waits until users serves each profile (it arrives through UserRegistered).
func signIn(ctx context.Context, c *benchkit.Client, authURL, usersURL string, n int) ([]string, error) {
	tokens := make([]string, 0, n)
	for i := 0; i < n; i++ {
		email := fmt.Sprintf("gwbench%02d@example.com", i)
		if err := benchkit.Expect(ctx, c, http.StatusCreated, http.MethodPost, authURL+"/api/v1/auth/register", "",
			map[string]string{"email": email, "password": "benchpass1", "nombre": "Bench", "apellido": "Gateway"}, nil); err != nil {
			return nil, fmt.Errorf("register: %w", err)
		}
		var tp struct {
			AccessToken string `json:"access_token"`
		}
		if err := benchkit.Expect(ctx, c, http.StatusOK, http.MethodPost, authURL+"/api/v1/auth/login", "",
			map[string]string{"email": email, "password": "benchpass1"}, &tp); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		tokens = append(tokens, tp.AccessToken)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, tok := range tokens {
		for {
			err := benchkit.Expect(ctx, c, http.StatusOK, http.MethodGet, usersURL+"/api/v1/users/me", tok, nil, nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("users never served the profile: %w", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return tokens, nil
}

func us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/1e3) }

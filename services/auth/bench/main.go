// Command bench measures the auth service: logins per second (argon2id bound) and
// access-token verifications per second, over HTTP against the real composition roots,
// each both directly at the service and through the real gateway started in-process in
// front of it (issue 3 asks for the gateway figures), printed as one table. Direct and
// gateway alternate in rounds so a drift of the machine hits both alike. It creates a
// throwaway database on the server of DATABASE_URL (dropped at the end) and an embedded
// JetStream server.
//
//	go run ./services/auth/bench [-duration 10s] [-rounds 2] [-concurrency 8] [-users 16] [-json out.json]
//	go run ./services/auth/bench -quick   # smoke run
//
// Argon2id uses the production defaults unless ARGON2_* are set in the environment. The
// login rate limits (auth's per IP/account, the gateway's per IP) are lifted unless set,
// since they would measure the limiter, not the login.
//
// "Token verification at the gateway" is measured on GET /api/v1/users/me: the gateway
// verifies the token at the edge (signature via JWKS, ban list), forwards to users, which
// verifies it again and reads the profile row; the verifier they share remembers a
// checked token for a minute, so after a token's first request both checks are the ban
// list. POST /api/v1/auth/validate-token is
// token-exempt at the edge (the gateway only forwards it, auth verifies), so it shows
// the proxy cost alone.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/services/auth"
	"github.com/conectarpro/conectar/services/users"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	duration := flag.Duration("duration", 10*time.Second, "measured time per target of each phase, split over the rounds")
	rounds := flag.Int("rounds", 2, "rounds; each measures direct then through the gateway")
	conc := flag.Int("concurrency", 8, "concurrent clients")
	nUsers := flag.Int("users", 16, "accounts to log in with")
	common := benchkit.RegisterFlags(flag.CommandLine)
	flag.Parse()
	if common.Quick {
		*duration, *rounds, *nUsers = 2*time.Second, 1, 4
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()

	// Wired as cmd/conectar serve does: one verifier (JWKS from auth + ban list) for
	// every component; the gateway fronts all six services, those not running get an
	// address nobody listens on (the bench only uses auth and users routes).
	stack, stopStack, err := benchkit.Start(ctx, "auth", benchkit.StackConfig{
		Env: benchkit.LiftedEnv(os.Getenv),
		Services: []benchkit.Service{
			{Name: auth.Name, New: auth.New, Conns: 32},
			{Name: users.Name, New: users.New, Conns: 16},
		},
		Gateway: func(ctx context.Context, w benchkit.Wiring) (benchkit.Component, error) {
			return gateway.New(ctx, gateway.Deps{Log: w.Log, NC: w.NC, Verifier: w.Verifier, Env: w.Env, ServiceURLs: w.ServiceURLs})
		}})
	if err != nil {
		return err
	}
	defer stopStack()
	authURL, usersURL, gwURL := stack.URLs[auth.Name], stack.URLs[users.Name], stack.Gateway
	client := benchkit.HTTPClient(*conc, 30*time.Second)
	// The parameters auth runs with: its own defaults unless ARGON2_* are set.
	acfg, err := auth.LoadConfig(os.Getenv)
	if err != nil {
		return err
	}
	argon := fmt.Sprintf("argon2id m=%dKiB t=%d p=%d", acfg.Argon2MemoryKiB, acfg.Argon2Iterations, acfg.Argon2Parallelism)
	emails := make([]string, *nUsers)
	for i := range emails {
		emails[i] = fmt.Sprintf("bench%03d@example.com", i)
		if err := benchkit.Expect(ctx, client, http.StatusCreated, http.MethodPost, authURL+"/api/v1/auth/register", "",
			map[string]string{"email": emails[i], "password": "benchpass1", "nombre": "Bench", "apellido": "User"}, nil); err != nil {
			return fmt.Errorf("register %s: %w", emails[i], err)
		}
	}
	round := *duration / time.Duration(*rounds)
	warmup := round / 2
	compare := func(direct, through benchkit.Op) (benchkit.Result, benchkit.Result, error) {
		res := benchkit.Rounds(ctx, *rounds, *conc, round, warmup, direct, through)
		for i, name := range []string{"direct", "through the gateway"} {
			if res[i].Errors > 0 {
				return res[0], res[1], fmt.Errorf("%s: %d failed requests, first: %w", name, res[i].Errors, res[i].FirstErr)
			}
		}
		return res[0], res[1], nil
	}
	table := &benchkit.Table{Title: fmt.Sprintf("Auth benchmark (%s)", time.Now().UTC().Format(time.RFC3339))}
	table.Note("%d closed-loop clients, %d rounds × %s per target (direct and gateway in turn) after %s warm-up, %d accounts, %s",
		*conc, *rounds, round, warmup, *nUsers, argon)
	table.Note("raw = the same request sent directly to the service; issue 3 gives no aims: reported, not judged")
	pair := func(name, unit string, direct, gw benchkit.Result) {
		table.Add(benchkit.Row{Figure: name + " through the gateway", Value: benchkit.PerSec(gw.Rate(), unit),
			Raw: benchkit.PerSec(direct.Rate(), unit), Ratio: benchkit.Ratio(gw.Rate(), direct.Rate())})
		table.Add(benchkit.Row{Figure: "  p50 / p99", Value: benchkit.Ms(gw.Ms(50)) + " / " + benchkit.Ms(gw.Ms(99)),
			Raw: benchkit.Ms(direct.Ms(50)) + " / " + benchkit.Ms(direct.Ms(99)), Ratio: benchkit.Ratio(gw.Ms(50), direct.Ms(50))})
	}

	var tokens []string
	var tokMu sync.Mutex
	var next atomic.Int64
	loginAt := func(base string) benchkit.Op {
		return func(ctx context.Context, _ int) error {
			email := emails[int(next.Add(1))%len(emails)]
			var tp struct {
				AccessToken string `json:"access_token"`
			}
			if err := benchkit.Expect(ctx, client, http.StatusOK, http.MethodPost, base+"/api/v1/auth/login", "",
				map[string]string{"email": email, "password": "benchpass1"}, &tp); err != nil {
				return err
			}
			tokMu.Lock()
			if len(tokens) < 1000 {
				tokens = append(tokens, tp.AccessToken)
			}
			tokMu.Unlock()
			return nil
		}
	}
	d, g, err := compare(loginAt(authURL), loginAt(gwURL))
	if err != nil {
		return fmt.Errorf("logins: %w", err)
	}
	pair("logins/s (POST /auth/login)", "login", d, g)
	token := func() string { return tokens[int(next.Add(1))%len(tokens)] }

	callAt := func(method, base, path string) benchkit.Op {
		return func(ctx context.Context, _ int) error {
			return benchkit.Expect(ctx, client, http.StatusOK, method, base+path, token(), nil, nil)
		}
	}
	const validate = "/api/v1/auth/validate-token"
	if d, g, err = compare(callAt(http.MethodPost, authURL, validate), callAt(http.MethodPost, gwURL, validate)); err != nil {
		return fmt.Errorf("validate-token: %w", err)
	}
	pair("validate-token/s (edge-exempt: forwarded, auth verifies)", "req", d, g)

	// The profiles arrive at users through UserRegistered; a miss falls back to auth's
	// internal API, so wait until every account is served before timing.
	if err := waitProfiles(ctx, client, usersURL, tokens, emails); err != nil {
		return err
	}
	const me = "/api/v1/users/me"
	if d, g, err = compare(callAt(http.MethodGet, usersURL, me), callAt(http.MethodGet, gwURL, me)); err != nil {
		return fmt.Errorf("users/me: %w", err)
	}
	pair("GET /users/me/s (edge verifies, users verifies + reads)", "req", d, g)

	// What every other service does per request: verify locally with the JWKS keys. A
	// verifier remembers the tokens it checked for a minute, so a client's first request
	// pays the signature check and its next ones only the ban list: both are measured
	// (first sight with a fresh verifier per check, sharing the fetched keys).
	keys := authn.NewJWKSClient(authURL + "/auth/.well-known/jwks.json")
	shared := &authn.Verifier{Keys: keys}
	for _, row := range []struct {
		figure string
		verify func(ctx context.Context) error
	}{
		{"token verifications/s in process, first sight (Ed25519 signature, JWKS keys)", func(ctx context.Context) error {
			_, err := (&authn.Verifier{Keys: keys}).Verify(ctx, token())
			return err
		}},
		{"token verifications/s in process, remembered (the ban list only)", func(ctx context.Context) error {
			_, err := shared.Verify(ctx, token())
			return err
		}},
	} {
		r := benchkit.ClosedLoop(ctx, *conc, round, func(ctx context.Context, _ int) error { return row.verify(ctx) })
		if r.Errors > 0 {
			return fmt.Errorf("%s: %d failed, first: %w", row.figure, r.Errors, r.FirstErr)
		}
		table.Add(benchkit.Row{Figure: row.figure, Value: benchkit.PerSec(r.Rate(), "verification")})
	}
	return common.Emit(os.Stdout, table)
}

// waitProfiles waits until users answers /users/me for one token of each account.
func waitProfiles(ctx context.Context, client *benchkit.Client, usersURL string, tokens, emails []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, tok := range tokens[:min(len(tokens), len(emails))] {
		for {
			err := benchkit.Expect(ctx, client, http.StatusOK, http.MethodGet, usersURL+"/api/v1/users/me", tok, nil, nil)
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("users/me not served: %w", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

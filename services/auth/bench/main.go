// Command bench measures the auth service: logins per second (argon2id bound) and
// access-token verifications per second, over HTTP against the real composition roots,
// each both directly at the service and through the real gateway started in-process in
// front of it (issue 3 asks for the gateway figures). It creates a throwaway database on
// the server of DATABASE_URL (dropped at the end) and an embedded JetStream server.
//
//	go run ./services/auth/bench [-duration 10s] [-concurrency 8] [-users 16]
//	go run ./services/auth/bench -duration 2s -concurrency 4 -users 4   # smoke run
//
// Argon2id uses the production defaults unless ARGON2_* are set in the environment. The
// login rate limits (auth's per IP/account, the gateway's per IP) are lifted unless set,
// since they would measure the limiter, not the login.
//
// "Token verification at the gateway" is measured on GET /api/v1/users/me: the gateway
// verifies the token at the edge (signature via JWKS, ban list), forwards to users, which
// verifies it again and reads the profile row. POST /api/v1/auth/validate-token is
// token-exempt at the edge (the gateway only forwards it, auth verifies), so it shows
// the proxy cost alone.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	duration := flag.Duration("duration", 10*time.Second, "length of each phase")
	conc := flag.Int("concurrency", 8, "concurrent clients")
	nUsers := flag.Int("users", 16, "accounts to log in with")
	flag.Parse()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))

	dsn, drop, err := benchkit.DB(ctx, "auth", auth.Name, users.Name)
	if err != nil {
		return err
	}
	defer drop()
	ns, stopNATS, err := benchkit.StartNATS(ctx, log)
	if err != nil {
		return err
	}
	defer stopNATS()

	// Wired as cmd/conectar serve does: one verifier (JWKS from auth + ban list) for
	// every component; the gateway fronts all six services, those not running get an
	// address nobody listens on (the bench only uses auth and users routes).
	stack, stopStack, err := benchkit.Stack(ctx, benchkit.StackConfig{DSN: dsn, NATS: ns, Log: log,
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
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}, Timeout: 30 * time.Second}

	fmt.Printf("auth bench: %d clients, %s per phase, argon2id m=%sKiB t=%s p=%s\n", *conc, *duration,
		orDefault(os.Getenv("ARGON2_MEMORY_KIB"), "65536"), orDefault(os.Getenv("ARGON2_ITERATIONS"), "2"),
		orDefault(os.Getenv("ARGON2_PARALLELISM"), "2"))
	fmt.Println("aims (issue 3): none given — logins/s and token verifications/s at the gateway are reported, not judged")
	emails := make([]string, *nUsers)
	for i := range emails {
		emails[i] = fmt.Sprintf("bench%03d@example.com", i)
		st, _, err := do(client, http.MethodPost, authURL+"/api/v1/auth/register", "", map[string]string{"email": emails[i], "password": "benchpass1",
			"nombre": "Bench", "apellido": "User"})
		if err != nil || st != 201 {
			return fmt.Errorf("register %s: status %d: %v", emails[i], st, err)
		}
	}

	var tokens []string
	var tokMu sync.Mutex
	var next atomic.Int64
	loginAt := func(base string) func() error {
		return func() error {
			email := emails[int(next.Add(1))%len(emails)]
			st, body, err := do(client, http.MethodPost, base+"/api/v1/auth/login", "", map[string]string{"email": email, "password": "benchpass1"})
			if err != nil {
				return err
			}
			if st != 200 {
				return fmt.Errorf("login status %d: %s", st, body)
			}
			var tp struct {
				AccessToken string `json:"access_token"`
			}
			if err := json.Unmarshal(body, &tp); err != nil {
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
	phase(*duration, *conc, loginAt(authURL)).print("logins, direct (POST /auth/login → auth)")
	phase(*duration, *conc, loginAt(gwURL)).print("logins, through the gateway")
	if len(tokens) == 0 {
		return fmt.Errorf("no login succeeded")
	}
	token := func() string { return tokens[int(next.Add(1))%len(tokens)] }

	validateAt := func(base string) func() error {
		return func() error {
			st, body, err := do(client, http.MethodPost, base+"/api/v1/auth/validate-token", token(), nil)
			if err != nil {
				return err
			}
			if st != 200 {
				return fmt.Errorf("validate status %d: %s", st, body)
			}
			return nil
		}
	}
	phase(*duration, *conc, validateAt(authURL)).print("validate-token, direct (auth verifies)")
	phase(*duration, *conc, validateAt(gwURL)).print("validate-token, through the gateway (edge-exempt: forwarded, auth verifies)")

	meAt := func(base string) func() error {
		return func() error {
			st, body, err := do(client, http.MethodGet, base+"/api/v1/users/me", token(), nil)
			if err != nil {
				return err
			}
			if st != 200 {
				return fmt.Errorf("users/me status %d: %s", st, body)
			}
			return nil
		}
	}
	// The profiles arrive at users through UserRegistered; a miss falls back to auth's
	// internal API, so wait until every account is served before timing.
	if err := waitProfiles(client, usersURL, tokens, emails); err != nil {
		return err
	}
	phase(*duration, *conc, meAt(usersURL)).print("GET /users/me, direct (users verifies + reads)")
	phase(*duration, *conc, meAt(gwURL)).print("GET /users/me, through the gateway (edge verifies, then users)")

	// What every other service does per request: verify locally with the JWKS keys.
	v := &authn.Verifier{Keys: authn.NewJWKSClient(authURL + "/auth/.well-known/jwks.json")}
	local := phase(*duration, *conc, func() error {
		_, err := v.Verify(ctx, token())
		return err
	})
	local.print("token verifications in process (authn.Verifier + JWKS)")
	return nil
}

// waitProfiles waits until users answers /users/me for one token of each account.
func waitProfiles(client *http.Client, usersURL string, tokens, emails []string) error {
	deadline := time.Now().Add(30 * time.Second)
	for _, tok := range tokens[:min(len(tokens), len(emails))] {
		for {
			st, body, err := do(client, http.MethodGet, usersURL+"/api/v1/users/me", tok, nil)
			if err == nil && st == 200 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("users/me not served: status %d %s: %v", st, body, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nil
}

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

type result struct {
	ops, errs int64
	elapsed   time.Duration
	lat       []time.Duration
	firstErr  error
}

func (r result) print(name string) {
	fmt.Printf("%-78s %9.1f ops/s  (%d ok, %d errors)  p50 %s  p99 %s\n", name, float64(r.ops)/r.elapsed.Seconds(),
		r.ops, r.errs, benchkit.PercentileDur(r.lat, 50).Round(time.Microsecond), benchkit.PercentileDur(r.lat, 99).Round(time.Microsecond))
	if r.firstErr != nil {
		fmt.Printf("  first error: %v\n", r.firstErr)
	}
}

// phase runs op from conc goroutines for d.
func phase(d time.Duration, conc int, op func() error) result {
	var mu sync.Mutex
	var res result
	deadline := time.Now().Add(d)
	start := time.Now()
	var wg sync.WaitGroup
	for i := 0; i < conc; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var lat []time.Duration
			var ok, bad int64
			var first error
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if err := op(); err != nil {
					bad++
					if first == nil {
						first = err
					}
					continue
				}
				ok++
				lat = append(lat, time.Since(t0))
			}
			mu.Lock()
			res.ops += ok
			res.errs += bad
			res.lat = append(res.lat, lat...)
			if res.firstErr == nil {
				res.firstErr = first
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func do(c *http.Client, method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	return res.StatusCode, raw, err
}

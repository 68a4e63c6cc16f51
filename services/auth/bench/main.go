// Command bench measures the auth service directly: logins per second (argon2id bound)
// and access-token verifications per second, over HTTP against the real composition
// root. It creates a throwaway database on the server of DATABASE_URL (dropped at the
// end) and an embedded JetStream server in a temporary folder.
//
//	go run ./services/auth/bench [-duration 10s] [-concurrency 8] [-users 16]
//
// Argon2id uses the production defaults unless ARGON2_* are set in the environment.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events/streams"
	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/auth"
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

	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	dsn, drop, err := throwawayDB(ctx, base)
	if err != nil {
		return err
	}
	defer drop()

	dir, err := os.MkdirTemp("", "auth-bench-nats")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	ns, err := natsx.Embedded(dir, "127.0.0.1", 0)
	if err != nil {
		return err
	}
	defer ns.Shutdown()
	nc, err := natsx.Connect(ns.ClientURL(), "auth-bench", log)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if err := streams.Ensure(ctx, js, 1); err != nil {
		return err
	}
	roleDSN, err := pg.WithUser(dsn, migrations.Role(auth.Name), "")
	if err != nil {
		return err
	}
	pool, err := pg.Open(ctx, roleDSN, auth.Name, 32)
	if err != nil {
		return err
	}
	defer pool.Close()
	// The login rate limits would measure the limiter, not the login: off unless set.
	env := func(k string) string {
		if v := os.Getenv(k); v != "" || (k != "LOGIN_RATE_PER_IP" && k != "LOGIN_RATE_PER_ACCOUNT") {
			return v
		}
		return "0"
	}
	svc, err := auth.New(ctx, kit.Deps{Log: log, Pool: pool, NC: nc, JS: js, Env: env, Now: time.Now})
	if err != nil {
		return err
	}
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Stop(context.Background())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go func() { _ = svc.Serve(ln) }()
	url := "http://" + ln.Addr().String()
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}, Timeout: 30 * time.Second}

	fmt.Printf("auth bench: %d clients, %s per phase, argon2id m=%sKiB t=%s p=%s\n", *conc, *duration,
		orDefault(os.Getenv("ARGON2_MEMORY_KIB"), "65536"), orDefault(os.Getenv("ARGON2_ITERATIONS"), "2"),
		orDefault(os.Getenv("ARGON2_PARALLELISM"), "2"))
	emails := make([]string, *nUsers)
	for i := range emails {
		emails[i] = fmt.Sprintf("bench%03d@example.com", i)
		st, _, err := post(client, url+"/api/v1/auth/register", "", map[string]string{"email": emails[i], "password": "benchpass1",
			"nombre": "Bench", "apellido": "User"})
		if err != nil || st != 201 {
			return fmt.Errorf("register %s: status %d: %v", emails[i], st, err)
		}
	}

	var tokens []string
	var tokMu sync.Mutex
	var next atomic.Int64
	login := phase(*duration, *conc, func() error {
		email := emails[int(next.Add(1))%len(emails)]
		st, body, err := post(client, url+"/api/v1/auth/login", "", map[string]string{"email": email, "password": "benchpass1"})
		if err != nil {
			return err
		}
		if st != 200 {
			return fmt.Errorf("login status %d", st)
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
	})
	login.print("logins (POST /auth/login)")
	if len(tokens) == 0 {
		return fmt.Errorf("no login succeeded")
	}

	verify := phase(*duration, *conc, func() error {
		tok := tokens[int(next.Add(1))%len(tokens)]
		st, _, err := post(client, url+"/api/v1/auth/validate-token", tok, nil)
		if err != nil {
			return err
		}
		if st != 200 {
			return fmt.Errorf("validate status %d", st)
		}
		return nil
	})
	verify.print("token verifications over HTTP (POST /auth/validate-token)")

	// What every other service does per request: verify locally with the JWKS keys.
	v := &authn.Verifier{Keys: authn.NewJWKSClient(url + "/auth/.well-known/jwks.json")}
	local := phase(*duration, *conc, func() error {
		_, err := v.Verify(ctx, tokens[int(next.Add(1))%len(tokens)])
		return err
	})
	local.print("token verifications in process (authn.Verifier + JWKS)")
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
	sort.Slice(r.lat, func(i, j int) bool { return r.lat[i] < r.lat[j] })
	pct := func(p float64) time.Duration {
		if len(r.lat) == 0 {
			return 0
		}
		return r.lat[min(len(r.lat)-1, int(float64(len(r.lat))*p))]
	}
	fmt.Printf("%-60s %10.1f ops/s  (%d ok, %d errors)  p50 %s  p99 %s\n", name, float64(r.ops)/r.elapsed.Seconds(),
		r.ops, r.errs, pct(0.50).Round(time.Microsecond), pct(0.99).Round(time.Microsecond))
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

func post(c *http.Client, url, token string, body any) (int, []byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(http.MethodPost, url, rd)
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

// throwawayDB creates a migrated database next to base and returns its DSN and a drop
// function.
func throwawayDB(ctx context.Context, base string) (string, func(), error) {
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", base, err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "conectar_bench_auth_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
		admin.Close(context.Background())
	}
	dsn, err := pg.WithDatabase(base, name)
	if err != nil {
		drop()
		return "", nil, err
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	defer conn.Close(ctx)
	if err := migrations.Up(ctx, conn, migrations.Options{}, auth.Name); err != nil && !strings.Contains(err.Error(), "already exists") {
		drop()
		return "", nil, fmt.Errorf("migrate: %w", err)
	}
	return dsn, drop, nil
}

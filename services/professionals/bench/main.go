// Command bench measures the professionals search at scale: it creates a throwaway
// database on the DATABASE_URL server, migrates it, seeds 100,000 professionals over
// Greater Buenos Aires, starts the professionals service in-process, and prints for each
// search form the latency percentiles and requests/s at a fixed concurrency: with the
// same SQL run directly on the pool, over HTTP to the service, and over HTTP through the
// real gateway started in-process in front of it (issue 4's figures and aims).
//
//	go run ./services/professionals/bench [-n 100000] [-c 16] [-d 10s] [-explain]
//	go run ./services/professionals/bench -n 2000 -d 2s   # smoke run
package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/services/professionals"
)

// Issue 4's aims for every search form.
const (
	aimGatewayP95   = 15.0 // ms, through the gateway
	aimGatewayRatio = 0.6  // gateway requests/s over the same SQL run directly
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type config struct {
	n        int
	conc     int
	dur      time.Duration
	explain  bool
	keep     bool
	seed     uint64
	poolSize int
	reuse    string
}

func run() error {
	var cfg config
	flag.IntVar(&cfg.n, "n", 100_000, "professionals to seed")
	flag.IntVar(&cfg.conc, "c", 16, "concurrent clients")
	flag.DurationVar(&cfg.dur, "d", 10*time.Second, "duration of each measurement")
	flag.BoolVar(&cfg.explain, "explain", false, "print EXPLAIN ANALYZE of each shape")
	flag.BoolVar(&cfg.keep, "keep", false, "keep the database afterwards")
	flag.Uint64Var(&cfg.seed, "seed", 42, "data seed")
	flag.IntVar(&cfg.poolSize, "pool", 16, "service pool size")
	flag.StringVar(&cfg.reuse, "db", "", "reuse this already seeded database (superuser DSN) instead of creating one")
	flag.Parse()
	ctx := context.Background()

	dsn := cfg.reuse
	if dsn == "" {
		fresh, drop, err := benchkit.DB(ctx, "professionals", professionals.Name)
		if err != nil {
			return err
		}
		if !cfg.keep {
			defer drop()
		}
		fmt.Printf("database %s\n", fresh)
		if err := seed(ctx, fresh, cfg); err != nil {
			return err
		}
		dsn = fresh
	}
	pool, err := benchkit.Pool(ctx, dsn, professionals.Name, int32(cfg.poolSize))
	if err != nil {
		return err
	}
	defer pool.Close()
	svcURL, gwURL, stop, err := startStack(ctx, cfg, dsn)
	if err != nil {
		return err
	}
	defer stop()

	oficios, err := oficioIDs(ctx, pool)
	if err != nil {
		return err
	}
	if cfg.explain {
		if err := explain(ctx, pool, oficios[2]); err != nil {
			return err
		}
	}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: cfg.conc * 2, MaxConnsPerHost: cfg.conc * 2}, Timeout: 10 * time.Second}
	getForm := func(baseURL string) func(context.Context, *rand.Rand) error {
		return func(ctx context.Context, r *rand.Rand) error {
			p := randomParams(r, oficios, professionals.ShapeCoverage)
			q := url.Values{"oficio_id": {p.OficioIDs[0]}, "lat": {ftoa(*p.Lat)}, "lng": {ftoa(*p.Lng)}, "sort_by": {p.Sort}, "limit": {"20"}}
			return httpDo(ctx, client, http.MethodGet, baseURL+"/api/v1/search/professionals?"+q.Encode(), nil)
		}
	}
	postForm := func(baseURL string) func(context.Context, *rand.Rand) error {
		return func(ctx context.Context, r *rand.Rand) error {
			p := randomParams(r, oficios, professionals.ShapeRadius)
			body, _ := json.Marshal(map[string]any{"oficio_id": p.OficioIDs[0], "latitude": *p.Lat, "longitude": *p.Lng,
				"radio_km": 10, "ordenar_por": p.Sort, "limit": 20})
			return httpDo(ctx, client, http.MethodPost, baseURL+"/api/v1/search", body)
		}
	}
	sqlForm := func(shape string) func(context.Context, *rand.Rand) error {
		return func(ctx context.Context, r *rand.Rand) error {
			_, _, err := professionals.Search(ctx, pool, randomParams(r, oficios, shape))
			return err
		}
	}
	forms := []struct {
		name                  string
		sql, service, through func(context.Context, *rand.Rand) error
	}{
		{"GET /search/professionals (coverage)", sqlForm(professionals.ShapeCoverage), getForm(svcURL), getForm(gwURL)},
		{"POST /search (10 km, KNN + count)", sqlForm(professionals.ShapeRadius), postForm(svcURL), postForm(gwURL)},
	}
	fmt.Printf("\n%d professionals, concurrency %d, %s per run\n", cfg.n, cfg.conc, cfg.dur)
	fmt.Printf("aims (issue 4): p95 ≤ %.0f ms through the gateway; gateway requests/s ≥ %.1f× the same SQL run directly\n",
		aimGatewayP95, aimGatewayRatio)
	fmt.Printf("%-38s %-9s %9s %9s %9s %10s %7s\n", "form", "path", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors")
	row := func(form, path string, res result) {
		fmt.Printf("%-38s %-9s %9.2f %9.2f %9.2f %10.1f %7d\n", form, path, res.p(50), res.p(95), res.p(99), res.rps, res.errors)
	}
	var verdicts []string
	for _, f := range forms {
		direct := measure(ctx, cfg, f.sql)
		row(f.name, "SQL", direct)
		row("", "service", measure(ctx, cfg, f.service))
		gw := measure(ctx, cfg, f.through)
		row("", "gateway", gw)
		ratio := 0.0
		if direct.rps > 0 {
			ratio = gw.rps / direct.rps
		}
		verdicts = append(verdicts, fmt.Sprintf("%-38s gateway p95 %.2f ms (aim ≤ %.0f: %s), gateway/SQL req/s %.2f× (aim ≥ %.1f: %s)",
			f.name, gw.p(95), aimGatewayP95, verdict(gw.p(95) <= aimGatewayP95 && gw.errors == 0),
			ratio, aimGatewayRatio, verdict(ratio >= aimGatewayRatio)))
	}
	fmt.Println()
	if cfg.n < 100_000 {
		fmt.Printf("(the aims are stated for 100,000 professionals; this run seeded %d)\n", cfg.n)
	}
	for _, v := range verdicts {
		fmt.Println(v)
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', 6, 64) }

// randomParams picks a point in the seeded box, a trade and an order, as the pgbench
// scripts of the performance baselines do.
func randomParams(r *rand.Rand, oficios []string, shape string) professionals.SearchParams {
	lat := professionals.SeedMinLat + r.Float64()*(professionals.SeedMaxLat-professionals.SeedMinLat)
	lng := professionals.SeedMinLng + r.Float64()*(professionals.SeedMaxLng-professionals.SeedMinLng)
	p := professionals.SearchParams{Shape: shape, OficioIDs: []string{oficios[r.IntN(len(oficios))]}, Lat: &lat, Lng: &lng, Limit: 20}
	if shape == professionals.ShapeRadius {
		p.RadioM, p.Sort = 10_000, professionals.SortDistancia
	} else {
		p.Sort = professionals.SortRating
	}
	return p
}

func httpDo(ctx context.Context, c *http.Client, method, u string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, u, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: status %d", method, u, resp.StatusCode)
	}
	return nil
}

type result struct {
	lat    []time.Duration
	rps    float64
	errors int
}

// p is the q-th latency percentile in milliseconds.
func (r result) p(q float64) float64 {
	return float64(benchkit.PercentileDur(r.lat, q).Microseconds()) / 1000
}

// measure runs fn from cfg.conc goroutines for cfg.dur after a short warm-up.
func measure(ctx context.Context, cfg config, fn func(context.Context, *rand.Rand) error) result {
	run := func(d time.Duration, record bool) result {
		var mu sync.Mutex
		var all []time.Duration
		errs := 0
		deadline := time.Now().Add(d)
		var wg sync.WaitGroup
		start := time.Now()
		for w := 0; w < cfg.conc; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
				var local []time.Duration
				localErr := 0
				for time.Now().Before(deadline) {
					t0 := time.Now()
					if err := fn(ctx, r); err != nil {
						localErr++
						if localErr == 1 {
							fmt.Fprintln(os.Stderr, "  error:", err)
						}
						continue
					}
					local = append(local, time.Since(t0))
				}
				mu.Lock()
				all = append(all, local...)
				errs += localErr
				mu.Unlock()
			}(w)
		}
		wg.Wait()
		el := time.Since(start)
		return result{lat: all, rps: float64(len(all)) / el.Seconds(), errors: errs}
	}
	run(cfg.dur/5, false)
	return run(cfg.dur, true)
}

func seed(ctx context.Context, dsn string, cfg config) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	t0 := time.Now()
	if err := professionals.SeedProfessionals(ctx, conn, cfg.n, cfg.seed); err != nil {
		return err
	}
	var rows int
	_ = conn.QueryRow(ctx, "SELECT count(*) FROM busqueda").Scan(&rows)
	fmt.Printf("seeded %d professionals (%d search rows) in %s\n", cfg.n, rows, time.Since(t0).Round(time.Millisecond))
	return nil
}

// startService runs the real composition root in-process on a free port, with an
// embedded JetStream server in a temporary folder.

// startStack runs the real professionals composition root and the real gateway in front
// of it, in-process on free ports, with an embedded JetStream server. It returns the
// service's and the gateway's base URLs.
func startStack(ctx context.Context, cfg config, dsn string) (string, string, func(), error) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ns, stopNATS, err := benchkit.StartNATS(ctx, log)
	if err != nil {
		return "", "", nil, err
	}
	// The gateway fronts all six services; only professionals runs here (the search
	// routes are public and the service asks auth only on misses, which searches have
	// none of), the others get an address nobody listens on. Searches carry no token,
	// so nothing is ever verified: keys that know nothing stand in for the JWKS client
	// of a running auth. The ban list is the real one.
	none := authn.StaticKeys(func(string) (ed25519.PublicKey, bool) { return nil, false })
	run, stopStack, err := benchkit.Stack(ctx, benchkit.StackConfig{DSN: dsn, NATS: ns, Log: log, Keys: none,
		Services: []benchkit.Service{{Name: professionals.Name, New: professionals.New, Conns: int32(cfg.poolSize)}},
		Gateway: func(ctx context.Context, w benchkit.Wiring) (benchkit.Component, error) {
			return gateway.New(ctx, gateway.Deps{Log: w.Log, NC: w.NC, Verifier: w.Verifier, Env: w.Env, ServiceURLs: w.ServiceURLs})
		}})
	if err != nil {
		stopNATS()
		return "", "", nil, err
	}
	return run.URLs[professionals.Name], run.Gateway, func() { stopStack(); stopNATS() }, nil
}

func oficioIDs(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	rows, err := pool.Query(ctx, "SELECT id::text FROM oficios ORDER BY nombre")
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// explain prints the plans of both shapes at the baselines' test point.
func explain(ctx context.Context, pool *pgxpool.Pool, oficio string) error {
	lat, lng := -34.62, -58.45
	for _, shape := range []string{professionals.ShapeCoverage, professionals.ShapeRadius} {
		p := professionals.SearchParams{Shape: shape, OficioIDs: []string{oficio}, Lat: &lat, Lng: &lng, RadioM: 10_000, Limit: 20, Sort: professionals.SortRating}
		if shape == professionals.ShapeRadius {
			p.Sort = professionals.SortDistancia
		}
		q, a := professionals.BuildSearch(p)
		rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, BUFFERS OFF, COSTS OFF) "+q, a...)
		if err != nil {
			return err
		}
		lines, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		fmt.Printf("\n-- %s (sorted by %s)\n", shape, p.Sort)
		for _, l := range lines {
			fmt.Println(l)
		}
	}
	return nil
}

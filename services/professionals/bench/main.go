// Command bench measures the professionals search at scale: it creates a throwaway
// database on the DATABASE_URL server, migrates it, seeds 100,000 professionals over
// Greater Buenos Aires, starts the professionals service in-process, and prints for each
// search form the latency percentiles and requests/s at a fixed concurrency, over HTTP
// to the service and with the same SQL run directly on the pool.
//
//	go run ./services/professionals/bench [-n 100000] [-c 16] [-d 10s] [-explain] [-gateway URL]
//
// -gateway adds the HTTP forms sent through a running gateway at URL, whose
// professionals service must use the database printed at start (run with -keep).
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
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events/streams"
	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/professionals"
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
	gateway  string
	seed     uint64
	baseDSN  string
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
	flag.StringVar(&cfg.gateway, "gateway", "", "also measure the HTTP forms through this gateway base URL")
	flag.Uint64Var(&cfg.seed, "seed", 42, "data seed")
	flag.IntVar(&cfg.poolSize, "pool", 16, "service pool size")
	flag.StringVar(&cfg.reuse, "db", "", "reuse this already seeded database (superuser DSN) instead of creating one")
	flag.Parse()
	cfg.baseDSN = os.Getenv("DATABASE_URL")
	if cfg.baseDSN == "" {
		cfg.baseDSN = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	}
	ctx := context.Background()

	dsn := cfg.reuse
	if dsn == "" {
		fresh, drop, err := freshDB(ctx, cfg)
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
	roleDSN, err := pg.WithUser(dsn, migrations.Role(professionals.Name), "")
	if err != nil {
		return err
	}
	pool, err := pg.Open(ctx, roleDSN, professionals.Name, int32(cfg.poolSize))
	if err != nil {
		return err
	}
	defer pool.Close()
	base, stop, err := startService(ctx, cfg, roleDSN)
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
	type target struct {
		name string
		fn   func(ctx context.Context, r *rand.Rand) error
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
	targets := []target{
		{"GET /search/professionals  (coverage)  SQL direct", sqlForm(professionals.ShapeCoverage)},
		{"GET /search/professionals  (coverage)  service   ", getForm(base)},
		{"POST /search (10 km, KNN + count)      SQL direct", sqlForm(professionals.ShapeRadius)},
		{"POST /search (10 km, KNN + count)      service   ", postForm(base)},
	}
	if cfg.gateway != "" {
		targets = append(targets,
			target{"GET /search/professionals  (coverage)  gateway   ", getForm(cfg.gateway)},
			target{"POST /search (10 km, KNN + count)      gateway   ", postForm(cfg.gateway)})
	}
	fmt.Printf("\n%d professionals, concurrency %d, %s per run\n", cfg.n, cfg.conc, cfg.dur)
	fmt.Printf("%-52s %9s %9s %9s %10s %7s\n", "form", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors")
	for _, t := range targets {
		res := measure(ctx, cfg, t.fn)
		fmt.Printf("%-52s %9.2f %9.2f %9.2f %10.1f %7d\n", t.name, res.p(50), res.p(95), res.p(99), res.rps, res.errors)
	}
	return nil
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

func (r result) p(q float64) float64 {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(float64(len(r.lat)-1) * q / 100)
	return float64(r.lat[i].Microseconds()) / 1000
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
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		return result{lat: all, rps: float64(len(all)) / el.Seconds(), errors: errs}
	}
	run(cfg.dur/5, false)
	return run(cfg.dur, true)
}

func freshDB(ctx context.Context, cfg config) (string, func(), error) {
	admin, err := pgx.Connect(ctx, cfg.baseDSN)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", cfg.baseDSN, err)
	}
	name := fmt.Sprintf("conectar_bench_%d", time.Now().UnixNano()%1_000_000_000)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	admin.Close(ctx)
	dsn, err := pg.WithDatabase(cfg.baseDSN, name)
	if err != nil {
		return "", nil, err
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), cfg.baseDSN)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		drop()
		return "", nil, err
	}
	defer conn.Close(ctx)
	if err := migrations.Up(ctx, conn, migrations.Options{}, professionals.Name); err != nil {
		drop()
		return "", nil, fmt.Errorf("migrate: %w", err)
	}
	return dsn, drop, nil
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
func startService(ctx context.Context, cfg config, roleDSN string) (string, func(), error) {
	dir, err := os.MkdirTemp("", "bench-nats-")
	if err != nil {
		return "", nil, err
	}
	ns, err := natsx.Embedded(dir, "127.0.0.1", 0)
	if err != nil {
		return "", nil, err
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	nc, err := natsx.Connect(ns.ClientURL(), "bench", log)
	if err != nil {
		return "", nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return "", nil, err
	}
	if err := streams.Ensure(ctx, js, 1); err != nil {
		return "", nil, err
	}
	pool, err := pg.Open(ctx, roleDSN, professionals.Name, int32(cfg.poolSize))
	if err != nil {
		return "", nil, err
	}
	none := authn.StaticKeys(func(string) (ed25519.PublicKey, bool) { return nil, false })
	svc, err := professionals.New(ctx, kit.Deps{Log: log, Pool: pool, NC: nc, JS: js, Verifier: &authn.Verifier{Keys: none}, Now: time.Now})
	if err != nil {
		return "", nil, err
	}
	sctx, cancel := context.WithCancel(ctx)
	if err := svc.Start(sctx); err != nil {
		cancel()
		return "", nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		cancel()
		return "", nil, err
	}
	go func() { _ = svc.Serve(ln) }()
	stop := func() {
		c, cc := context.WithTimeout(context.Background(), 5*time.Second)
		defer cc()
		svc.Stop(c)
		cancel()
		pool.Close()
		nc.Close()
		ns.Shutdown()
		_ = os.RemoveAll(dir)
	}
	return "http://" + ln.Addr().String(), stop, nil
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

// Package benchkit gives the benchmark programs (`task bench:*`) the same throwaway
// infrastructure the tests use: a freshly migrated database next to DATABASE_URL, a
// service pool on it, an embedded JetStream server, and percentile arithmetic. Benchmarks
// are programs that print figures, never timed tests.
package benchkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events/streams"
	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/pg"
)

// BaseDSN is DATABASE_URL or the local default server.
func BaseDSN() string {
	if v := os.Getenv("DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DB creates a database named conectar_bench_<tag>_<random> on the BaseDSN server,
// migrates the given services into it, and returns its superuser DSN and a function
// that drops it.
func DB(ctx context.Context, tag string, services ...string) (string, func(), error) {
	base := BaseDSN()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		return "", nil, fmt.Errorf("connect %s: %w", base, err)
	}
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "conectar_bench_" + tag + "_" + hex.EncodeToString(b)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		admin.Close(ctx)
		return "", nil, fmt.Errorf("create database: %w", err)
	}
	drop := func() {
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
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
	if err := migrations.Up(ctx, conn, migrations.Options{}, services...); err != nil {
		drop()
		return "", nil, fmt.Errorf("migrate: %w", err)
	}
	return dsn, drop, nil
}

// Pool opens a pool on dsn as service's role, its schema on the search_path, sized as a
// service's (DefaultMinConns kept open) but for maxConns.
func Pool(ctx context.Context, dsn, service string, maxConns int32) (*pgxpool.Pool, error) {
	roleDSN, err := pg.WithUser(dsn, migrations.Role(service), "")
	if err != nil {
		return nil, err
	}
	return pg.Open(ctx, roleDSN, service, pg.Size{Min: pg.DefaultMinConns, Max: maxConns})
}

// NATS is an embedded JetStream server with every stream created.
type NATS struct {
	Server *server.Server
	NC     *nats.Conn
	JS     jetstream.JetStream
}

// StartNATS starts the server in a temporary folder; stop removes everything.
func StartNATS(ctx context.Context, log *slog.Logger) (*NATS, func(), error) {
	dir, err := os.MkdirTemp("", "conectar-bench-nats-")
	if err != nil {
		return nil, nil, err
	}
	ns, err := natsx.Embedded(dir, "127.0.0.1", 0)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, err
	}
	stop := func() { ns.Shutdown(); os.RemoveAll(dir) }
	nc, err := natsx.Connect(ns.ClientURL(), "bench", log)
	if err != nil {
		stop()
		return nil, nil, err
	}
	stop = func() { nc.Close(); ns.Shutdown(); os.RemoveAll(dir) }
	js, err := jetstream.New(nc)
	if err != nil {
		stop()
		return nil, nil, err
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := streams.Ensure(sctx, js, 1); err != nil {
		stop()
		return nil, nil, err
	}
	return &NATS{Server: ns, NC: nc, JS: js}, stop, nil
}

// Percentile returns the q-th percentile (0..100) of samples (nearest rank).
func Percentile(samples []float64, q float64) float64 {
	if len(samples) == 0 {
		return 0
	}
	c := append([]float64(nil), samples...)
	sort.Float64s(c)
	i := int(float64(len(c)-1) * q / 100)
	return c[i]
}

// PercentileDur is Percentile over durations.
func PercentileDur(samples []time.Duration, q float64) time.Duration {
	f := make([]float64, len(samples))
	for i, d := range samples {
		f[i] = float64(d)
	}
	return time.Duration(Percentile(f, q))
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/services/professionals"
)

// runSeed implements `conectar seed --professionals N [--seed S]`: bulk-creates N
// approved professionals over Greater Buenos Aires (demos and benchmarks). It connects
// with DATABASE_URL (the migration user) after `conectar migrate up`.
func runSeed(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	fs.SetOutput(stdout)
	n := fs.Int("professionals", 0, "number of approved professionals to create")
	seed := fs.Uint64("seed", uint64(time.Now().UnixNano()), "random seed (same seed, same data)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 {
		return fmt.Errorf("seed: --professionals N (N > 0) is required")
	}
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	conn, err := pgx.Connect(ctx, s.DatabaseURL)
	if err != nil {
		return fmt.Errorf("seed: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	start := time.Now()
	if err := professionals.SeedProfessionals(ctx, conn, *n, *seed); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d professionals in %s\n", *n, time.Since(start).Round(time.Millisecond))
	return nil
}

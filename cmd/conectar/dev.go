package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/logx"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/pg"
)

// devExtra is something dev runs besides the services: a simulator, a mail catcher, the
// admin bootstrap. start returns settings that override the environment for the services
// (for example the simulator's URL) and a stop function.
type devExtra struct {
	name  string
	start func(ctx context.Context, d devContext) (overrides map[string]string, stop func(), err error)
	// afterStart runs once every component listens (bootstraps that call services).
	afterStart func(ctx context.Context, d devContext) error
}

// devContext is what extras may use.
type devContext struct {
	settings settings
	getenv   config.Getenv
	dataDir  string
	stdout   io.Writer
}

func devExtras() []devExtra {
	return []devExtra{paymentsDevExtra(), notificationsDevExtra(), authDevExtra()}
}

// runDev is the embedded default: everything on one machine against a local PostgreSQL.
func runDev(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	r := config.NewReader(getenv)
	dataDir := r.String("DEV_DATA_DIR", ".conectar")
	natsPort := r.Int("DEV_NATS_PORT", 4223)
	if err := r.Err(); err != nil {
		return err
	}
	// Everything dev sets for the services goes through one overlay on the environment.
	overrides := map[string]string{}
	env := func(k string) string {
		if v, ok := overrides[k]; ok {
			return v
		}
		return getenv(k)
	}
	s, err := loadSettings(env)
	if err != nil {
		return err
	}
	log := logx.New(os.Stderr, "conectar", s.LogLevel)
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return fmt.Errorf("dev: data folder: %w", err)
	}

	if err := ensureDatabase(ctx, s.DatabaseURL); err != nil {
		return err
	}
	if err := migrateAll(ctx, s.DatabaseURL, getenv); err != nil {
		return err
	}

	// Development keys are fine on one machine; the services warn only when production
	// forgot to set them.
	if getenv("INTERNAL_API_KEY") == "" {
		overrides["INTERNAL_API_KEY"] = kit.DefaultInternalKey
	}
	if getenv("NATS_URL") == "" {
		ns, err := natsx.Embedded(filepath.Join(dataDir, "nats"), "127.0.0.1", natsPort)
		if err != nil {
			return fmt.Errorf("dev: embedded NATS on port %d (set DEV_NATS_PORT or NATS_URL): %w", natsPort, err)
		}
		defer ns.Shutdown()
		overrides["NATS_URL"] = ns.ClientURL()
		s.NATSURL = ns.ClientURL()
	}

	dc := devContext{settings: s, getenv: env, dataDir: dataDir, stdout: stdout}
	for _, x := range devExtras() {
		if x.start == nil {
			continue
		}
		o, stop, err := x.start(ctx, dc)
		if err != nil {
			return fmt.Errorf("dev: start %s: %w", x.name, err)
		}
		if stop != nil {
			defer stop()
		}
		for k, v := range o {
			overrides[k] = v
		}
	}
	if s, err = loadSettings(env); err != nil {
		return err
	}
	dc.settings = s

	in, err := openInfra(ctx, s, log)
	if err != nil {
		return err
	}
	defer in.close()
	comps, err := buildComponents(ctx, s, env, in, []string{"all"})
	if err != nil {
		return err
	}
	ready := func() {
		for _, x := range devExtras() {
			if x.afterStart != nil {
				if err := x.afterStart(ctx, dc); err != nil {
					log.Error("dev bootstrap failed", "extra", x.name, "err", err)
				}
			}
		}
		printDevBanner(stdout, s, overrides)
	}
	return runComponents(ctx, s, comps, log, ready)
}

func printDevBanner(w io.Writer, s settings, overrides map[string]string) {
	fmt.Fprintf(w, "\nConectarProfesionales is running.\n")
	fmt.Fprintf(w, "  gateway        http://%s:%d   (health: /health, API: /api/v1, docs: /docs)\n", s.Host, s.Ports["gateway"])
	for _, n := range serviceNames() {
		fmt.Fprintf(w, "  %-14s %s\n", n, s.ServiceURLs[n])
	}
	fmt.Fprintf(w, "  nats           %s\n", s.NATSURL)
	for _, k := range []string{"MP_BASE_URL", "SMTP_WEB_URL"} {
		if v := overrides[k]; v != "" {
			fmt.Fprintf(w, "  %-14s %s\n", strings.ToLower(k), v)
		}
	}
	fmt.Fprintf(w, "Press Ctrl-C to stop.\n")
}

// ensureDatabase creates the database of dsn when it does not exist.
func ensureDatabase(ctx context.Context, dsn string) error {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return fmt.Errorf("dev: DATABASE_URL: %w", err)
	}
	conn, err := pgx.Connect(ctx, dsn)
	if err == nil {
		conn.Close(ctx)
		return nil
	}
	adminDSN, err2 := pg.WithDatabase(dsn, "postgres")
	if err2 != nil {
		return err2
	}
	admin, err2 := pgx.Connect(ctx, adminDSN)
	if err2 != nil {
		return fmt.Errorf("dev: cannot reach PostgreSQL at %s:%d (%v). Install and start PostgreSQL 15+ with PostGIS "+
			"(Debian: apt-get install postgresql-15 postgresql-15-postgis-3) or set DATABASE_URL", cfg.Host, cfg.Port, err)
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize()); err != nil && !pg.IsUniqueViolation(err, "") {
		var exists bool
		_ = admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname=$1)", cfg.Database).Scan(&exists)
		if !exists {
			return fmt.Errorf("dev: create database %s: %w", cfg.Database, err)
		}
	}
	return nil
}

func migrateAll(ctx context.Context, dsn string, getenv config.Getenv) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("dev: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := migrations.Up(ctx, conn, migrations.Options{Passwords: rolePasswords(getenv)}); err != nil {
		if strings.Contains(err.Error(), "extension") {
			return fmt.Errorf("dev: %w\nPostGIS is missing: install it with 'apt-get install -y postgresql-15-postgis-3' (Debian/Ubuntu) or 'brew install postgis' (macOS)", err)
		}
		return fmt.Errorf("dev: migrate: %w", err)
	}
	return nil
}

package migrations

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
)

// Migration is one SQL file of a schema.
type Migration struct {
	Version int
	Name    string
	SQL     string
}

// Load returns the migrations of service: the common outbox/inbox file first (version 0),
// then the service's own files in version order.
func Load(service string) ([]Migration, error) {
	var out []Migration
	for _, dir := range []string{"common", service} {
		entries, err := fs.ReadDir(files, dir)
		if err != nil {
			return nil, fmt.Errorf("read migrations of %s: %w", dir, err)
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".sql") {
				continue
			}
			num, _, ok := strings.Cut(e.Name(), "_")
			v, err := strconv.Atoi(num)
			if !ok || err != nil {
				return nil, fmt.Errorf("migration %s/%s: name must start with a number and _", dir, e.Name())
			}
			b, err := fs.ReadFile(files, path.Join(dir, e.Name()))
			if err != nil {
				return nil, fmt.Errorf("read %s: %w", e.Name(), err)
			}
			out = append(out, Migration{Version: v, Name: dir + "/" + e.Name(), SQL: string(b)})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	for i := 1; i < len(out); i++ {
		if out[i].Version == out[i-1].Version {
			return nil, fmt.Errorf("migrations %s and %s share version %d", out[i-1].Name, out[i].Name, out[i].Version)
		}
	}
	return out, nil
}

// Checksum identifies the migration's SQL.
func (m Migration) Checksum() string {
	sum := sha256.Sum256([]byte(m.SQL))
	return hex.EncodeToString(sum[:])
}

// Fingerprint hashes every migration, so test templates are rebuilt when SQL changes.
func Fingerprint() string {
	h := sha256.New()
	// The migrator's own table layout is part of what a template must match.
	h.Write([]byte("schema_migrations v2"))
	_ = fs.WalkDir(files, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := fs.ReadFile(files, p)
			h.Write([]byte(p))
			h.Write(b)
		}
		return nil
	})
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Status is the applied state of one schema.
type Status struct {
	Service string
	Applied []int
	Pending []string
}

// Options tune Up.
type Options struct {
	// Passwords per service role (production); empty means no password (trust auth).
	Passwords map[string]string
}

// Up applies every pending migration of the given services (all when none is given) as
// a superuser connection conn: it creates the extensions, each role and schema, and runs
// each file in its own transaction as the service's role, so every object belongs to it.
func Up(ctx context.Context, conn *pgx.Conn, opts Options, services ...string) error {
	if len(services) == 0 {
		services = Services()
	}
	// One migrator at a time per cluster: roles are cluster-wide.
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
		return fmt.Errorf("migrate lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727274)") //nolint:errcheck
	for _, ext := range []string{"postgis", "btree_gist", "unaccent", "pg_trgm"} {
		if _, err := conn.Exec(ctx, "CREATE EXTENSION IF NOT EXISTS "+ext+" SCHEMA public"); err != nil {
			return fmt.Errorf("create extension %s (install PostGIS: apt-get install postgresql-15-postgis-3): %w", ext, err)
		}
	}
	for _, svc := range services {
		if err := upService(ctx, conn, svc, opts.Passwords[svc]); err != nil {
			return err
		}
	}
	return nil
}

func upService(ctx context.Context, conn *pgx.Conn, svc, password string) error {
	role := pgx.Identifier{Role(svc)}.Sanitize()
	schema := pgx.Identifier{svc}.Sanitize()
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", Role(svc)).Scan(&exists); err != nil {
		return fmt.Errorf("check role %s: %w", svc, err)
	}
	if !exists {
		if _, err := conn.Exec(ctx, "CREATE ROLE "+role+" LOGIN"); err != nil {
			return fmt.Errorf("create role %s: %w", svc, err)
		}
	}
	if password != "" {
		if _, err := conn.Exec(ctx, "ALTER ROLE "+role+" PASSWORD "+quoteLiteral(password)); err != nil {
			return fmt.Errorf("set password of %s: %w", svc, err)
		}
	}
	var db string
	if err := conn.QueryRow(ctx, "SELECT current_database()").Scan(&db); err != nil {
		return fmt.Errorf("current database: %w", err)
	}
	stmts := []string{
		"GRANT CONNECT ON DATABASE " + pgx.Identifier{db}.Sanitize() + " TO " + role,
		"CREATE SCHEMA IF NOT EXISTS " + schema + " AUTHORIZATION " + role,
		"ALTER ROLE " + role + " SET search_path = " + schema + ", public",
		"CREATE TABLE IF NOT EXISTS " + schema + ".schema_migrations (version int PRIMARY KEY, name text NOT NULL, checksum text NOT NULL DEFAULT '', applied_at timestamptz NOT NULL DEFAULT now())",
		"ALTER TABLE " + schema + ".schema_migrations OWNER TO " + role,
		"ALTER TABLE " + schema + ".schema_migrations ADD COLUMN IF NOT EXISTS checksum text NOT NULL DEFAULT ''",
	}
	for _, s := range stmts {
		if _, err := conn.Exec(ctx, s); err != nil {
			return fmt.Errorf("prepare schema %s: %w", svc, err)
		}
	}
	migs, err := Load(svc)
	if err != nil {
		return err
	}
	for _, m := range migs {
		var applied string
		err := conn.QueryRow(ctx, "SELECT checksum FROM "+schema+".schema_migrations WHERE version = $1", m.Version).Scan(&applied)
		if err == nil {
			// An applied file must never change: the database would silently differ from
			// what the code expects. Add a new numbered file instead.
			if applied == "" { // recorded before checksums were kept
				if _, err := conn.Exec(ctx, "UPDATE "+schema+".schema_migrations SET checksum = $2 WHERE version = $1", m.Version, m.Checksum()); err != nil {
					return fmt.Errorf("record checksum of %s: %w", m.Name, err)
				}
				continue
			}
			if applied != m.Checksum() {
				return fmt.Errorf("migration %s changed after it was applied to this database (add a new file instead; "+
					"for a development database, drop it and run again)", m.Name)
			}
			continue
		}
		if !errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("read history of %s: %w", svc, err)
		}
		tx, err := conn.Begin(ctx)
		if err != nil {
			return fmt.Errorf("begin %s: %w", m.Name, err)
		}
		_, err = tx.Exec(ctx, "SET LOCAL ROLE "+role+"; SET LOCAL search_path = "+schema+", public")
		if err == nil {
			_, err = tx.Exec(ctx, m.SQL)
		}
		if err == nil {
			_, err = tx.Exec(ctx, "INSERT INTO "+schema+".schema_migrations (version, name, checksum) VALUES ($1, $2, $3)", m.Version, m.Name, m.Checksum())
		}
		if err != nil {
			_ = tx.Rollback(ctx)
			return fmt.Errorf("apply %s: %w", m.Name, err)
		}
		if err := tx.Commit(ctx); err != nil {
			return fmt.Errorf("commit %s: %w", m.Name, err)
		}
	}
	return nil
}

// StatusOf reports applied and pending migrations per service.
func StatusOf(ctx context.Context, conn *pgx.Conn, services ...string) ([]Status, error) {
	if len(services) == 0 {
		services = Services()
	}
	var out []Status
	for _, svc := range services {
		st := Status{Service: svc}
		applied := map[int]bool{}
		rows, err := conn.Query(ctx, "SELECT version FROM "+pgx.Identifier{svc}.Sanitize()+".schema_migrations ORDER BY version")
		if err == nil {
			for rows.Next() {
				var v int
				if rows.Scan(&v) == nil {
					applied[v] = true
					st.Applied = append(st.Applied, v)
				}
			}
			rows.Close()
		}
		migs, err := Load(svc)
		if err != nil {
			return nil, err
		}
		for _, m := range migs {
			if !applied[m.Version] {
				st.Pending = append(st.Pending, m.Name)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

func quoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

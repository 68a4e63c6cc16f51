package migrations_test

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/testkit"
)

func TestUpIsIdempotentAndRolesAreConfined(t *testing.T) {
	dsn := testkit.DB(t) // already migrated from the template
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := migrations.Up(ctx, conn, migrations.Options{}); err != nil {
		t.Fatalf("second Up: %v", err)
	}
	st, err := migrations.StatusOf(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range st {
		if len(s.Pending) != 0 || len(s.Applied) < 2 {
			t.Errorf("%s: applied %v pending %v", s.Service, s.Applied, s.Pending)
		}
	}
	// A service role reaches its own schema and nobody else's.
	users := testkit.ServicePool(t, dsn, "users")
	if _, err := users.Exec(ctx, "SELECT count(*) FROM outbox"); err != nil {
		t.Fatalf("users cannot read its own outbox: %v", err)
	}
	for _, other := range []string{"auth", "payments", "marketplace"} {
		_, err := users.Exec(ctx, "SELECT count(*) FROM "+other+".outbox")
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("users reading %s.outbox: %v, want permission denied", other, err)
		}
	}
}

func TestChangedAppliedMigrationIsRefused(t *testing.T) {
	dsn := testkit.DB(t)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "UPDATE users.schema_migrations SET checksum = 'edited' WHERE version = 1"); err != nil {
		t.Fatal(err)
	}
	err = migrations.Up(ctx, conn, migrations.Options{}, "users")
	if err == nil || !strings.Contains(err.Error(), "changed after it was applied") {
		t.Fatalf("Up over an edited history = %v", err)
	}
}

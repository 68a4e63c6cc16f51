package pg_test

import (
	"context"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/testkit"
)

// A pool opens its Min connections by itself, before anything asks for one, and never
// more than Max.
func TestOpenKeepsMinConnectionsOpen(t *testing.T) {
	ctx := context.Background()
	pool, err := pg.Open(ctx, testkit.BaseDSN(), "", pg.Size{Min: 3, Max: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	// At least 3: Open's ping may have opened one of its own meanwhile.
	testkit.Eventually(t, 10*time.Second, "3 connections open", func() bool { return pool.Stat().IdleConns() >= 3 })
	if n := pool.Stat().TotalConns(); n > 5 {
		t.Fatalf("%d connections open, Max is 5", n)
	}

	capped, err := pg.Open(ctx, testkit.BaseDSN(), "", pg.Size{Min: 9, Max: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer capped.Close()
	if c := capped.Config(); c.MinConns != 2 || c.MaxConns != 2 {
		t.Fatalf("Min 9, Max 2 gave MinConns %d, MaxConns %d; want 2, 2", c.MinConns, c.MaxConns)
	}
}

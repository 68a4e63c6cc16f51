package inbox_test

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events/inbox"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/testkit"
)

// ClaimAll marks fresh exactly the first position of each id not claimed before, and
// rolls back with its transaction.
func TestClaimAllReportsFirstDeliveriesPositionByPosition(t *testing.T) {
	pool := testkit.ServicePool(t, testkit.DB(t), "notifications")
	ctx := context.Background()
	old, a, b := uuid.New(), uuid.New(), uuid.New()
	if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		_, err := inbox.Claim(ctx, tx, "c", old)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	claim := func(ids ...uuid.UUID) []bool {
		t.Helper()
		var fresh []bool
		if err := pg.WithTx(ctx, pool, func(tx pgx.Tx) (err error) {
			fresh, err = inbox.ClaimAll(ctx, tx, "c", ids)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return fresh
	}
	got := claim(a, old, a, b, b)
	want := []bool{true, false, false, true, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("fresh = %v, want %v", got, want)
		}
	}
	if got := claim(a, b); got[0] || got[1] {
		t.Fatalf("claimed again: fresh = %v", got)
	}
	// Another consumer name claims the same events afresh (a replay under a new name).
	var fresh []bool
	_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) (err error) {
		fresh, err = inbox.ClaimAll(ctx, tx, "other", []uuid.UUID{a})
		return err
	})
	if len(fresh) != 1 || !fresh[0] {
		t.Fatalf("other consumer: fresh = %v, want [true]", fresh)
	}
	// A rolled-back claim leaves nothing behind.
	c := uuid.New()
	_ = pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
		if _, err := inbox.ClaimAll(ctx, tx, "c", []uuid.UUID{c}); err != nil {
			return err
		}
		return context.Canceled
	})
	if got := claim(c); !got[0] {
		t.Fatal("a rolled-back claim kept the event claimed")
	}
}

package payments

import (
	"context"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/ledger"
)

// postFor writes a transaction and its entries in one statement; what it reports is the
// only thing that keeps a caller from announcing a money move twice.
func TestPostForWritesEachMoveOnce(t *testing.T) {
	ctx := context.Background()
	pool := testkit.ServicePool(t, testkit.DB(t), Name)
	move := func(owner ledgerOwner, kind string, ps []ledger.Posting) bool {
		t.Helper()
		var took bool
		err := pg.WithTx(ctx, pool, func(tx pgx.Tx) error {
			var err error
			took, err = postFor(ctx, tx, owner, kind, "ref-"+kind, map[string]string{ledger.Escrow: "cliente-1"}, ps)
			return err
		})
		if err != nil {
			t.Fatalf("post %s for %s: %v", kind, owner, err)
		}
		return took
	}
	job := ledgerOwner{Trabajo: "job-1"}
	var zero uuid.UUID // an all-zero id is an id like any other
	withdrawal := ledgerOwner{Retiro: &zero}
	release := ledger.Release(ledger.Split{Price: 150000, Commission: 30000, Net: 120000})
	reserve := []ledger.Posting{{Account: ledger.ProfessionalPayable, Amount: 1000}, {Account: ledger.ProfessionalReserved, Amount: -1000}}

	if !move(job, ledger.KindHold, ledger.Hold(150000)) {
		t.Fatal("first HOLD of the job reported as already made")
	}
	if move(job, ledger.KindHold, ledger.Hold(150000)) {
		t.Fatal("second HOLD of the job reported as made")
	}
	if !move(job, ledger.KindRelease, release) {
		t.Fatal("RELEASE of the job reported as already made")
	}
	if !move(withdrawal, ledger.KindReserve, reserve) {
		t.Fatal("RESERVE of the withdrawal reported as already made")
	}
	if move(withdrawal, ledger.KindReserve, reserve) {
		t.Fatal("second RESERVE of the withdrawal reported as made")
	}

	if n := testkit.Count(t, pool, `SELECT count(*) FROM ledger_txns`); n != 3 {
		t.Fatalf("%d ledger transactions, want 3", n)
	}
	// Every entry belongs to its transaction and carries its owner; the escrow line names
	// its user.
	for _, c := range []struct {
		sql  string
		want int
	}{
		{`SELECT count(*) FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id
			WHERE t.tipo = 'HOLD' AND e.trabajo_id = 'job-1' AND e.retiro_id IS NULL`, 2},
		{`SELECT count(*) FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id
			WHERE t.tipo = 'RELEASE' AND e.trabajo_id = 'job-1'`, len(release)},
		{`SELECT count(*) FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id
			WHERE t.tipo = 'RESERVE' AND e.retiro_id = '00000000-0000-0000-0000-000000000000' AND e.trabajo_id IS NULL`, 2},
		{`SELECT count(*) FROM ledger_entries WHERE cuenta = 'escrow' AND usuario_id = 'cliente-1'`, 2},
		{`SELECT count(*) FROM ledger_entries WHERE cuenta <> 'escrow' AND usuario_id IS NOT NULL`, 0},
		{`SELECT count(*) FROM ledger_entries`, 4 + len(release)},
	} {
		if n := testkit.Count(t, pool, c.sql); n != c.want {
			t.Errorf("%d rows, want %d: %s", n, c.want, c.sql)
		}
	}
	if n := testkit.Count(t, pool, `SELECT count(*) FROM (SELECT txn_id FROM ledger_entries GROUP BY txn_id HAVING sum(monto_centavos) <> 0) u`); n != 0 {
		t.Fatalf("%d unbalanced transactions", n)
	}
}

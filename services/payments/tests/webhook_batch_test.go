package tests

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// A worker applies a claimed batch in one transaction; when one payment of the batch
// fails, the others are still applied at once (the batch is redone one savepoint per
// payment) and only the failing one is retried, and held once it can be.
func TestWebhookBatchIsolatesAFailingPayment(t *testing.T) {
	// One worker, so the three deliveries stored together are claimed as one batch.
	h := newHarness(t, map[string]string{"MP_WEBHOOK_WORKERS": "1"})
	ctx := context.Background()
	jobs := make([]string, 3)
	pays := make([]string, 3)
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: len(jobs)}, nil)
	for i := range jobs {
		jobs[i], _, _ = h.accept(int64(10000+i), uuid.NewString())
		pays[i] = h.simPay(jobs[i], "approved", "")
	}
	bad := pays[1]
	// Recording the bad payment fails until the trigger is dropped.
	if _, err := h.pool.Exec(ctx, `CREATE FUNCTION fail_one_payment() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN IF NEW.payment_id = '`+bad+`' THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$;
		CREATE TRIGGER fail_one_payment BEFORE INSERT OR UPDATE ON pagos_mp FOR EACH ROW EXECUTE FUNCTION fail_one_payment()`); err != nil {
		t.Fatal(err)
	}
	// Stored as one INSERT, like a group commit of three deliveries.
	if _, err := h.pool.Exec(ctx, `INSERT INTO webhook_inbox (request_id, topic, data_id, action)
		SELECT 'r-' || p, 'payment', p, 'payment.updated' FROM unnest($1::text[]) p`, pays); err != nil {
		t.Fatal(err)
	}
	h.waitEstado(jobs[0], "PAGADO_EN_ESCROW")
	h.waitEstado(jobs[2], "PAGADO_EN_ESCROW")
	for _, p := range []string{pays[0], pays[2]} {
		if n := h.count("SELECT count(*) FROM webhook_inbox WHERE data_id=$1 AND processed_at IS NOT NULL AND attempts = 1 AND last_error IS NULL", p); n != 1 {
			t.Fatalf("payment %s: not applied on the first attempt next to a failing one", p)
		}
	}
	testkit.Eventually(t, 10*time.Second, "the failing payment's error recorded", func() bool {
		return h.count("SELECT count(*) FROM webhook_inbox WHERE data_id=$1 AND processed_at IS NULL AND last_error LIKE '%injected%'", bad) == 1
	})
	if e := h.estado(jobs[1]); e != "PENDIENTE_PAGO" {
		t.Fatalf("failing payment's job is %s", e)
	}
	if _, err := h.pool.Exec(ctx, "DROP TRIGGER fail_one_payment ON pagos_mp"); err != nil {
		t.Fatal(err)
	}
	h.waitEstado(jobs[1], "PAGADO_EN_ESCROW")
	h.quiesce()
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE tipo='HOLD'"); n != 3 {
		t.Fatalf("%d holds, want 3", n)
	}
	for _, j := range jobs {
		if n := len(h.events("EscrowHeld", j)); n != 1 {
			t.Fatalf("job %s: %d EscrowHeld events", j, n)
		}
	}
	h.assertLedgerBalanced()
}

// Two approved payments of one job claimed in one batch: the second sees what the first
// did (the job is held once, by the first, and the second is flagged).
func TestWebhookBatchTwoPaymentsOfOneJob(t *testing.T) {
	h := newHarness(t, map[string]string{"MP_WEBHOOK_WORKERS": "1"})
	ctx := context.Background()
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 2}, nil)
	job, _, _ := h.accept(30000, uuid.NewString())
	pays := []string{h.simPay(job, "approved", ""), h.simPay(job, "approved", "")}
	if pays[0] == pays[1] {
		t.Fatalf("the simulator made one payment, %s", pays[0])
	}
	if _, err := h.pool.Exec(ctx, `INSERT INTO webhook_inbox (request_id, topic, data_id, action)
		SELECT 'r-' || p, 'payment', p, 'payment.updated' FROM unnest($1::text[]) p`, pays); err != nil {
		t.Fatal(err)
	}
	h.waitEstado(job, "PAGADO_EN_ESCROW")
	h.quiesce()
	funding := h.paymentOf(job)
	other := pays[0]
	if funding == pays[0] {
		other = pays[1]
	}
	var alerta string
	if err := h.pool.QueryRow(ctx, "SELECT COALESCE(alerta,'') FROM trabajos WHERE trabajo_id=$1", job).Scan(&alerta); err != nil {
		t.Fatal(err)
	}
	if alerta != "pago_duplicado:"+other {
		t.Fatalf("alerta %q, want pago_duplicado:%s (funding %s)", alerta, other, funding)
	}
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE trabajo_id=$1", job); n != 1 {
		t.Fatalf("%d ledger transactions", n)
	}
	if n := len(h.events("EscrowHeld", job)); n != 1 {
		t.Fatalf("%d EscrowHeld events", n)
	}
	h.assertLedgerBalanced()
}

package main

import (
	"context"
	"testing"

	"github.com/conectarpro/conectar/platform/testkit"
)

// An accepted offer whose checkout link is never paid, through the whole running system:
// after CHECKOUT_TTL payments expires the link once, marketplace cancels the job and
// lapses the offer, the client hears it in the app and by email and the professional in
// the app; a payment made afterwards on the stale link is held and refunded in full,
// never released, and the books stay balanced.
func TestJourneyUnpaidCheckoutExpires(t *testing.T) {
	s := startSystem(t, faultEnv(map[string]string{"CHECKOUT_TTL": "3s", "CHECKOUT_EXPIRY_INTERVAL": "200ms"}))
	adminTok, _, _ := s.login("admin@conectar.test", "admin-password-1")
	j := s.newJourney(adminTok, "vence")
	if err := j.signup(); err != nil {
		t.Fatal(err)
	}
	if err := j.hire(); err != nil {
		t.Fatal(err)
	}
	if err := j.waitJob(func(job map[string]any) bool {
		return job["estado"] == "CANCELADO" && job["estado_escrow"] == "CANCELADO"
	}, "the unpaid job cancelled"); err != nil {
		t.Fatal(err)
	}
	db := connectDB(t, s.set.DatabaseURL)
	var oferta string
	if err := db.QueryRow(context.Background(), `SELECT estado FROM marketplace.ofertas WHERE id = $1`, j.ofertaID).Scan(&oferta); err != nil {
		t.Fatal(err)
	}
	if oferta != "EXPIRADO" {
		t.Errorf("offer %s after its link lapsed; want EXPIRADO", oferta)
	}
	s.checkNotices(t, db, "client", j.cliID, j.cliEmail, map[string]int{"link_pago_vencido": 1})
	testkit.Eventually(t, settle, "the professional's notice", func() bool {
		return countRows(t, db, `SELECT count(*) FROM notifications.notifications WHERE user_id = $1 AND data->>'evento' = 'trabajo_sin_pago'`,
			j.proID) == 1
	})

	// The client pays the stale link anyway: the money is held and handed back.
	if _, err := j.pay("approved"); err != nil {
		t.Fatal(err)
	}
	if err := j.waitEscrow("CANCELADO_REEMBOLSADO"); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, settle, "hold and refund booked", func() bool {
		return countRows(t, db, `SELECT count(*) FROM payments.ledger_txns WHERE trabajo_id = $1 AND tipo IN ('HOLD', 'REFUND')`, j.jobID) == 2
	})
	if n := countRows(t, db, `SELECT count(*) FROM payments.ledger_txns WHERE trabajo_id = $1 AND tipo NOT IN ('HOLD', 'REFUND')`, j.jobID); n != 0 {
		t.Errorf("%d other ledger transactions for the expired job (a release?)", n)
	}
	if n := countRows(t, db, `SELECT count(*) FROM payments.outbox WHERE subject = 'payments.checkout.expired' AND aggregate_id = $1`, j.jobID); n != 1 {
		t.Errorf("%d expiry events for the job, want 1", n)
	}
	if n := s.deadLetters(t); n != 0 {
		t.Errorf("%d dead letters", n)
	}
}

package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
)

// books is what the run left behind, checked once the system has settled.
type books struct {
	settled       bool
	residue       string // what was still in flight when settling gave up
	offersNotOne  int    // accepted offers without exactly one live job
	holdWrong     int    // journeys' jobs whose HOLD count is not what the journey did
	releaseWrong  int    // … and the same for RELEASE
	replicaWrong  int    // marketplace jobs payments does not know, or knows in another escrow state
	details       []string
	ledgerOK      bool
	ledgerOut     string
	deadLetters   uint64
	deadLetterOut string
}

// lost is the one figure the table judges: everything lost or applied twice.
func (b *books) lost() int { return b.offersNotOne + b.holdWrong + b.releaseWrong + b.replicaWrong }

func (b *books) note(format string, args ...any) {
	if len(b.details) < 30 {
		b.details = append(b.details, fmt.Sprintf(format, args...))
	}
}

// checkBooks waits (bounded) until no event, outbox row or webhook is in flight, then
// checks: one job per accepted offer, each journey's ledger (HOLD once when paid,
// RELEASE once when approved, nothing else), marketplace and payments agreeing on every
// job's escrow, `conectar payments check-ledger`, and an empty DLQ.
func checkBooks(ctx context.Context, bin, dsn string, sys *system, jobs []*jobRec, settleFor time.Duration) (*books, error) {
	b := &books{}
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return nil, fmt.Errorf("books: connect: %w", err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	nc, err := nats.Connect(sys.natsURL, nats.Name("conectar-load-bench"))
	if err != nil {
		return nil, fmt.Errorf("books: nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, fmt.Errorf("books: jetstream: %w", err)
	}

	deadline := time.Now().Add(settleFor)
	for {
		residue, err := inFlight(ctx, db, js)
		if err != nil {
			return nil, err
		}
		if residue == "" {
			b.settled = true
			break
		}
		if time.Now().After(deadline) {
			b.residue = residue
			break
		}
		time.Sleep(time.Second)
	}

	if err := db.QueryRow(ctx, `SELECT count(*) FROM marketplace.ofertas o WHERE o.estado = 'ACEPTADO'
		AND (SELECT count(*) FROM marketplace.trabajos t WHERE t.oferta_id = o.id AND t.estado <> 'CANCELADO') <> 1`).Scan(&b.offersNotOne); err != nil {
		return nil, fmt.Errorf("books: offers: %w", err)
	}
	if b.offersNotOne > 0 {
		b.note("%d accepted offers without exactly one job", b.offersNotOne)
	}

	ledger := map[string]map[string]int{}
	rows, err := db.Query(ctx, `SELECT trabajo_id, tipo, count(*) FROM payments.ledger_txns GROUP BY 1, 2`)
	if err != nil {
		return nil, fmt.Errorf("books: ledger: %w", err)
	}
	for rows.Next() {
		var job, tipo string
		var n int
		if err := rows.Scan(&job, &tipo, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("books: ledger: %w", err)
		}
		if ledger[job] == nil {
			ledger[job] = map[string]int{}
		}
		ledger[job][tipo] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("books: ledger: %w", err)
	}
	for _, j := range jobs {
		got := ledger[j.jobID]
		wantHold, wantRelease := 0, 0
		if j.paid {
			wantHold = 1
		}
		if j.approved {
			wantRelease = 1
		}
		if got["HOLD"] != wantHold {
			b.holdWrong++
			b.note("job %s (paid %v): %d HOLD", j.jobID, j.paid, got["HOLD"])
		}
		if got["RELEASE"] != wantRelease {
			b.releaseWrong++
			b.note("job %s (approved %v): %d RELEASE", j.jobID, j.approved, got["RELEASE"])
		}
		for tipo, n := range got {
			if tipo != "HOLD" && tipo != "RELEASE" {
				b.releaseWrong++
				b.note("job %s: %d %s", j.jobID, n, tipo)
			}
		}
	}

	rows, err = db.Query(ctx, `SELECT m.id::text, m.estado_escrow, coalesce(p.estado_escrow, '(unknown to payments)')
		FROM marketplace.trabajos m LEFT JOIN payments.trabajos p ON p.trabajo_id = m.id::text
		WHERE p.trabajo_id IS NULL OR p.estado_escrow <> m.estado_escrow`)
	if err != nil {
		return nil, fmt.Errorf("books: replicas: %w", err)
	}
	for rows.Next() {
		var id, m, p string
		if err := rows.Scan(&id, &m, &p); err != nil {
			rows.Close()
			return nil, fmt.Errorf("books: replicas: %w", err)
		}
		b.replicaWrong++
		b.note("job %s: marketplace %s, payments %s", id, m, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("books: replicas: %w", err)
	}

	out, err := runTool(ctx, bin, map[string]string{"DATABASE_URL": dsn}, "payments", "check-ledger")
	b.ledgerOK, b.ledgerOut = err == nil, strings.TrimSpace(out)

	st, err := js.Stream(ctx, events.StreamDLQ)
	if err != nil {
		return nil, fmt.Errorf("books: DLQ stream: %w", err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return nil, fmt.Errorf("books: DLQ stream: %w", err)
	}
	if b.deadLetters = info.State.Msgs; b.deadLetters > 0 {
		b.deadLetterOut, _ = runTool(ctx, bin, map[string]string{"DATABASE_URL": dsn, "NATS_URL": sys.natsURL}, "events", "dlq", "list")
	}
	return b, nil
}

// inFlight says what is still on its way: unpublished outbox rows, unprocessed
// webhooks, messages a durable consumer has not acknowledged. "" when nothing.
func inFlight(ctx context.Context, db *pgx.Conn, js jetstream.JetStream) (string, error) {
	var parts []string
	// Every service schema has an outbox.
	for _, s := range []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"} {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM `+pgx.Identifier{s, "outbox"}.Sanitize()+` WHERE published_at IS NULL`).Scan(&n); err != nil {
			return "", fmt.Errorf("settle: %s outbox: %w", s, err)
		}
		if n > 0 {
			parts = append(parts, fmt.Sprintf("%s outbox %d", s, n))
		}
	}
	var n int
	if err := db.QueryRow(ctx, `SELECT count(*) FROM payments.webhook_inbox WHERE processed_at IS NULL`).Scan(&n); err != nil {
		return "", fmt.Errorf("settle: webhooks: %w", err)
	}
	if n > 0 {
		parts = append(parts, fmt.Sprintf("webhooks %d", n))
	}
	sl := js.ListStreams(ctx)
	var names []string
	for si := range sl.Info() {
		names = append(names, si.Config.Name)
	}
	if err := sl.Err(); err != nil {
		return "", fmt.Errorf("settle: streams: %w", err)
	}
	for _, name := range names {
		st, err := js.Stream(ctx, name)
		if err != nil {
			return "", fmt.Errorf("settle: stream %s: %w", name, err)
		}
		cl := st.ListConsumers(ctx)
		for ci := range cl.Info() {
			if ci.NumPending > 0 || ci.NumAckPending > 0 {
				parts = append(parts, fmt.Sprintf("%s pending %d ack-pending %d", ci.Name, ci.NumPending, ci.NumAckPending))
			}
		}
		if err := cl.Err(); err != nil {
			return "", fmt.Errorf("settle: consumers of %s: %w", name, err)
		}
	}
	return strings.Join(parts, "; "), nil
}

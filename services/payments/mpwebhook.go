package payments

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/payments/ledger"
	"github.com/conectarpro/conectar/services/payments/mp"
	"github.com/conectarpro/conectar/services/payments/webhook"
)

// postWebhook authenticates a MercadoPago notification, stores it and answers 200 at
// once; workers fetch the payment from the API and apply it. Nothing in the body is
// trusted beyond "payment X changed".
func (a *App) postWebhook(c *fiber.Ctx) error {
	q, err := url.ParseQuery(string(c.Request().URI().QueryString()))
	if err != nil {
		return apperr.Unauthorized("invalid_signature", "Firma inválida")
	}
	reqID := c.Get("X-Request-Id")
	if err := webhook.Verify(a.cfg.WebhookSecret, c.Get("X-Signature"), q.Get("data.id"), reqID, a.now(), a.cfg.WebhookTolerance); err != nil {
		a.svc.Deps.Log.Warn("webhook refused", "err", err, "ip", c.IP())
		a.webhookOutcome(webhookRefused)
		return apperr.Unauthorized("invalid_signature", "Firma de MercadoPago inválida o vencida")
	}
	n, err := webhook.Parse(q, reqID, c.Body())
	if err != nil {
		a.webhookOutcome(webhookInvalid)
		return apperr.Invalid("invalid_notification", "Notificación inválida")
	}
	if n.Type != "payment" {
		a.webhookOutcome(webhookIgnored)
		return c.JSON(WebhookAck{Status: "ok", Message: "Topic '" + n.Type + "' ignored"})
	}
	// Stored (committed) before the 200, through a group commit shared with the deliveries
	// arriving meanwhile (webhook.Inbox).
	if err := a.inbox.Store(c.Context(), n); err != nil {
		// Not stored: answer 5xx so MercadoPago delivers it again.
		a.webhookOutcome(webhookStoreFailed)
		return apperr.Unavailable("unavailable", "Servicio no disponible", fmt.Errorf("store webhook: %w", err))
	}
	a.webhookOutcome(webhookStored)
	wake(a.webhookWake)
	return c.JSON(WebhookAck{Status: "ok"})
}

// claimBatch is how many due rows a worker takes at a time (plus their duplicates). In
// a burst, larger batches cost less per webhook and leave more of the machine to
// answering deliveries: with 128 rather than 32 the webhooks bench's 32 senders got
// ~7,000 answers/s instead of ~3,700 (answer p99 17–26 ms against 21–38 ms over
// interleaved runs on 2 cores) for a slower drain of the backlog (received → applied
// p50 ~650 ms instead of ~350 ms); at a steady 1,000/s batches are a few rows either way.
const claimBatch = 128

// fetchParallel is how many payment reads one worker's batch has in flight. Against the
// real API a read takes 100–300 ms and the worker waits rather than works, so what
// bounds a replica's processing rate is workers × fetchParallel reads in flight (32 with
// the default workers), not the worker count itself.
const fetchParallel = 16

type inboxItem struct {
	ID       int64
	DataID   string
	Attempts int
}

// Answering comes first during a burst of deliveries (webhook.Inbox.Burst): the workers
// leave the cores to the answers for up to maxBurstDefer, looking again every
// burstPoll, then work until the backlog is empty. Deliveries arriving faster than they
// can be applied pile up whatever the workers do, so applying during the burst would
// not end the backlog sooner; it would only slow the answers, and a slow answer is one
// MercadoPago may deliver again. The bound keeps a payment from waiting longer than that
// for a burst that does not end.
const (
	maxBurstDefer = time.Second
	burstPoll     = 5 * time.Millisecond
)

// webhookWorker processes stored notifications: fetch the payment, apply it.
func (a *App) webhookWorker(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	var deferring time.Time // since when this worker leaves a burst to the answers
	bounded := false        // it did so for maxBurstDefer: it works until the backlog is done
	for {
		if a.cfg.WebhookBurstRate > 0 && !bounded && a.inbox.Burst() {
			if deferring.IsZero() {
				deferring = time.Now()
				a.workerOutcome(workerDeferred)
			}
			if time.Since(deferring) < maxBurstDefer {
				select {
				case <-ctx.Done():
					return
				case <-time.After(burstPoll):
				}
				continue
			}
			bounded = true
			a.workerOutcome(workerBounded)
		}
		n, err := a.processWebhooks(ctx)
		if err != nil && ctx.Err() == nil {
			a.svc.Deps.Log.Warn("webhook worker", "err", err)
		}
		if n > 0 {
			continue
		}
		// The backlog is done: the next burst may be deferred to again.
		deferring, bounded = time.Time{}, false
		select {
		case <-ctx.Done():
			return
		case <-a.webhookWake:
		case <-tick.C:
		}
	}
}

// processWebhooks claims a batch (a lease: a crashed worker's rows come back after 30s)
// and handles it; it returns how many rows it claimed.
func (a *App) processWebhooks(ctx context.Context) (int, error) {
	// The oldest due rows, and with them every other due delivery of the same payments
	// (MercadoPago repeats itself, and a burst often holds several deliveries of one
	// payment): one read and one apply then serve them all, where claiming by id alone
	// left the duplicates to other batches that read and locked the same job again.
	rows, err := a.svc.Deps.Pool.Query(ctx, `WITH head AS (
			SELECT id, data_id FROM webhook_inbox WHERE processed_at IS NULL AND next_attempt_at <= now()
			ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED),
		dup AS (
			SELECT w.id FROM webhook_inbox w WHERE w.processed_at IS NULL AND w.next_attempt_at <= now()
				AND w.data_id IN (SELECT data_id FROM head)
			FOR UPDATE OF w SKIP LOCKED)
		UPDATE webhook_inbox SET attempts = attempts + 1, next_attempt_at = now() + interval '30 seconds'
		WHERE id IN (SELECT id FROM head UNION SELECT id FROM dup)
		RETURNING id, data_id, attempts`, claimBatch)
	if err != nil {
		return 0, fmt.Errorf("claim webhooks: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (inboxItem, error) {
		var it inboxItem
		return it, r.Scan(&it.ID, &it.DataID, &it.Attempts)
	})
	if err != nil {
		return 0, fmt.Errorf("claim webhooks: %w", err)
	}
	// Duplicates of one payment in a batch need one read. The reads run in parallel; the
	// results are applied in one transaction (one commit for the batch), each payment in
	// its own savepoint so one failure does not undo the others, in job order so two
	// workers never lock the same jobs in opposite orders.
	byID := map[string][]inboxItem{}
	var order []string
	for _, it := range items {
		if _, ok := byID[it.DataID]; !ok {
			order = append(order, it.DataID)
		}
		byID[it.DataID] = append(byID[it.DataID], it)
	}
	results := make([]fetched, len(order))
	var wg sync.WaitGroup
	sem := make(chan struct{}, fetchParallel)
	for i, id := range order {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			p, err := a.fetchPayment(ctx, id)
			results[i] = fetched{id, p, err}
		}()
	}
	wg.Wait()
	failed := map[string]error{}
	var ok []fetched
	for _, r := range results {
		if r.err != nil {
			failed[r.id] = r.err
		} else {
			ok = append(ok, r)
		}
	}
	sort.Slice(ok, func(i, j int) bool { return ok[i].p.ExternalReference < ok[j].p.ExternalReference })
	if len(ok) > 0 {
		if err := a.applyBatch(ctx, ok, byID); err != nil {
			// Something in the batch failed and undid all of it: apply its payments again,
			// each in its own savepoint, so only the failing one waits for a retry.
			a.applyEach(ctx, ok, byID, failed)
		}
	}
	for id, err := range failed {
		for _, it := range byID[id] {
			a.finishInbox(ctx, it, err)
		}
	}
	return len(items), nil
}

// fetched is one payment read for a batch of webhooks.
type fetched struct {
	id  string // data_id of the webhooks
	p   mp.Payment
	err error
}

// inboxIDs are the ids of the webhooks of payments ok.
func inboxIDs(ok []fetched, byID map[string][]inboxItem) []int64 {
	var ids []int64
	for _, r := range ok {
		for _, it := range byID[r.id] {
			ids = append(ids, it.ID)
		}
	}
	return ids
}

// applyBatch applies payments ok and marks their webhooks processed in one transaction
// with no savepoints: the common case, where nothing fails, takes two round trips fewer
// per payment than applyEach. Any error undoes the whole batch.
func (a *App) applyBatch(ctx context.Context, ok []fetched, byID map[string][]inboxItem) error {
	actx, after := a.svc.AfterCommit(ctx)
	err := pg.WithTx(actx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		jobs, prevs, err := lockBatch(actx, tx, ok)
		if err != nil {
			return err
		}
		seenJob, seenPay := map[string]bool{}, map[string]bool{}
		for _, r := range ok {
			if seenJob[r.p.ExternalReference] || seenPay[r.p.ID] {
				// A second payment of one job (or one payment under a second id) must see
				// what the first changed: read again (the rows are locked already).
				err = a.applyPayment(actx, tx, r.p, events.Meta{})
			} else {
				j, found := jobs[r.p.ExternalReference]
				err = a.applyPaymentRead(actx, tx, r.p, paymentState{j: j, found: found, prev: prevs[r.p.ID]}, events.Meta{})
			}
			if err != nil {
				return err
			}
			seenJob[r.p.ExternalReference], seenPay[r.p.ID] = true, true
		}
		// Last, so processed_at is when the payments were applied; sent with the COMMIT.
		if err := pg.ExecLater(actx, tx, `UPDATE webhook_inbox SET processed_at = clock_timestamp(), last_error = NULL WHERE id = ANY($1)`,
			inboxIDs(ok, byID)); err != nil {
			return fmt.Errorf("mark webhooks processed: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	after()
	return nil
}

// lockBatch locks and reads the jobs and the recorded payments of ok with one statement
// each, sent together, instead of two round trips per payment. Jobs are locked in byte
// order of their ids, the order ok is sorted in and every worker locks jobs in, so two
// batches never wait on each other crosswise; a job's payment row is only ever locked
// by whoever holds the job.
func lockBatch(ctx context.Context, tx pgx.Tx, ok []fetched) (map[string]job, map[string]recorded, error) {
	refs, payIDs := make([]string, 0, len(ok)), make([]string, 0, len(ok))
	for _, r := range ok {
		refs, payIDs = append(refs, r.p.ExternalReference), append(payIDs, r.p.ID)
	}
	// Both statements in one round trip; they still run (and lock) in this order.
	b := &pgx.Batch{}
	b.Queue("SELECT "+jobCols+` FROM trabajos WHERE trabajo_id = ANY($1) ORDER BY trabajo_id COLLATE "C" FOR UPDATE`, refs)
	b.Queue(`SELECT payment_id, status, date_last_updated FROM pagos_mp WHERE payment_id = ANY($1) ORDER BY payment_id COLLATE "C" FOR UPDATE`, payIDs)
	br := tx.SendBatch(ctx, b)
	defer br.Close()
	rows, err := br.Query()
	if err != nil {
		return nil, nil, fmt.Errorf("lock jobs: %w", err)
	}
	jobs := map[string]job{}
	for rows.Next() {
		j, err := scanJob(rows)
		if err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("lock jobs: %w", err)
		}
		jobs[j.ID] = j
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("lock jobs: %w", err)
	}
	rows, err = br.Query()
	if err != nil {
		return nil, nil, fmt.Errorf("lock payments: %w", err)
	}
	prevs := map[string]recorded{}
	for rows.Next() {
		var id string
		var r recorded
		if err := rows.Scan(&id, &r.status, &r.updated); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("lock payments: %w", err)
		}
		prevs[id] = r
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("lock payments: %w", err)
	}
	if err := br.Close(); err != nil {
		return nil, nil, fmt.Errorf("lock jobs and payments: %w", err)
	}
	return jobs, prevs, nil
}

// applyEach applies payments ok in one transaction, each in its own savepoint, and
// records in failed the ones that fail.
func (a *App) applyEach(ctx context.Context, ok []fetched, byID map[string][]inboxItem, failed map[string]error) {
	actx, after := a.svc.AfterCommit(ctx)
	err := pg.WithTx(actx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		// Ledger balance checks at each statement, so a failure stays in its savepoint.
		if _, err := tx.Exec(actx, "SET CONSTRAINTS ALL IMMEDIATE"); err != nil {
			return fmt.Errorf("constraints: %w", err)
		}
		for _, r := range ok {
			if err := applyInSavepoint(actx, tx, func(sp pgx.Tx) error {
				if err := a.applyPayment(actx, sp, r.p, events.Meta{}); err != nil {
					return err
				}
				if _, err := sp.Exec(actx, `UPDATE webhook_inbox SET processed_at = clock_timestamp(), last_error = NULL WHERE id = ANY($1)`,
					inboxIDs([]fetched{r}, byID)); err != nil {
					return fmt.Errorf("mark webhooks processed: %w", err)
				}
				return nil
			}); err != nil {
				failed[r.id] = err
			}
		}
		return nil
	})
	if err != nil {
		for _, r := range ok {
			failed[r.id] = err
		}
		return
	}
	after()
}

// applyInSavepoint runs fn in a savepoint of tx, rolling back only the savepoint when it
// fails.
func applyInSavepoint(ctx context.Context, tx pgx.Tx, fn func(pgx.Tx) error) error {
	sp, err := tx.Begin(ctx)
	if err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(sp); err != nil {
		_ = sp.Rollback(ctx)
		return err
	}
	return sp.Commit(ctx)
}

func (a *App) finishInbox(ctx context.Context, it inboxItem, err error) {
	var q string
	var args []any
	switch {
	case mp.IsPermanent(err) || it.Attempts >= 20:
		// A payment the API does not know (or refuses) will not appear by retrying.
		q, args = `UPDATE webhook_inbox SET processed_at = now(), last_error = $2 WHERE id = $1`, []any{it.ID, err.Error()}
		a.svc.Deps.Log.Warn("webhook given up", "payment", it.DataID, "err", err)
	default:
		delay := min(time.Duration(1<<min(it.Attempts, 10))*250*time.Millisecond, 5*time.Minute)
		q, args = `UPDATE webhook_inbox SET next_attempt_at = now() + $2::interval, last_error = $3 WHERE id = $1`,
			[]any{it.ID, delay.String(), err.Error()}
	}
	if _, e := a.svc.Deps.Pool.Exec(ctx, q, args...); e != nil && ctx.Err() == nil {
		a.svc.Deps.Log.Warn("webhook inbox update", "err", e)
	}
}

// fetchPayment reads payment id from the API.
func (a *App) fetchPayment(ctx context.Context, id string) (mp.Payment, error) {
	if a.mp == nil {
		return mp.Payment{}, errors.New("MercadoPago is not configured")
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return a.mp.GetPayment(ctx, id)
}

func (a *App) applyPaymentTx(ctx context.Context, p mp.Payment) error {
	ctx, after := a.svc.AfterCommit(ctx)
	err := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error { return a.applyPayment(ctx, tx, p, events.Meta{}) })
	if err != nil {
		return err
	}
	after()
	return nil
}

// statusRank orders payment statuses so a late notification never moves a payment
// backwards: pending < rejected/cancelled < approved < in_mediation < refunded/charged_back.
func statusRank(s string) int {
	switch s {
	case "pending", "in_process", "authorized":
		return 1
	case "rejected", "cancelled":
		return 2
	case "approved":
		return 3
	case "in_mediation":
		return 4
	case "refunded", "charged_back":
		return 5
	}
	return 0
}

// applyPayment records payment p (as just read from the API) and moves the job's money
// accordingly. The job row lock serializes everything that touches one job's money, and
// every move is guarded twice: by the job's state and by the ledger's one transaction per
// (job, kind). Events go out once per real change of a payment's status.
func (a *App) applyPayment(ctx context.Context, tx pgx.Tx, p mp.Payment, meta events.Meta) error {
	j, found, err := getJob(ctx, tx, p.ExternalReference, true)
	if err != nil {
		return err
	}
	var prev recorded
	err = tx.QueryRow(ctx, `SELECT status, date_last_updated FROM pagos_mp WHERE payment_id = $1 FOR UPDATE`, p.ID).Scan(&prev.status, &prev.updated)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read payment %s: %w", p.ID, err)
	}
	return a.applyPaymentRead(ctx, tx, p, paymentState{j: j, found: found, prev: prev}, meta)
}

// paymentState is what applying a payment starts from, read under lock in its
// transaction: the job the payment's external_reference names (found false when none)
// and the payment as last recorded (zero when never seen).
type paymentState struct {
	j     job
	found bool
	prev  recorded
}

// recorded is a payment as pagos_mp last recorded it.
type recorded struct {
	status  string     // "" when never seen
	updated *time.Time // MercadoPago's date_last_updated, when it gave one
}

// mediationClosed reports whether p, approved, ends the mediation prev recorded: a claim
// decided for the seller puts the payment back to approved, which is otherwise a step
// backwards. Only a later date_last_updated proves it is not a stale read.
func mediationClosed(prev recorded, p mp.Payment) bool {
	return prev.status == "in_mediation" && p.Status == "approved" && prev.updated != nil && p.DateLastUpdated.After(*prev.updated)
}

// applyPaymentRead is applyPayment once the job and the payment's row are locked and read.
func (a *App) applyPaymentRead(ctx context.Context, tx pgx.Tx, p mp.Payment, s paymentState, meta events.Meta) error {
	j, found, prev := s.j, s.found, s.prev.status
	var err error
	log := a.svc.Deps.Log.With("payment", p.ID, "trabajo", p.ExternalReference, "status", p.Status)
	if prev != "" && statusRank(p.Status) < statusRank(prev) && !mediationClosed(s.prev, p) {
		log.Info("stale payment status ignored", "known", prev)
		return nil
	}
	alerta := ""
	switch {
	case !found:
		alerta = "trabajo_desconocido"
	case p.Currency != "ARS":
		alerta = "moneda_no_coincide"
	case p.AmountCentavos != j.Precio:
		alerta = "monto_no_coincide"
	}
	// Nothing reads the row back here: it rides with the next statement (the ledger post
	// of an approval), one round trip per payment fewer while the job is locked.
	err = pg.ExecLater(ctx, tx, `INSERT INTO pagos_mp (payment_id, trabajo_id, status, status_detail, monto_centavos, reembolsado_centavos, moneda, alerta, date_last_updated)
		VALUES ($1, NULLIF($2,''), $3, $4, $5, $6, $7, NULLIF($8,''), $9)
		ON CONFLICT (payment_id) DO UPDATE SET status = EXCLUDED.status, status_detail = EXCLUDED.status_detail,
			monto_centavos = EXCLUDED.monto_centavos, reembolsado_centavos = EXCLUDED.reembolsado_centavos,
			moneda = EXCLUDED.moneda, alerta = COALESCE(EXCLUDED.alerta, pagos_mp.alerta),
			date_last_updated = EXCLUDED.date_last_updated, updated_at = now()
		WHERE (pagos_mp.status, pagos_mp.status_detail, pagos_mp.monto_centavos, pagos_mp.reembolsado_centavos, pagos_mp.moneda, pagos_mp.alerta)
			IS DISTINCT FROM (EXCLUDED.status, EXCLUDED.status_detail, EXCLUDED.monto_centavos, EXCLUDED.reembolsado_centavos, EXCLUDED.moneda, COALESCE(EXCLUDED.alerta, pagos_mp.alerta))`,
		p.ID, p.ExternalReference, p.Status, p.StatusDetail, p.AmountCentavos, p.RefundedCentavos, p.Currency, alerta, nullTime(p.DateLastUpdated))
	if err != nil {
		return fmt.Errorf("record payment %s: %w", p.ID, err)
	}
	if alerta != "" {
		log.Warn("payment does not match its job; not applied", "alerta", alerta)
		if found {
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET alerta = $2, updated_at = now() WHERE trabajo_id = $1`, j.ID, alerta+":"+p.ID); err != nil {
				return fmt.Errorf("flag job %s: %w", j.ID, err)
			}
		}
		return nil
	}
	changed := prev != p.Status
	st := events.PaymentStatusV1{TrabajoID: j.ID, PaymentID: p.ID, Status: p.Status, StatusDetail: p.StatusDetail,
		MontoCentavos: p.AmountCentavos, ClienteID: j.ClienteID, ProfesionalID: j.ProfesionalID}
	switch p.Status {
	case "approved":
		if changed && prev == "in_mediation" && j.PaymentID == p.ID {
			return a.endMediation(ctx, tx, j, p, meta)
		}
		return a.onApproved(ctx, tx, j, p, st, changed, meta)
	case "rejected", "cancelled":
		if changed && (prev == "" || statusRank(prev) < statusRank(p.Status)) && j.PaymentID != p.ID {
			return a.emit(ctx, tx, j.ID, meta, events.PaymentRejectedV1(st))
		}
	case "refunded":
		return a.onRefunded(ctx, tx, j, p, st, changed, meta)
	case "charged_back":
		return a.onChargedBack(ctx, tx, j, p, st, changed, meta)
	case "in_mediation":
		if changed && j.PaymentID == p.ID {
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET congelado = true, alerta = $2, updated_at = now() WHERE trabajo_id = $1`,
				j.ID, "en_mediacion:"+p.ID); err != nil {
				return fmt.Errorf("freeze job %s: %w", j.ID, err)
			}
		}
	}
	return nil
}

func nullTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func (a *App) onApproved(ctx context.Context, tx pgx.Tx, j job, p mp.Payment, st events.PaymentStatusV1, changed bool, meta events.Meta) error {
	if j.PaymentID != "" && j.PaymentID != p.ID {
		// A second approved payment for a job already paid: keep the first, flag the second.
		if changed {
			a.svc.Deps.Log.Warn("second approved payment for a paid job", "trabajo", j.ID, "payment", p.ID, "funding", j.PaymentID)
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET alerta = $2, updated_at = now() WHERE trabajo_id = $1`, j.ID, "pago_duplicado:"+p.ID); err != nil {
				return fmt.Errorf("flag job %s: %w", j.ID, err)
			}
		}
		return nil
	}
	if j.Estado != EstadoPendientePago && j.Estado != EstadoCancelado {
		return nil // already held, released or refunded: an approval never moves money again
	}
	held, err := post(ctx, tx, j.ID, ledger.KindHold, p.ID, map[string]string{ledger.Escrow: j.ClienteID}, ledger.Hold(j.Precio))
	if err != nil || !held {
		return err
	}
	wasCancelled := j.Estado == EstadoCancelado
	if err := pg.ExecLater(ctx, tx, `UPDATE trabajos SET estado_escrow = $2, payment_id = $3, pagado_at = now(), updated_at = now() WHERE trabajo_id = $1`,
		j.ID, EstadoEnEscrow, p.ID); err != nil {
		return fmt.Errorf("hold job %s: %w", j.ID, err)
	}
	j.Estado, j.PaymentID = EstadoEnEscrow, p.ID
	if err := a.emit(ctx, tx, j.ID, meta, events.PaymentApprovedV1(st), events.EscrowHeldV1{TrabajoID: j.ID, PaymentID: p.ID,
		MontoCentavos: j.Precio, ClienteID: j.ClienteID, ProfesionalID: j.ProfesionalID}); err != nil {
		return err
	}
	switch {
	case wasCancelled:
		// Paid after the job was cancelled (an old link): give the money back.
		return a.startRefund(ctx, tx, j, "pago recibido tras la cancelación")
	case j.LiberacionPendiente && !j.Congelado:
		return a.release(ctx, tx, j, meta)
	}
	return nil
}

func (a *App) onRefunded(ctx context.Context, tx pgx.Tx, j job, p mp.Payment, st events.PaymentStatusV1, changed bool, meta events.Meta) error {
	if j.PaymentID != p.ID {
		if changed {
			return a.emit(ctx, tx, j.ID, meta, events.PaymentRefundedV1(st))
		}
		return nil
	}
	switch j.Estado {
	case EstadoEnEscrow:
		// Refunded at MercadoPago (by us or from its panel): the escrow goes back.
		if err := a.completeRefund(ctx, tx, j, "", meta); err != nil {
			return err
		}
	case EstadoLiberado:
		if changed {
			a.svc.Deps.Log.Warn("payment refunded after release", "trabajo", j.ID, "payment", p.ID)
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET alerta = $2, updated_at = now() WHERE trabajo_id = $1`, j.ID, "reembolso_tras_liberacion:"+p.ID); err != nil {
				return fmt.Errorf("flag job %s: %w", j.ID, err)
			}
		}
	}
	if changed {
		return a.emit(ctx, tx, j.ID, meta, events.PaymentRefundedV1(st))
	}
	return nil
}

func (a *App) onChargedBack(ctx context.Context, tx pgx.Tx, j job, p mp.Payment, st events.PaymentStatusV1, changed bool, meta events.Meta) error {
	if changed {
		if err := a.chargeBack(ctx, tx, j, p, st, meta); err != nil {
			return err
		}
	}
	// Decided for the seller: given back once, whether this is the first news of the
	// chargeback or a later update of its status_detail.
	if p.StatusDetail == statusReimbursed && j.PaymentID == p.ID {
		return a.reverseChargeback(ctx, tx, j, p, meta)
	}
	return nil
}

// chargeBack takes back, once, what the card issuer took: held money out of the escrow,
// released money from the commission and the professional's balance.
func (a *App) chargeBack(ctx context.Context, tx pgx.Tx, j job, p mp.Payment, st events.PaymentStatusV1, meta events.Meta) error {
	if j.PaymentID == p.ID {
		held := j.Estado == EstadoEnEscrow
		if held || j.Estado == EstadoLiberado {
			// Taking released money back from the professional's balance is ordered with
			// their withdrawal requests, as every debit of that balance is.
			if !held {
				if err := lockProfessionalMoney(ctx, tx, j.ProfesionalID); err != nil {
					return err
				}
			}
			postings, err := chargebackPostings(j, held)
			if err != nil {
				return err
			}
			done, err := post(ctx, tx, j.ID, ledger.KindChargeback, p.ID, map[string]string{ledger.ProfessionalPayable: j.ProfesionalID}, postings)
			if err != nil {
				return err
			}
			if done && !held {
				// What the professional gives back, told once with the move itself.
				st.DescontadoCentavos = *j.Liberado
			}
		}
		estado := j.Estado
		if held {
			estado = EstadoReembolsado
			// The card issuer gave the client the money: a refund under way stops (MercadoPago
			// would refuse it), and waits in case the chargeback is reversed.
			if _, err := tx.Exec(ctx, `UPDATE refunds SET estado = $2, ultimo_error = $3, updated_at = now()
				WHERE trabajo_id = $1 AND estado IN ('PENDIENTE','FALLIDO')`, j.ID, RefundContracargo, msgRefundChargedBack); err != nil {
				return fmt.Errorf("stop refund of %s: %w", j.ID, err)
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = $2, congelado = true, alerta = $3, updated_at = now() WHERE trabajo_id = $1`,
			j.ID, estado, "contracargo:"+p.ID); err != nil {
			return fmt.Errorf("charge back job %s: %w", j.ID, err)
		}
	}
	a.svc.Deps.Log.Warn("payment charged back", "trabajo", j.ID, "payment", p.ID)
	return a.emit(ctx, tx, j.ID, meta, events.PaymentChargedBackV1(st))
}

// msgRefundChargedBack is why a refund waits while a chargeback has its money.
const msgRefundChargedBack = "El contracargo devolvió el dinero al cliente; si se revierte, el reembolso queda para un admin (MANUAL)"

// statusReimbursed is the status_detail of a chargeback decided for the seller: the card
// issuer gave the money back.
const statusReimbursed = "reimbursed"

// reverseChargeback gives back what the job's chargeback took, once, when MercadoPago
// reports the dispute decided for the seller. The reversal is the chargeback's own lines
// with their signs turned, so it returns exactly the split the chargeback recorded: held
// money goes back to the escrow, released money to the commission and the professional's
// balance (paying the debt the chargeback left first). A held job thaws unless a
// marketplace dispute still holds it; a release decided meanwhile is carried out, and a
// refund owed to the client is queued for an admin (MercadoPago refunds only approved
// payments).
func (a *App) reverseChargeback(ctx context.Context, tx pgx.Tx, j job, p mp.Payment, meta events.Meta) error {
	rows, err := tx.Query(ctx, `SELECT e.cuenta, COALESCE(e.usuario_id,''), e.monto_centavos FROM ledger_entries e
		JOIN ledger_txns t ON t.id = e.txn_id WHERE t.trabajo_id = $1 AND t.tipo = $2 ORDER BY e.id`, j.ID, ledger.KindChargeback)
	if err != nil {
		return fmt.Errorf("read chargeback of %s: %w", j.ID, err)
	}
	var taken []ledger.Posting
	userOf := map[string]string{}
	held, reintegrado := false, int64(0)
	for rows.Next() {
		var ps ledger.Posting
		var user string
		if err := rows.Scan(&ps.Account, &user, &ps.Amount); err != nil {
			rows.Close()
			return fmt.Errorf("read chargeback of %s: %w", j.ID, err)
		}
		taken = append(taken, ps)
		if user != "" {
			userOf[ps.Account] = user
		}
		switch ps.Account {
		case ledger.Escrow:
			held = true
		case ledger.ProfessionalPayable:
			reintegrado = ps.Amount
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read chargeback of %s: %w", j.ID, err)
	}
	if len(taken) == 0 {
		// Nothing was taken (the chargeback came before the payment funded the job): there
		// is nothing to give back.
		return nil
	}
	if !held {
		if err := lockProfessionalMoney(ctx, tx, j.ProfesionalID); err != nil {
			return err
		}
	}
	done, err := post(ctx, tx, j.ID, ledger.KindChargebackReversal, p.ID, userOf, ledger.Reverse(taken))
	if err != nil || !done {
		return err
	}
	estado := EstadoLiberado
	if held {
		estado = EstadoEnEscrow
	}
	t, err := thaw(ctx, tx, j.ID, estado, "contracargo_revertido:"+p.ID)
	if err != nil {
		return err
	}
	a.svc.Deps.Log.Warn("chargeback reversed", "trabajo", j.ID, "payment", p.ID, "held", held)
	if err := a.emit(ctx, tx, j.ID, meta, events.PaymentChargebackReversedV1{TrabajoID: j.ID, PaymentID: p.ID, Status: p.Status,
		StatusDetail: p.StatusDetail, MontoCentavos: p.AmountCentavos, ClienteID: j.ClienteID, ProfesionalID: j.ProfesionalID,
		Retenido: held, ReintegradoCentavos: reintegrado}); err != nil {
		return err
	}
	switch {
	case !held || (t.frozen && !t.refunding):
		// Released money needs nothing more; an open dispute decides when it is resolved.
	case t.refunding:
		// The client is owed the money (the job was cancelled, or its dispute decided for
		// the client, before or while the card issuer had it): startRefund queues it for
		// an admin, as the payment stays charged_back.
		j.Estado = EstadoEnEscrow
		return a.startRefund(ctx, tx, j, "cancelado mientras un contracargo retenía el dinero")
	case t.pendingRelease:
		// Completed while the card issuer had the money: released now.
		j.Estado, j.Congelado = EstadoEnEscrow, false
		return a.release(ctx, tx, j, meta)
	}
	return nil
}

// endMediation thaws job j when MercadoPago closes a claim for the seller (the payment
// is approved again): the freeze was the claim's. A release asked for while it lasted is
// carried out; a refund under way goes on, now that the payment can be refunded.
func (a *App) endMediation(ctx context.Context, tx pgx.Tx, j job, p mp.Payment, meta events.Meta) error {
	t, err := thaw(ctx, tx, j.ID, j.Estado, "mediacion_cerrada:"+p.ID)
	if err != nil {
		return err
	}
	a.svc.Deps.Log.Info("mediation closed for the seller", "trabajo", j.ID, "payment", p.ID)
	if j.Estado == EstadoEnEscrow && !t.frozen && t.pendingRelease {
		j.Congelado = false
		return a.release(ctx, tx, j, meta)
	}
	return nil
}

// thawed is a job after thaw: still frozen (a marketplace dispute or a refund owed to
// the client holds it), whether a refund is owed, and whether a release waited.
type thawed struct {
	frozen, refunding, pendingRelease bool
}

// thaw sets job id's money state to estado and lifts the freeze a card dispute (a
// chargeback, a claim) put on it, now decided for the seller, noting alerta for the
// admins. A marketplace dispute still open or a refund under way keeps it frozen.
func thaw(ctx context.Context, tx pgx.Tx, id, estado, alerta string) (thawed, error) {
	var t thawed
	err := tx.QueryRow(ctx, `UPDATE trabajos t SET estado_escrow = $2, alerta = $3, updated_at = now(),
			congelado = t.disputa_abierta OR r.pending
		FROM (SELECT EXISTS (SELECT 1 FROM refunds WHERE trabajo_id = $1 AND estado <> 'EMITIDO') AS pending) r
		WHERE t.trabajo_id = $1
		RETURNING t.congelado, r.pending, t.liberacion_pendiente`, id, estado, alerta).
		Scan(&t.frozen, &t.refunding, &t.pendingRelease)
	if err != nil {
		return t, fmt.Errorf("thaw job %s: %w", id, err)
	}
	return t, nil
}

// chargebackPostings: held money comes out of the escrow; released money is taken back
// from the commission and from the professional's balance, as recorded at release (the
// release writes the split with its ledger transaction, so a released job has it).
func chargebackPostings(j job, held bool) ([]ledger.Posting, error) {
	if held {
		return ledger.Chargeback(j.Precio), nil
	}
	if j.Comision == nil || j.Liberado == nil {
		return nil, fmt.Errorf("charge back job %s: released without its split recorded", j.ID)
	}
	return ledger.ChargebackReleased(ledger.Split{Price: j.Precio, Commission: *j.Comision, Net: *j.Liberado}), nil
}

// reconcileLoop searches MercadoPago by external_reference for jobs still waiting for a
// payment, so a lost webhook never strands one.
func (a *App) reconcileLoop(ctx context.Context) {
	if a.cfg.ReconcileInterval <= 0 {
		return
	}
	kit.Every(ctx, a.cfg.ReconcileInterval, a.svc.Deps.Log, "reconciliation", a.Reconcile)
}

// Reconcile runs one reconciliation pass.
func (a *App) Reconcile(ctx context.Context) error {
	if a.mp == nil {
		return nil
	}
	rows, err := a.svc.Deps.Pool.Query(ctx, `SELECT trabajo_id FROM trabajos
		WHERE estado_escrow = $1 AND checkout_estado = $2 AND created_at < now() - $3::interval AND created_at > now() - interval '35 days'
		ORDER BY updated_at LIMIT 200`, EstadoPendientePago, CheckoutCreado, a.cfg.ReconcileMinAge.String())
	if err != nil {
		return fmt.Errorf("reconcile: list jobs: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("reconcile: list jobs: %w", err)
	}
	for _, id := range ids {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		pays, err := a.mp.SearchByExternalReference(cctx, id)
		cancel()
		if err != nil {
			a.svc.Deps.Log.Warn("reconcile: search", "trabajo", id, "err", err)
			continue
		}
		for _, p := range pays {
			if p.ExternalReference != id {
				continue
			}
			if err := a.applyPaymentTx(ctx, p); err != nil {
				a.svc.Deps.Log.Warn("reconcile: apply", "trabajo", id, "payment", p.ID, "err", err)
			}
		}
		if _, err := a.svc.Deps.Pool.Exec(ctx, `UPDATE trabajos SET updated_at = now() WHERE trabajo_id = $1`, id); err != nil {
			return fmt.Errorf("reconcile: touch %s: %w", id, err)
		}
	}
	return a.reconcileHeld(ctx)
}

// reconcileHeld re-reads the funding payment of held jobs now and then, so a refund or
// chargeback whose webhook was lost still freezes or reverses the escrow; and that of
// charged-back jobs, so a chargeback decided for the seller gives the money back even if
// that webhook was lost.
func (a *App) reconcileHeld(ctx context.Context) error {
	// The condition is written out as the partial index trabajos_reread states it, so
	// the planner can use the index instead of reading every job.
	rows, err := a.svc.Deps.Pool.Query(ctx, `SELECT trabajo_id, payment_id FROM trabajos
		WHERE payment_id IS NOT NULL AND (estado_escrow = 'PAGADO_EN_ESCROW' OR alerta LIKE 'contracargo:%')
			AND updated_at < now() - $1::interval
		ORDER BY updated_at LIMIT 50`, a.cfg.ReconcileHeldAge.String())
	if err != nil {
		return fmt.Errorf("reconcile held: %w", err)
	}
	type held struct{ job, payment string }
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (held, error) {
		var h held
		return h, r.Scan(&h.job, &h.payment)
	})
	if err != nil {
		return fmt.Errorf("reconcile held: %w", err)
	}
	for _, h := range list {
		p, err := a.fetchPayment(ctx, h.payment)
		if err == nil {
			err = a.applyPaymentTx(ctx, p)
		}
		if err != nil {
			a.svc.Deps.Log.Warn("reconcile held", "trabajo", h.job, "payment", h.payment, "err", err)
		}
		if _, err := a.svc.Deps.Pool.Exec(ctx, `UPDATE trabajos SET updated_at = now() WHERE trabajo_id = $1`, h.job); err != nil {
			return fmt.Errorf("reconcile held: touch %s: %w", h.job, err)
		}
	}
	return nil
}

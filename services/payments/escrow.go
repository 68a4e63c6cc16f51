package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/payments/ledger"
	"github.com/conectarpro/conectar/services/payments/mp"
)

// errJobUnknown is retried: the job's OfferAccepted may still be on its way.
var errJobUnknown = errors.New("job not known yet")

func (a *App) lockJob(ctx context.Context, tx pgx.Tx, id string) (job, error) {
	j, ok, err := getJob(ctx, tx, id, true)
	if err != nil {
		return j, err
	}
	if !ok {
		return j, fmt.Errorf("job %s: %w", id, errJobUnknown)
	}
	return j, nil
}

// onJobCompleted releases the escrow (or marks the release as pending while the job is
// frozen or not yet funded).
func (a *App) onJobCompleted(ctx context.Context, tx pgx.Tx, meta events.Meta, id string) error {
	j, err := a.lockJob(ctx, tx, id)
	if err != nil {
		return err
	}
	switch {
	case j.Estado == EstadoEnEscrow && !j.Congelado:
		return a.release(ctx, tx, j, meta)
	case j.Estado == EstadoEnEscrow || j.Estado == EstadoPendientePago || j.Estado == EstadoReembolsado:
		// Refunded (or taken by a chargeback): the release is remembered in case a
		// chargeback decided for the seller brings the money back.
		_, err := tx.Exec(ctx, `UPDATE trabajos SET liberacion_pendiente = true, updated_at = now() WHERE trabajo_id = $1`, j.ID)
		return err
	}
	a.svc.Deps.Log.Info("job completed with nothing to release", "trabajo", j.ID, "estado", j.Estado)
	return nil
}

// commissionRate is the professional's rate at release time: what this service's
// LevelChanged replica says, else the starting level's (a professional who never changed
// level is BRONCE). It reads only this service's own data: a release never waits on
// another service while it holds the job's lock, and a replayed release computes the
// same split. A level reached moments before the release, whose LevelChanged is still on
// its way, applies from the next release (professionals' own copy of the level comes
// from the same event, so asking it would not be fresher).
func (a *App) commissionRate(ctx context.Context, q querier, usuarioID string) (int, error) {
	var bp *int
	err := q.QueryRow(ctx, `SELECT tasa_comision_bp FROM profesionales WHERE usuario_id = $1`, usuarioID).Scan(&bp)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return 0, fmt.Errorf("read professional %s: %w", usuarioID, err)
	}
	if bp != nil {
		return *bp, nil
	}
	return ledger.DefaultBP, nil
}

// release splits the held price into commission and the professional's share and credits
// the share to the professional's available balance. Money leaves only through a
// withdrawal an admin approves (withdrawals.go), so there is no payout to queue here.
func (a *App) release(ctx context.Context, tx pgx.Tx, j job, meta events.Meta) error {
	bp, err := a.commissionRate(ctx, tx, j.ProfesionalID)
	if err != nil {
		return err
	}
	s, err := ledger.Commission(j.Precio, bp)
	if err != nil {
		return apperr.Permanent("bad_commission", "comisión inválida", err)
	}
	done, err := post(ctx, tx, j.ID, ledger.KindRelease, "", map[string]string{ledger.ProfessionalPayable: j.ProfesionalID}, ledger.Release(s))
	if err != nil || !done {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = $2, tasa_comision_bp = $3, comision_centavos = $4, liberado_centavos = $5,
		liberacion_pendiente = false, liberado_at = now(), updated_at = now() WHERE trabajo_id = $1`,
		j.ID, EstadoLiberado, s.RateBP, s.Commission, s.Net); err != nil {
		return fmt.Errorf("release job %s: %w", j.ID, err)
	}
	return a.emit(ctx, tx, j.ID, meta, events.EscrowReleasedV1{TrabajoID: j.ID, ProfesionalID: j.ProfesionalID,
		PrecioCentavos: s.Price, ComisionCentavos: s.Commission, LiberadoCentavos: s.Net, TasaComisionBasisPt: s.RateBP})
}

// onJobCancelled: before payment the job is simply cancelled; once held, the money goes
// back in full through the refunds API. A job cancelled unpaid may be cancelled before
// its OfferAccepted reaches payments (the checkout consumer is another consumer, slow
// while MercadoPago is): the cancellation is recorded as the job's row, so the late
// acceptance makes no link, and this consumer, which keeps every job's money events in
// one order, is not held up retrying it.
func (a *App) onJobCancelled(ctx context.Context, tx pgx.Tx, meta events.Meta, e events.JobCancelledV1) error {
	if !e.Paid && e.ClienteID != "" && e.ProfesionalID != "" && e.PrecioCentavos > 0 {
		if _, err := tx.Exec(ctx, `INSERT INTO trabajos (trabajo_id, cliente_id, profesional_id, precio_centavos, estado_escrow)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (trabajo_id) DO NOTHING`,
			e.TrabajoID, e.ClienteID, e.ProfesionalID, e.PrecioCentavos, EstadoCancelado); err != nil {
			return fmt.Errorf("record cancellation of %s: %w", e.TrabajoID, err)
		}
	}
	j, err := a.lockJob(ctx, tx, e.TrabajoID)
	if err != nil {
		return err
	}
	switch j.Estado {
	case EstadoPendientePago:
		_, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = $2, updated_at = now() WHERE trabajo_id = $1`, j.ID, EstadoCancelado)
		return err
	case EstadoEnEscrow:
		return a.startRefund(ctx, tx, j, e.Motivo)
	case EstadoReembolsado:
		return owedWhileChargedBack(ctx, tx, j, e.Motivo)
	}
	a.svc.Deps.Log.Info("job cancelled with nothing to refund", "trabajo", j.ID, "estado", j.Estado)
	return nil
}

// owedWhileChargedBack records that the client is owed job j's money, which a chargeback
// took (or a refund already returned), as a refund waiting in CONTRACARGO, the state a
// refund under way takes when a chargeback comes: nothing is sent, and should a
// chargeback decided for the seller bring the money back, the reversal turns it into a
// refund for an admin rather than releasing it.
func owedWhileChargedBack(ctx context.Context, tx pgx.Tx, j job, motivo string) error {
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET liberacion_pendiente = false, updated_at = now() WHERE trabajo_id = $1`, j.ID); err != nil {
		return fmt.Errorf("drop the waiting release of %s: %w", j.ID, err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO refunds (id, trabajo_id, payment_id, cliente_id, monto_centavos, motivo, estado, ultimo_error)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8) ON CONFLICT (trabajo_id) DO NOTHING`,
		uuid.Must(uuid.NewV7()), j.ID, j.PaymentID, j.ClienteID, j.Precio, motivo, RefundContracargo, msgRefundChargedBack); err != nil {
		return fmt.Errorf("remember refund of %s: %w", j.ID, err)
	}
	return nil
}

// startRefund freezes the job and queues its full refund; the payout loop calls the API.
// A payment a chargeback took stays charged_back even after the card issuer gives the
// money back, and MercadoPago refunds only approved payments: such a refund is queued for
// an admin (MANUAL), who sends it by transfer and records it, and one already queued is
// turned into that instead of being retried at MercadoPago for ever.
func (a *App) startRefund(ctx context.Context, tx pgx.Tx, j job, motivo string) error {
	var manual bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pagos_mp WHERE payment_id = $1 AND status = 'charged_back')`,
		j.PaymentID).Scan(&manual); err != nil {
		return fmt.Errorf("read payment of %s: %w", j.ID, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET congelado = true, liberacion_pendiente = false, updated_at = now(),
		alerta = CASE WHEN $2 THEN 'reembolso_manual:' || payment_id ELSE alerta END WHERE trabajo_id = $1`, j.ID, manual); err != nil {
		return fmt.Errorf("freeze job %s: %w", j.ID, err)
	}
	estado, porQue := RefundPendiente, ""
	if manual {
		estado, porQue = RefundManual, msgRefundManual
	}
	if _, err := tx.Exec(ctx, `INSERT INTO refunds (id, trabajo_id, payment_id, cliente_id, monto_centavos, motivo, estado, ultimo_error)
		VALUES ($1,$2,$3,$4,$5,$6,$7,NULLIF($8,''))
		ON CONFLICT (trabajo_id) DO UPDATE SET estado = EXCLUDED.estado, ultimo_error = EXCLUDED.ultimo_error, updated_at = now()
		WHERE EXCLUDED.estado = 'MANUAL' AND refunds.estado <> 'EMITIDO'`,
		uuid.Must(uuid.NewV7()), j.ID, j.PaymentID, j.ClienteID, j.Precio, motivo, estado, porQue); err != nil {
		return fmt.Errorf("queue refund of %s: %w", j.ID, err)
	}
	if !manual {
		consumer.AfterCommit(ctx, func() { wake(a.payoutWake) })
	}
	return nil
}

// msgRefundManual is why a refund waits for an admin.
const msgRefundManual = "MercadoPago no reembolsa un pago con contracargo: devolvé el dinero por transferencia y registralo"

// completeRefund records that the job's money went back to the client (idempotent: the
// refunds API answer and the "refunded" webhook may both arrive, in any order).
func (a *App) completeRefund(ctx context.Context, tx pgx.Tx, j job, externalID string, meta events.Meta) error {
	if _, err := post(ctx, tx, j.ID, ledger.KindRefund, externalID, map[string]string{ledger.Escrow: j.ClienteID}, ledger.Refund(j.Precio)); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = $2, liberacion_pendiente = false, reembolsado_at = COALESCE(reembolsado_at, now()),
		updated_at = now() WHERE trabajo_id = $1 AND estado_escrow = $3`, j.ID, EstadoReembolsado, EstadoEnEscrow); err != nil {
		return fmt.Errorf("refund job %s: %w", j.ID, err)
	}
	// The refund row (absent when refunded from MercadoPago's panel) is created on demand
	// so every refund is visible and announced once.
	var refundID uuid.UUID
	err := tx.QueryRow(ctx, `INSERT INTO refunds (id, trabajo_id, payment_id, cliente_id, monto_centavos, estado, external_id, motivo)
		VALUES ($1,$2,$3,$4,$5,'EMITIDO',NULLIF($6,''),'reembolso en MercadoPago')
		ON CONFLICT (trabajo_id) DO UPDATE SET estado = 'EMITIDO', external_id = COALESCE(refunds.external_id, EXCLUDED.external_id),
			ultimo_error = NULL, updated_at = now()
		WHERE refunds.estado <> 'EMITIDO'
		RETURNING id`, uuid.Must(uuid.NewV7()), j.ID, j.PaymentID, j.ClienteID, j.Precio, externalID).Scan(&refundID)
	if errors.Is(err, pgx.ErrNoRows) {
		if externalID != "" {
			_, err = tx.Exec(ctx, `UPDATE refunds SET external_id = COALESCE(external_id, $2) WHERE trabajo_id = $1`, j.ID, externalID)
		} else {
			err = nil
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("record refund of %s: %w", j.ID, err)
	}
	return a.emit(ctx, tx, j.ID, meta, events.RefundIssuedV1{RefundID: refundID.String(), TrabajoID: j.ID,
		ClienteID: j.ClienteID, MontoCentavos: j.Precio})
}

func (a *App) onDisputeOpened(ctx context.Context, tx pgx.Tx, e events.DisputeOpenedV1) error {
	j, err := a.lockJob(ctx, tx, e.TrabajoID)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE trabajos SET congelado = true, disputa_id = $2, disputa_abierta = true, updated_at = now() WHERE trabajo_id = $1`, j.ID, e.DisputaID)
	return err
}

func (a *App) onDisputeResolved(ctx context.Context, tx pgx.Tx, meta events.Meta, e events.DisputeResolvedV1) error {
	j, err := a.lockJob(ctx, tx, e.TrabajoID)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET congelado = false, disputa_abierta = false, updated_at = now() WHERE trabajo_id = $1`, j.ID); err != nil {
		return err
	}
	j.Congelado = false
	switch e.AFavor {
	case "cliente":
		if j.Estado == EstadoEnEscrow {
			return a.startRefund(ctx, tx, j, "disputa resuelta a favor del cliente")
		}
		if j.Estado == EstadoPendientePago {
			_, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = $2, updated_at = now() WHERE trabajo_id = $1`, j.ID, EstadoCancelado)
			return err
		}
		if j.Estado == EstadoReembolsado {
			return owedWhileChargedBack(ctx, tx, j, "disputa resuelta a favor del cliente")
		}
	case "profesional":
		var refunding bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refunds WHERE trabajo_id = $1)`, j.ID).Scan(&refunding); err != nil {
			return fmt.Errorf("read refunds of %s: %w", j.ID, err)
		}
		if refunding {
			// The money is already on its way back to the client; it cannot be released too.
			a.svc.Deps.Log.Warn("dispute resolved for the professional after a refund started", "trabajo", j.ID)
			_, err := tx.Exec(ctx, `UPDATE trabajos SET congelado = true, alerta = 'disputa_tras_reembolso', updated_at = now() WHERE trabajo_id = $1`, j.ID)
			return err
		}
		if j.Estado == EstadoEnEscrow {
			return a.release(ctx, tx, j, meta)
		}
		if j.Estado == EstadoPendientePago || j.Estado == EstadoReembolsado {
			_, err := tx.Exec(ctx, `UPDATE trabajos SET liberacion_pendiente = true, updated_at = now() WHERE trabajo_id = $1`, j.ID)
			return err
		}
	case "ninguno":
		// The dispute ended without a decision (dismissed or withdrawn): the money stays
		// held for the job, which goes on. A refund already under way keeps it frozen; a
		// release that arrived while frozen is carried out now.
		var refunding bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM refunds WHERE trabajo_id = $1)`, j.ID).Scan(&refunding); err != nil {
			return fmt.Errorf("read refunds of %s: %w", j.ID, err)
		}
		if refunding {
			_, err := tx.Exec(ctx, `UPDATE trabajos SET congelado = true, updated_at = now() WHERE trabajo_id = $1`, j.ID)
			return err
		}
		if j.Estado == EstadoEnEscrow && j.LiberacionPendiente {
			return a.release(ctx, tx, j, meta)
		}
	default:
		return apperr.Permanent("bad_event", "a_favor inválido", fmt.Errorf("dispute %s: a_favor %q", e.DisputaID, e.AFavor))
	}
	return nil
}

// --- payouts and refunds: API calls outside transactions, retried with backoff ---------

func (a *App) payoutLoop(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		n1 := a.processPayouts(ctx)
		n2 := a.processRefunds(ctx)
		if n1+n2 > 0 {
			continue
		}
		select {
		case <-ctx.Done():
			return
		case <-a.payoutWake:
		case <-t.C:
		}
	}
}

func (a *App) retryDelay(attempts int) time.Duration {
	d := a.cfg.PayoutRetryBase
	for i := 1; i < attempts && d < 30*time.Minute; i++ {
		d *= 2
	}
	return min(d, 30*time.Minute)
}

// payoutRow is a transfer to a professional: of a withdrawal (Retiro set) or, under the
// earlier automatic-payout model, of a released job.
// Payout states (payouts.estado).
const (
	payoutFallido   = "FALLIDO"   // the last attempt failed; retried with backoff
	payoutRechazado = "RECHAZADO" // MercadoPago refused a withdrawal's transfer; never retried
)

type payoutRow struct {
	ID            uuid.UUID
	TrabajoID     string
	Retiro        *uuid.UUID
	ProfesionalID string
	Cuenta        string
	Monto         int64
	Key           string
	Intentos      int
}

// aggregate is the id the payout's events are about.
func (p payoutRow) aggregate() string {
	if p.Retiro != nil {
		return p.Retiro.String()
	}
	return p.TrabajoID
}

func (p payoutRow) retiroID() string {
	if p.Retiro != nil {
		return p.Retiro.String()
	}
	return ""
}

// processPayouts claims due payouts (lease of one minute), calls the Money Out API with
// the idempotency key derived from the withdrawal (or job), and records the outcome.
func (a *App) processPayouts(ctx context.Context) int {
	rows, err := a.svc.Deps.Pool.Query(ctx, `UPDATE payouts SET next_attempt_at = now() + interval '1 minute', intentos = intentos + 1, updated_at = now()
		WHERE id IN (SELECT id FROM payouts WHERE estado NOT IN ('ENVIADO','RECHAZADO') AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 8 FOR UPDATE SKIP LOCKED)
		RETURNING id, COALESCE(trabajo_id,''), retiro_id, profesional_id, cuenta_destino, monto_centavos, idempotency_key, intentos`)
	if err != nil {
		if ctx.Err() == nil {
			a.svc.Deps.Log.Warn("claim payouts", "err", err)
		}
		return 0
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (payoutRow, error) {
		var p payoutRow
		return p, r.Scan(&p.ID, &p.TrabajoID, &p.Retiro, &p.ProfesionalID, &p.Cuenta, &p.Monto, &p.Key, &p.Intentos)
	})
	if err != nil {
		a.svc.Deps.Log.Warn("claim payouts", "err", err)
		return 0
	}
	for _, p := range items {
		a.sendPayout(ctx, p)
	}
	return len(items)
}

func (a *App) sendPayout(ctx context.Context, p payoutRow) {
	var extID string
	var err error
	switch {
	case p.Cuenta == "":
		// A job's payout of the earlier model, released before the professional had an
		// account: use the bank account they have now, if any.
		if acc, ok, lerr := a.bankAccount(ctx, a.svc.Deps.Pool, p.ProfesionalID); lerr == nil && ok {
			p.Cuenta = acc.destination()
			_, _ = a.svc.Deps.Pool.Exec(ctx, `UPDATE payouts SET cuenta_destino = $2 WHERE id = $1`, p.ID, p.Cuenta)
		} else {
			err = errors.New("el profesional no configuró su cuenta de cobro")
		}
	}
	if err == nil && a.mp == nil {
		err = errors.New("MercadoPago no está configurado")
	}
	if err == nil {
		ref := "payout-" + p.TrabajoID
		if p.Retiro != nil {
			ref = "retiro-" + p.Retiro.String()
		}
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		extID, err = a.mp.Payout(cctx, mp.PayoutInput{Key: p.Key, Reference: ref, Destination: p.Cuenta, AmountCentavos: p.Monto})
		cancel()
	}
	if ctx.Err() != nil {
		return
	}
	// A withdrawal's transfer MercadoPago refuses as a bad request (an account that does
	// not exist) is not retried; other failures (5xx, transport, our configuration) are.
	var mpErr *mp.Error
	refused := p.Retiro != nil && errors.As(err, &mpErr) && (mpErr.Status == http.StatusBadRequest || mpErr.Status == http.StatusUnprocessableEntity)
	ctx, after := a.svc.AfterCommit(ctx)
	txErr := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		if err != nil {
			estado := payoutFallido
			if refused {
				estado = payoutRechazado
			}
			if _, e := tx.Exec(ctx, `UPDATE payouts SET estado = $4, ultimo_error = $2, next_attempt_at = now() + $3::interval, updated_at = now() WHERE id = $1`,
				p.ID, err.Error(), a.retryDelay(p.Intentos).String(), estado); e != nil {
				return e
			}
			if e := a.emit(ctx, tx, p.aggregate(), events.Meta{}, events.PayoutFailedV1{PayoutID: p.ID.String(), RetiroID: p.retiroID(),
				TrabajoID: p.TrabajoID, ProfesionalID: p.ProfesionalID, MontoCentavos: p.Monto, Motivo: err.Error(), Intentos: p.Intentos}); e != nil || !refused {
				return e
			}
			// MercadoPago refused the transfer itself: nothing left our account, so the
			// withdrawal is closed and its amount is available again.
			r, e := scanRetiro(tx.QueryRow(ctx, `SELECT `+retiroCols+` FROM retiros WHERE id = $1 AND estado = $2 FOR UPDATE`, *p.Retiro, RetiroAprobado))
			if errors.Is(e, pgx.ErrNoRows) {
				return nil
			}
			if e != nil {
				return fmt.Errorf("read withdrawal %s: %w", p.Retiro, e)
			}
			_, e = a.returnWithdrawal(ctx, tx, r, "MercadoPago rechazó la transferencia a "+p.Cuenta+": revisá tu cuenta bancaria y pedí el retiro de nuevo", "mercadopago")
			return e
		}
		tag, e := tx.Exec(ctx, `UPDATE payouts SET estado = 'ENVIADO', external_id = $2, ultimo_error = NULL, sent_at = now(), updated_at = now()
			WHERE id = $1 AND estado <> 'ENVIADO'`, p.ID, extID)
		if e != nil || tag.RowsAffected() == 0 {
			return e
		}
		if p.Retiro != nil {
			if _, e := postFor(ctx, tx, ledgerOwner{Retiro: p.Retiro}, ledger.KindPayout, extID,
				map[string]string{ledger.ProfessionalReserved: p.ProfesionalID}, ledger.WithdrawalPayout(p.Monto)); e != nil {
				return e
			}
			if _, e := tx.Exec(ctx, `UPDATE retiros SET estado = $2, fecha_procesado = now(), updated_at = now() WHERE id = $1 AND estado = $3`,
				*p.Retiro, RetiroProcesado, RetiroAprobado); e != nil {
				return fmt.Errorf("mark withdrawal %s paid: %w", p.Retiro, e)
			}
		} else if _, e := post(ctx, tx, p.TrabajoID, ledger.KindPayout, extID, map[string]string{ledger.ProfessionalPayable: p.ProfesionalID}, ledger.Payout(p.Monto)); e != nil {
			return e
		}
		return a.emit(ctx, tx, p.aggregate(), events.Meta{}, events.PayoutSentV1{PayoutID: p.ID.String(), RetiroID: p.retiroID(),
			TrabajoID: p.TrabajoID, ProfesionalID: p.ProfesionalID, MontoCentavos: p.Monto, ExternalID: extID})
	})
	if txErr != nil {
		a.svc.Deps.Log.Warn("record payout", "payout", p.aggregate(), "err", txErr)
		return
	}
	after()
	if err != nil {
		a.svc.Deps.Log.Warn("payout failed; will retry", "payout", p.aggregate(), "intentos", p.Intentos, "err", err)
	}
}

type refundRow struct {
	ID        uuid.UUID
	TrabajoID string
	PaymentID string
	Intentos  int
}

func (a *App) processRefunds(ctx context.Context) int {
	rows, err := a.svc.Deps.Pool.Query(ctx, `UPDATE refunds SET next_attempt_at = now() + interval '1 minute', intentos = intentos + 1, updated_at = now()
		WHERE id IN (SELECT id FROM refunds WHERE estado NOT IN ('EMITIDO','MANUAL','CONTRACARGO') AND next_attempt_at <= now() ORDER BY next_attempt_at LIMIT 8 FOR UPDATE SKIP LOCKED)
		RETURNING id, trabajo_id, payment_id, intentos`)
	if err != nil {
		if ctx.Err() == nil {
			a.svc.Deps.Log.Warn("claim refunds", "err", err)
		}
		return 0
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (refundRow, error) {
		var p refundRow
		return p, r.Scan(&p.ID, &p.TrabajoID, &p.PaymentID, &p.Intentos)
	})
	if err != nil {
		a.svc.Deps.Log.Warn("claim refunds", "err", err)
		return 0
	}
	for _, r := range items {
		a.sendRefund(ctx, r)
	}
	return len(items)
}

func (a *App) sendRefund(ctx context.Context, r refundRow) {
	var extID string
	err := errors.New("MercadoPago no está configurado")
	if a.mp != nil {
		cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
		extID, err = a.mp.Refund(cctx, r.PaymentID, "refund-"+r.TrabajoID)
		cancel()
		if err != nil {
			// Already refunded (for example from MercadoPago's panel): read the payment and
			// let the normal path record it.
			if p, gerr := a.mp.GetPayment(ctx, r.PaymentID); gerr == nil && p.Status == "refunded" {
				err = nil
			}
		}
	}
	if ctx.Err() != nil {
		return
	}
	ctx, after := a.svc.AfterCommit(ctx)
	txErr := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		if err != nil {
			// A chargeback met meanwhile (MANUAL, CONTRACARGO) keeps its own state.
			_, e := tx.Exec(ctx, `UPDATE refunds SET estado = 'FALLIDO', ultimo_error = $2, next_attempt_at = now() + $3::interval, updated_at = now()
				WHERE id = $1 AND estado IN ('PENDIENTE','FALLIDO')`,
				r.ID, err.Error(), a.retryDelay(r.Intentos).String())
			return e
		}
		j, err := a.lockJob(ctx, tx, r.TrabajoID)
		if err != nil {
			return err
		}
		return a.completeRefund(ctx, tx, j, extID, events.Meta{})
	})
	if txErr != nil {
		a.svc.Deps.Log.Warn("record refund", "trabajo", r.TrabajoID, "err", txErr)
		return
	}
	after()
	if err != nil {
		a.svc.Deps.Log.Warn("refund failed; will retry", "trabajo", r.TrabajoID, "intentos", r.Intentos, "err", err)
	}
}

// --- replicas ---------------------------------------------------------------------------

func (a *App) handleLevelChanged(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	e, err := events.Decode[events.LevelChangedV1](env)
	if err != nil {
		return apperr.Permanent("bad_event", "evento inválido", err)
	}
	bp := e.TasaComisionBP
	if bp <= 0 || bp > 10000 {
		bp = ledger.LevelBP(e.Nivel)
	}
	_, err = tx.Exec(ctx, `INSERT INTO profesionales (usuario_id, nivel, tasa_comision_bp) VALUES ($1,$2,$3)
		ON CONFLICT (usuario_id) DO UPDATE SET nivel = EXCLUDED.nivel, tasa_comision_bp = EXCLUDED.tasa_comision_bp, updated_at = now()`,
		e.UsuarioID, e.Nivel, bp)
	return err
}

// handleProfileUpdated keeps the professional replica and, when the payout account set
// through professionals (PUT /professional/payout-info) changed, makes it the bank account
// withdrawals go to. Only a change counts: the event is published for any profile edit and
// must not undo an account set since through POST /pagos/cuenta-bancaria.
func (a *App) handleProfileUpdated(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	e, err := events.Decode[events.ProfessionalProfileUpdatedV1](env)
	if err != nil {
		return apperr.Permanent("bad_event", "evento inválido", err)
	}
	var prev *string
	err = tx.QueryRow(ctx, `SELECT payout_account FROM profesionales WHERE usuario_id = $1 FOR UPDATE`, e.UsuarioID).Scan(&prev)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read professional %s: %w", e.UsuarioID, err)
	}
	if _, err = tx.Exec(ctx, `INSERT INTO profesionales (usuario_id, profesional_id, payout_account) VALUES ($1,$2,NULLIF($3,''))
		ON CONFLICT (usuario_id) DO UPDATE SET profesional_id = EXCLUDED.profesional_id,
			payout_account = COALESCE(EXCLUDED.payout_account, profesionales.payout_account), updated_at = now()`,
		e.UsuarioID, e.ProfesionalID, e.PayoutAccount); err != nil {
		return err
	}
	if e.PayoutAccount == "" || (prev != nil && *prev == e.PayoutAccount) {
		return nil
	}
	if prev == nil {
		// The first account we hear of from professionals: an account set here already
		// (POST /pagos/cuenta-bancaria) is the more deliberate choice and stays.
		if _, exists, err := a.bankAccount(ctx, tx, e.UsuarioID); err != nil || exists {
			return err
		}
	}
	if err := setBankAccountFromProfile(ctx, tx, e.UsuarioID, e.PayoutAccount); err != nil {
		return err
	}
	// Payouts of the earlier model waiting for an account go out now.
	tag, err := tx.Exec(ctx, `UPDATE payouts SET cuenta_destino = $2, next_attempt_at = now() WHERE profesional_id = $1 AND estado NOT IN ('ENVIADO','RECHAZADO') AND cuenta_destino = ''`,
		e.UsuarioID, e.PayoutAccount)
	if err != nil {
		return err
	}
	if tag.RowsAffected() > 0 {
		consumer.AfterCommit(ctx, func() { wake(a.payoutWake) })
	}
	return nil
}

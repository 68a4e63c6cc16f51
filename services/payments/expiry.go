package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
)

// expiryHold is how long a replica holds a due checkout while it asks MercadoPago about
// it: long enough for the search and the commit, short enough that a crashed replica's
// checkouts are soon taken by another.
const expiryHold = time.Minute

// expiryBatch is how many due checkouts one claim takes.
const expiryBatch = 50

// expiryLoop runs ExpireCheckouts every CHECKOUT_EXPIRY_INTERVAL.
func (a *App) expiryLoop(ctx context.Context) {
	kit.Every(ctx, a.cfg.ExpiryInterval, a.svc.Deps.Log, "checkout expiry", a.ExpireCheckouts)
}

// ExpireCheckouts runs one pass of the checkout expiry at the service's clock: every job
// still waiting for its payment whose link is past its deadline (checkout_vence_at,
// CHECKOUT_TTL after the link was made) is first looked up at MercadoPago, so a payment
// whose webhook was lost is applied instead of expired; if it is still unpaid then, its
// money state is cancelled and PaymentCheckoutExpired is emitted in the same
// transaction. Several replicas may run it at once: each job is expired once.
func (a *App) ExpireCheckouts(ctx context.Context) error {
	if a.mp == nil {
		return nil // no checkout can have been created
	}
	var errs []error
	for {
		now := a.now()
		ids, err := a.claimDueCheckouts(ctx, now)
		if err != nil {
			return errors.Join(append(errs, err)...)
		}
		for _, id := range ids {
			if err := a.expireCheckout(ctx, id, now); err != nil {
				// The hold keeps it out of this pass; it is tried again once the hold lapses.
				errs = append(errs, err)
			}
		}
		if len(ids) < expiryBatch {
			break
		}
	}
	if err := a.recheckExpired(ctx, a.now()); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// recheckWindow is how long after its expiry a link is still searched at MercadoPago:
// MercadoPago cancels a payment left pending for 30 days, so none can be approved later.
const recheckWindow = 35 * 24 * time.Hour

// recheckExpired searches MercadoPago again, every MP_RECONCILE_HELD_EVERY, for the
// payments of links that expired in the last recheckWindow. A payment started in time (a
// cash ticket) can be approved after the deadline, and its webhook can be lost like any
// other; found here, it is applied like any payment for a cancelled job: held and
// refunded. Reconciliation (mpwebhook.go) only looks at jobs still waiting.
func (a *App) recheckExpired(ctx context.Context, now time.Time) error {
	rows, err := a.svc.Deps.Pool.Query(ctx, `UPDATE trabajos SET checkout_revision_hasta = $2
		WHERE trabajo_id IN (SELECT trabajo_id FROM trabajos
			WHERE checkout_estado = $3 AND estado_escrow = $4 AND checkout_vencido_at > $5
			  AND (checkout_revision_hasta IS NULL OR checkout_revision_hasta <= $1)
			ORDER BY checkout_revision_hasta NULLS FIRST LIMIT $6 FOR UPDATE SKIP LOCKED)
		RETURNING trabajo_id`, now, now.Add(max(a.cfg.ReconcileHeldAge, expiryHold)), CheckoutVencido, EstadoCancelado,
		now.Add(-recheckWindow), expiryBatch)
	if err != nil {
		return fmt.Errorf("recheck expired checkouts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("recheck expired checkouts: %w", err)
	}
	var errs []error
	for _, id := range ids {
		if err := a.applyFound(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("recheck expired checkout of %s: %w", id, err))
		}
	}
	return errors.Join(errs...)
}

// applyFound searches MercadoPago for the payments of job id (the search reconciliation
// uses) and applies each.
func (a *App) applyFound(ctx context.Context, id string) error {
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	pays, err := a.mp.SearchByExternalReference(sctx, id)
	cancel()
	if err != nil {
		return fmt.Errorf("search payments: %w", err)
	}
	for _, p := range pays {
		if p.ExternalReference != id {
			continue
		}
		if err := a.applyPaymentTx(ctx, p); err != nil {
			return fmt.Errorf("apply payment %s: %w", p.ID, err)
		}
	}
	return nil
}

// claimDueCheckouts holds up to expiryBatch due checkouts for this replica until
// now+expiryHold. SKIP LOCKED makes concurrent claims take different rows, and a held row
// is not due for anyone else until the hold lapses.
func (a *App) claimDueCheckouts(ctx context.Context, now time.Time) ([]string, error) {
	rows, err := a.svc.Deps.Pool.Query(ctx, `UPDATE trabajos SET checkout_revision_hasta = $2
		WHERE trabajo_id IN (SELECT trabajo_id FROM trabajos
			WHERE estado_escrow = $3 AND checkout_estado = $4 AND checkout_vence_at <= $1
			  AND (checkout_revision_hasta IS NULL OR checkout_revision_hasta <= $1)
			ORDER BY checkout_vence_at LIMIT $5 FOR UPDATE SKIP LOCKED)
		RETURNING trabajo_id`, now, now.Add(expiryHold), EstadoPendientePago, CheckoutCreado, expiryBatch)
	if err != nil {
		return nil, fmt.Errorf("claim due checkouts: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("claim due checkouts: %w", err)
	}
	return ids, nil
}

// expireCheckout asks MercadoPago for the job's payments, applies what it finds, and
// expires the checkout if the job is still unpaid. When MercadoPago cannot answer
// nothing is expired: an unknown payment must not be cancelled blind.
func (a *App) expireCheckout(ctx context.Context, id string, now time.Time) error {
	if err := a.applyFound(ctx, id); err != nil {
		return fmt.Errorf("expire checkout of %s: %w", id, err)
	}
	ctx, after := a.svc.AfterCommit(ctx)
	expired := false
	err := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		// The guard is the whole state the expiry leaves: a job paid, cancelled or expired
		// by another replica meanwhile no longer matches (PostgreSQL re-checks it after the
		// row lock), so exactly one transaction expires it and emits the event.
		var e events.PaymentCheckoutExpiredV1
		// From now on the hold column says when to search for a late payment again.
		err := tx.QueryRow(ctx, `UPDATE trabajos SET checkout_estado = $2, estado_escrow = $3, checkout_vencido_at = $4,
				checkout_revision_hasta = $7, updated_at = now()
			WHERE trabajo_id = $1 AND estado_escrow = $5 AND checkout_estado = $6 AND checkout_vence_at <= $4
			RETURNING trabajo_id, COALESCE(oferta_id, ''), cliente_id, profesional_id, COALESCE(preference_id, ''), precio_centavos, checkout_vence_at`,
			id, CheckoutVencido, EstadoCancelado, now, EstadoPendientePago, CheckoutCreado, now.Add(max(a.cfg.ReconcileHeldAge, expiryHold))).
			Scan(&e.TrabajoID, &e.OfertaID, &e.ClienteID, &e.ProfesionalID, &e.PreferenceID, &e.MontoCentavos, &e.VenceAt)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("expire checkout of %s: %w", id, err)
		}
		e.VenceAt = e.VenceAt.UTC()
		expired = true
		return a.emit(ctx, tx, id, events.Meta{}, e)
	})
	if err != nil {
		return err
	}
	after()
	if expired {
		a.svc.Deps.Log.Info("checkout expired unpaid", "trabajo", id)
	}
	return nil
}

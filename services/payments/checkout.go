package payments

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/services/payments/mp"
)

// handleMarketplace dispatches the marketplace's events.
func (a *App) handleMarketplace(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	bad := func(err error) error { return apperr.Permanent("bad_event", "evento inválido", err) }
	switch env.Type {
	case events.OfferAcceptedV1{}.EventType():
		e, err := events.Decode[events.OfferAcceptedV1](env)
		if err != nil {
			return bad(err)
		}
		return a.onOfferAccepted(ctx, tx, env, e)
	case events.JobCompletedV1{}.EventType():
		e, err := events.Decode[events.JobCompletedV1](env)
		if err != nil {
			return bad(err)
		}
		return a.onJobCompleted(ctx, tx, env.Caused(), e.TrabajoID)
	case events.JobCancelledV1{}.EventType():
		e, err := events.Decode[events.JobCancelledV1](env)
		if err != nil {
			return bad(err)
		}
		return a.onJobCancelled(ctx, tx, env.Caused(), e)
	case events.DisputeOpenedV1{}.EventType():
		e, err := events.Decode[events.DisputeOpenedV1](env)
		if err != nil {
			return bad(err)
		}
		return a.onDisputeOpened(ctx, tx, e)
	case events.DisputeResolvedV1{}.EventType():
		e, err := events.Decode[events.DisputeResolvedV1](env)
		if err != nil {
			return bad(err)
		}
		return a.onDisputeResolved(ctx, tx, env.Caused(), e)
	case events.DisputeCancelledV1{}.EventType():
		e, err := events.Decode[events.DisputeCancelledV1](env)
		if err != nil {
			return bad(err)
		}
		// A withdrawn dispute settles like one resolved for neither party.
		return a.onDisputeResolved(ctx, tx, env.Caused(), events.DisputeResolvedV1{DisputaID: e.DisputaID, TrabajoID: e.TrabajoID,
			ClienteID: e.ClienteID, ProfesionalID: e.ProfesionalID, AFavor: "ninguno"})
	}
	return nil
}

// onOfferAccepted stores the job replica and creates its checkout, publishing
// PaymentCheckoutCreated or, when MercadoPago cannot be reached within the bound,
// PaymentCheckoutFailed (the marketplace waits for one of them to answer the client).
func (a *App) onOfferAccepted(ctx context.Context, tx pgx.Tx, env events.Envelope, e events.OfferAcceptedV1) error {
	if e.TrabajoID == "" || e.ClienteID == "" || e.ProfesionalID == "" || e.PrecioCentavos <= 0 {
		return apperr.Permanent("bad_event", "OfferAccepted incompleto", fmt.Errorf("offer accepted %+v", e))
	}
	// A row may be there already: a second accept event, or the job cancelled before
	// its acceptance got here (onJobCancelled); the latter gets the offer's details.
	_, err := tx.Exec(ctx, `INSERT INTO trabajos (trabajo_id, oferta_id, cliente_id, cliente_email, profesional_id, descripcion, precio_centavos)
		VALUES ($1, NULLIF($2,''), $3, $4, $5, $6, $7) ON CONFLICT (trabajo_id) DO UPDATE SET
			oferta_id = coalesce(trabajos.oferta_id, EXCLUDED.oferta_id),
			cliente_email = CASE WHEN trabajos.cliente_email = '' THEN EXCLUDED.cliente_email ELSE trabajos.cliente_email END,
			descripcion = CASE WHEN trabajos.descripcion = '' THEN EXCLUDED.descripcion ELSE trabajos.descripcion END`,
		e.TrabajoID, e.OfertaID, e.ClienteID, e.ClienteEmail, e.ProfesionalID, e.Descripcion, e.PrecioCentavos)
	if err != nil {
		return fmt.Errorf("store job %s: %w", e.TrabajoID, err)
	}
	j, _, err := getJob(ctx, tx, e.TrabajoID, true)
	if err != nil {
		return err
	}
	if j.Checkout == CheckoutCreado || j.Estado != EstadoPendientePago {
		return nil // a second accept event: the job keeps its one preference (or is over)
	}
	return a.createCheckout(ctx, tx, j, env.Caused())
}

// createCheckout creates the preference of job j (locked in tx) and records the outcome.
// The link can be paid for CHECKOUT_TTL from now (the service's clock); the expiry loop
// (expiry.go) cancels it after that.
func (a *App) createCheckout(ctx context.Context, tx pgx.Tx, j job, meta events.Meta) error {
	// MercadoPago keeps dates to the millisecond: the deadline we keep is the one it has.
	created := a.now().Truncate(time.Millisecond)
	pref, err := a.createPreference(ctx, j, created, created.Add(a.cfg.CheckoutTTL))
	if err != nil {
		a.svc.Deps.Log.Warn("checkout creation failed", "trabajo", j.ID, "err", err)
		// The marketplace compensates (job cancelled, offer open again), so the job is over
		// here too: no later link may be created for it.
		if _, err2 := tx.Exec(ctx, `UPDATE trabajos SET checkout_estado=$2, checkout_error=$3, estado_escrow=$4, updated_at=now() WHERE trabajo_id=$1`,
			j.ID, CheckoutFallido, err.Error(), EstadoCancelado); err2 != nil {
			return fmt.Errorf("record checkout failure of %s: %w", j.ID, err2)
		}
		return a.emit(ctx, tx, j.ID, meta, events.PaymentCheckoutFailedV1{TrabajoID: j.ID, OfertaID: j.OfertaID,
			Motivo: "No se pudo generar el link de pago de MercadoPago"})
	}
	url := pref.InitPoint
	// A preference made earlier under the same idempotency key keeps its deadline: the
	// one MercadoPago answers with is the one the link has.
	due := created.Add(a.cfg.CheckoutTTL)
	if !pref.ExpiresAt.IsZero() {
		due = pref.ExpiresAt
	}
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET checkout_estado=$2, preference_id=$3, payment_url=$4, sandbox_url=$5,
		checkout_error=NULL, checkout_creado_at=$6, checkout_vence_at=$7, updated_at=now() WHERE trabajo_id=$1`,
		j.ID, CheckoutCreado, pref.ID, url, pref.SandboxInitPoint, created, due); err != nil {
		return fmt.Errorf("record checkout of %s: %w", j.ID, err)
	}
	return a.emit(ctx, tx, j.ID, meta, events.PaymentCheckoutCreatedV1{TrabajoID: j.ID, OfertaID: j.OfertaID,
		PreferenceID: pref.ID, PaymentURL: url})
}

// createPreference calls MercadoPago within CheckoutTimeout (the requester retries 5xx
// and transport errors inside that bound, with the job-derived idempotency key).
func (a *App) createPreference(ctx context.Context, j job, created, expires time.Time) (mp.Preference, error) {
	if a.mp == nil {
		return mp.Preference{}, fmt.Errorf("create preference for %s: MercadoPago is not configured", j.ID)
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.CheckoutTimeout)
	defer cancel()
	fe := a.cfg.FrontendURL
	return a.mp.CreatePreference(ctx, mp.PreferenceInput{
		TrabajoID: j.ID, Descripcion: j.Descripcion, PrecioCentavos: j.Precio, PayerEmail: j.ClienteEmail,
		SuccessURL: fe + "/payment/success", FailureURL: fe + "/payment/failure", PendingURL: fe + "/payment/pending",
		NotificationURL: a.cfg.NotificationURL, CreatedAt: created, ExpiresAt: expires,
	})
}

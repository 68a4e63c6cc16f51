package marketplace

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

func (m *Market) consumers() []consumer.Spec {
	return append(m.replicaConsumers(), consumer.Spec{
		Name: "marketplace-payments", Stream: events.StreamPayments,
		Subjects: []string{events.SubjPaymentCheckoutCreated, events.SubjPaymentCheckoutFailed, events.SubjPaymentCheckoutExpired, events.SubjPaymentApproved,
			events.SubjPaymentRejected, events.SubjPaymentRefunded, events.SubjPaymentChargedBack, events.SubjPaymentChargebackReversed, events.SubjEscrowHeld,
			events.SubjEscrowReleased, events.SubjRefundIssued},
		Handle: m.onPayment,
	})
}

func deref(c *money.Centavos) money.Centavos {
	if c == nil {
		return 0
	}
	return *c
}

// onPayment applies payments' events to the job. Every branch asks the lifecycle table
// (domain.MoneyAllows) whether the money state it moves from holds, so duplicates and
// late events never move a job backwards; the inbox already drops exact redeliveries.
func (m *Market) onPayment(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	jobID, err := paymentJobID(env)
	if err != nil {
		return err
	}
	t, err := m.lockJob(ctx, tx, jobID)
	if err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return apperr.Permanent("trabajo_desconocido", "payment event for an unknown job "+jobID, err)
		}
		return err
	}
	meta := env.Caused()
	now := m.now().UTC()
	changed := false
	pago := "PAGO"
	switch env.Type {
	case events.PaymentCheckoutCreatedV1{}.EventType():
		e, err := events.Decode[events.PaymentCheckoutCreatedV1](env)
		if err != nil {
			return err
		}
		if t.checkoutEstado != domain.CheckoutPendiente {
			break
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET checkout_estado = 'CREADO', payment_preference_id = $2, payment_url = $3, fecha_actualizacion = $4 WHERE id = $1`,
			t.ID, e.PreferenceID, e.PaymentURL, now); err != nil {
			return err
		}
		if err := timeline(ctx, tx, t.ID, pago, "Link de pago generado", nil, nil, nil); err != nil {
			return err
		}
		changed = true

	case events.PaymentCheckoutFailedV1{}.EventType():
		e, err := events.Decode[events.PaymentCheckoutFailedV1](env)
		if err != nil {
			return err
		}
		if t.checkoutEstado != domain.CheckoutPendiente {
			break
		}
		// Compensation: the job is cancelled and the offer is open again.
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET checkout_estado = 'FALLIDO', checkout_error = $2, fecha_actualizacion = $3,
			estado = CASE WHEN estado = 'PENDIENTE_PAGO' THEN 'CANCELADO' ELSE estado END,
			estado_escrow = CASE WHEN estado_escrow = 'PENDIENTE_PAGO' THEN 'CANCELADO' ELSE estado_escrow END WHERE id = $1`,
			t.ID, e.Motivo, now); err != nil {
			return err
		}
		if t.OfertaID != nil {
			if _, err := tx.Exec(ctx, `SELECT 1 FROM ofertas WHERE id = $1 FOR UPDATE`, *t.OfertaID); err != nil {
				return err
			}
			var estado string
			if err := tx.QueryRow(ctx, `SELECT estado FROM ofertas WHERE id = $1`, *t.OfertaID).Scan(&estado); err != nil {
				return err
			}
			if domain.CheckOfferAs(domain.Offer{Estado: estado}, domain.OfertaReabrir, domain.RoleSystem, now) == nil {
				if _, err := m.setOfferState(ctx, tx, *t.OfertaID, domain.OfertaOfertado, "", "No se pudo generar el link de pago; la oferta sigue disponible"); err != nil {
					return err
				}
			}
		}
		from, to := t.Estado, domain.EstadoCancelado
		if err := timeline(ctx, tx, t.ID, "ESTADO_CAMBIO", "No se pudo generar el link de pago: "+e.Motivo, &from, &to, nil); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, "⚠️ No se pudo generar el link de pago. La oferta sigue disponible."); err != nil {
			return err
		}
		changed = true

	case events.PaymentCheckoutExpiredV1{}.EventType():
		if _, err := events.Decode[events.PaymentCheckoutExpiredV1](env); err != nil {
			return err
		}
		// A job paid, cancelled or already expired meanwhile keeps its state.
		if !domain.MoneyAllows(t.rules(), domain.TrabajoVencerCheckout) {
			break
		}
		if err := m.expireCheckout(ctx, tx, t, now); err != nil {
			return err
		}
		changed = true

	case events.PaymentApprovedV1{}.EventType(), events.EscrowHeldV1{}.EventType():
		paymentID := ""
		if env.Type == (events.PaymentApprovedV1{}).EventType() {
			e, err := events.Decode[events.PaymentApprovedV1](env)
			if err != nil {
				return err
			}
			paymentID = e.PaymentID
		} else {
			e, err := events.Decode[events.EscrowHeldV1](env)
			if err != nil {
				return err
			}
			paymentID = e.PaymentID
		}
		switch {
		case domain.MoneyAllows(t.rules(), domain.TrabajoPagar):
			estado := t.Estado
			if estado == domain.EstadoPendientePago {
				estado = domain.EstadoPagado
			}
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = 'PAGADO_EN_ESCROW', estado = $2, pago_estado = 'approved',
				mercadopago_payment_id = coalesce(nullif($3, ''), mercadopago_payment_id), fecha_actualizacion = $4 WHERE id = $1`,
				t.ID, estado, paymentID, now); err != nil {
				return err
			}
			from := t.Estado
			if err := timeline(ctx, tx, t.ID, pago, "Pago recibido: el dinero queda retenido en garantía", &from, &estado, nil); err != nil {
				return err
			}
			if err := m.info(ctx, tx, t.ChatID, fmt.Sprintf("💳 Pago recibido: $%s. El dinero queda en garantía hasta que se apruebe el trabajo.", t.PrecioFinal)); err != nil {
				return err
			}
			changed = true
		case domain.MoneyAllows(t.rules(), domain.TrabajoPagoDeCancelado):
			// Money arrived for a job cancelled before payment: hold it and refund it.
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = 'PAGADO_EN_ESCROW', pago_estado = 'approved',
				mercadopago_payment_id = coalesce(nullif($2, ''), mercadopago_payment_id), fecha_actualizacion = $3 WHERE id = $1`,
				t.ID, paymentID, now); err != nil {
				return err
			}
			if err := timeline(ctx, tx, t.ID, pago, "Pago recibido de un trabajo cancelado: se reembolsa", nil, nil, nil); err != nil {
				return err
			}
			if err := m.emit(ctx, tx, t.ID, events.JobCancelledV1{TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
				PrecioCentavos: int64(t.PrecioFinal), Paid: true, Motivo: "pago recibido de un trabajo cancelado", By: "sistema"}, meta); err != nil {
				return err
			}
			changed = true
		}

	case events.EscrowReleasedV1{}.EventType():
		e, err := events.Decode[events.EscrowReleasedV1](env)
		if err != nil {
			return err
		}
		// The money states only move forward. A release delivered before the payment it
		// releases (parallel delivery) is applied at once: it proves the payment, and the
		// late PaymentApproved then finds nothing left to do.
		if !domain.MoneyAllows(t.rules(), domain.TrabajoLiberar) {
			break
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = 'LIBERADO', estado = 'APROBADO', comision_centavos = $2, liberado_centavos = $3,
			payout_id = nullif($4, ''), fecha_aprobacion = coalesce(fecha_aprobacion, $5), auto_approve_at = NULL, fecha_actualizacion = $5 WHERE id = $1`,
			t.ID, e.ComisionCentavos, e.LiberadoCentavos, e.PayoutID, now); err != nil {
			return err
		}
		from, to := t.Estado, domain.EstadoAprobado
		if err := timeline(ctx, tx, t.ID, pago, fmt.Sprintf("Fondos liberados al profesional: $%s (comisión $%s)",
			money.Centavos(e.LiberadoCentavos), money.Centavos(e.ComisionCentavos)), &from, &to, nil); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, fmt.Sprintf("✅ Trabajo finalizado. Fondos liberados al profesional: $%s", money.Centavos(e.LiberadoCentavos))); err != nil {
			return err
		}
		changed = true

	case events.RefundIssuedV1{}.EventType():
		e, err := events.Decode[events.RefundIssuedV1](env)
		if err != nil {
			return err
		}
		if !domain.MoneyAllows(t.rules(), domain.TrabajoReembolsar) {
			break
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado_escrow = 'CANCELADO_REEMBOLSADO', estado = 'CANCELADO', refund_id = nullif($2, ''),
			comision_centavos = 0, liberado_centavos = 0, auto_approve_at = NULL, fecha_actualizacion = $3 WHERE id = $1`, t.ID, e.RefundID, now); err != nil {
			return err
		}
		from, to := t.Estado, domain.EstadoCancelado
		if err := timeline(ctx, tx, t.ID, pago, fmt.Sprintf("Reembolso de $%s al cliente", money.Centavos(e.MontoCentavos)), &from, &to, nil); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, fmt.Sprintf("🚫 Trabajo cancelado. Reembolso de $%s procesado.", money.Centavos(e.MontoCentavos))); err != nil {
			return err
		}
		changed = true

	case events.PaymentRejectedV1{}.EventType(), events.PaymentRefundedV1{}.EventType(), events.PaymentChargedBackV1{}.EventType(),
		events.PaymentChargebackReversedV1{}.EventType():
		// Recorded for people to see; the money state follows the escrow events.
		desc := map[string]string{
			"PaymentRejected":           "Pago rechazado; el cliente puede volver a intentar",
			"PaymentRefunded":           "MercadoPago informó un reembolso o cancelación del pago",
			"PaymentChargedBack":        "MercadoPago informó un contracargo del pago",
			"PaymentChargebackReversed": "El contracargo se resolvió a favor del vendedor: el dinero del pago volvió",
		}[env.Type]
		// MercadoPago's status: a reversed chargeback stays charged_back (detail reimbursed).
		status := map[string]string{"PaymentRejected": "rejected", "PaymentRefunded": "refunded", "PaymentChargedBack": "charged_back",
			"PaymentChargebackReversed": "charged_back"}[env.Type]
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET pago_estado = $2, fecha_actualizacion = $3 WHERE id = $1`, t.ID, status, now); err != nil {
			return err
		}
		if err := timeline(ctx, tx, t.ID, pago, desc, nil, nil, nil); err != nil {
			return err
		}
		changed = true
	}
	if changed {
		if err := m.pushJob(ctx, tx, t.ID); err != nil {
			return err
		}
		consumer.AfterCommit(ctx, func() { m.waiters.wake(t.ID) })
	}
	return nil
}

// motivoVencido is the job's motivo_cancelacion when its payment link expired.
const motivoVencido = "El link de pago venció sin que se registrara el pago"

// expireCheckout cancels job t (locked in tx) whose payment link payments let expire
// unpaid: the lifecycle's vencer_checkout, and vencer_pago for its offer. Unlike a
// checkout that could not be created (our failure: the offer opens again), here the
// client let the link lapse, so the offer closes as EXPIRADO and the professional may
// send a new one.
func (m *Market) expireCheckout(ctx context.Context, tx pgx.Tx, t Trabajo, now time.Time) error {
	move, _ := domain.JobMachine().Move(domain.TrabajoVencerCheckout)
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = $2, estado_escrow = $3, motivo_cancelacion = $4, auto_approve_at = NULL,
		fecha_actualizacion = $5 WHERE id = $1`, t.ID, move.To, move.EscrowTo, motivoVencido, now); err != nil {
		return fmt.Errorf("expire checkout of job %s: %w", t.ID, err)
	}
	if t.OfertaID != nil {
		var estado string
		if err := tx.QueryRow(ctx, `SELECT estado FROM ofertas WHERE id = $1 FOR UPDATE`, *t.OfertaID).Scan(&estado); err != nil {
			return fmt.Errorf("read offer %s: %w", *t.OfertaID, err)
		}
		if domain.CheckOfferAs(domain.Offer{Estado: estado}, domain.OfertaVencerPago, domain.RoleSystem, now) == nil {
			if _, err := m.setOfferState(ctx, tx, *t.OfertaID, domain.OfertaExpirado, "", motivoVencido); err != nil {
				return err
			}
		}
	}
	from, to := t.Estado, move.To
	if err := timeline(ctx, tx, t.ID, "ESTADO_CAMBIO", motivoVencido+": trabajo cancelado", &from, &to, nil); err != nil {
		return err
	}
	return m.info(ctx, tx, t.ChatID, "⌛ El link de pago venció sin que se registrara el pago, así que el trabajo se canceló. Si todavía quieren hacerlo, el profesional puede enviar una nueva oferta.")
}

// paymentJobID reads trabajo_id from any payments event.
func paymentJobID(env events.Envelope) (string, error) {
	var id string
	switch env.Type {
	case "PaymentCheckoutCreated":
		e, err := events.Decode[events.PaymentCheckoutCreatedV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "PaymentCheckoutFailed":
		e, err := events.Decode[events.PaymentCheckoutFailedV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "PaymentCheckoutExpired":
		e, err := events.Decode[events.PaymentCheckoutExpiredV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "PaymentApproved", "PaymentRejected", "PaymentRefunded", "PaymentChargedBack":
		e, err := decodeStatus(env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "PaymentChargebackReversed":
		e, err := events.Decode[events.PaymentChargebackReversedV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "EscrowHeld":
		e, err := events.Decode[events.EscrowHeldV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "EscrowReleased":
		e, err := events.Decode[events.EscrowReleasedV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	case "RefundIssued":
		e, err := events.Decode[events.RefundIssuedV1](env)
		id = e.TrabajoID
		if err != nil {
			return "", err
		}
	default:
		return "", apperr.Permanent("evento_desconocido", "unexpected payments event "+env.Type, nil)
	}
	if _, err := parseUUID("trabajo_id", id); err != nil {
		return "", apperr.Permanent("trabajo_id_invalido", "payments event without a valid trabajo_id", err)
	}
	return id, nil
}

func decodeStatus(env events.Envelope) (events.PaymentStatusV1, error) {
	switch env.Type {
	case "PaymentApproved":
		e, err := events.Decode[events.PaymentApprovedV1](env)
		return events.PaymentStatusV1(e), err
	case "PaymentRejected":
		e, err := events.Decode[events.PaymentRejectedV1](env)
		return events.PaymentStatusV1(e), err
	case "PaymentRefunded":
		e, err := events.Decode[events.PaymentRefundedV1](env)
		return events.PaymentStatusV1(e), err
	default:
		e, err := events.Decode[events.PaymentChargedBackV1](env)
		return events.PaymentStatusV1(e), err
	}
}

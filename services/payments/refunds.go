package payments

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
)

const refundCols = `id::text, trabajo_id, payment_id, cliente_id, monto_centavos, estado, motivo, intentos,
	COALESCE(ultimo_error,''), external_id, registrado_por, next_attempt_at, created_at, updated_at`

func scanRefund(r pgx.Row) (Refund, error) {
	var out Refund
	var monto int64
	err := r.Scan(&out.ID, &out.TrabajoID, &out.PaymentID, &out.ClienteID, &monto, &out.Estado, &out.Motivo, &out.Intentos,
		&out.UltimoError, &out.ExternalID, &out.RegistradoPor, &out.ProximoIntento, &out.CreatedAt, &out.UpdatedAt)
	out.Monto = money.Centavos(monto)
	out.ProximoIntento, out.CreatedAt, out.UpdatedAt = out.ProximoIntento.UTC(), out.CreatedAt.UTC(), out.UpdatedAt.UTC()
	return out, err
}

// listRefunds answers GET /admin/pagos/reembolsos: the refunds not issued yet, oldest
// first (the longest-waiting client first), or those of one estado.
func (a *App) listRefunds(c *fiber.Ctx) error {
	page, err := httpx.Paging(c, 100)
	if err != nil {
		return err
	}
	estado, err := estadoQuery(c, RefundPendiente, RefundFallido, RefundManual, RefundContracargo, RefundEmitido)
	if err != nil {
		return err
	}
	rows, err := a.svc.Deps.Pool.Query(c.Context(), `SELECT `+refundCols+` FROM refunds
		WHERE CASE WHEN $1::text IS NULL THEN estado <> 'EMITIDO' ELSE estado = $1 END
		ORDER BY created_at, id LIMIT $2 OFFSET $3`, estado, page.Limit, page.Skip)
	if err != nil {
		return fmt.Errorf("list refunds: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Refund, error) { return scanRefund(r) })
	if err != nil {
		return fmt.Errorf("list refunds: %w", err)
	}
	return c.JSON(Refunds{Reembolsos: list, Total: len(list)})
}

// recordManualRefund answers POST /admin/pagos/reembolsos/{trabajo_id}/manual: an admin
// transferred a MANUAL refund's money to the client and records it with the transfer's
// reference. The ledger, the job and the client's statement then show the refund, and
// RefundIssued tells the client, as for one MercadoPago made.
func (a *App) recordManualRefund(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in manualRefundBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	ref, err := requiredText(in.Referencia, 3, 200, "referencia_required", "Indicá la referencia de la transferencia al cliente (de 3 a 200 caracteres)")
	if err != nil {
		return err
	}
	id := strings.Clone(c.Params("trabajo_id"))
	ctx, after := a.svc.AfterCommit(c.Context())
	var out Refund
	err = pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		j, found, err := getJob(ctx, tx, id, true)
		if err != nil {
			return err
		}
		var estado string
		if found {
			err = tx.QueryRow(ctx, `SELECT estado FROM refunds WHERE trabajo_id = $1 FOR UPDATE`, j.ID).Scan(&estado)
		}
		if !found || errors.Is(err, pgx.ErrNoRows) {
			return apperr.NotFound("refund_not_found", "Ese trabajo no tiene un reembolso")
		}
		if err != nil {
			return fmt.Errorf("read refund of %s: %w", j.ID, err)
		}
		if estado != RefundManual || j.Estado != EstadoEnEscrow {
			return apperr.Conflict("refund_not_manual", "Ese reembolso no espera un registro manual (está "+estado+")")
		}
		if err := a.completeRefund(ctx, tx, j, "manual:"+ref, events.Meta{}); err != nil {
			return err
		}
		// Refunded, the job has nothing left to hold; a marketplace dispute still open
		// keeps its own freeze.
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET congelado = disputa_abierta, alerta = $2, updated_at = now() WHERE trabajo_id = $1`,
			j.ID, "reembolso_manual_registrado:"+j.PaymentID); err != nil {
			return fmt.Errorf("thaw job %s: %w", j.ID, err)
		}
		out, err = scanRefund(tx.QueryRow(ctx, `UPDATE refunds SET registrado_por = $2, ultimo_error = NULL, updated_at = now()
			WHERE trabajo_id = $1 RETURNING `+refundCols, j.ID, cl.UserID()))
		if err != nil {
			return fmt.Errorf("record refund of %s: %w", j.ID, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	after()
	return c.JSON(out)
}

// Refund is a refund to a client as admins see it.
type Refund struct {
	ID        string         `json:"id" jsonschema:"format=uuid"`
	TrabajoID string         `json:"trabajo_id"`
	PaymentID string         `json:"payment_id" jsonschema_description:"the MercadoPago payment refunded"`
	ClienteID string         `json:"cliente_id"`
	Monto     money.Centavos `json:"monto"`
	Estado    string         `json:"estado" jsonschema:"enum=PENDIENTE,enum=FALLIDO,enum=MANUAL,enum=CONTRACARGO,enum=EMITIDO" jsonschema_description:"PENDIENTE and FALLIDO go through MercadoPago's refunds API (FALLIDO is retried with a growing delay); MANUAL cannot (the payment was charged back, then given back) and waits for an admin to transfer the money and record it; CONTRACARGO is owed while a chargeback has the money (a refund under way when it came, or a cancellation during it): nothing is sent, and it becomes MANUAL should the chargeback be reversed"`
	Motivo    string         `json:"motivo"`
	Intentos  int            `json:"intentos" jsonschema_description:"calls made to MercadoPago's refunds API"`
	// UltimoError is MercadoPago's last refusal, or why the refund waits.
	UltimoError    string    `json:"ultimo_error"`
	ExternalID     *string   `json:"external_id" jsonschema_description:"MercadoPago's refund id, or manual:<reference> for a transfer an admin recorded"`
	RegistradoPor  *string   `json:"registrado_por" jsonschema_description:"the admin who recorded a manual refund"`
	ProximoIntento time.Time `json:"proximo_intento"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// Refunds is a page of refunds.
type Refunds struct {
	Reembolsos []Refund `json:"reembolsos"`
	Total      int      `json:"total" jsonschema_description:"refunds on this page"`
}

// manualRefundBody is the transfer an admin made to refund a client by hand.
type manualRefundBody struct {
	Referencia *string `json:"referencia" jsonschema_description:"the transfer's reference, 3 to 200 characters (trimmed); otherwise 400 referencia_required"`
}

type refundsQuery struct {
	paging
	Estado string `query:"estado" doc:"PENDIENTE, FALLIDO, MANUAL, CONTRACARGO or EMITIDO (case-insensitive); without it every refund not EMITIDO"`
}

type refundPath struct {
	TrabajoID string `path:"trabajo_id" doc:"the job whose refund it is"`
}

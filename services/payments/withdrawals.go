package payments

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/payments/ledger"
)

// Withdrawal states (retiros.estado).
const (
	RetiroPendiente = "PENDIENTE" // requested, amount reserved, waiting for an admin
	RetiroAprobado  = "APROBADO"  // approved, payout queued (retried until sent)
	RetiroRechazado = "RECHAZADO" // rejected, amount available again
	RetiroProcesado = "PROCESADO" // the payout left
)

// retiro is a withdrawal request.
type retiro struct {
	ID             uuid.UUID
	UsuarioID      string
	Monto          int64
	Estado         string
	Cuenta         string
	Motivo         *string
	RevisadoPor    *string
	FechaSolicitud time.Time
	FechaRevision  *time.Time
	FechaProcesado *time.Time
}

const retiroCols = `id, usuario_id, monto_centavos, estado, cuenta_destino, motivo_rechazo, revisado_por,
	fecha_solicitud, fecha_revision, fecha_procesado`

// scanRetiro reads retiroCols and then, into extra, any columns selected after them.
func scanRetiro(row pgx.Row, extra ...any) (retiro, error) {
	var r retiro
	err := row.Scan(append([]any{&r.ID, &r.UsuarioID, &r.Monto, &r.Estado, &r.Cuenta, &r.Motivo, &r.RevisadoPor,
		&r.FechaSolicitud, &r.FechaRevision, &r.FechaProcesado}, extra...)...)
	return r, err
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// view is the frontend's withdrawal shape. fecha_procesado is when the request was closed:
// the payout left (PROCESADO) or it was rejected (RECHAZADO).
func (r retiro) view() Withdrawal {
	return Withdrawal{ID: r.ID, UsuarioID: r.UsuarioID, Monto: money.Centavos(r.Monto), Estado: r.Estado,
		FechaSolicitud: r.FechaSolicitud.UTC(), FechaProcesado: utcPtr(r.FechaProcesado),
		FechaRevision: utcPtr(r.FechaRevision), CuentaDestino: r.Cuenta, MotivoRechazo: r.Motivo,
		FechaCreacion: r.FechaSolicitud.UTC()}
}

// available is the professional's balance they may still withdraw: what releases credited
// them, minus what withdrawals reserved or paid, minus payouts of the earlier automatic
// model that are still on their way (that money is already promised to a transfer).
func available(ctx context.Context, q querier, usuarioID string) (int64, error) {
	var payable, legacy int64
	err := q.QueryRow(ctx, `SELECT
		COALESCE((SELECT -sum(monto_centavos) FROM ledger_entries WHERE usuario_id = $1 AND cuenta = 'professional_payable'),0)::bigint,
		COALESCE((SELECT sum(monto_centavos) FROM payouts WHERE profesional_id = $1 AND trabajo_id IS NOT NULL AND estado <> 'ENVIADO'),0)::bigint`,
		usuarioID).Scan(&payable, &legacy)
	if err != nil {
		return 0, fmt.Errorf("available balance of %s: %w", usuarioID, err)
	}
	return max(payable-legacy, 0), nil
}

// lockProfessionalMoney serializes the withdrawals of one professional: the balance check
// and the reservation happen under it, so two concurrent requests can never both spend
// the same money (releases only add to the balance and need no lock).
func lockProfessionalMoney(ctx context.Context, tx pgx.Tx, usuarioID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('retiros:' || $1, 0))`, usuarioID); err != nil {
		return fmt.Errorf("lock withdrawals of %s: %w", usuarioID, err)
	}
	return nil
}

// requestWithdrawal answers POST /pagos/retiros {monto}: the amount (≥ 1000 ARS and ≤ the
// available balance) is reserved in the ledger until an admin approves or rejects it.
func (a *App) requestWithdrawal(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in withdrawalBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if in.Monto == nil {
		return apperr.Invalid("monto_required", "Indicá el monto a retirar")
	}
	monto := int64(*in.Monto)
	if monto < ledger.MinWithdrawal {
		return apperr.Invalid("below_minimum", fmt.Sprintf("El monto mínimo de retiro es $ %s", money.Centavos(ledger.MinWithdrawal)))
	}
	user := cl.UserID()
	ctx, after := a.svc.AfterCommit(c.Context())
	var out retiro
	err = pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		if err := lockProfessionalMoney(ctx, tx, user); err != nil {
			return err
		}
		acct, ok, err := a.bankAccount(ctx, tx, user)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.Invalid("no_bank_account", "Configurá tu cuenta bancaria antes de pedir un retiro")
		}
		disp, err := available(ctx, tx, user)
		if err != nil {
			return err
		}
		if monto > disp {
			return apperr.Invalid("insufficient_funds", fmt.Sprintf("El monto supera tu saldo disponible ($ %s)", money.Centavos(disp)))
		}
		id := uuid.Must(uuid.NewV7())
		out, err = scanRetiro(tx.QueryRow(ctx, `INSERT INTO retiros (id, usuario_id, monto_centavos, cuenta_destino) VALUES ($1,$2,$3,$4)
			RETURNING `+retiroCols, id, user, monto, acct.destination()))
		if err != nil {
			return fmt.Errorf("insert withdrawal: %w", err)
		}
		if _, err := postFor(ctx, tx, ledgerOwner{Retiro: &id}, ledger.KindReserve, "",
			map[string]string{ledger.ProfessionalPayable: user, ledger.ProfessionalReserved: user}, ledger.Reserve(monto)); err != nil {
			return err
		}
		return a.emit(ctx, tx, id.String(), events.Meta{}, events.WithdrawalRequestedV1{RetiroID: id.String(), ProfesionalID: user,
			MontoCentavos: monto, CuentaDestino: out.Cuenta})
	})
	if err != nil {
		return err
	}
	after()
	return c.Status(fiber.StatusCreated).JSON(out.view())
}

// listMyWithdrawals answers GET /pagos/retiros: the professional's own requests.
func (a *App) listMyWithdrawals(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	user := cl.UserID()
	return a.listWithdrawals(c, &user)
}

// listAdminWithdrawals answers GET /admin/pagos/retiros?estado: every request, newest first.
func (a *App) listAdminWithdrawals(c *fiber.Ctx) error { return a.listWithdrawals(c, nil) }

// estadoQuery reads a list's estado filter: one of allowed, in any case; nil when absent.
func estadoQuery(c *fiber.Ctx, allowed ...string) (*string, error) {
	v := strings.ToUpper(strings.TrimSpace(c.Query("estado")))
	switch {
	case v == "":
		return nil, nil
	case slices.Contains(allowed, v):
		return &v, nil
	}
	last := len(allowed) - 1
	return nil, apperr.Invalid("invalid_state", "El estado debe ser "+strings.Join(allowed[:last], ", ")+" o "+allowed[last])
}

func (a *App) listWithdrawals(c *fiber.Ctx, usuarioID *string) error {
	page, err := httpx.Paging(c, 100)
	if err != nil {
		return err
	}
	estado, err := estadoQuery(c, RetiroPendiente, RetiroAprobado, RetiroRechazado, RetiroProcesado)
	if err != nil {
		return err
	}
	rows, err := a.svc.Deps.Pool.Query(c.Context(), `SELECT `+retiroCols+`,
		COALESCE((SELECT btrim(u.nombre || ' ' || u.apellido) FROM usuarios u WHERE u.usuario_id = retiros.usuario_id),'')
		FROM retiros WHERE ($1::text IS NULL OR usuario_id = $1) AND ($2::text IS NULL OR estado = $2)
		ORDER BY fecha_solicitud DESC, id DESC LIMIT $3 OFFSET $4`, usuarioID, estado, page.Limit, page.Skip)
	if err != nil {
		return fmt.Errorf("list withdrawals: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ListedWithdrawal, error) {
		var nombre string
		w, err := scanRetiro(r, &nombre)
		// profesional_nombre, for the admin's list: whose money it is.
		return ListedWithdrawal{Withdrawal: w.view(), ProfesionalNombre: nombre}, err
	})
	if err != nil {
		return fmt.Errorf("list withdrawals: %w", err)
	}
	return c.JSON(list)
}

// reviewWithdrawal locks a PENDIENTE withdrawal for an admin's decision.
func reviewWithdrawal(ctx context.Context, tx pgx.Tx, rawID string) (retiro, error) {
	id, err := uuid.Parse(rawID)
	if err != nil {
		return retiro{}, apperr.NotFound("retiro_not_found", "Retiro no encontrado")
	}
	r, err := scanRetiro(tx.QueryRow(ctx, `SELECT `+retiroCols+` FROM retiros WHERE id = $1 FOR UPDATE`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return r, apperr.NotFound("retiro_not_found", "Retiro no encontrado")
	}
	if err != nil {
		return r, fmt.Errorf("read withdrawal %s: %w", id, err)
	}
	if r.Estado != RetiroPendiente {
		return r, apperr.Conflict("retiro_not_pending", "El retiro ya fue revisado (estado "+r.Estado+")")
	}
	return r, nil
}

// approveWithdrawal answers POST /admin/pagos/retiros/{id}/aprobar: the payout is queued
// with an idempotency key derived from the withdrawal and retried until MercadoPago takes
// it; the answer shows APROBADO, and PROCESADO once the transfer left.
func (a *App) approveWithdrawal(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	ctx, after := a.svc.AfterCommit(c.Context())
	var out retiro
	err = pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		r, err := reviewWithdrawal(ctx, tx, c.Params("id"))
		if err != nil {
			return err
		}
		out, err = scanRetiro(tx.QueryRow(ctx, `UPDATE retiros SET estado = $2, revisado_por = $3, fecha_revision = now(), updated_at = now()
			WHERE id = $1 RETURNING `+retiroCols, r.ID, RetiroAprobado, cl.UserID()))
		if err != nil {
			return fmt.Errorf("approve withdrawal %s: %w", r.ID, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO payouts (id, retiro_id, profesional_id, cuenta_destino, monto_centavos, idempotency_key)
			VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (retiro_id) DO NOTHING`,
			uuid.Must(uuid.NewV7()), r.ID, r.UsuarioID, r.Cuenta, r.Monto, "retiro-"+r.ID.String()); err != nil {
			return fmt.Errorf("queue payout of withdrawal %s: %w", r.ID, err)
		}
		return a.emit(ctx, tx, r.ID.String(), events.Meta{}, events.WithdrawalApprovedV1{RetiroID: r.ID.String(), ProfesionalID: r.UsuarioID,
			MontoCentavos: r.Monto, CuentaDestino: r.Cuenta, AprobadoPor: cl.UserID()})
	})
	if err != nil {
		return err
	}
	after()
	wake(a.payoutWake)
	return c.JSON(out.view())
}

// rejectWithdrawal answers POST /admin/pagos/retiros/{id}/rechazar {motivo}: the reserved
// amount goes back to the professional's available balance.
func (a *App) rejectWithdrawal(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in rejectBody
	if err := httpx.BindOptionalJSON(c, &in); err != nil {
		return err
	}
	motivo, err := requiredText(in.Motivo, 3, 500, "motivo_required", "Indicá el motivo del rechazo (de 3 a 500 caracteres)")
	if err != nil {
		return err
	}
	ctx, after := a.svc.AfterCommit(c.Context())
	var out retiro
	err = pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		r, err := reviewWithdrawal(ctx, tx, c.Params("id"))
		if err != nil {
			return err
		}
		out, err = a.returnWithdrawal(ctx, tx, r, motivo, cl.UserID())
		return err
	})
	if err != nil {
		return err
	}
	after()
	return c.JSON(out.view())
}

// returnWithdrawal closes withdrawal r (locked in tx) as RECHAZADO and gives its reserved
// amount back to the professional's available balance: an admin's rejection, or
// MercadoPago refusing the transfer (por "mercadopago").
func (a *App) returnWithdrawal(ctx context.Context, tx pgx.Tx, r retiro, motivo, por string) (retiro, error) {
	out, err := scanRetiro(tx.QueryRow(ctx, `UPDATE retiros SET estado = $2, motivo_rechazo = $3, revisado_por = COALESCE(revisado_por, $4),
		fecha_revision = COALESCE(fecha_revision, now()), fecha_procesado = now(), updated_at = now() WHERE id = $1 RETURNING `+retiroCols,
		r.ID, RetiroRechazado, motivo, por))
	if err != nil {
		return out, fmt.Errorf("reject withdrawal %s: %w", r.ID, err)
	}
	if _, err := postFor(ctx, tx, ledgerOwner{Retiro: &r.ID}, ledger.KindUnreserve, "",
		map[string]string{ledger.ProfessionalPayable: r.UsuarioID, ledger.ProfessionalReserved: r.UsuarioID}, ledger.Unreserve(r.Monto)); err != nil {
		return out, err
	}
	return out, a.emit(ctx, tx, r.ID.String(), events.Meta{}, events.WithdrawalRejectedV1{RetiroID: r.ID.String(), ProfesionalID: r.UsuarioID,
		MontoCentavos: r.Monto, Motivo: motivo, RechazadoPor: por})
}

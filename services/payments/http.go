package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

// jobView is payments' view of a job (a subset of TrabajoRead plus the money details).
func jobView(j job) JobView {
	return JobView{ID: j.ID, TrabajoID: j.ID, ClienteID: j.ClienteID, ProfesionalID: j.ProfesionalID,
		OfertaID: nullStr(j.OfertaID), PrecioFinal: money.Centavos(j.Precio), EstadoEscrow: j.Estado,
		MercadopagoPaymentID: nullStr(j.PaymentID), PaymentPreferenceID: nullStr(j.PreferenceID),
		PaymentURL: nullStr(j.PaymentURL), Congelado: j.Congelado, ComisionPlataforma: centavosPtr(j.Comision),
		MontoLiberado: centavosPtr(j.Liberado), TasaComisionBP: j.TasaBP, FechaCreacion: j.CreatedAt.UTC(),
		FechaActualizacion: j.UpdatedAt.UTC(), Alerta: j.Alerta}
}

// nullStr is s, or nil (JSON null) when empty.
func nullStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func centavosPtr(v *int64) *money.Centavos {
	if v == nil {
		return nil
	}
	c := money.Centavos(*v)
	return &c
}

// createPreferenceHTTP answers POST /mercadopago/create-preference?trabajo_id= and POST
// /pagos/crear-pago {trabajo_id, …} (the frontend's path; monto, descripcion and
// metodo_pago are ignored: the job's price and text are the only truth): the job's one
// checkout link, created now if the event path could not.
func (a *App) createPreferenceHTTP(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var body checkoutBody
	if err := httpx.BindOptionalJSON(c, &body); err != nil {
		return err
	}
	id := strings.TrimSpace(c.Query("trabajo_id"))
	if id == "" {
		id = deref(body.TrabajoID)
	}
	if id == "" {
		return apperr.Validation(apperr.FieldError{Field: "trabajo_id", Msg: "es obligatorio"})
	}
	ctx, after := a.svc.AfterCommit(c.Context())
	var out job
	err = pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		j, ok, err := getJob(ctx, tx, id, true)
		if err != nil {
			return err
		}
		if !ok {
			return apperr.NotFound("trabajo_not_found", "Trabajo no encontrado")
		}
		if cl.Rol != authn.RoleAdmin && j.ClienteID != cl.UserID() {
			return apperr.Forbidden("not_owner", "Solo el cliente del trabajo puede pagarlo")
		}
		if j.Estado != EstadoPendientePago {
			return apperr.Invalid("invalid_state", "El trabajo no está pendiente de pago (estado "+j.Estado+")")
		}
		if j.Checkout != CheckoutCreado {
			// The OfferAccepted event is still on its way: create the link now (the event's
			// handler will find it and reuse it).
			if err := a.createCheckout(ctx, tx, j, events.Meta{}); err != nil {
				return err
			}
			if j, _, err = getJob(ctx, tx, id, false); err != nil {
				return err
			}
		}
		out = j
		return nil
	})
	if err != nil {
		return err
	}
	after()
	if out.Checkout != CheckoutCreado {
		return apperr.New(apperr.KindBadGateway, "checkout_failed", "No se pudo generar el link de pago de MercadoPago. Intentá de nuevo en unos minutos.")
	}
	return c.JSON(Checkout{TrabajoID: out.ID, TransactionID: out.ID, PreferenceID: out.PreferenceID, InitPoint: out.PaymentURL,
		SandboxInitPoint: out.SandboxURL, PaymentURL: out.PaymentURL})
}

func (a *App) escrowBalance(ctx context.Context) (int64, error) {
	var held int64
	err := a.svc.Deps.Pool.QueryRow(ctx, `SELECT COALESCE(-sum(monto_centavos),0)::bigint FROM ledger_entries WHERE cuenta = 'escrow'`).Scan(&held)
	return held, err
}

func (a *App) financials(c *fiber.Ctx) error {
	var facturado, comision int64
	var completados int
	if err := a.svc.Deps.Pool.QueryRow(c.Context(), `SELECT COALESCE(sum(precio_centavos),0)::bigint, COALESCE(sum(comision_centavos),0)::bigint, count(*)
		FROM trabajos WHERE estado_escrow = 'LIBERADO'`).Scan(&facturado, &comision, &completados); err != nil {
		return fmt.Errorf("financials: %w", err)
	}
	held, err := a.escrowBalance(c.Context())
	if err != nil {
		return fmt.Errorf("financials: %w", err)
	}
	return c.JSON(Financials{TotalFacturado: money.Centavos(facturado), ComisionTotal: money.Centavos(comision),
		TrabajosCompletados: completados, DineroEnEscrow: money.Centavos(held)})
}

func (a *App) dashboard(c *fiber.Ctx) error {
	var total, pend, escrow, compl, canc int
	var ingresos, comisiones, liberado int64
	if err := a.svc.Deps.Pool.QueryRow(c.Context(), `SELECT count(*),
		count(*) FILTER (WHERE estado_escrow = 'PENDIENTE_PAGO'), count(*) FILTER (WHERE estado_escrow = 'PAGADO_EN_ESCROW'),
		count(*) FILTER (WHERE estado_escrow = 'LIBERADO'), count(*) FILTER (WHERE estado_escrow IN ('CANCELADO','CANCELADO_REEMBOLSADO')),
		COALESCE(sum(precio_centavos) FILTER (WHERE estado_escrow IN ('PAGADO_EN_ESCROW','LIBERADO')),0)::bigint,
		COALESCE(sum(comision_centavos) FILTER (WHERE estado_escrow = 'LIBERADO'),0)::bigint,
		COALESCE(sum(liberado_centavos) FILTER (WHERE estado_escrow = 'LIBERADO'),0)::bigint
		FROM trabajos`).Scan(&total, &pend, &escrow, &compl, &canc, &ingresos, &comisiones, &liberado); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	held, err := a.escrowBalance(c.Context())
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	var failed int
	if err := a.svc.Deps.Pool.QueryRow(c.Context(), `SELECT count(*) FROM payouts WHERE estado = 'FALLIDO'`).Scan(&failed); err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	return c.JSON(DashboardStats{
		Trabajos: DashboardJobs{Total: total, PendientesPago: pend, EnEscrow: escrow, Completados: compl, Cancelados: canc},
		Finanzas: DashboardFinance{TotalIngresos: money.Centavos(ingresos), TotalComisiones: money.Centavos(comisiones),
			DineroEnEscrow: money.Centavos(held), TotalLiberado: money.Centavos(liberado)},
		PayoutsFallidos: failed,
	})
}

// simulatePayment (sandbox only) pays the job at the simulator, which sends the signed
// webhook to our real webhook path; it waits briefly for the hold to show it.
func (a *App) simulatePayment(c *fiber.Ctx) error {
	if !a.cfg.Sandbox || a.cfg.BaseURL == "" {
		return apperr.NotFound("not_found", "Disponible solo en modo sandbox")
	}
	id := c.Params("id")
	j, ok, err := getJob(c.Context(), a.svc.Deps.Pool, id, false)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound("trabajo_not_found", "Trabajo no encontrado")
	}
	if j.Estado != EstadoPendientePago {
		return apperr.Invalid("invalid_state", "El trabajo no está pendiente de pago (estado "+j.Estado+")")
	}
	if j.Checkout != CheckoutCreado || j.PreferenceID == "" {
		return apperr.Invalid("no_checkout", "El trabajo todavía no tiene link de pago")
	}
	req, err := http.NewRequestWithContext(c.Context(), http.MethodPost,
		a.cfg.BaseURL+"/_sim/preferences/"+url.PathEscape(j.PreferenceID)+"/pay?status=approved", nil)
	if err != nil {
		return fmt.Errorf("simulate payment: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return apperr.New(apperr.KindBadGateway, "simulator_unavailable", "El simulador de MercadoPago no responde")
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		return apperr.New(apperr.KindBadGateway, "simulator_error", fmt.Sprintf("El simulador respondió %d", resp.StatusCode))
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if j, _, err = getJob(c.Context(), a.svc.Deps.Pool, id, false); err != nil {
			return err
		}
		if j.Estado != EstadoPendientePago {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	v, err := a.withMarketplaceJob(c.Context(), j)
	if err != nil {
		return err
	}
	return c.JSON(v)
}

// withMarketplaceJob is the job as the frontend reads it (marketplace's TrabajoRead: work
// state, dates, notes, images) over payments' view, once marketplace has seen the same
// escrow state (a read-your-writes wait, bounded); payments' view alone when marketplace
// cannot tell in time.
func (a *App) withMarketplaceJob(ctx context.Context, j job) (SimulatedJob, error) {
	v, err := asMap(jobView(j))
	if err != nil {
		return nil, fmt.Errorf("simulate payment: %w", err)
	}
	if _, ok := a.svc.Deps.ServiceURLs["marketplace"]; !ok {
		return v, nil
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		var tr map[string]any
		err := a.svc.InternalGet(ctx, "marketplace", "/internal/trabajos/"+url.PathEscape(j.ID), &tr)
		if err == nil && tr["estado_escrow"] == j.Estado {
			for k, val := range tr {
				v[k] = val
			}
			return v, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			a.svc.Deps.Log.Info("simular-pago: answering payments' view of the job", "trabajo", j.ID, "err", err)
			return v, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// asMap is v's JSON as a map, numbers kept as written (money keeps its two decimals), so
// marketplace's fields can be laid over it.
func asMap(v any) (SimulatedJob, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	out := SimulatedJob{}
	return out, dec.Decode(&out)
}

// escrowView shows a job's money and its ledger entries to its parties and admins.
func (a *App) escrowView(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	j, ok, err := getJob(c.Context(), a.svc.Deps.Pool, c.Params("id"), false)
	if err != nil {
		return err
	}
	if !ok {
		return apperr.NotFound("trabajo_not_found", "Trabajo no encontrado")
	}
	if cl.Rol != authn.RoleAdmin && cl.UserID() != j.ClienteID && cl.UserID() != j.ProfesionalID {
		return apperr.Forbidden("not_party", "No participás de este trabajo")
	}
	rows, err := a.svc.Deps.Pool.Query(c.Context(), `SELECT t.tipo, e.cuenta, e.monto_centavos, e.created_at FROM ledger_entries e
		JOIN ledger_txns t ON t.id = e.txn_id WHERE e.trabajo_id = $1 ORDER BY e.id`, j.ID)
	if err != nil {
		return fmt.Errorf("escrow view: %w", err)
	}
	movs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (EscrowMovement, error) {
		var m EscrowMovement
		return m, r.Scan(&m.Tipo, &m.Cuenta, &m.Monto, &m.Fecha)
	})
	if err != nil {
		return fmt.Errorf("escrow view: %w", err)
	}
	return c.JSON(EscrowView{JobView: jobView(j), Movimientos: movs})
}

// failedPayouts answers GET /payout/fallidos: every payout not sent yet (of a withdrawal
// or, from the earlier model, of a job), with its last error.
func (a *App) failedPayouts(c *fiber.Ctx) error {
	rows, err := a.svc.Deps.Pool.Query(c.Context(), `SELECT id::text, COALESCE(trabajo_id,''), COALESCE(retiro_id::text,''), profesional_id,
		cuenta_destino, monto_centavos, estado, intentos, COALESCE(ultimo_error,''), next_attempt_at, created_at
		FROM payouts WHERE estado <> 'ENVIADO' ORDER BY created_at DESC LIMIT 100`)
	if err != nil {
		return fmt.Errorf("failed payouts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (FailedPayout, error) {
		var id, tid, rid, pid, cuenta, estado, errMsg string
		var monto int64
		var intentos int
		var next, created time.Time
		err := r.Scan(&id, &tid, &rid, &pid, &cuenta, &monto, &estado, &intentos, &errMsg, &next, &created)
		return FailedPayout{ID: id, TrabajoID: nullStr(tid), RetiroID: nullStr(rid), ProfesionalID: pid, CuentaDestino: cuenta,
			Monto: money.Centavos(monto), Estado: estado, Intentos: intentos, UltimoError: errMsg,
			ProximoIntento: next.UTC(), CreatedAt: created.UTC()}, err
	})
	if err != nil {
		return fmt.Errorf("failed payouts: %w", err)
	}
	return c.JSON(FailedPayouts{Payouts: out, Total: len(out)})
}

// retryPayout answers POST /payout/{id}/reintentar, id being the withdrawal's or (earlier
// model) the job's: the payout is tried again now.
func (a *App) retryPayout(c *fiber.Ctx) error {
	tag, err := a.svc.Deps.Pool.Exec(c.Context(), `UPDATE payouts SET next_attempt_at = now()
		WHERE (trabajo_id = $1 OR retiro_id::text = $1) AND estado NOT IN ('ENVIADO','RECHAZADO')`, c.Params("id"))
	if err != nil {
		return fmt.Errorf("retry payout: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("payout_not_found", "No hay un pago pendiente para ese retiro o trabajo")
	}
	wake(a.payoutWake)
	return c.JSON(StatusMessage{Status: "ok", Mensaje: "Reintento programado"})
}

func (a *App) ledgerCheck(c *fiber.Ctx) error {
	r, err := CheckLedger(c.Context(), a.svc.Deps.Pool)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return fmt.Errorf("ledger check: %w", err)
	}
	return c.JSON(r)
}

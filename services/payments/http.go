package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
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

func (a *App) routes() {
	app := a.svc.App
	app.Post("/api/v1/webhook/mercadopago", a.postWebhook)

	auth := a.svc.Auth()
	cliente := authn.Require(authn.RoleCliente, authn.RoleAdmin)
	admin := authn.Require(authn.RoleAdmin)
	app.Post("/api/v1/mercadopago/create-preference", auth, cliente, a.createPreferenceHTTP)
	app.Post("/api/v1/payments/create-preference", auth, cliente, a.createPreferenceHTTP)

	app.Get("/api/v1/payments/history", auth, a.history)
	app.Get("/api/v1/pagos/historial", auth, a.history)
	app.Get("/api/v1/pagos/balance", auth, authn.Require(authn.RoleProfesional), a.balance)

	app.Get("/api/v1/admin/metrics/financials", auth, admin, a.financials)
	app.Get("/api/v1/admin/dashboard/stats", auth, admin, a.dashboard)
	app.Post("/api/v1/admin/trabajo/:id/simular-pago", auth, admin, a.simulatePayment)

	app.Get("/api/v1/escrow/:id", auth, a.escrowView)
	app.Get("/api/v1/payout/fallidos", auth, admin, a.failedPayouts)
	app.Post("/api/v1/payout/:id/reintentar", auth, admin, a.retryPayout)
	app.Get("/api/v1/escrow/ledger/check", auth, admin, a.ledgerCheck)
}

// jobView is payments' view of a job (a subset of TrabajoRead plus the money details).
func jobView(j job) fiber.Map {
	m := fiber.Map{
		"id": j.ID, "trabajo_id": j.ID, "cliente_id": j.ClienteID, "profesional_id": j.ProfesionalID,
		"oferta_id": nullStr(j.OfertaID), "precio_final": money.Centavos(j.Precio), "estado_escrow": j.Estado,
		"mercadopago_payment_id": nullStr(j.PaymentID), "payment_preference_id": nullStr(j.PreferenceID),
		"payment_url": nullStr(j.PaymentURL), "congelado": j.Congelado, "comision_plataforma": nil, "monto_liberado": nil,
		"tasa_comision_bp": j.TasaBP, "fecha_creacion": j.CreatedAt.UTC(), "fecha_actualizacion": j.UpdatedAt.UTC(),
	}
	if j.Comision != nil {
		m["comision_plataforma"] = money.Centavos(*j.Comision)
	}
	if j.Liberado != nil {
		m["monto_liberado"] = money.Centavos(*j.Liberado)
	}
	if j.Alerta != "" {
		m["alerta"] = j.Alerta
	}
	return m
}

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// createPreferenceHTTP returns the job's one checkout link, creating it if the event
// path could not.
func (a *App) createPreferenceHTTP(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	id := c.Query("trabajo_id")
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
	return c.JSON(fiber.Map{"trabajo_id": out.ID, "preference_id": out.PreferenceID, "init_point": out.PaymentURL,
		"sandbox_init_point": out.SandboxURL, "payment_url": out.PaymentURL})
}

// history: a client sees what they paid, a professional what they received.
func (a *App) history(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	page, err := httpx.Paging(c, 50)
	if err != nil {
		return err
	}
	estado := c.Query("estado")
	col, tipo := "cliente_id", "cliente"
	if cl.Rol == authn.RoleProfesional {
		col, tipo = "profesional_id", "profesional"
	}
	where := col + " = $1"
	args := []any{cl.UserID()}
	if cl.Rol == authn.RoleAdmin {
		where, args = "$1::text IS NOT NULL", []any{""}
		tipo = "admin"
	}
	if estado != "" {
		where += " AND estado_escrow = $2"
		args = append(args, estado)
	} else {
		// Jobs never paid are not payments.
		where += " AND estado_escrow NOT IN ('PENDIENTE_PAGO','CANCELADO')"
	}
	var total int
	if err := a.svc.Deps.Pool.QueryRow(c.Context(), "SELECT count(*) FROM trabajos WHERE "+where, args...).Scan(&total); err != nil {
		return fmt.Errorf("history count: %w", err)
	}
	rows, err := a.svc.Deps.Pool.Query(c.Context(), "SELECT "+jobCols+" FROM trabajos WHERE "+where+
		fmt.Sprintf(" ORDER BY COALESCE(pagado_at, created_at) DESC LIMIT %d OFFSET %d", page.Limit, page.Skip), args...)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	jobs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (job, error) { return scanJob(r) })
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	pagos := make([]fiber.Map, 0, len(jobs))
	for _, j := range jobs {
		fecha := j.CreatedAt.UTC()
		if tipo == "profesional" {
			p := fiber.Map{"trabajo_id": j.ID, "tipo": "ingreso", "monto_total": money.Centavos(j.Precio),
				"comision": nil, "monto_recibido": nil, "estado": j.Estado, "fecha": fecha, "cliente_id": j.ClienteID,
				"oferta_id": nullStr(j.OfertaID)}
			if j.Comision != nil {
				p["comision"] = money.Centavos(*j.Comision)
			}
			if j.Liberado != nil {
				p["monto_recibido"] = money.Centavos(*j.Liberado)
			}
			pagos = append(pagos, p)
			continue
		}
		pagos = append(pagos, fiber.Map{"trabajo_id": j.ID, "tipo": "egreso", "monto": money.Centavos(j.Precio),
			"estado": j.Estado, "fecha": fecha, "profesional_id": j.ProfesionalID, "cliente_id": j.ClienteID,
			"oferta_id": nullStr(j.OfertaID), "mercadopago_payment_id": nullStr(j.PaymentID)})
	}
	return c.JSON(fiber.Map{"tipo": tipo, "pagos": pagos, "total": total})
}

// balance: a professional's money in escrow, released, paid out and waiting payout.
func (a *App) balance(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var enEscrow, liberado, comision, pagado, pendiente int64
	var nEscrow, nLiberados int
	err = a.svc.Deps.Pool.QueryRow(c.Context(), `SELECT
		COALESCE(sum(precio_centavos) FILTER (WHERE estado_escrow = 'PAGADO_EN_ESCROW'),0)::bigint,
		count(*) FILTER (WHERE estado_escrow = 'PAGADO_EN_ESCROW'),
		COALESCE(sum(liberado_centavos) FILTER (WHERE estado_escrow = 'LIBERADO'),0)::bigint,
		COALESCE(sum(comision_centavos) FILTER (WHERE estado_escrow = 'LIBERADO'),0)::bigint,
		count(*) FILTER (WHERE estado_escrow = 'LIBERADO')
		FROM trabajos WHERE profesional_id = $1`, cl.UserID()).Scan(&enEscrow, &nEscrow, &liberado, &comision, &nLiberados)
	if err != nil {
		return fmt.Errorf("balance: %w", err)
	}
	err = a.svc.Deps.Pool.QueryRow(c.Context(), `SELECT
		COALESCE(sum(monto_centavos) FILTER (WHERE estado = 'ENVIADO'),0)::bigint,
		COALESCE(sum(monto_centavos) FILTER (WHERE estado <> 'ENVIADO'),0)::bigint
		FROM payouts WHERE profesional_id = $1`, cl.UserID()).Scan(&pagado, &pendiente)
	if err != nil {
		return fmt.Errorf("balance: %w", err)
	}
	return c.JSON(fiber.Map{"en_escrow": money.Centavos(enEscrow), "trabajos_en_escrow": nEscrow,
		"liberado": money.Centavos(liberado), "comision_total": money.Centavos(comision), "trabajos_liberados": nLiberados,
		"pagado": money.Centavos(pagado), "pendiente_de_pago": money.Centavos(pendiente), "moneda": "ARS"})
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
	return c.JSON(fiber.Map{"total_facturado": money.Centavos(facturado), "comision_total": money.Centavos(comision),
		"trabajos_completados": completados, "dinero_en_escrow": money.Centavos(held)})
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
	return c.JSON(fiber.Map{
		"trabajos": fiber.Map{"total": total, "pendientes_pago": pend, "en_escrow": escrow, "completados": compl, "cancelados": canc},
		"finanzas": fiber.Map{"total_ingresos": money.Centavos(ingresos), "total_comisiones": money.Centavos(comisiones),
			"dinero_en_escrow": money.Centavos(held), "total_liberado": money.Centavos(liberado)},
		"payouts_fallidos": failed,
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
	return c.JSON(jobView(j))
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
	type mov struct {
		Tipo   string         `json:"tipo"`
		Cuenta string         `json:"cuenta"`
		Monto  money.Centavos `json:"monto"`
		Fecha  time.Time      `json:"fecha"`
	}
	movs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mov, error) {
		var m mov
		return m, r.Scan(&m.Tipo, &m.Cuenta, &m.Monto, &m.Fecha)
	})
	if err != nil {
		return fmt.Errorf("escrow view: %w", err)
	}
	v := jobView(j)
	v["movimientos"] = movs
	return c.JSON(v)
}

func (a *App) failedPayouts(c *fiber.Ctx) error {
	rows, err := a.svc.Deps.Pool.Query(c.Context(), `SELECT id::text, trabajo_id, profesional_id, cuenta_destino, monto_centavos, estado, intentos,
		COALESCE(ultimo_error,''), next_attempt_at, created_at FROM payouts WHERE estado <> 'ENVIADO' ORDER BY created_at DESC LIMIT 100`)
	if err != nil {
		return fmt.Errorf("failed payouts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (fiber.Map, error) {
		var id, tid, pid, cuenta, estado, errMsg string
		var monto int64
		var intentos int
		var next, created time.Time
		err := r.Scan(&id, &tid, &pid, &cuenta, &monto, &estado, &intentos, &errMsg, &next, &created)
		return fiber.Map{"id": id, "trabajo_id": tid, "profesional_id": pid, "cuenta_destino": cuenta, "monto": money.Centavos(monto),
			"estado": estado, "intentos": intentos, "ultimo_error": errMsg, "proximo_intento": next.UTC(), "created_at": created.UTC()}, err
	})
	if err != nil {
		return fmt.Errorf("failed payouts: %w", err)
	}
	return c.JSON(fiber.Map{"payouts": out, "total": len(out)})
}

func (a *App) retryPayout(c *fiber.Ctx) error {
	tag, err := a.svc.Deps.Pool.Exec(c.Context(), `UPDATE payouts SET next_attempt_at = now() WHERE trabajo_id = $1 AND estado <> 'ENVIADO'`, c.Params("id"))
	if err != nil {
		return fmt.Errorf("retry payout: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("payout_not_found", "No hay un pago pendiente para ese trabajo")
	}
	wake(a.payoutWake)
	return c.JSON(fiber.Map{"status": "ok", "mensaje": "Reintento programado"})
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

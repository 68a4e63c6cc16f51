package payments

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/payments/ledger"
)

// Movement kinds and states of /pagos/historial (the frontend's lower-case vocabulary).
const (
	MovIngreso  = "ingreso"
	MovEgreso   = "egreso"
	MovComision = "comision"
)

// movementEstadoSQL translates a job's escrow state into the movement vocabulary
// (frontend-shapes §3 item 12): waiting or held → pendiente (en_disputa while a dispute
// freezes it), LIBERADO → completado, CANCELADO_REEMBOLSADO → reembolsado, CANCELADO →
// cancelado.
const movementEstadoSQL = `CASE
	WHEN t.estado_escrow IN ('PENDIENTE_PAGO','PAGADO_EN_ESCROW') AND t.congelado AND t.disputa_id IS NOT NULL THEN 'en_disputa'
	WHEN t.estado_escrow IN ('PENDIENTE_PAGO','PAGADO_EN_ESCROW') THEN 'pendiente'
	WHEN t.estado_escrow = 'LIBERADO' THEN 'completado'
	WHEN t.estado_escrow = 'CANCELADO_REEMBOLSADO' THEN 'reembolsado'
	ELSE 'cancelado' END`

// withdrawalEstadoSQL translates a withdrawal's state into the movement vocabulary.
const withdrawalEstadoSQL = `CASE w.estado WHEN 'PROCESADO' THEN 'completado' WHEN 'RECHAZADO' THEN 'cancelado' ELSE 'pendiente' END`

// movementsSQL is every money movement one party sees, as rows of (id, tipo, estado,
// descripcion, fecha, cliente_id, profesional_id, monto, comision, trabajo_id,
// estado_escrow, oferta_id, payment_id). $1 is the user (NULL for an admin, who sees all).
// A client sees what they paid (egreso per paid job); a professional what they earned
// (ingreso per paid job, gross, with the commission beside it), the commission the
// platform kept on each release (comision), their withdrawals (egreso), the share a
// chargeback after release took back (egreso) and, if the chargeback was reversed, gave
// back (ingreso); an admin the platform's view: ingreso per job, comision per release,
// egreso per withdrawal.
func movementsSQL(role string) string {
	jobCols := func(id, tipo, estado, desc, fecha, monto string) string {
		return `SELECT ` + id + ` AS id, '` + tipo + `' AS tipo, ` + estado + ` AS estado, ` + desc + ` AS descripcion, ` + fecha + ` AS fecha,
			t.cliente_id, t.profesional_id, ` + monto + ` AS monto, COALESCE(t.comision_centavos,0) AS comision, t.trabajo_id,
			t.estado_escrow, COALESCE(t.oferta_id,'') AS oferta_id, COALESCE(t.payment_id,'') AS payment_id FROM trabajos t `
	}
	paid := ` AND t.estado_escrow NOT IN ('PENDIENTE_PAGO','CANCELADO')`
	jobFecha := `COALESCE(t.pagado_at, t.created_at)`
	withdrawals := `SELECT w.id::text, 'egreso', ` + withdrawalEstadoSQL + `, 'Retiro a la cuenta ' || w.cuenta_destino, w.fecha_solicitud,
			NULL::text, w.usuario_id, w.monto_centavos, 0::bigint, NULL::text, NULL::text, '', '' FROM retiros w `
	commissions := jobCols(`'comision-' || t.trabajo_id`, MovComision, `'completado'`, `'Comisión de la plataforma: ' || t.descripcion`,
		`COALESCE(t.liberado_at, t.updated_at)`, `t.comision_centavos`)
	// A chargeback of released money takes the professional's share back from their
	// balance; one decided for the seller gives it back.
	balanceMove := func(id, tipo, desc, kind string) string {
		return jobCols(`'`+id+`-' || t.trabajo_id`, tipo, `'completado'`, `'`+desc+`: ' || t.descripcion`,
			`l.created_at`, `t.liberado_centavos`) + `JOIN ledger_txns l ON l.trabajo_id = t.trabajo_id AND l.tipo = '` + kind + `'
			AND EXISTS (SELECT 1 FROM ledger_entries e WHERE e.txn_id = l.id AND e.cuenta = 'professional_payable') `
	}
	chargebacks := balanceMove("contracargo", MovEgreso, "Contracargo", ledger.KindChargeback)
	reversals := balanceMove("contracargo-revertido", MovIngreso, "Contracargo revertido", ledger.KindChargebackReversal)
	switch role {
	case authn.RoleCliente:
		return jobCols(`t.trabajo_id`, MovEgreso, movementEstadoSQL, `t.descripcion`, jobFecha, `t.precio_centavos`) +
			`WHERE t.cliente_id = $1` + paid
	case authn.RoleProfesional:
		return jobCols(`t.trabajo_id`, MovIngreso, movementEstadoSQL, `t.descripcion`, jobFecha, `t.precio_centavos`) +
			`WHERE t.profesional_id = $1` + paid +
			` UNION ALL ` + commissions + `WHERE t.profesional_id = $1 AND t.estado_escrow = 'LIBERADO' AND t.comision_centavos > 0` +
			` UNION ALL ` + chargebacks + `WHERE t.profesional_id = $1` +
			` UNION ALL ` + reversals + `WHERE t.profesional_id = $1` +
			` UNION ALL ` + withdrawals + `WHERE w.usuario_id = $1`
	}
	return jobCols(`t.trabajo_id`, MovIngreso, movementEstadoSQL, `t.descripcion`, jobFecha, `t.precio_centavos`) +
		`WHERE $1::text IS NULL` + paid +
		` UNION ALL ` + commissions + `WHERE t.estado_escrow = 'LIBERADO' AND t.comision_centavos > 0` +
		` UNION ALL ` + withdrawals
}

// movementFilter is the parsed ?tipo, ?desde, ?hasta and (earlier API) ?estado.
type movementFilter struct {
	Tipo   *string
	Desde  *time.Time
	Hasta  *time.Time // exclusive
	Escrow *string
}

// parseDay reads an ISO date (a whole day) or an RFC 3339 instant. end=true turns a date
// into the start of the next day, so ?hasta=2026-12-05 includes that day.
func parseDay(field, v string, end bool) (*time.Time, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return &t, nil
	}
	t, err := time.Parse("2006-01-02", v)
	if err != nil {
		return nil, apperr.Invalid("invalid_date", fmt.Sprintf("La fecha «%s» no es válida: usá AAAA-MM-DD", field))
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return &t, nil
}

func parseMovementFilter(c *fiber.Ctx) (movementFilter, error) {
	var f movementFilter
	if v := strings.ToLower(strings.TrimSpace(c.Query("tipo"))); v != "" && v != "todos" {
		switch v {
		case MovIngreso, MovEgreso, MovComision:
			v = strings.Clone(v)
			f.Tipo = &v
		default:
			return f, apperr.Invalid("invalid_type", "El tipo debe ser ingreso, egreso o comision")
		}
	}
	var err error
	if f.Desde, err = parseDay("desde", c.Query("desde"), false); err != nil {
		return f, err
	}
	if f.Hasta, err = parseDay("hasta", c.Query("hasta"), true); err != nil {
		return f, err
	}
	if f.Desde != nil && f.Hasta != nil && !f.Desde.Before(*f.Hasta) {
		return f, apperr.Invalid("invalid_range", "La fecha «desde» debe ser anterior a «hasta»")
	}
	if v := strings.TrimSpace(c.Query("estado")); v != "" {
		v = strings.Clone(strings.ToUpper(v))
		f.Escrow = &v
	}
	return f, nil
}

// historyParty is whose movements a caller sees: their own, or (admin) everyone's.
func historyParty(cl authn.Claims) (role string, user *string) {
	if cl.Rol == authn.RoleAdmin {
		return authn.RoleAdmin, nil
	}
	u := cl.UserID()
	return cl.Rol, &u
}

// history answers GET /pagos/historial and GET /payments/history (one handler): the
// caller's money movements, filtered and paged, with totals over the whole filter.
func (a *App) history(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	page, err := httpx.Paging(c, 50)
	if err != nil {
		return err
	}
	f, err := parseMovementFilter(c)
	if err != nil {
		return err
	}
	role, user := historyParty(cl)
	base := `WITH m AS (` + movementsSQL(role) + `) `
	where := ` WHERE ($2::text IS NULL OR m.tipo = $2) AND ($3::timestamptz IS NULL OR m.fecha >= $3)
		AND ($4::timestamptz IS NULL OR m.fecha < $4) AND ($5::text IS NULL OR m.estado_escrow = $5)`
	args := []any{user, f.Tipo, f.Desde, f.Hasta, f.Escrow}
	ctx := c.Context()
	var total int
	var ingresos, egresos, comisiones int64
	err = a.svc.Deps.Pool.QueryRow(ctx, base+`SELECT count(*),
		COALESCE(sum(m.monto) FILTER (WHERE m.tipo = 'ingreso' AND m.estado NOT IN ('cancelado','reembolsado')),0)::bigint,
		COALESCE(sum(m.monto) FILTER (WHERE m.tipo = 'egreso' AND m.estado NOT IN ('cancelado','reembolsado')),0)::bigint,
		COALESCE(sum(m.monto) FILTER (WHERE m.tipo = 'comision'),0)::bigint
		FROM m`+where, args...).Scan(&total, &ingresos, &egresos, &comisiones)
	if err != nil {
		return fmt.Errorf("history totals: %w", err)
	}
	rows, err := a.svc.Deps.Pool.Query(ctx, base+`SELECT m.id, m.tipo, m.estado, m.descripcion, m.fecha, COALESCE(m.cliente_id,''), m.profesional_id,
		m.monto, m.comision, COALESCE(m.trabajo_id,''), COALESCE(m.estado_escrow,''), m.oferta_id, m.payment_id,
		`+movClienteNombreSQL+`, `+movProfesionalNombreSQL+`
		FROM m`+where+fmt.Sprintf(` ORDER BY m.fecha DESC, m.id DESC LIMIT %d OFFSET %d`, page.Limit, page.Skip), args...)
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	type mov struct {
		ID, Tipo, Estado, Descripcion              string
		Fecha                                      time.Time
		ClienteID, ProfesionalID                   string
		Monto, Comision                            int64
		TrabajoID, EstadoEscrow, OfertaID, Payment string
		ClienteNombre, ProfesionalNombre           string
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (mov, error) {
		var m mov
		return m, r.Scan(&m.ID, &m.Tipo, &m.Estado, &m.Descripcion, &m.Fecha, &m.ClienteID, &m.ProfesionalID, &m.Monto, &m.Comision,
			&m.TrabajoID, &m.EstadoEscrow, &m.OfertaID, &m.Payment, &m.ClienteNombre, &m.ProfesionalNombre)
	})
	if err != nil {
		return fmt.Errorf("history: %w", err)
	}
	movimientos := make([]Movement, 0, len(list))
	// pagos keeps the earlier API's shape (one item per job) for /payments/history clients.
	pagos := make([]HistoryPayment, 0, len(list))
	for _, m := range list {
		movimientos = append(movimientos, Movement{ID: m.ID, Tipo: m.Tipo, Estado: m.Estado, Descripcion: m.Descripcion,
			FechaCreacion: m.Fecha.UTC(), Fecha: m.Fecha.UTC(), ClienteID: nullStr(m.ClienteID), ProfesionalID: m.ProfesionalID,
			ClienteNombre: m.ClienteNombre, ProfesionalNombre: m.ProfesionalNombre,
			Monto: money.Centavos(m.Monto), ComisionPlataforma: money.Centavos(m.Comision), TrabajoID: nullStr(m.TrabajoID)})
		if m.TrabajoID == "" || m.Tipo == MovComision {
			continue
		}
		if role == authn.RoleCliente {
			pagos = append(pagos, HistoryPayment{ClientPayment{TrabajoID: m.TrabajoID, Tipo: MovEgreso, Monto: money.Centavos(m.Monto),
				Estado: m.EstadoEscrow, Fecha: m.Fecha.UTC(), ProfesionalID: m.ProfesionalID, ClienteID: m.ClienteID,
				OfertaID: nullStr(m.OfertaID), MercadopagoPaymentID: nullStr(m.Payment)}})
			continue
		}
		p := ProfessionalPayment{TrabajoID: m.TrabajoID, Tipo: MovIngreso, MontoTotal: money.Centavos(m.Monto),
			Estado: m.EstadoEscrow, Fecha: m.Fecha.UTC(), ClienteID: m.ClienteID, OfertaID: nullStr(m.OfertaID)}
		if m.EstadoEscrow == EstadoLiberado {
			comision, recibido := money.Centavos(m.Comision), money.Centavos(m.Monto-m.Comision)
			p.Comision, p.MontoRecibido = &comision, &recibido
		}
		pagos = append(pagos, HistoryPayment{p})
	}
	tipo := map[string]string{authn.RoleCliente: "cliente", authn.RoleProfesional: "profesional"}[role]
	if tipo == "" {
		tipo = "admin"
	}
	return c.JSON(History{Movimientos: movimientos, Total: total, Page: page.Page, Limit: page.Limit,
		Resumen: HistorySummary{TotalIngresos: money.Centavos(ingresos), TotalEgresos: money.Centavos(egresos),
			TotalComisiones: money.Centavos(comisiones)},
		Tipo: tipo, Pagos: pagos})
}

// A person's display name from the names replica ("" when unknown), for the client and
// the professional of a row aliased m (movements) or t (jobs).
const (
	movClienteNombreSQL     = `COALESCE((SELECT btrim(u.nombre || ' ' || u.apellido) FROM usuarios u WHERE u.usuario_id = m.cliente_id),'')`
	movProfesionalNombreSQL = `COALESCE((SELECT btrim(u.nombre || ' ' || u.apellido) FROM usuarios u WHERE u.usuario_id = m.profesional_id),'')`
	clienteNombreSQL        = `COALESCE((SELECT btrim(u.nombre || ' ' || u.apellido) FROM usuarios u WHERE u.usuario_id = t.cliente_id),'')`
	profesionalNombreSQL    = `COALESCE((SELECT btrim(u.nombre || ' ' || u.apellido) FROM usuarios u WHERE u.usuario_id = t.profesional_id),'')`
)

// professionalFigures are a professional's money figures, each computed once from the
// ledger (joined with the jobs it belongs to where the account is not per person).
type professionalFigures struct {
	Disponible          int64 // may be withdrawn now
	Deuda               int64 // owed after a chargeback of released money; releases pay it first
	Reservado           int64 // in withdrawals waiting for review or payout
	EnEscrow            int64 // paid by clients, held until release
	TotalGanado         int64 // credited by releases (net of commission), ever
	TotalComisiones     int64 // kept by the platform on this professional's releases
	Retirado            int64 // transferred out (withdrawals and earlier automatic payouts)
	LegacyPendiente     int64 // earlier automatic payouts not sent yet
	TrabajosCompletados int   // jobs released
	TrabajosEnEscrow    int   // jobs whose money is held
}

func (a *App) figures(ctx context.Context, q querier, user string) (professionalFigures, error) {
	var f professionalFigures
	var payable int64
	err := q.QueryRow(ctx, `SELECT
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.cuenta = 'professional_payable'),0)::bigint,
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.cuenta = 'professional_reserved'),0)::bigint,
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.cuenta = 'professional_payable' AND t.tipo = 'RELEASE'),0)::bigint,
		COALESCE(sum(e.monto_centavos) FILTER (WHERE t.tipo = 'PAYOUT'),0)::bigint
		FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id
		WHERE e.usuario_id = $1 AND e.cuenta IN ('professional_payable','professional_reserved')`, user).
		Scan(&payable, &f.Reservado, &f.TotalGanado, &f.Retirado)
	if err != nil {
		return f, fmt.Errorf("figures of %s: %w", user, err)
	}
	err = q.QueryRow(ctx, `SELECT
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.cuenta = 'escrow'),0)::bigint,
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.cuenta = 'platform_revenue'),0)::bigint,
		count(DISTINCT e.trabajo_id) FILTER (WHERE t.tipo = 'RELEASE'),
		(SELECT count(*) FROM trabajos WHERE profesional_id = $1 AND estado_escrow = 'PAGADO_EN_ESCROW'),
		COALESCE((SELECT sum(monto_centavos) FROM payouts WHERE profesional_id = $1 AND trabajo_id IS NOT NULL AND estado <> 'ENVIADO'),0)::bigint
		FROM trabajos j JOIN ledger_entries e ON e.trabajo_id = j.trabajo_id JOIN ledger_txns t ON t.id = e.txn_id
		WHERE j.profesional_id = $1`, user).Scan(&f.EnEscrow, &f.TotalComisiones, &f.TrabajosCompletados, &f.TrabajosEnEscrow, &f.LegacyPendiente)
	if err != nil {
		return f, fmt.Errorf("figures of %s: %w", user, err)
	}
	// The same rule as a withdrawal request (available).
	f.Disponible = max(payable-f.LegacyPendiente, 0)
	f.Deuda = max(-payable, 0)
	return f, nil
}

// balance answers GET /pagos/balance: the frontend's cards (disponible, pendiente,
// total_ganado, total_comisiones, trabajos_completados) and the earlier names beside them,
// all from one computation.
func (a *App) balance(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	f, err := a.figures(c.Context(), a.svc.Deps.Pool, cl.UserID())
	if err != nil {
		return err
	}
	return c.JSON(Balance{
		Disponible: money.Centavos(f.Disponible), Deuda: money.Centavos(f.Deuda), Pendiente: money.Centavos(f.EnEscrow),
		TotalGanado: money.Centavos(f.TotalGanado), TotalComisiones: money.Centavos(f.TotalComisiones),
		TrabajosCompletados: f.TrabajosCompletados, EnRetiro: money.Centavos(f.Reservado),
		Retirado: money.Centavos(f.Retirado),
		EnEscrow: money.Centavos(f.EnEscrow), TrabajosEnEscrow: f.TrabajosEnEscrow,
		Liberado: money.Centavos(f.TotalGanado), ComisionTotal: money.Centavos(f.TotalComisiones),
		TrabajosLiberados: f.TrabajosCompletados, Pagado: money.Centavos(f.Retirado),
		PendienteDePago: money.Centavos(f.Reservado + f.LegacyPendiente), Moneda: "ARS"})
}

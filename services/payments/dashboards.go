package payments

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/money"
)

// argentina is the marketplace's time zone (no daylight saving since 2009): "this month"
// is a calendar month there, not in UTC.
var argentina = time.FixedZone("ART", -3*60*60)

// monthStart is the first instant of the month containing t, in Argentina, shifted by
// delta months.
func monthStart(t time.Time, delta int) time.Time {
	l := t.In(argentina)
	return time.Date(l.Year(), l.Month()+time.Month(delta), 1, 0, 0, 0, 0, argentina)
}

// professionalDashboard answers GET /pagos/dashboard: this and last month's earnings (net
// of commission, as releases credited them), jobs released this month, the average per
// released job, the money on its way (held jobs), open withdrawals and the commission paid.
func (a *App) professionalDashboard(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	ctx, user := c.Context(), cl.UserID()
	f, err := a.figures(ctx, a.svc.Deps.Pool, user)
	if err != nil {
		return err
	}
	now := a.now()
	var mes, mesAnterior int64
	var trabajosMes int
	err = a.svc.Deps.Pool.QueryRow(ctx, `SELECT
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.created_at >= $2),0)::bigint,
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.created_at >= $3 AND e.created_at < $2),0)::bigint,
		count(*) FILTER (WHERE e.created_at >= $2)
		FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id
		WHERE e.usuario_id = $1 AND e.cuenta = 'professional_payable' AND t.tipo = 'RELEASE'`,
		user, monthStart(now, 0), monthStart(now, -1)).Scan(&mes, &mesAnterior, &trabajosMes)
	if err != nil {
		return fmt.Errorf("professional dashboard: %w", err)
	}
	promedio := int64(0)
	if f.TrabajosCompletados > 0 {
		n := int64(f.TrabajosCompletados)
		promedio = (f.TotalGanado + n/2) / n // to the centavo, half up
	}
	rows, err := a.svc.Deps.Pool.Query(ctx, `SELECT `+transactionCols+` FROM trabajos t
		WHERE t.profesional_id = $1 AND t.estado_escrow = $2 ORDER BY t.pagado_at, t.trabajo_id LIMIT 50`, user, EstadoEnEscrow)
	if err != nil {
		return fmt.Errorf("professional dashboard: %w", err)
	}
	proximos, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transaction, error) {
		t, err := scanTransaction(r)
		return t.view(cl), err
	})
	if err != nil {
		return fmt.Errorf("professional dashboard: %w", err)
	}
	rows, err = a.svc.Deps.Pool.Query(ctx, `SELECT `+retiroCols+` FROM retiros WHERE usuario_id = $1 AND estado IN ($2,$3)
		ORDER BY fecha_solicitud DESC, id DESC`, user, RetiroPendiente, RetiroAprobado)
	if err != nil {
		return fmt.Errorf("professional dashboard: %w", err)
	}
	retiros, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Withdrawal, error) {
		w, err := scanRetiro(r)
		return w.view(), err
	})
	if err != nil {
		return fmt.Errorf("professional dashboard: %w", err)
	}
	return c.JSON(ProfessionalDashboard{
		IngresosMesActual: money.Centavos(mes), IngresosMesAnterior: money.Centavos(mesAnterior),
		TrabajosCompletadosMes: trabajosMes, PromedioPorTrabajo: money.Centavos(promedio),
		ProximosPagos: proximos, RetirosPendientes: retiros, ComisionesPagadas: money.Centavos(f.TotalComisiones),
		Disponible: money.Centavos(f.Disponible), Pendiente: money.Centavos(f.EnEscrow),
	})
}

// adminPaymentsDashboard answers GET /admin/pagos/dashboard: money processed (payments
// held in escrow, ever and in the last 30 days), jobs waiting for payment, withdrawals
// waiting for review, and the commission earned, all from the ledger and the two queues.
func (a *App) adminPaymentsDashboard(c *fiber.Ctx) error {
	ctx := c.Context()
	var procesado, ultimoMes, comisiones, retirosMonto int64
	var transacciones, pagosPendientes, retirosPendientes, payoutsFallidos int
	err := a.svc.Deps.Pool.QueryRow(ctx, `SELECT
		COALESCE(sum(e.monto_centavos) FILTER (WHERE t.tipo = 'HOLD' AND e.cuenta = 'mp_balance'),0)::bigint,
		COALESCE(sum(e.monto_centavos) FILTER (WHERE t.tipo = 'HOLD' AND e.cuenta = 'mp_balance' AND e.created_at >= $1),0)::bigint,
		count(DISTINCT t.id) FILTER (WHERE t.tipo = 'HOLD'),
		COALESCE(-sum(e.monto_centavos) FILTER (WHERE e.cuenta = 'platform_revenue'),0)::bigint
		FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id`, a.now().Add(-30*24*time.Hour)).
		Scan(&procesado, &ultimoMes, &transacciones, &comisiones)
	if err != nil {
		return fmt.Errorf("admin payments dashboard: %w", err)
	}
	err = a.svc.Deps.Pool.QueryRow(ctx, `SELECT
		(SELECT count(*) FROM trabajos WHERE estado_escrow = 'PENDIENTE_PAGO'),
		(SELECT count(*) FROM retiros WHERE estado = 'PENDIENTE'),
		(SELECT COALESCE(sum(monto_centavos),0) FROM retiros WHERE estado = 'PENDIENTE')::bigint,
		(SELECT count(*) FROM payouts WHERE estado = 'FALLIDO')`).Scan(&pagosPendientes, &retirosPendientes, &retirosMonto, &payoutsFallidos)
	if err != nil {
		return fmt.Errorf("admin payments dashboard: %w", err)
	}
	held, err := a.escrowBalance(ctx)
	if err != nil {
		return fmt.Errorf("admin payments dashboard: %w", err)
	}
	return c.JSON(AdminPaymentsDashboard{
		TotalMontoProcesado: money.Centavos(procesado), TotalTransacciones: transacciones,
		PagosPendientes: pagosPendientes, RetirosPendientes: retirosPendientes,
		TotalComisiones: money.Centavos(comisiones), IngresosUltimoMes: money.Centavos(ultimoMes),
		MontoRetirosPendientes: money.Centavos(retirosMonto), DineroEnEscrow: money.Centavos(held),
		PayoutsFallidos: payoutsFallidos,
	})
}

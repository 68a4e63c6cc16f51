package auth

import (
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/pg"
)

// UserMetrics is GET /admin/metrics/users: the earlier system's four counts (the admin
// page shows total_clientes + total_profesionales) plus what an admin watching growth
// asks next: active and banned accounts, sign-ups in the last 7 and 30 days, and a
// monthly series. The KYC counts come from auth's replica of the professionals' KYC
// events; pendientes are the professionals whose documents await review (EN_REVISION).
type UserMetrics struct {
	TotalUsuarios         int             `json:"total_usuarios"`
	TotalClientes         int             `json:"total_clientes"`
	TotalProfesionales    int             `json:"total_profesionales"`
	TotalAdmins           int             `json:"total_admins"`
	Activos               int             `json:"activos"`
	Baneados              int             `json:"baneados"`
	Nuevos7Dias           int             `json:"nuevos_7_dias"`
	Nuevos30Dias          int             `json:"nuevos_30_dias"`
	TotalProPendientesKYC int             `json:"total_pro_pendientes_kyc"`
	TotalProAprobados     int             `json:"total_pro_aprobados"`
	TotalProRechazados    int             `json:"total_pro_rechazados"`
	TotalProSinKYC        int             `json:"total_pro_sin_kyc"`
	Crecimiento           []MonthlyGrowth `json:"crecimiento_mensual"`
}

// MonthlyGrowth is one month of sign-ups (Argentina's calendar months) and the running
// total at its end.
type MonthlyGrowth struct {
	Mes           string `json:"mes"` // YYYY-MM
	Clientes      int    `json:"clientes"`
	Profesionales int    `json:"profesionales"`
	Nuevos        int    `json:"nuevos"`
	Acumulado     int    `json:"acumulado"`
}

// growthMonths is how many months the series covers, the current one included.
const growthMonths = 12

// metricsZone is where "a month" is counted: the marketplace works in Argentina.
const metricsZone = "America/Argentina/Buenos_Aires"

func (a *Auth) userMetrics(c *fiber.Ctx) error {
	ctx := c.UserContext()
	now := a.now()
	var m UserMetrics
	err := a.svc.Deps.Pool.QueryRow(ctx, `SELECT
			count(*),
			count(*) FILTER (WHERE rol = 'CLIENTE'),
			count(*) FILTER (WHERE rol = 'PROFESIONAL'),
			count(*) FILTER (WHERE rol = 'ADMIN'),
			count(*) FILTER (WHERE is_active),
			count(*) FILTER (WHERE NOT is_active),
			count(*) FILTER (WHERE fecha_creacion > $1),
			count(*) FILTER (WHERE fecha_creacion > $2),
			count(*) FILTER (WHERE rol = 'PROFESIONAL' AND k.estado = 'EN_REVISION'),
			count(*) FILTER (WHERE rol = 'PROFESIONAL' AND k.estado = 'APROBADO'),
			count(*) FILTER (WHERE rol = 'PROFESIONAL' AND k.estado = 'RECHAZADO'),
			count(*) FILTER (WHERE rol = 'PROFESIONAL' AND k.estado IS NULL)
		FROM accounts LEFT JOIN kyc_states k ON k.usuario_id = accounts.id`,
		now.Add(-7*24*time.Hour), now.Add(-30*24*time.Hour)).
		Scan(&m.TotalUsuarios, &m.TotalClientes, &m.TotalProfesionales, &m.TotalAdmins, &m.Activos, &m.Baneados,
			&m.Nuevos7Dias, &m.Nuevos30Dias, &m.TotalProPendientesKYC, &m.TotalProAprobados, &m.TotalProRechazados, &m.TotalProSinKYC)
	if err != nil {
		return pg.Translate(fmt.Errorf("user metrics: %w", err))
	}
	rows, err := a.svc.Deps.Pool.Query(ctx, `WITH months AS (
			SELECT generate_series(date_trunc('month', ($1::timestamptz) AT TIME ZONE $2) - make_interval(months => $3 - 1),
				date_trunc('month', ($1::timestamptz) AT TIME ZONE $2), interval '1 month') AS mes
		)
		SELECT to_char(m.mes, 'YYYY-MM'),
			count(a.id) FILTER (WHERE a.rol = 'CLIENTE'),
			count(a.id) FILTER (WHERE a.rol = 'PROFESIONAL'),
			count(a.id),
			(SELECT count(*) FROM accounts b WHERE (b.fecha_creacion AT TIME ZONE $2) < m.mes + interval '1 month')
		FROM months m
		LEFT JOIN accounts a ON date_trunc('month', a.fecha_creacion AT TIME ZONE $2) = m.mes
		GROUP BY m.mes ORDER BY m.mes`, now, metricsZone, growthMonths)
	if err != nil {
		return pg.Translate(fmt.Errorf("user growth: %w", err))
	}
	defer rows.Close()
	m.Crecimiento = make([]MonthlyGrowth, 0, growthMonths)
	for rows.Next() {
		var g MonthlyGrowth
		if err := rows.Scan(&g.Mes, &g.Clientes, &g.Profesionales, &g.Nuevos, &g.Acumulado); err != nil {
			return fmt.Errorf("scan user growth: %w", err)
		}
		m.Crecimiento = append(m.Crecimiento, g)
	}
	if err := rows.Err(); err != nil {
		return pg.Translate(fmt.Errorf("user growth: %w", err))
	}
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(m)
}

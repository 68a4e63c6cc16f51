package notifications

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/notifications/gamification"
)

// gamificationRead shapes a profile for the API; level and progress come from the
// rules, so the answer is consistent with the thresholds even before the next grant.
func gamificationRead(p profile) GamificationRead {
	pr := gamification.ProgressFor(p.Puntos)
	nivel := pr.Actual
	if stored, ok := gamification.LevelByName(p.Nivel); ok && stored.Rank > nivel.Rank {
		nivel = stored // levels never go down
	}
	out := GamificationRead{
		UsuarioID:              p.UsuarioID,
		NivelActual:            nivel.Nombre,
		PuntosExperiencia:      p.Puntos,
		PuntosParaProximoNivel: pr.PuntosFaltantes,
		ProgresoPorcentaje:     pr.ProgresoPorcento,
		TrabajosCompletados:    p.TrabajosCompletados,
		RatingPromedio:         math.Round(p.RatingPromedio*100) / 100,
		TotalResenas:           p.TotalResenas,
		ComisionActual:         float64(nivel.TasaComisionBP) / 10000,
		TasaComisionBP:         nivel.TasaComisionBP,
		Medallas:               []MedalRead{},
	}
	if pr.Proximo != nil {
		name := pr.Proximo.Nombre
		out.ProximoNivel = &name
	}
	return out
}

// levelRead is one entry of GET /gamification/niveles.
type levelRead struct {
	Nivel          string  `json:"nivel"`
	PuntosMinimos  int     `json:"puntos_minimos"`
	Comision       float64 `json:"comision"` // percent, as the earlier system listed it
	TasaComisionBP int     `json:"tasa_comision_bp"`
}

func levelsRead() []levelRead {
	var out []levelRead
	for _, l := range gamification.Levels() {
		out = append(out, levelRead{Nivel: l.Nombre, PuntosMinimos: l.PuntosMinimos,
			Comision: float64(l.TasaComisionBP) / 100, TasaComisionBP: l.TasaComisionBP})
	}
	return out
}

// MedalRead is a medal as the API shows it.
type MedalRead struct {
	Codigo      string     `json:"codigo"`
	Nombre      string     `json:"nombre"`
	Descripcion string     `json:"descripcion"`
	Icono       string     `json:"icono"`
	ObtenidaEn  *time.Time `json:"obtenida_en,omitempty"`
}

// GamificationRead is GET /gamification/user/{id}.
type GamificationRead struct {
	UsuarioID              string      `json:"usuario_id"`
	NivelActual            string      `json:"nivel_actual"`
	PuntosExperiencia      int         `json:"puntos_experiencia"`
	ProximoNivel           *string     `json:"proximo_nivel"`
	PuntosParaProximoNivel int         `json:"puntos_para_proximo_nivel"`
	ProgresoPorcentaje     float64     `json:"progreso_porcentaje"`
	TrabajosCompletados    int         `json:"trabajos_completados"`
	RatingPromedio         float64     `json:"rating_promedio"`
	TotalResenas           int         `json:"total_resenas"`
	ComisionActual         float64     `json:"comision_actual"` // fraction: 0.2 = 20 %
	TasaComisionBP         int         `json:"tasa_comision_bp"`
	Medallas               []MedalRead `json:"medallas"`
}

func (s *svc) gamificationUser(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p := profile{UsuarioID: id.String(), Nivel: "BRONCE"}
	err = s.pool.QueryRow(ctx, `SELECT puntos_experiencia, nivel, trabajos_completados, resenas_5_estrellas, total_resenas,
		rating_promedio::float8, kyc_verificado FROM gamification_profiles WHERE usuario_id = $1`, id).
		Scan(&p.Puntos, &p.Nivel, &p.TrabajosCompletados, &p.Resenas5, &p.TotalResenas, &p.RatingPromedio, &p.KYC)
	if errors.Is(err, pgx.ErrNoRows) {
		// No activity yet: a professional starts at BRONCE with nothing. A known
		// client has no gamification at all.
		var rol string
		if qerr := s.pool.QueryRow(ctx, `SELECT rol FROM contacts WHERE user_id = $1`, id).Scan(&rol); qerr == nil && rol != "" && rol != authn.RoleProfesional {
			return apperr.NotFound("professional_not_found", "Profesional no encontrado")
		}
	} else if err != nil {
		return fmt.Errorf("read gamification of %s: %w", id, pg.Translate(err))
	}
	out := gamificationRead(p)
	rows, err := s.pool.Query(ctx, `SELECT m.codigo, m.nombre, m.descripcion, m.icono, um.awarded_at FROM user_medals um
		JOIN medals m USING (codigo) WHERE um.usuario_id = $1 ORDER BY um.awarded_at, m.orden`, id)
	if err != nil {
		return fmt.Errorf("read medals of %s: %w", id, pg.Translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var m MedalRead
		var at time.Time
		if err := rows.Scan(&m.Codigo, &m.Nombre, &m.Descripcion, &m.Icono, &at); err != nil {
			return fmt.Errorf("scan medal: %w", err)
		}
		at = at.UTC()
		m.ObtenidaEn = &at
		out.Medallas = append(out.Medallas, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read medals of %s: %w", id, pg.Translate(err))
	}
	return c.JSON(out)
}

func (s *svc) leaderboard(c *fiber.Ctx) error {
	limit := 10
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return apperr.Validation(apperr.FieldError{Field: "limit", Msg: "debe ser un entero entre 1 y 100"})
		}
		limit = n
	}
	rows, err := s.pool.Query(c.UserContext(), `SELECT g.usuario_id::text, COALESCE(NULLIF(trim(ct.nombre || ' ' || ct.apellido), ''), 'Profesional'),
			g.puntos_experiencia, g.nivel, g.rating_promedio::float8, g.trabajos_completados
		FROM gamification_profiles g LEFT JOIN contacts ct ON ct.user_id = g.usuario_id
		WHERE COALESCE(ct.is_active, true)
		ORDER BY g.puntos_experiencia DESC, g.usuario_id LIMIT $1`, limit)
	if err != nil {
		return fmt.Errorf("leaderboard: %w", pg.Translate(err))
	}
	defer rows.Close()
	out := []LeaderboardEntry{}
	for rows.Next() {
		var e LeaderboardEntry
		if err := rows.Scan(&e.UsuarioID, &e.Nombre, &e.Puntos, &e.Nivel, &e.Rating, &e.TrabajosCompletados); err != nil {
			return fmt.Errorf("scan leaderboard: %w", err)
		}
		e.Posicion = len(out) + 1
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("leaderboard: %w", pg.Translate(err))
	}
	return c.JSON(out)
}

func (s *svc) levels(c *fiber.Ctx) error {
	return c.JSON(levelsRead())
}

func (s *svc) medalCatalogue(c *fiber.Ctx) error {
	ms, err := loadMedals(c.UserContext(), s.pool)
	if err != nil {
		return pg.Translate(err)
	}
	out := make([]MedalRead, 0, len(ms))
	for _, m := range ms {
		out = append(out, MedalRead{Codigo: m.Codigo, Nombre: m.Nombre, Descripcion: m.Descripcion, Icono: m.Icono})
	}
	return c.JSON(out)
}

// gamificationEvent answers the frontend's POST /gamification/event, with which the
// earlier client reported its own trabajo_completado, resena_recibida or nivel_subido.
// Experience decides levels and levels decide the platform's commission, so a client
// that could record them would lower its own fees: XP comes only from the events of
// the services that witnessed the facts (a released payment, a posted review, an
// approved KYC). Nothing is recorded, for any role.
func (s *svc) gamificationEvent(c *fiber.Ctx) error {
	if _, err := authn.MustUser(c); err != nil {
		return err
	}
	return apperr.Forbidden("xp_server_side",
		"Los puntos de experiencia y los niveles los otorga el sistema: 100 por cada trabajo con el pago liberado y 50 o 10 por cada reseña de 5 o 4 estrellas. No se registran desde la app.")
}

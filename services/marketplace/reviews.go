package marketplace

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Resena is ResenaRead (plus nombre_cliente in public lists).
type Resena struct {
	ID                 string    `json:"id"`
	TrabajoID          string    `json:"trabajo_id"`
	ClienteID          string    `json:"cliente_id"`
	ProfesionalID      string    `json:"profesional_id"`
	Rating             int       `json:"rating"`
	TextoResena        *string   `json:"texto_resena"`
	NombreCliente      string    `json:"nombre_cliente"`
	FechaCreacion      time.Time `json:"fecha_creacion"`
	FechaActualizacion time.Time `json:"fecha_actualizacion"`
}

type reviewReq struct {
	TrabajoID   string  `json:"trabajo_id"`
	Rating      int     `json:"rating"`
	TextoResena *string `json:"texto_resena"`
}

// postReview serves POST /cliente/trabajo/{id}/resena and POST /resenas.
func (m *Market) postReview(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	var req reviewReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	jobID, err := pathOrBodyID(c, "trabajo", "trabajo_id", req.TrabajoID)
	if err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Add(req.Rating < 1 || req.Rating > 5, "rating", "debe ser un entero entre 1 y 5")
	var texto *string
	if req.TextoResena != nil {
		s := strings.TrimSpace(*req.TextoResena)
		ck.Len("texto_resena", s, 0, 2000)
		if s != "" {
			texto = &s
		}
	}
	if err := ck.Err(); err != nil {
		return err
	}
	var r Resena
	var avg float64
	var total int
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		t, err := m.lockJob(ctx, tx, jobID)
		if err != nil {
			return err
		}
		if err := domain.CanReview(t.rules(), a); err != nil {
			return err
		}
		// Reviews of one professional commit one at a time, so each ReviewPosted carries
		// an aggregate that includes every earlier review.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('resenas:' || $1::text, 0))`, t.ProfesionalID); err != nil {
			return fmt.Errorf("lock reviews of %s: %w", t.ProfesionalID, err)
		}
		now := m.now().UTC()
		err = tx.QueryRow(ctx, `INSERT INTO resenas (id, trabajo_id, cliente_id, profesional_id, rating, texto_resena, fecha_creacion, fecha_actualizacion)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$7) ON CONFLICT (trabajo_id) DO NOTHING
			RETURNING id::text, trabajo_id::text, cliente_id::text, profesional_id::text, rating, texto_resena, fecha_creacion, fecha_actualizacion`,
			newID(), t.ID, t.ClienteID, t.ProfesionalID, req.Rating, texto, now).
			Scan(&r.ID, &r.TrabajoID, &r.ClienteID, &r.ProfesionalID, &r.Rating, &r.TextoResena, &r.FechaCreacion, &r.FechaActualizacion)
		if err == pgx.ErrNoRows {
			return apperr.Invalid("resena_duplicada", "Este trabajo ya tiene una reseña. No se puede calificar dos veces.")
		}
		if err != nil {
			return pg.Translate(fmt.Errorf("insert review: %w", err))
		}
		r.FechaCreacion, r.FechaActualizacion = r.FechaCreacion.UTC(), r.FechaActualizacion.UTC()
		// The aggregate is recomputed from the rows (not incrementally), so it cannot drift.
		if err := tx.QueryRow(ctx, `SELECT coalesce(avg(rating), 0)::float8, count(*) FROM resenas WHERE profesional_id = $1`, t.ProfesionalID).Scan(&avg, &total); err != nil {
			return err
		}
		avg = round2(avg)
		names, err := nombres(ctx, tx, t.ClienteID)
		if err != nil {
			return err
		}
		r.NombreCliente = names[t.ClienteID]
		if err := timeline(ctx, tx, t.ID, "COMENTARIO", fmt.Sprintf("El cliente dejó una reseña de %d estrellas", req.Rating), nil, nil, &a.ID); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, fmt.Sprintf("⭐ Nueva reseña: %d estrellas", req.Rating)); err != nil {
			return err
		}
		return m.emit(ctx, tx, r.ID, events.ReviewPostedV1{ResenaID: r.ID, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
			Rating: req.Rating, RatingPromedio: avg, TotalResenas: total, TextoResena: textOrEmpty(texto), NombreCliente: r.NombreCliente}, events.Meta{})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"resena": r, "profesional_rating_promedio": avg,
		"profesional_total_resenas": total, "mensaje": "Reseña creada exitosamente"})
}

// reviewedUser resolves the id of GET /resenas/professional/{id}: the professional's
// user id, or its profile id through the professionals replica.
func (m *Market) reviewedUser(c *fiber.Ctx) (string, error) {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return "", apperr.NotFound("profesional_no_encontrado", "Profesional no encontrado")
	}
	var userID string
	err = m.pool.QueryRow(c.UserContext(), `SELECT usuario_id::text FROM profesionales WHERE profesional_id = $1`, id).Scan(&userID)
	if err == nil {
		return userID, nil
	}
	if err != pgx.ErrNoRows {
		return "", fmt.Errorf("resolve professional %s: %w", id, err)
	}
	return id.String(), nil
}

// listReviews serves GET /resenas/professional/{id} (public, newest first).
func (m *Market) listReviews(c *fiber.Ctx) error {
	userID, err := m.reviewedUser(c)
	if err != nil {
		return err
	}
	p, err := httpx.Paging(c, 50)
	if err != nil {
		return err
	}
	rows, err := m.pool.Query(c.UserContext(), `SELECT r.id::text, r.trabajo_id::text, r.cliente_id::text, r.profesional_id::text, r.rating, r.texto_resena,
		coalesce(trim(u.nombre || ' ' || u.apellido), ''), r.fecha_creacion, r.fecha_actualizacion
		FROM resenas r LEFT JOIN usuarios u ON u.id = r.cliente_id WHERE r.profesional_id = $1
		ORDER BY r.fecha_creacion DESC, r.id DESC OFFSET $2 LIMIT $3`, userID, p.Skip, p.Limit)
	if err != nil {
		return fmt.Errorf("list reviews: %w", err)
	}
	defer rows.Close()
	out := []Resena{}
	for rows.Next() {
		var r Resena
		if err := rows.Scan(&r.ID, &r.TrabajoID, &r.ClienteID, &r.ProfesionalID, &r.Rating, &r.TextoResena, &r.NombreCliente, &r.FechaCreacion, &r.FechaActualizacion); err != nil {
			return err
		}
		r.FechaCreacion, r.FechaActualizacion = r.FechaCreacion.UTC(), r.FechaActualizacion.UTC()
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(out)
}

// reviewStats serves GET /resenas/profesional/{id}/estadisticas.
func (m *Market) reviewStats(c *fiber.Ctx) error {
	userID, err := m.reviewedUser(c)
	if err != nil {
		return err
	}
	dist := map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
	rows, err := m.pool.Query(c.UserContext(), `SELECT rating, count(*) FROM resenas WHERE profesional_id = $1 GROUP BY rating`, userID)
	if err != nil {
		return fmt.Errorf("review stats: %w", err)
	}
	defer rows.Close()
	total, sum := 0, 0
	for rows.Next() {
		var rating, n int
		if err := rows.Scan(&rating, &n); err != nil {
			return err
		}
		dist[fmt.Sprint(rating)] = n
		total += n
		sum += rating * n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	pct := func(n int) float64 {
		if total == 0 {
			return 0
		}
		return round2(float64(n) * 100 / float64(total))
	}
	prom := 0.0
	if total > 0 {
		prom = round2(float64(sum) / float64(total))
	}
	return c.JSON(fiber.Map{"promedio": prom, "total": total, "distribucion": dist,
		"porcentaje_recomendado": pct(dist["4"] + dist["5"]), "porcentaje_excelente": pct(dist["5"])})
}

// round2 rounds a rating average to two decimals.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

func textOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

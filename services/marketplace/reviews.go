package marketplace

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Resena is ResenaRead plus what the web frontend's review views read. Names that two
// pages spell differently are sent under both (frontend-shapes §3.6): the author as
// nombre_cliente and cliente_nombre, the text as texto_resena and comentario, the avatar
// as cliente_avatar and cliente_avatar_url, the date as fecha_creacion and created_at.
type Resena struct {
	ID                   string     `json:"id"`
	TrabajoID            string     `json:"trabajo_id"`
	ClienteID            string     `json:"cliente_id"`
	ProfesionalID        string     `json:"profesional_id"`
	Rating               int        `json:"rating"`
	TextoResena          string     `json:"texto_resena"`
	Comentario           string     `json:"comentario"`
	NombreCliente        string     `json:"nombre_cliente"`
	ClienteNombre        string     `json:"cliente_nombre"`
	ClienteAvatar        *string    `json:"cliente_avatar"`
	ClienteAvatarURL     *string    `json:"cliente_avatar_url"`
	TrabajoTitulo        string     `json:"trabajo_titulo"`
	TrabajoDescripcion   *string    `json:"trabajo_descripcion"`
	RespuestaProfesional *Respuesta `json:"respuesta_profesional"`
	FechaCreacion        time.Time  `json:"fecha_creacion"`
	CreatedAt            time.Time  `json:"created_at"`
	FechaActualizacion   time.Time  `json:"fecha_actualizacion"`
	UpdatedAt            time.Time  `json:"updated_at"`
	// Reportes is how many users reported the review; only admins see it.
	Reportes *int `json:"reportes,omitempty"`

	reportes int
	deleted  bool
}

// Respuesta is the reviewed professional's public reply.
type Respuesta struct {
	Texto        string     `json:"texto"`
	Fecha        time.Time  `json:"fecha"`
	FechaEdicion *time.Time `json:"fecha_edicion"`
}

func (r Resena) rules() domain.Review {
	rv := domain.Review{ClienteID: r.ClienteID, ProfesionalID: r.ProfesionalID, Creada: r.FechaCreacion}
	if r.RespuestaProfesional != nil {
		f := r.RespuestaProfesional.Fecha
		rv.Respondida = &f
	}
	return rv
}

// resenaFrom is the one read of a review: the row with the author's name and avatar (the
// users replica), the job's description (whole, and cut as its title) and the number
// of reports.
const resenaFrom = `SELECT r.id::text, r.trabajo_id::text, r.cliente_id::text, r.profesional_id::text, r.rating, r.texto_resena,
	coalesce(trim(u.nombre || ' ' || u.apellido), ''), u.avatar_url, coalesce(t.descripcion, ''),
	r.respuesta_texto, r.respuesta_fecha, r.respuesta_editada_at, r.fecha_creacion, r.fecha_actualizacion,
	(SELECT count(*) FROM resena_reportes rr WHERE rr.resena_id = r.id)::int, r.eliminada_at IS NOT NULL
	FROM resenas r LEFT JOIN usuarios u ON u.id = r.cliente_id LEFT JOIN trabajos t ON t.id = r.trabajo_id `

func (m *Market) scanResena(row pgx.Row) (Resena, error) {
	var r Resena
	var avatar, texto, respTexto *string
	var respFecha, respEdit *time.Time
	var titulo string
	err := row.Scan(&r.ID, &r.TrabajoID, &r.ClienteID, &r.ProfesionalID, &r.Rating, &texto, &r.NombreCliente, &avatar, &titulo,
		&respTexto, &respFecha, &respEdit, &r.FechaCreacion, &r.FechaActualizacion, &r.reportes, &r.deleted)
	if err != nil {
		return r, err
	}
	// The pages slice and print these as strings: a review without text has "", an
	// author the users replica does not know yet is "Cliente".
	r.TextoResena = textOrEmpty(texto)
	if r.NombreCliente == "" {
		r.NombreCliente = "Cliente"
	}
	r.Comentario, r.ClienteNombre = r.TextoResena, r.NombreCliente
	r.ClienteAvatarURL = m.absURLp(avatar)
	r.ClienteAvatar = r.ClienteAvatarURL
	r.TrabajoTitulo = titleOf(titulo)
	if titulo != "" {
		r.TrabajoDescripcion = &titulo
	}
	r.FechaCreacion, r.FechaActualizacion = r.FechaCreacion.UTC(), r.FechaActualizacion.UTC()
	r.CreatedAt, r.UpdatedAt = r.FechaCreacion, r.FechaActualizacion
	if respTexto != nil && respFecha != nil {
		r.RespuestaProfesional = &Respuesta{Texto: *respTexto, Fecha: respFecha.UTC(), FechaEdicion: utcp(respEdit)}
	}
	return r, nil
}

// titleOf is a job's description cut to a title: its first line, at most 80 characters.
func titleOf(desc string) string {
	desc = strings.TrimSpace(desc)
	if i := strings.IndexByte(desc, '\n'); i >= 0 {
		desc = strings.TrimSpace(desc[:i])
	}
	if utf8.RuneCountInString(desc) <= 80 {
		return desc
	}
	return string([]rune(desc)[:77]) + "..."
}

// getResena reads a live (not deleted) review; lock takes its row for the transaction.
func (m *Market) getResena(ctx context.Context, q querier, id string, lock bool) (Resena, error) {
	sql := resenaFrom + `WHERE r.id = $1 AND r.eliminada_at IS NULL`
	if lock {
		sql += ` FOR UPDATE OF r`
	}
	r, err := m.scanResena(q.QueryRow(ctx, sql, id))
	if err != nil && apperr.KindOf(pg.Translate(err)) == apperr.KindNotFound {
		return r, apperr.NotFound("resena_no_encontrada", "Reseña no encontrada")
	}
	return r, pg.Translate(err)
}

// listResenas reads a page of live reviews matching where, newest first, and the total.
func (m *Market) listResenas(ctx context.Context, where string, args []any, p httpx.Page) ([]Resena, int, error) {
	var total int
	if err := m.pool.QueryRow(ctx, `SELECT count(*) FROM resenas r WHERE r.eliminada_at IS NULL AND `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count reviews: %w", err)
	}
	rows, err := m.pool.Query(ctx, resenaFrom+`WHERE r.eliminada_at IS NULL AND `+where+
		fmt.Sprintf(` ORDER BY r.fecha_creacion DESC, r.id DESC OFFSET %d LIMIT %d`, p.Skip, p.Limit), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list reviews: %w", err)
	}
	defer rows.Close()
	out := []Resena{}
	for rows.Next() {
		r, err := m.scanResena(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("scan review: %w", err)
		}
		out = append(out, r)
	}
	return out, total, wrapf(rows.Err(), "list reviews")
}

// lockRatingOf serialises the review changes of one professional, so each review event
// carries an aggregate that includes every earlier change, and returns that aggregate
// as it stands in tx.
func lockRatingOf(ctx context.Context, tx pgx.Tx, proID string) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('resenas:' || $1::text, 0))`, proID); err != nil {
		return fmt.Errorf("lock reviews of %s: %w", proID, err)
	}
	return nil
}

// ratingOf recomputes the professional's aggregate from the live rows (never
// incrementally, so it cannot drift).
func ratingOf(ctx context.Context, tx pgx.Tx, proID string) (float64, int, error) {
	var avg float64
	var total int
	if err := tx.QueryRow(ctx, `SELECT coalesce(avg(rating), 0)::float8, count(*) FROM resenas WHERE profesional_id = $1 AND eliminada_at IS NULL`,
		proID).Scan(&avg, &total); err != nil {
		return 0, 0, fmt.Errorf("rating of %s: %w", proID, err)
	}
	return round2(avg), total, nil
}

type reviewReq struct {
	TrabajoID   string  `json:"trabajo_id" jsonschema_description:"the job; read only on POST /resenas (elsewhere the path names it)"`
	Rating      int     `json:"rating" jsonschema:"required,minimum=1,maximum=5"`
	TextoResena *string `json:"texto_resena" jsonschema_description:"at most 2000 characters once trimmed; empty is none"`
}

// ReviewPosted is the answer of a new review: it and the professional's rating now.
type ReviewPosted struct {
	Resena                    Resena  `json:"resena"`
	ProfesionalRatingPromedio float64 `json:"profesional_rating_promedio"`
	ProfesionalTotalResenas   int     `json:"profesional_total_resenas"`
	Mensaje                   string  `json:"mensaje"`
}

// ReviewStats is a professional's rating: average, count, how many of each star
// (distribucion, keys "1" to "5") and the shares of 4-5 and of 5 stars in percent.
type ReviewStats struct {
	Promedio              float64        `json:"promedio"`
	Total                 int            `json:"total"`
	Distribucion          map[string]int `json:"distribucion"`
	PorcentajeRecomendado float64        `json:"porcentaje_recomendado"`
	PorcentajeExcelente   float64        `json:"porcentaje_excelente"`
}

// reviewText trims an optional review text (≤ 2000); empty means none.
func reviewText(ck *apperr.Checker, s *string) *string {
	if s == nil {
		return nil
	}
	t := strings.TrimSpace(*s)
	ck.Len("texto_resena", t, 0, 2000)
	if t == "" {
		return nil
	}
	return &t
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
	texto := reviewText(&ck, req.TextoResena)
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
		if err := lockRatingOf(ctx, tx, t.ProfesionalID); err != nil {
			return err
		}
		now := m.now().UTC()
		var id string
		err = tx.QueryRow(ctx, `INSERT INTO resenas (id, trabajo_id, cliente_id, profesional_id, rating, texto_resena, fecha_creacion, fecha_actualizacion)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$7) ON CONFLICT (trabajo_id) DO NOTHING RETURNING id::text`,
			newID(), t.ID, t.ClienteID, t.ProfesionalID, req.Rating, texto, now).Scan(&id)
		if err == pgx.ErrNoRows {
			return apperr.Invalid("resena_duplicada", "Este trabajo ya tiene una reseña. No se puede calificar dos veces.")
		}
		if err != nil {
			return pg.Translate(fmt.Errorf("insert review: %w", err))
		}
		if r, err = m.getResena(ctx, tx, id, false); err != nil {
			return err
		}
		if avg, total, err = ratingOf(ctx, tx, t.ProfesionalID); err != nil {
			return err
		}
		if err := timeline(ctx, tx, t.ID, "COMENTARIO", fmt.Sprintf("El cliente dejó una reseña de %d estrellas", req.Rating), nil, nil, &a.ID); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, fmt.Sprintf("⭐ Nueva reseña: %d estrellas", req.Rating)); err != nil {
			return err
		}
		// The professional is the aggregate of every review event, so consumers apply
		// one professional's rating changes in order.
		return m.emit(ctx, tx, t.ProfesionalID, events.ReviewPostedV1{ResenaID: r.ID, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
			Rating: req.Rating, RatingPromedio: avg, TotalResenas: total, TextoResena: textOrEmpty(texto), NombreCliente: r.NombreCliente,
			TrabajoDescripcion: t.Descripcion}, events.Meta{})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(ReviewPosted{Resena: r, ProfesionalRatingPromedio: avg,
		ProfesionalTotalResenas: total, Mensaje: "Reseña creada exitosamente"})
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

// listReviews serves GET /resenas/professional/{id} and GET
// /public/professional/{id}/resenas (public, newest first; profile or user id).
func (m *Market) listReviews(c *fiber.Ctx) error {
	userID, err := m.reviewedUser(c)
	if err != nil {
		return err
	}
	p, err := httpx.Paging(c, 50)
	if err != nil {
		return err
	}
	out, total, err := m.listResenas(c.UserContext(), `r.profesional_id = $1`, []any{userID}, p)
	if err != nil {
		return err
	}
	setTotal(c, total)
	return c.JSON(out)
}

// reviewStats serves GET /resenas/profesional/{id}/estadisticas.
func (m *Market) reviewStats(c *fiber.Ctx) error {
	userID, err := m.reviewedUser(c)
	if err != nil {
		return err
	}
	dist := map[string]int{"1": 0, "2": 0, "3": 0, "4": 0, "5": 0}
	rows, err := m.pool.Query(c.UserContext(), `SELECT rating, count(*) FROM resenas WHERE profesional_id = $1 AND eliminada_at IS NULL GROUP BY rating`, userID)
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
	return c.JSON(ReviewStats{Promedio: prom, Total: total, Distribucion: dist,
		PorcentajeRecomendado: pct(dist["4"] + dist["5"]), PorcentajeExcelente: pct(dist["5"])})
}

// round2 rounds a rating average to two decimals.
func round2(f float64) float64 { return math.Round(f*100) / 100 }

func textOrEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

package marketplace

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// The life of a review after posting: reading one, the author's edit and deletion, the
// professional's reply, "my reviews", "can I review this job" and users' reports.

// forViewer shows the report count to admins only.
func forViewer(r Resena, a *domain.Actor) Resena {
	if a != nil && a.Rol == authn.RoleAdmin {
		n := r.reportes
		r.Reportes = &n
	}
	return r
}

// optionalActor is the caller of a route that also answers without a token.
func optionalActor(c *fiber.Ctx) *domain.Actor {
	cl, ok := authn.User(c)
	if !ok {
		return nil
	}
	return &domain.Actor{ID: cl.UserID(), Rol: cl.Rol}
}

// getReview serves GET /resenas/{id} (public, like the lists it comes from).
func (m *Market) getReview(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "resena")
	if err != nil {
		return apperr.NotFound("resena_no_encontrada", "Reseña no encontrada")
	}
	r, err := m.getResena(c.UserContext(), m.pool, id, false)
	if err != nil {
		return err
	}
	return c.JSON(forViewer(r, optionalActor(c)))
}

// changeReview runs change on the locked review id after check allows the caller, under
// the professional's rating lock, then emits the event made from the new aggregate.
func (m *Market) changeReview(c *fiber.Ctx, check func(Resena, domain.Actor, time.Time) error,
	change func(ctx context.Context, tx pgx.Tx, r Resena, a domain.Actor, now time.Time) (events.Event, error)) (Resena, error) {
	a, id, err := actorAndID(c, "resena")
	if err != nil {
		return Resena{}, err
	}
	var r Resena
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if r, err = m.getResena(ctx, tx, id, true); err != nil {
			return err
		}
		now := m.now().UTC()
		if err := check(r, a, now); err != nil {
			return err
		}
		if err := lockRatingOf(ctx, tx, r.ProfesionalID); err != nil {
			return err
		}
		ev, err := change(ctx, tx, r, a, now)
		if err != nil {
			return err
		}
		if ev != nil {
			if err := m.emit(ctx, tx, r.ProfesionalID, ev, events.Meta{}); err != nil {
				return err
			}
		}
		// Read back without the live-only filter: a deletion answers with the row too.
		r, err = m.scanResena(tx.QueryRow(ctx, resenaFrom+`WHERE r.id = $1`, id))
		return wrapf(err, "read back review")
	})
	return forViewer(r, &a), err
}

// updateReviewReq changes a review: rating and/or text (texto_resena, or comentario as
// the web's form names it).
type updateReviewReq struct {
	Rating      *int    `json:"rating" jsonschema:"minimum=1,maximum=5"`
	TextoResena *string `json:"texto_resena" jsonschema_description:"at most 2000 characters once trimmed; empty removes the text"`
	Comentario  *string `json:"comentario" jsonschema_description:"texto_resena under the web's name (read when texto_resena is absent)"`
}

// ReviewDeleted confirms a deletion.
type ReviewDeleted struct {
	ID      string `json:"id"`
	Mensaje string `json:"mensaje"`
}

// replyReq is the professional's reply.
type replyReq struct {
	Respuesta string `json:"respuesta" jsonschema:"required,maxLength=1000" jsonschema_description:"2 to 1000 characters once trimmed"`
}

// reportReq is a user's report of a review.
type reportReq struct {
	Motivo string `json:"motivo" jsonschema:"required,maxLength=500" jsonschema_description:"3 to 500 characters once trimmed"`
}

// ReviewReported confirms a report.
type ReviewReported struct {
	ResenaID string `json:"resena_id"`
	Mensaje  string `json:"mensaje"`
}

// ResenaPage is one page of GET /resenas/mis-resenas.
type ResenaPage struct {
	Resenas []Resena `json:"resenas"`
	Total   int      `json:"total"`
	Page    int      `json:"page"`
	Limit   int      `json:"limit"`
}

// ResenaReportadaPage is one page of GET /resenas/reportadas.
type ResenaReportadaPage struct {
	Resenas []ResenaReportada `json:"resenas"`
	Total   int               `json:"total"`
	Page    int               `json:"page"`
	Limit   int               `json:"limit"`
}

// CanReview says whether the caller may review the job now and, if not, why (motivo).
type CanReview struct {
	PuedeResenar bool    `json:"puede_resenar"`
	Motivo       *string `json:"motivo"`
	YaReseno     bool    `json:"ya_reseno"`
	TrabajoID    string  `json:"trabajo_id"`
}

// updateReview serves PUT /resenas/{id}: the author changes rating and/or text within
// 24 h; the professional's rating follows (ReviewUpdated).
func (m *Market) updateReview(c *fiber.Ctx) error {
	var req updateReviewReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	if req.TextoResena == nil {
		req.TextoResena = req.Comentario
	}
	var ck apperr.Checker
	ck.Add(req.Rating == nil && req.TextoResena == nil, "rating", "enviá rating y/o texto_resena")
	ck.Add(req.Rating != nil && (*req.Rating < 1 || *req.Rating > 5), "rating", "debe ser un entero entre 1 y 5")
	texto := reviewText(&ck, req.TextoResena)
	if err := ck.Err(); err != nil {
		return err
	}
	r, err := m.changeReview(c, func(r Resena, a domain.Actor, now time.Time) error { return domain.CanEditReview(r.rules(), a, now) },
		func(ctx context.Context, tx pgx.Tx, r Resena, a domain.Actor, now time.Time) (events.Event, error) {
			rating, text := r.Rating, &r.TextoResena
			if r.TextoResena == "" {
				text = nil
			}
			if req.Rating != nil {
				rating = *req.Rating
			}
			if req.TextoResena != nil {
				text = texto
			}
			if _, err := tx.Exec(ctx, `UPDATE resenas SET rating = $2, texto_resena = $3, fecha_actualizacion = $4 WHERE id = $1`,
				r.ID, rating, text, now); err != nil {
				return nil, fmt.Errorf("update review %s: %w", r.ID, err)
			}
			avg, total, err := ratingOf(ctx, tx, r.ProfesionalID)
			if err != nil {
				return nil, err
			}
			return events.ReviewUpdatedV1{ResenaID: r.ID, TrabajoID: r.TrabajoID, ClienteID: r.ClienteID, ProfesionalID: r.ProfesionalID,
				Rating: rating, RatingAnterior: r.Rating, TextoResena: textOrEmpty(text), RatingPromedio: avg, TotalResenas: total}, nil
		})
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// deleteReview serves DELETE /resenas/{id}: the author within 24 h, or an admin. The
// row is kept (the job cannot be reviewed again) and leaves the rating (ReviewDeleted).
func (m *Market) deleteReview(c *fiber.Ctx) error {
	r, err := m.changeReview(c, func(r Resena, a domain.Actor, now time.Time) error { return domain.CanDeleteReview(r.rules(), a, now) },
		func(ctx context.Context, tx pgx.Tx, r Resena, a domain.Actor, now time.Time) (events.Event, error) {
			if _, err := tx.Exec(ctx, `UPDATE resenas SET eliminada_at = $2, eliminada_por = $3 WHERE id = $1`, r.ID, now, a.ID); err != nil {
				return nil, fmt.Errorf("delete review %s: %w", r.ID, err)
			}
			avg, total, err := ratingOf(ctx, tx, r.ProfesionalID)
			if err != nil {
				return nil, err
			}
			porAdmin := a.ID != r.ClienteID
			return events.ReviewDeletedV1{ResenaID: r.ID, TrabajoID: r.TrabajoID, ClienteID: r.ClienteID, ProfesionalID: r.ProfesionalID,
				EliminadaPor: a.ID, PorAdmin: porAdmin, RatingPromedio: avg, TotalResenas: total}, nil
		})
	if err != nil {
		return err
	}
	return c.JSON(ReviewDeleted{ID: r.ID, Mensaje: "Reseña eliminada"})
}

// replyReview serves POST /resenas/{id}/responder {respuesta}: the reviewed
// professional replies once (ReviewReplied) and may reword the reply within 24 h.
func (m *Market) replyReview(c *fiber.Ctx) error {
	var req replyReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Respuesta = strings.TrimSpace(req.Respuesta)
	var ck apperr.Checker
	ck.Len("respuesta", req.Respuesta, 2, 1000)
	if err := ck.Err(); err != nil {
		return err
	}
	texto := strings.Clone(req.Respuesta)
	r, err := m.changeReview(c, func(r Resena, a domain.Actor, now time.Time) error { return domain.CanReply(r.rules(), a, now) },
		func(ctx context.Context, tx pgx.Tx, r Resena, a domain.Actor, now time.Time) (events.Event, error) {
			first := r.RespuestaProfesional == nil
			if _, err := tx.Exec(ctx, `UPDATE resenas SET respuesta_texto = $2, respuesta_fecha = coalesce(respuesta_fecha, $3),
				respuesta_editada_at = CASE WHEN respuesta_fecha IS NULL THEN NULL ELSE $3 END WHERE id = $1`, r.ID, texto, now); err != nil {
				return nil, fmt.Errorf("reply to review %s: %w", r.ID, err)
			}
			if !first {
				return nil, nil // a reworded reply is not news
			}
			return events.ReviewRepliedV1{ResenaID: r.ID, TrabajoID: r.TrabajoID, ClienteID: r.ClienteID, ProfesionalID: r.ProfesionalID,
				Respuesta: texto}, nil
		})
	if err != nil {
		return err
	}
	return c.JSON(r)
}

// myReviews serves GET /resenas/mis-resenas?page&limit: the reviews a client wrote, a
// professional received, or (admins) every review.
func (m *Market) myReviews(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	p, err := httpx.Paging(c, 20)
	if err != nil {
		return err
	}
	where, args := "r.cliente_id = $1", []any{a.ID}
	switch a.Rol {
	case authn.RoleProfesional:
		where = "r.profesional_id = $1"
	case authn.RoleAdmin:
		where, args = "true", nil
	}
	list, total, err := m.listResenas(c.UserContext(), where, args, p)
	if err != nil {
		return err
	}
	for i := range list {
		list[i] = forViewer(list[i], &a)
	}
	return c.JSON(ResenaPage{Resenas: list, Total: total, Page: p.Page, Limit: p.Limit})
}

// canReview serves GET /resenas/puede-resenar/{trabajoId}: whether the caller may review
// the job now and, if not, why (the rule's own message).
func (m *Market) canReview(c *fiber.Ctx) error {
	a, jobID, err := actorAndID(c, "trabajo")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	t, err := m.getJob(ctx, m.pool, jobID)
	if err != nil {
		return err
	}
	if err := domain.CanView(t.rules(), a); err != nil {
		return err
	}
	var ya bool
	if err := m.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM resenas WHERE trabajo_id = $1)`, t.ID).Scan(&ya); err != nil {
		return fmt.Errorf("review of job %s: %w", t.ID, err)
	}
	out := CanReview{PuedeResenar: true, YaReseno: ya, TrabajoID: t.ID}
	rule := domain.CanReview(t.rules(), a)
	if rule == nil && ya {
		rule = apperr.Invalid("resena_duplicada", "Ya dejaste una reseña para este trabajo")
	}
	if rule != nil {
		out.PuedeResenar = false
		if e, ok := apperr.As(rule); ok {
			out.Motivo = &e.Msg
		}
	}
	return c.JSON(out)
}

// reportReview serves POST /resenas/{id}/reportar {motivo}: one report per user and
// review; admins see them in GET /resenas/reportadas and in the review's `reportes`.
func (m *Market) reportReview(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "resena")
	if err != nil {
		return err
	}
	var req reportReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	motivo := strings.TrimSpace(req.Motivo)
	var ck apperr.Checker
	ck.Len("motivo", motivo, 3, 500)
	if err := ck.Err(); err != nil {
		return err
	}
	motivo = strings.Clone(motivo)
	ctx := c.UserContext()
	r, err := m.getResena(ctx, m.pool, id, false)
	if err != nil {
		return err
	}
	if err := domain.CanReport(r.rules(), a); err != nil {
		return err
	}
	tag, err := m.pool.Exec(ctx, `INSERT INTO resena_reportes (resena_id, usuario_id, motivo, fecha_creacion) VALUES ($1,$2,$3,$4)
		ON CONFLICT DO NOTHING`, r.ID, a.ID, motivo, m.now().UTC())
	if err != nil {
		return fmt.Errorf("report review %s: %w", r.ID, err)
	}
	if tag.RowsAffected() == 0 {
		return apperr.Invalid("resena_ya_reportada", "Ya reportaste esta reseña")
	}
	return c.Status(fiber.StatusCreated).JSON(ReviewReported{ResenaID: r.ID, Mensaje: "Reseña reportada. Un administrador la revisará."})
}

// Reporte is one user's report of a review.
type Reporte struct {
	UsuarioID     string    `json:"usuario_id"`
	Motivo        string    `json:"motivo"`
	FechaCreacion time.Time `json:"fecha_creacion"`
}

// ResenaReportada is a reported review with its reports, for admins.
type ResenaReportada struct {
	Resena
	Reportes      int       `json:"reportes"`
	ListaReportes []Reporte `json:"lista_reportes"`
}

// reportedReviews serves GET /resenas/reportadas?page&limit (admin): live reviews with
// at least one report, most recently reported first.
func (m *Market) reportedReviews(c *fiber.Ctx) error {
	p, err := httpx.Paging(c, 20)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	const where = `EXISTS (SELECT 1 FROM resena_reportes rr WHERE rr.resena_id = r.id)`
	var total int
	if err := m.pool.QueryRow(ctx, `SELECT count(*) FROM resenas r WHERE r.eliminada_at IS NULL AND `+where).Scan(&total); err != nil {
		return fmt.Errorf("count reported reviews: %w", err)
	}
	rows, err := m.pool.Query(ctx, resenaFrom+`WHERE r.eliminada_at IS NULL AND `+where+
		fmt.Sprintf(` ORDER BY (SELECT max(fecha_creacion) FROM resena_reportes rr WHERE rr.resena_id = r.id) DESC, r.id OFFSET %d LIMIT %d`, p.Skip, p.Limit))
	if err != nil {
		return fmt.Errorf("list reported reviews: %w", err)
	}
	out := []ResenaReportada{}
	ids := []string{}
	for rows.Next() {
		r, err := m.scanResena(rows)
		if err != nil {
			rows.Close()
			return fmt.Errorf("scan reported review: %w", err)
		}
		out = append(out, ResenaReportada{Resena: r, Reportes: r.reportes, ListaReportes: []Reporte{}})
		ids = append(ids, r.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list reported reviews: %w", err)
	}
	idx := map[string]int{}
	for i, id := range ids {
		idx[id] = i
	}
	rr, err := m.pool.Query(ctx, `SELECT resena_id::text, usuario_id::text, motivo, fecha_creacion FROM resena_reportes
		WHERE resena_id = ANY($1::uuid[]) ORDER BY fecha_creacion`, ids)
	if err != nil {
		return fmt.Errorf("read reports: %w", err)
	}
	defer rr.Close()
	for rr.Next() {
		var id string
		var rep Reporte
		if err := rr.Scan(&id, &rep.UsuarioID, &rep.Motivo, &rep.FechaCreacion); err != nil {
			return fmt.Errorf("scan report: %w", err)
		}
		rep.FechaCreacion = rep.FechaCreacion.UTC()
		i := idx[id]
		out[i].ListaReportes = append(out[i].ListaReportes, rep)
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("read reports: %w", err)
	}
	return c.JSON(ResenaReportadaPage{Resenas: out, Total: total, Page: p.Page, Limit: p.Limit})
}

package marketplace

import (
	"context"
	"fmt"
	"net/url"
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

// Disputa is DisputaRead plus the web frontend's Dispute: the opener under both names
// (abierta_por, iniciador_id), the evidence URLs, the job's title and both parties'
// names. tipo and estado are in our words on our paths and in the frontend's lower-case
// words on its paths (domain.DisputaFront is the one mapping); estado_codigo always
// carries our state.
type Disputa struct {
	ID                 string     `json:"id"`
	TrabajoID          string     `json:"trabajo_id"`
	TransaccionID      *string    `json:"transaccion_id"`
	AbiertaPor         string     `json:"abierta_por"`
	IniciadorID        string     `json:"iniciador_id"`
	Tipo               string     `json:"tipo"`
	Descripcion        string     `json:"descripcion"`
	Estado             string     `json:"estado"`
	EstadoCodigo       string     `json:"estado_codigo"`
	Evidencias         []string   `json:"evidencias"`
	Resolucion         *string    `json:"resolucion"`
	AFavor             *string    `json:"a_favor"`
	FavoreceA          *string    `json:"favorece_a"`
	AdminID            *string    `json:"admin_id"`
	TrabajoTitulo      string     `json:"trabajo_titulo"`
	ClienteID          string     `json:"cliente_id"`
	ProfesionalID      string     `json:"profesional_id"`
	ClienteNombre      string     `json:"cliente_nombre"`
	ProfesionalNombre  string     `json:"profesional_nombre"`
	FechaCreacion      time.Time  `json:"fecha_creacion"`
	CreatedAt          time.Time  `json:"created_at"`
	FechaActualizacion time.Time  `json:"fecha_actualizacion"`
	FechaResolucion    *time.Time `json:"fecha_resolucion"`

	job    Trabajo // the fields disputaFrom reads
	previo string  // the job's work state when the dispute was opened
}

func (d Disputa) rules() domain.Dispute {
	return domain.Dispute{Job: d.job.rules(), AbiertaPor: d.AbiertaPor, Estado: d.EstadoCodigo}
}

// inWords presents d's tipo and estado in the frontend's words when front.
func (d Disputa) inWords(front bool) Disputa {
	if front {
		d.Tipo, d.Estado = domain.DisputaFront(d.Tipo, d.EstadoCodigo)
	}
	return d
}

// disputaFrom is the one read of a dispute: the row, what the rules, events and answers
// need of its job, the parties' names and the evidence.
const disputaFrom = `SELECT d.id::text, d.abierta_por::text, d.tipo, d.descripcion, d.estado, d.resolucion, d.admin_id::text,
	d.fecha_creacion, d.fecha_actualizacion, d.fecha_resolucion, d.estado_trabajo_previo,
	coalesce(trim(uc.nombre || ' ' || uc.apellido), ''), coalesce(trim(up.nombre || ' ' || up.apellido), ''),
	coalesce((SELECT array_agg(e.url ORDER BY e.id) FROM disputa_evidencias e WHERE e.disputa_id = d.id), '{}'),
	t.id::text, t.cliente_id::text, t.profesional_id::text, t.chat_id::text, t.descripcion, t.precio_centavos, t.estado, t.estado_escrow,
	t.mercadopago_payment_id
	FROM disputas d JOIN trabajos t ON t.id = d.trabajo_id
	LEFT JOIN usuarios uc ON uc.id = t.cliente_id LEFT JOIN usuarios up ON up.id = t.profesional_id `

func scanDisputa(row pgx.Row) (Disputa, error) {
	var d Disputa
	var t Trabajo
	err := row.Scan(&d.ID, &d.AbiertaPor, &d.Tipo, &d.Descripcion, &d.EstadoCodigo, &d.Resolucion, &d.AdminID,
		&d.FechaCreacion, &d.FechaActualizacion, &d.FechaResolucion, &d.previo, &d.ClienteNombre, &d.ProfesionalNombre, &d.Evidencias,
		&t.ID, &t.ClienteID, &t.ProfesionalID, &t.ChatID, &t.Descripcion, &t.PrecioFinal, &t.Estado, &t.EstadoEscrow, &t.MercadopagoPaymentID)
	if err != nil {
		return d, err
	}
	d.job = t
	d.Estado, d.IniciadorID, d.TrabajoID = d.EstadoCodigo, d.AbiertaPor, t.ID
	d.ClienteID, d.ProfesionalID, d.TransaccionID, d.TrabajoTitulo = t.ClienteID, t.ProfesionalID, t.MercadopagoPaymentID, titleOf(t.Descripcion)
	d.FechaCreacion, d.FechaActualizacion, d.FechaResolucion = d.FechaCreacion.UTC(), d.FechaActualizacion.UTC(), utcp(d.FechaResolucion)
	d.CreatedAt = d.FechaCreacion
	if d.Evidencias == nil {
		d.Evidencias = []string{}
	}
	var favor string
	switch d.EstadoCodigo {
	case domain.DisputaFavorCliente:
		favor = "cliente"
	case domain.DisputaFavorProfesional:
		favor = "profesional"
	case domain.DisputaDesestimada:
		favor = "ninguno"
	}
	if favor != "" {
		d.AFavor, d.FavoreceA = &favor, &favor
	}
	return d, nil
}

// getDisputa reads a dispute; lock takes the dispute's and its job's rows.
func (m *Market) getDisputa(ctx context.Context, q querier, id string, lock bool) (Disputa, error) {
	sql := disputaFrom + `WHERE d.id = $1`
	if lock {
		sql += ` FOR UPDATE OF d, t`
	}
	d, err := scanDisputa(q.QueryRow(ctx, sql, id))
	return d, notFound(err, "disputa")
}

// validEvidence checks one evidence URL: absolute http(s), at most 2048 characters.
func validEvidence(s string) bool {
	if len(s) > 2048 {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != ""
}

// maxEvidencias bounds the evidence of one dispute.
const maxEvidencias = 20

// openDispute serves POST /disputas: a party freezes the escrow of a paid job. tipo comes
// in our words or the frontend's (and the answer uses the same words); evidencias are
// optional URLs.
func (m *Market) openDispute(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	var req openDisputeReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Descripcion = strings.Clone(strings.TrimSpace(req.Descripcion))
	tipo, front, ok := domain.ParseTipoDisputa(req.Tipo)
	var ck apperr.Checker
	ck.Add(!ok, "tipo", domain.TiposDisputaMsg)
	ck.Len("descripcion", req.Descripcion, 10, 2000)
	ck.Add(len(req.Evidencias) > maxEvidencias, "evidencias", fmt.Sprintf("como máximo %d", maxEvidencias))
	evidencias := make([]string, 0, len(req.Evidencias))
	for _, e := range req.Evidencias {
		e = strings.TrimSpace(e)
		if !validEvidence(e) {
			ck.Add(true, "evidencias", "cada evidencia debe ser una URL http(s) válida")
			break
		}
		evidencias = append(evidencias, strings.Clone(e))
	}
	if err := ck.Err(); err != nil {
		return err
	}
	jobID, err := parseUUID("trabajo_id", req.TrabajoID)
	if err != nil {
		return err
	}
	var d Disputa
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		t, err := m.lockJob(ctx, tx, jobID)
		if err != nil {
			return err
		}
		if err := domain.CanDispute(t.rules(), a); err != nil {
			return err
		}
		now := m.now().UTC()
		id := newID()
		if _, err := tx.Exec(ctx, `INSERT INTO disputas (id, trabajo_id, abierta_por, tipo, descripcion, estado_trabajo_previo, fecha_creacion, fecha_actualizacion)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$7)`, id, t.ID, a.ID, tipo, req.Descripcion, t.Estado, now); err != nil {
			return fmt.Errorf("open dispute on %s: %w", t.ID, err)
		}
		for _, e := range evidencias {
			if err := addEvidence(ctx, tx, id, a.ID, e, now); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = 'DISPUTADO', auto_approve_at = NULL, fecha_actualizacion = $2 WHERE id = $1`, t.ID, now); err != nil {
			return fmt.Errorf("freeze job %s: %w", t.ID, err)
		}
		from, to := t.Estado, domain.EstadoDisputado
		if err := timeline(ctx, tx, t.ID, "DISPUTA", "Disputa abierta ("+tipo+"): los fondos quedan congelados", &from, &to, &a.ID); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, "⚖️ Se abrió una disputa sobre el trabajo. Los fondos quedan congelados hasta que un administrador la resuelva."); err != nil {
			return err
		}
		if err := m.emit(ctx, tx, t.ID, events.DisputeOpenedV1{DisputaID: id, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
			AbiertaPor: a.ID, Tipo: tipo}, events.Meta{}); err != nil {
			return err
		}
		if err := m.pushJob(ctx, tx, t.ID); err != nil {
			return err
		}
		d, err = m.getDisputa(ctx, tx, id, false)
		return err
	})
	if err != nil {
		if apperr.KindOf(err) == apperr.KindConflict {
			return apperr.Invalid("disputa_abierta", "El trabajo ya tiene una disputa abierta")
		}
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d.inWords(front || viewOf(c) == viewWeb))
}

// openDisputeReq opens a dispute.
type openDisputeReq struct {
	TrabajoID   string   `json:"trabajo_id" jsonschema:"required,format=uuid"`
	Tipo        string   `json:"tipo" jsonschema:"required" jsonschema_description:"reembolso, calidad, cancelacion or otro (the web's words) or CALIDAD_TRABAJO, NO_REALIZADO, REEMBOLSO, INCUMPLIMIENTO_TIEMPO, CANCELACION, OTRO (ours); the answer uses the same words"`
	Descripcion string   `json:"descripcion" jsonschema:"required,maxLength=2000" jsonschema_description:"10 to 2000 characters once trimmed"`
	Evidencias  []string `json:"evidencias" jsonschema:"maxItems=20" jsonschema_description:"http(s) URLs"`
}

// DisputaPage is one page of GET /disputas/mis-disputas and /admin/disputas.
type DisputaPage struct {
	Disputas []Disputa `json:"disputas"`
	Total    int       `json:"total"`
	Page     int       `json:"page"`
	Limit    int       `json:"limit"`
}

// resolveReq is an admin's verdict: a_favor (or favorece_a, the web's name).
type resolveReq struct {
	AFavor     string `json:"a_favor" jsonschema_description:"cliente (refund), profesional (release) or ninguno (dismissed: the job resumes)"`
	FavoreceA  string `json:"favorece_a" jsonschema_description:"a_favor under the web's name (read when a_favor is empty)"`
	Resolucion string `json:"resolucion" jsonschema:"required,maxLength=2000" jsonschema_description:"5 to 2000 characters once trimmed"`
}

// DisputeResolution is the answer of POST /disputas/{id}/resolver: the dispute, its
// job as it is now and what happened.
type DisputeResolution struct {
	Disputa Disputa `json:"disputa"`
	Trabajo Trabajo `json:"trabajo"`
	Mensaje string  `json:"mensaje"`
}

func addEvidence(ctx context.Context, tx pgx.Tx, disputaID, userID, u string, now time.Time) error {
	if _, err := tx.Exec(ctx, `INSERT INTO disputa_evidencias (disputa_id, usuario_id, url, fecha_creacion) VALUES ($1,$2,$3,$4)
		ON CONFLICT (disputa_id, url) DO NOTHING`, disputaID, userID, u, now); err != nil {
		return fmt.Errorf("add evidence to %s: %w", disputaID, err)
	}
	return nil
}

// listDisputesHandler serves GET /disputas (a bare list, our words), GET
// /disputas/mis-disputas and GET /admin/disputas ({disputas, total}, the frontend's
// words): admins see every dispute, parties their jobs'. ?estado and ?tipo take either
// vocabulary.
func (m *Market) listDisputesHandler(wrapped bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		a, _, err := actorOf(c)
		if err != nil {
			return err
		}
		p, err := httpx.Paging(c, 50)
		if err != nil {
			return err
		}
		where, args := "(t.cliente_id = $1 OR t.profesional_id = $1)", []any{a.ID}
		if a.Rol == authn.RoleAdmin {
			where, args = "true", nil
		}
		var ck apperr.Checker
		if e := c.Query("estado"); e != "" {
			estados, ok := domain.EstadosDisputa(e)
			ck.Add(!ok, "estado", "estado de disputa desconocido")
			args = append(args, estados)
			where += fmt.Sprintf(" AND d.estado = ANY($%d::text[])", len(args))
		}
		if tp := c.Query("tipo"); tp != "" {
			tipos, ok := domain.TiposDisputa(tp)
			ck.Add(!ok, "tipo", domain.TiposDisputaMsg)
			args = append(args, tipos)
			where += fmt.Sprintf(" AND d.tipo = ANY($%d::text[])", len(args))
		}
		if err := ck.Err(); err != nil {
			return err
		}
		ctx := c.UserContext()
		var total int
		if err := m.pool.QueryRow(ctx, `SELECT count(*) FROM disputas d JOIN trabajos t ON t.id = d.trabajo_id WHERE `+where, args...).Scan(&total); err != nil {
			return fmt.Errorf("count disputes: %w", err)
		}
		rows, err := m.pool.Query(ctx, disputaFrom+`WHERE `+where+
			fmt.Sprintf(` ORDER BY d.fecha_creacion DESC, d.id DESC OFFSET %d LIMIT %d`, p.Skip, p.Limit), args...)
		if err != nil {
			return fmt.Errorf("list disputes: %w", err)
		}
		defer rows.Close()
		out := []Disputa{}
		for rows.Next() {
			d, err := scanDisputa(rows)
			if err != nil {
				return fmt.Errorf("scan dispute: %w", err)
			}
			out = append(out, d.inWords(viewOf(c) == viewWeb))
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("list disputes: %w", err)
		}
		setTotal(c, total)
		if wrapped {
			return c.JSON(DisputaPage{Disputas: out, Total: total, Page: p.Page, Limit: p.Limit})
		}
		return c.JSON(out)
	}
}

// resumeJob puts a disputed job back in the work state it had before the dispute (a
// delivered job gets a fresh automatic-approval time, as at delivery). A job the money
// side has moved on meanwhile (a chargeback refunded and cancelled it) stays as it is.
func (m *Market) resumeJob(ctx context.Context, tx pgx.Tx, d Disputa, actorID string, why string, now time.Time) error {
	if d.job.Estado != domain.EstadoDisputado {
		return nil
	}
	to := d.previo
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = $2, auto_approve_at = CASE WHEN $2 = 'COMPLETADO' THEN $3::timestamptz ELSE NULL END,
		fecha_actualizacion = $4 WHERE id = $1`, d.job.ID, to, now.Add(m.cfg.AutoApproveAfter), now); err != nil {
		return fmt.Errorf("resume job %s: %w", d.job.ID, err)
	}
	from := d.job.Estado
	return timeline(ctx, tx, d.job.ID, "DISPUTA", why, &from, &to, &actorID)
}

// resolveDispute serves POST /disputas/{id}/resolver {a_favor, resolucion} and POST
// /admin/disputas/{id}/resolver {favorece_a, resolucion} (admin). DisputeResolved makes
// payments release (profesional) or refund (cliente); "ninguno" dismisses the claim: the
// job resumes where it was and the escrow, unfrozen, stays held.
func (m *Market) resolveDispute(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	var req resolveReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	if req.AFavor == "" {
		req.AFavor = req.FavoreceA
	}
	favor := strings.Clone(req.AFavor)
	resolucion := strings.Clone(strings.TrimSpace(req.Resolucion))
	outcome, ok := domain.ResolveOutcome(favor)
	var ck apperr.Checker
	ck.Add(!ok, "a_favor", "debe ser cliente, profesional o ninguno")
	ck.Len("resolucion", resolucion, 5, 2000)
	if err := ck.Err(); err != nil {
		return err
	}
	var d Disputa
	var t Trabajo
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if d, err = m.getDisputa(ctx, tx, id, true); err != nil {
			return err
		}
		if d.EstadoCodigo != domain.DisputaAbierta {
			return apperr.Invalid("disputa_resuelta", "La disputa ya fue resuelta")
		}
		now := m.now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE disputas SET estado = $2, resolucion = $3, admin_id = $4, fecha_actualizacion = $5, fecha_resolucion = $5 WHERE id = $1`,
			d.ID, outcome.Estado, resolucion, a.ID, now); err != nil {
			return fmt.Errorf("resolve dispute %s: %w", d.ID, err)
		}
		if outcome.JobEstado == "" {
			if err := m.resumeJob(ctx, tx, d, a.ID, "Disputa desestimada: el trabajo continúa. "+resolucion, now); err != nil {
				return err
			}
			if err := m.info(ctx, tx, d.job.ChatID, "⚖️ La disputa fue desestimada: el trabajo continúa y los fondos siguen en garantía."); err != nil {
				return err
			}
		} else {
			if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = $2, fecha_aprobacion = CASE WHEN $2 = 'APROBADO' THEN $3 ELSE fecha_aprobacion END,
				fecha_actualizacion = $3 WHERE id = $1`, d.job.ID, outcome.JobEstado, now); err != nil {
				return fmt.Errorf("settle job %s: %w", d.job.ID, err)
			}
			from, to := d.job.Estado, outcome.JobEstado
			if err := timeline(ctx, tx, d.job.ID, "DISPUTA", "Disputa resuelta a favor del "+favor+": "+resolucion, &from, &to, &a.ID); err != nil {
				return err
			}
			if err := m.info(ctx, tx, d.job.ChatID, "⚖️ La disputa fue resuelta a favor del "+favor+"."); err != nil {
				return err
			}
		}
		if err := m.emit(ctx, tx, d.job.ID, events.DisputeResolvedV1{DisputaID: d.ID, TrabajoID: d.job.ID, ClienteID: d.job.ClienteID,
			ProfesionalID: d.job.ProfesionalID, AFavor: favor, Resolucion: resolucion, PrecioCentavos: int64(d.job.PrecioFinal)}, events.Meta{}); err != nil {
			return err
		}
		if t, err = m.readAndPushJob(ctx, tx, d.job.ID); err != nil {
			return err
		}
		d, err = m.getDisputa(ctx, tx, d.ID, false)
		return err
	})
	if err != nil {
		return err
	}
	if viewOf(c) == viewWeb {
		return c.JSON(d.inWords(true))
	}
	msg := "Disputa resuelta a favor del " + favor
	if favor == "ninguno" {
		msg = "Disputa desestimada: el trabajo continúa"
	}
	return c.JSON(DisputeResolution{Disputa: d, Trabajo: t, Mensaje: msg})
}

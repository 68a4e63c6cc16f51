package marketplace

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// listJobsHandler serves GET /trabajos (mine; all for admins), /cliente/trabajos,
// /professional/trabajos and /admin/trabajos.
func (m *Market) listJobsHandler(side string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		where, args, p, err := listScope(c, side)
		if err != nil {
			return err
		}
		if e := c.Query("estado"); e != "" {
			args = append(args, e)
			where += fmt.Sprintf(" AND (estado = $%d OR estado_escrow = $%d)", len(args), len(args))
		}
		out, total, err := m.listJobs(c.UserContext(), where, args, p.Skip, p.Limit)
		if err != nil {
			return err
		}
		setTotal(c, total)
		return m.answer(c, fiber.StatusOK, out)
	}
}

// viewJob reads a job the actor may see (parties and admins).
func (m *Market) viewJob(c *fiber.Ctx) (Trabajo, domain.Actor, error) {
	a, id, err := actorAndID(c, "trabajo")
	if err != nil {
		return Trabajo{}, a, err
	}
	t, err := m.getJob(c.UserContext(), m.pool, id)
	if err != nil {
		return t, a, err
	}
	return t, a, domain.CanView(t.rules(), a)
}

// getJobHandler serves GET /trabajos/{id}, /cliente/trabajo/{id} and
// /chat_ofertas/trabajos/{id}.
func (m *Market) getJobHandler(c *fiber.Ctx) error {
	t, _, err := m.viewJob(c)
	if err != nil {
		return err
	}
	return m.answer(c, fiber.StatusOK, t)
}

// internalJob serves GET /internal/trabajos/{id}.
func (m *Market) internalJob(c *fiber.Ctx) error {
	id, err := pathID(c, "id", "trabajo")
	if err != nil {
		return err
	}
	t, err := m.getJob(c.UserContext(), m.pool, id)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// TimelineEntry is one line of a job's history.
type TimelineEntry struct {
	ID             int64     `json:"id"`
	TrabajoID      string    `json:"trabajo_id"`
	Tipo           string    `json:"tipo"`
	Descripcion    string    `json:"descripcion"`
	EstadoAnterior *string   `json:"estado_anterior"`
	EstadoNuevo    *string   `json:"estado_nuevo"`
	UsuarioID      *string   `json:"usuario_id"`
	UsuarioNombre  string    `json:"usuario_nombre"` // "Sistema" for system steps, never null
	CreatedAt      time.Time `json:"created_at"`
}

// jobTimeline serves GET /trabajos/{id}/timeline and /chat_ofertas/trabajos/{id}/timeline,
// oldest first (it is a history).
func (m *Market) jobTimeline(c *fiber.Ctx) error {
	t, _, err := m.viewJob(c)
	if err != nil {
		return err
	}
	rows, err := m.pool.Query(c.UserContext(), `SELECT e.id, e.trabajo_id::text, e.tipo, e.descripcion, e.estado_anterior, e.estado_nuevo, e.usuario_id::text,
		coalesce(nullif(trim(u.nombre || ' ' || u.apellido), ''), CASE WHEN e.usuario_id IS NULL THEN 'Sistema' ELSE 'Usuario' END), e.created_at
		FROM trabajo_eventos e LEFT JOIN usuarios u ON u.id = e.usuario_id WHERE e.trabajo_id = $1 ORDER BY e.id`, t.ID)
	if err != nil {
		return fmt.Errorf("timeline %s: %w", t.ID, err)
	}
	defer rows.Close()
	out := []TimelineEntry{}
	for rows.Next() {
		var e TimelineEntry
		if err := rows.Scan(&e.ID, &e.TrabajoID, &e.Tipo, &e.Descripcion, &e.EstadoAnterior, &e.EstadoNuevo, &e.UsuarioID, &e.UsuarioNombre, &e.CreatedAt); err != nil {
			return err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(out)
}

type statusReq struct {
	Estado string `json:"estado" jsonschema:"required,enum=EN_PROCESO,enum=COMPLETADO,enum=APROBADO,enum=CANCELADO"`
	Nota   string `json:"nota" jsonschema_description:"the step's note (at most 500 characters; 10 to 500 to complete, or empty on /chat_ofertas)"`
	// The web's job page names the note after its author.
	NotasProfesional string   `json:"notas_profesional" jsonschema_description:"the note of EN_PROCESO and COMPLETADO"`
	NotasCliente     string   `json:"notas_cliente" jsonschema_description:"the note of APROBADO"`
	Motivo           string   `json:"motivo" jsonschema_description:"the note of CANCELADO"`
	Imagenes         []string `json:"imagenes" jsonschema:"maxItems=10" jsonschema_description:"COMPLETADO: up to 10 image URLs of the finished work"`
}

// note is the step's note: the author's field for the step (notas_profesional for the
// professional's steps, notas_cliente for the approval), else nota.
func (r statusReq) note() string {
	first := func(vs ...string) string {
		for _, v := range vs {
			if v = strings.TrimSpace(v); v != "" {
				return v
			}
		}
		return ""
	}
	switch r.Estado {
	case domain.EstadoEnProceso, domain.EstadoCompletado:
		return first(r.NotasProfesional, r.Nota)
	case domain.EstadoAprobado:
		return first(r.NotasCliente, r.Nota)
	}
	return first(r.Motivo, r.Nota, r.NotasProfesional, r.NotasCliente)
}

// completionNoteMin is the shortest delivery note a path takes: the SPEC's 10 on our
// paths; on the web's, whose page calls the note optional, an empty one is fine too.
func completionNoteMin(c *fiber.Ctx, note string) int {
	if viewOf(c) == viewWeb && note == "" {
		return 0
	}
	return 10
}

// jobStatus serves PUT /trabajos/{id}/status and PUT /chat_ofertas/trabajos/{id}: the
// work steps, approval (the release, as finalizar) and cancel.
func (m *Market) jobStatus(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "trabajo")
	if err != nil {
		return err
	}
	var req statusReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Nota = req.note()
	var ck apperr.Checker
	switch req.Estado {
	case domain.EstadoEnProceso, domain.EstadoAprobado:
		ck.Len("nota", req.Nota, 0, 500)
	case domain.EstadoCompletado:
		if n := utf8.RuneCountInString(req.Nota); n < completionNoteMin(c, req.Nota) || n > 500 {
			// The web shows only detail, so the rule is said there.
			msg := "La nota de finalización debe tener entre 10 y 500 caracteres"
			if viewOf(c) == viewWeb {
				msg += " (o dejala vacía)"
			}
			return &apperr.Error{Kind: apperr.KindValidation, Code: "validation_error", Msg: msg,
				Fields: []apperr.FieldError{{Field: "nota", Msg: "debe tener entre 10 y 500 caracteres"}}}
		}
		ck.Add(len(req.Imagenes) > 10, "imagenes", "como máximo 10 imágenes")
		for _, u := range req.Imagenes {
			ck.Add(utf8.RuneCountInString(u) > 1000 || strings.TrimSpace(u) == "", "imagenes", "URL de imagen inválida")
		}
	case domain.EstadoCancelado:
		req.Motivo = req.Nota
		ck.Len("motivo", req.Motivo, 0, 500)
	default:
		ck.Add(true, "estado", "debe ser EN_PROCESO, COMPLETADO, APROBADO o CANCELADO")
	}
	if err := ck.Err(); err != nil {
		return err
	}
	switch req.Estado {
	case domain.EstadoAprobado:
		t, _, err := m.approve(c.UserContext(), id, a, true, req.Nota)
		if err != nil {
			return err
		}
		return m.jobAnswer(c, t, t.EstadoEscrow == domain.EscrowLiberado)
	case domain.EstadoCancelado:
		t, done, err := m.cancel(c.UserContext(), id, a, req.Motivo)
		if err != nil {
			return err
		}
		return m.jobAnswer(c, t, done)
	}
	var t Trabajo
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if t, err = m.lockJob(ctx, tx, id); err != nil {
			return err
		}
		from := t.Estado
		to := req.Estado
		step := events.JobStepV1{TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID, Nota: req.Nota}
		var ev events.Event
		var desc string
		now := m.now().UTC()
		if to == domain.EstadoEnProceso {
			if err := domain.CanStart(t.rules(), a); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `UPDATE trabajos SET estado = $2, fecha_inicio = $3, notas_profesional = coalesce(nullif($4, ''), notas_profesional), fecha_actualizacion = $3 WHERE id = $1`,
				t.ID, to, now, req.Nota)
			ev, desc = events.JobStartedV1(step), "El profesional inició el trabajo"
		} else {
			if err := domain.CanDeliver(t.rules(), a); err != nil {
				return err
			}
			imgs := req.Imagenes
			if imgs == nil {
				imgs = []string{}
			}
			_, err = tx.Exec(ctx, `UPDATE trabajos SET estado = $2, fecha_fin = $3, notas_profesional = coalesce(nullif($4, ''), notas_profesional), imagenes = $5, auto_approve_at = $6, fecha_actualizacion = $3 WHERE id = $1`,
				t.ID, to, now, req.Nota, imgs, now.Add(m.cfg.AutoApproveAfter))
			ev, desc = events.JobDeliveredV1(step), "El profesional marcó el trabajo como completado"
		}
		if err != nil {
			return fmt.Errorf("job %s to %s: %w", t.ID, to, err)
		}
		if err := timeline(ctx, tx, t.ID, "ESTADO_CAMBIO", desc, &from, &to, &a.ID); err != nil {
			return err
		}
		if err := m.emit(ctx, tx, t.ID, ev, events.Meta{}); err != nil {
			return err
		}
		t, err = m.readAndPushJob(ctx, tx, t.ID)
		return err
	})
	if err != nil {
		return err
	}
	return m.answer(c, fiber.StatusOK, t)
}

// jobAnswer answers 200 with the job when its saga finished, else 202.
func (m *Market) jobAnswer(c *fiber.Ctx, t Trabajo, done bool) error {
	if !done {
		return m.answer(c, fiber.StatusAccepted, t)
	}
	return m.answer(c, fiber.StatusOK, t)
}

// FinalizarResponse is TrabajoFinalizarResponse.
type FinalizarResponse struct {
	Trabajo  Trabajo `json:"trabajo"`
	PayoutID *string `json:"payout_id"`
	Mensaje  string  `json:"mensaje"`
}

// finalizar serves POST /cliente/trabajo/{id}/finalizar: the client approves from any
// paid state and the handler waits for payments' EscrowReleased.
func (m *Market) finalizar(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "trabajo")
	if err != nil {
		return err
	}
	var req finalizarReq
	if err := httpx.BindOptionalJSON(c, &req); err != nil {
		return err
	}
	t, done, err := m.approve(c.UserContext(), id, a, false, strings.TrimSpace(req.Nota))
	if err != nil {
		return err
	}
	if !done {
		return m.answer(c, fiber.StatusAccepted, FinalizarResponse{Trabajo: t, Mensaje: "Trabajo aprobado. La liberación de fondos está en proceso."})
	}
	return m.answer(c, fiber.StatusOK, FinalizarResponse{Trabajo: t, PayoutID: t.PayoutID,
		Mensaje: fmt.Sprintf("Trabajo finalizado. Fondos liberados al profesional: $%s", deref(t.MontoLiberado))})
}

// finalizarReq is the optional body of finalizar.
type finalizarReq struct {
	Nota string `json:"nota" jsonschema_description:"the client's note on approving"`
}

// approve is the client's approval: APROBADO + JobCompleted, then the bounded wait for
// EscrowReleased. Release needs the professional's payout account.
func (m *Market) approve(ctx context.Context, id string, a domain.Actor, onlyDelivered bool, nota string) (Trabajo, bool, error) {
	t, err := m.getJob(ctx, m.pool, id)
	if err != nil {
		return t, false, err
	}
	if err := domain.CanApprove(t.rules(), a, onlyDelivered); err != nil {
		return t, false, err
	}
	pro, err := m.professionalWhere(ctx, t.ProfesionalID, hasPayout)
	if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
		return t, false, err
	}
	if !hasPayout(pro) {
		return t, false, apperr.Invalid("sin_cuenta_de_pago", "El profesional no ha configurado su cuenta de pago. No se pueden liberar los fondos.")
	}
	err = m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if t, err = m.lockJob(ctx, tx, id); err != nil {
			return err
		}
		// Checked again under the lock: a concurrent approval or cancel may have won.
		if err := domain.CanApprove(t.rules(), a, onlyDelivered); err != nil {
			return err
		}
		return m.approveLocked(ctx, tx, t, &a.ID, nota, "cliente")
	})
	if err != nil {
		return t, false, err
	}
	return m.awaitJob(ctx, id, func(t Trabajo) bool { return t.EstadoEscrow != domain.EscrowEnEscrow })
}

// approveLocked moves a locked, paid job to APROBADO and asks payments to release.
func (m *Market) approveLocked(ctx context.Context, tx pgx.Tx, t Trabajo, by *string, nota, motivo string) error {
	now := m.now().UTC()
	if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = 'APROBADO', fecha_aprobacion = $2, auto_approve_at = NULL,
		notas_cliente = coalesce(nullif($3, ''), notas_cliente), fecha_actualizacion = $2 WHERE id = $1`, t.ID, now, nota); err != nil {
		return fmt.Errorf("approve job %s: %w", t.ID, err)
	}
	from, to := t.Estado, domain.EstadoAprobado
	desc := "El cliente aprobó el trabajo; se liberan los fondos"
	if motivo == "automatico" {
		desc = "Aprobación automática: el cliente no respondió a tiempo; se liberan los fondos"
	}
	if err := timeline(ctx, tx, t.ID, "ESTADO_CAMBIO", desc, &from, &to, by); err != nil {
		return err
	}
	if err := m.emit(ctx, tx, t.ID, events.JobCompletedV1{TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
		PrecioCentavos: int64(t.PrecioFinal), Motivo: motivo}, events.Meta{}); err != nil {
		return err
	}
	return m.pushJob(ctx, tx, t.ID)
}

// CancelResponse is TrabajoCancelarResponse.
type CancelResponse struct {
	Trabajo  Trabajo `json:"trabajo"`
	RefundID *string `json:"refund_id"`
	Mensaje  string  `json:"mensaje"`
}

// cancelHandler serves POST /cliente/trabajo/{id}/cancelar, PUT /trabajos/{id}/cancel,
// POST /admin/trabajo/{id}/cancelar and POST /chat_ofertas/trabajos/{id}/cancelar (no
// body there; the answer is the bare job).
func (m *Market) cancelHandler(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "trabajo")
	if err != nil {
		return err
	}
	var req cancelReq
	if err := httpx.BindOptionalJSON(c, &req); err != nil {
		return err
	}
	req.Motivo = strings.TrimSpace(req.Motivo)
	var ck apperr.Checker
	ck.Len("motivo", req.Motivo, 0, 500)
	if err := ck.Err(); err != nil {
		return err
	}
	t, done, err := m.cancel(c.UserContext(), id, a, req.Motivo)
	if err != nil {
		return err
	}
	switch {
	case !done:
		return m.answer(c, fiber.StatusAccepted, CancelResponse{Trabajo: t, Mensaje: "Trabajo cancelado. El reembolso está en proceso."})
	case t.EstadoEscrow == domain.EscrowReembolsado:
		return m.answer(c, fiber.StatusOK, CancelResponse{Trabajo: t, RefundID: t.RefundID, Mensaje: fmt.Sprintf("Trabajo cancelado. Reembolso de $%s procesado.", t.PrecioFinal)})
	}
	return m.answer(c, fiber.StatusOK, CancelResponse{Trabajo: t, Mensaje: "Trabajo cancelado."})
}

// cancelReq is the optional body of a cancel.
type cancelReq struct {
	Motivo string `json:"motivo" jsonschema:"maxLength=500" jsonschema_description:"why (at most 500 characters once trimmed)"`
}

// cancel cancels a job. Before payment it is final at once; after payment it asks
// payments for a full refund and waits for RefundIssued. done reports the final state.
func (m *Market) cancel(ctx context.Context, id string, a domain.Actor, motivo string) (Trabajo, bool, error) {
	var t Trabajo
	var paid bool
	err := m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if t, err = m.lockJob(ctx, tx, id); err != nil {
			return err
		}
		if paid, err = domain.CanCancel(t.rules(), a); err != nil {
			return err
		}
		now := m.now().UTC()
		escrow := t.EstadoEscrow
		if !paid {
			escrow = domain.EscrowCancelado
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = 'CANCELADO', estado_escrow = $2, motivo_cancelacion = nullif($3, ''),
			auto_approve_at = NULL, fecha_actualizacion = $4 WHERE id = $1`, t.ID, escrow, motivo, now); err != nil {
			return fmt.Errorf("cancel job %s: %w", t.ID, err)
		}
		from, to := t.Estado, domain.EstadoCancelado
		desc := "Trabajo cancelado antes del pago"
		if paid {
			desc = "Trabajo cancelado; se reembolsa el pago al cliente"
		}
		if motivo != "" {
			desc += ": " + motivo
		}
		if err := timeline(ctx, tx, t.ID, "ESTADO_CAMBIO", desc, &from, &to, &a.ID); err != nil {
			return err
		}
		if !paid {
			if err := m.info(ctx, tx, t.ChatID, "🚫 Trabajo cancelado."); err != nil {
				return err
			}
		}
		if err := m.emit(ctx, tx, t.ID, events.JobCancelledV1{TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
			PrecioCentavos: int64(t.PrecioFinal), Paid: paid, Motivo: motivo, By: a.ID}, events.Meta{}); err != nil {
			return err
		}
		return m.pushJob(ctx, tx, t.ID)
	})
	if err != nil {
		return t, false, err
	}
	if !paid {
		t, err = m.getJob(ctx, m.pool, id)
		return t, true, err
	}
	return m.awaitJob(ctx, id, func(t Trabajo) bool { return t.EstadoEscrow == domain.EscrowReembolsado })
}

// autoApprove approves delivered jobs whose client neither approved nor disputed in
// time. The due time is a column, so the timer survives restarts; the states it leaves
// are the lifecycle table's row. SKIP LOCKED lets several replicas share the scan, and
// a row another replica approved meanwhile no longer matches when its lock is released
// (PostgreSQL re-checks the WHERE), so each job is approved once.
func (m *Market) autoApprove(ctx context.Context) error {
	move := domain.TimedMove(domain.JobMachine(), domain.TrabajoAprobarAuto)
	return m.inBatches(ctx, 50, func(ctx context.Context, tx pgx.Tx) (int, error) {
		rows, err := tx.Query(ctx, `SELECT `+trabajoCols+` FROM trabajos WHERE auto_approve_at <= $1 AND estado IN (`+sqlList(move.From)+`)
			AND estado_escrow IN (`+sqlList(move.EscrowFrom)+`) ORDER BY auto_approve_at LIMIT 50 FOR UPDATE SKIP LOCKED`, m.now())
		if err != nil {
			return 0, err
		}
		var jobs []Trabajo
		for rows.Next() {
			t, err := scanTrabajo(rows)
			if err != nil {
				rows.Close()
				return 0, err
			}
			jobs = append(jobs, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return 0, err
		}
		for _, t := range jobs {
			if err := m.approveLocked(ctx, tx, t, nil, "", "automatico"); err != nil {
				return 0, err
			}
		}
		return len(jobs), nil
	})
}

// listScope reads a listing request of jobs or offers: the caller's sideFilter and the page.
func listScope(c *fiber.Ctx, side string) (string, []any, httpx.Page, error) {
	a, _, err := actorOf(c)
	if err != nil {
		return "", nil, httpx.Page{}, err
	}
	p, err := httpx.Paging(c, 50)
	if err != nil {
		return "", nil, p, err
	}
	where, args, err := sideFilter(a, side)
	return where, args, p, err
}

// sideFilter is the WHERE clause of a listing of jobs or offers seen from one side: the
// client's, the professional's (professionals only), the admin's (everything), or
// "mine" from either side (everything for an admin).
func sideFilter(a domain.Actor, side string) (string, []any, error) {
	mine := []any{a.ID}
	switch side {
	case "cliente":
		return "cliente_id = $1", mine, nil
	case "profesional":
		if a.Rol != authn.RoleProfesional {
			return "", nil, apperr.Forbidden("solo_profesional", "No tenés permisos de profesional")
		}
		return "profesional_id = $1", mine, nil
	case "admin":
		return "true", nil, nil
	}
	if a.Rol == authn.RoleAdmin {
		return "true", nil, nil
	}
	return "(cliente_id = $1 OR profesional_id = $1)", mine, nil
}

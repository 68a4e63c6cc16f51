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
	"github.com/conectarpro/conectar/services/marketplace/moderation"
)

// A dispute's detail, evidence, conversation and withdrawal (the web frontend's paths;
// answers in its words).

// getDispute serves GET /disputas/{id}: the parties and admins.
func (m *Market) getDispute(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	d, err := m.getDisputa(c.UserContext(), m.pool, id, false)
	if err != nil {
		return err
	}
	if err := domain.CanSeeDispute(d.rules(), a); err != nil {
		return err
	}
	return c.JSON(d.inWords(true))
}

// addEvidenceHandler serves POST /disputas/{id}/evidencias {evidencia}: a party adds a
// URL while the dispute is open (the same URL twice is stored once).
func (m *Market) addEvidenceHandler(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	var req evidenceReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	ev := strings.Clone(strings.TrimSpace(req.Evidencia))
	var ck apperr.Checker
	ck.Add(!validEvidence(ev), "evidencia", "debe ser una URL http(s) válida")
	if err := ck.Err(); err != nil {
		return err
	}
	var d Disputa
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if d, err = m.getDisputa(ctx, tx, id, true); err != nil {
			return err
		}
		if err := domain.CanAddEvidence(d.rules(), a); err != nil {
			return err
		}
		if len(d.Evidencias) >= maxEvidencias {
			return apperr.Invalid("demasiadas_evidencias", fmt.Sprintf("Una disputa admite como máximo %d evidencias", maxEvidencias))
		}
		if err := addEvidence(ctx, tx, d.ID, a.ID, ev, m.now().UTC()); err != nil {
			return err
		}
		d, err = m.getDisputa(ctx, tx, d.ID, false)
		return err
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d.inWords(true))
}

// evidenceReq adds one evidence URL.
type evidenceReq struct {
	Evidencia string `json:"evidencia" jsonschema:"required,maxLength=2048" jsonschema_description:"an http(s) URL"`
}

// disputeMessageReq is one message of a dispute's conversation.
type disputeMessageReq struct {
	Mensaje string `json:"mensaje" jsonschema:"required,maxLength=2000" jsonschema_description:"1 to 2000 characters once trimmed; a party's contact data is censored"`
}

// MensajeDisputa is one message of a dispute's conversation.
type MensajeDisputa struct {
	ID            string    `json:"id"`
	DisputaID     string    `json:"disputa_id"`
	UsuarioID     string    `json:"usuario_id"`
	UsuarioNombre string    `json:"usuario_nombre"`
	Mensaje       string    `json:"mensaje"`
	EsAdmin       bool      `json:"es_admin"`
	Censurado     bool      `json:"censurado"`
	FechaCreacion time.Time `json:"fecha_creacion"`
	CreatedAt     time.Time `json:"created_at"`
}

const mensajeDisputaFrom = `SELECT dm.id::text, dm.disputa_id::text, dm.usuario_id::text, coalesce(trim(u.nombre || ' ' || u.apellido), ''),
	dm.mensaje, dm.es_admin, dm.censurado, dm.fecha_creacion
	FROM disputa_mensajes dm LEFT JOIN usuarios u ON u.id = dm.usuario_id `

func scanMensajeDisputa(row pgx.Row) (MensajeDisputa, error) {
	var x MensajeDisputa
	err := row.Scan(&x.ID, &x.DisputaID, &x.UsuarioID, &x.UsuarioNombre, &x.Mensaje, &x.EsAdmin, &x.Censurado, &x.FechaCreacion)
	x.FechaCreacion = x.FechaCreacion.UTC()
	x.CreatedAt = x.FechaCreacion
	return x, err
}

// disputeMessages serves GET /disputas/{id}/mensajes: the parties and admins, oldest
// first (a dispute's conversation is short and read whole).
func (m *Market) disputeMessages(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	d, err := m.getDisputa(ctx, m.pool, id, false)
	if err != nil {
		return err
	}
	if err := domain.CanSeeDispute(d.rules(), a); err != nil {
		return err
	}
	rows, err := m.pool.Query(ctx, mensajeDisputaFrom+`WHERE dm.disputa_id = $1 ORDER BY dm.fecha_creacion, dm.id LIMIT 500`, d.ID)
	if err != nil {
		return fmt.Errorf("dispute messages: %w", err)
	}
	defer rows.Close()
	out := []MensajeDisputa{}
	for rows.Next() {
		x, err := scanMensajeDisputa(rows)
		if err != nil {
			return fmt.Errorf("scan dispute message: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("dispute messages: %w", err)
	}
	return c.JSON(out)
}

// postDisputeMessage serves POST /disputas/{id}/mensajes {mensaje}: the parties and
// admins, while open. A party's message with contact data is stored censored, as in the
// chat (the original only as a hash); no chat strike is counted, since an admin reads
// the whole conversation anyway.
func (m *Market) postDisputeMessage(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	var req disputeMessageReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	text := strings.Clone(strings.TrimSpace(req.Mensaje))
	var ck apperr.Checker
	ck.Len("mensaje", text, 1, 2000)
	if err := ck.Err(); err != nil {
		return err
	}
	esAdmin := a.Rol == authn.RoleAdmin
	var hash *string
	if verdict := moderation.Check(text); verdict.Blocked && !esAdmin {
		h := moderation.Hash(text)
		text, hash = moderation.Censored, &h
	}
	var x MensajeDisputa
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		d, err := m.getDisputa(ctx, tx, id, false)
		if err != nil {
			return err
		}
		if err := domain.CanPostDisputeMessage(d.rules(), a); err != nil {
			return err
		}
		msgID := newID()
		if _, err := tx.Exec(ctx, `INSERT INTO disputa_mensajes (id, disputa_id, usuario_id, mensaje, es_admin, censurado, original_hash, fecha_creacion)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, msgID, d.ID, a.ID, text, esAdmin, hash != nil, hash, m.now().UTC()); err != nil {
			return fmt.Errorf("store dispute message: %w", err)
		}
		if x, err = scanMensajeDisputa(tx.QueryRow(ctx, mensajeDisputaFrom+`WHERE dm.id = $1`, msgID)); err != nil {
			return fmt.Errorf("read dispute message: %w", err)
		}
		// The parties see it live; admins read the dispute when they work on it.
		var to []string
		for _, u := range []string{d.ClienteID, d.ProfesionalID} {
			if u != a.ID {
				to = append(to, u)
			}
		}
		m.push(ctx, "disputa_mensaje", x, to...)
		return nil
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(x)
}

// cancelDispute serves POST /disputas/{id}/cancelar: whoever opened an open dispute
// withdraws it. The job resumes the state it had before; DisputeCancelled makes payments
// unfreeze the escrow, which stays held (no money moves).
func (m *Market) cancelDispute(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	var d Disputa
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if d, err = m.getDisputa(ctx, tx, id, true); err != nil {
			return err
		}
		if err := domain.CanCancelDispute(d.rules(), a); err != nil {
			return err
		}
		now := m.now().UTC()
		if _, err := tx.Exec(ctx, `UPDATE disputas SET estado = $2, fecha_actualizacion = $3, fecha_resolucion = $3 WHERE id = $1`,
			d.ID, domain.DisputaCancelada, now); err != nil {
			return fmt.Errorf("cancel dispute %s: %w", d.ID, err)
		}
		if err := m.resumeJob(ctx, tx, d, a.ID, "Disputa cancelada por quien la abrió: el trabajo continúa", now); err != nil {
			return err
		}
		if err := m.info(ctx, tx, d.job.ChatID, "⚖️ La disputa fue cancelada: el trabajo continúa y los fondos siguen en garantía."); err != nil {
			return err
		}
		if err := m.emit(ctx, tx, d.job.ID, events.DisputeCancelledV1{DisputaID: d.ID, TrabajoID: d.job.ID, ClienteID: d.job.ClienteID,
			ProfesionalID: d.job.ProfesionalID, CanceladaPor: a.ID, EstadoTrabajo: d.previo}, events.Meta{}); err != nil {
			return err
		}
		if err := m.pushJob(ctx, tx, d.job.ID); err != nil {
			return err
		}
		d, err = m.getDisputa(ctx, tx, d.ID, false)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(d.inWords(true))
}

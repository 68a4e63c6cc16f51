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

// Disputa is DisputaRead.
type Disputa struct {
	ID                 string    `json:"id"`
	TrabajoID          string    `json:"trabajo_id"`
	AbiertaPor         string    `json:"abierta_por"`
	Tipo               string    `json:"tipo"`
	Descripcion        string    `json:"descripcion"`
	Estado             string    `json:"estado"`
	Resolucion         *string   `json:"resolucion"`
	AdminID            *string   `json:"admin_id"`
	FechaCreacion      time.Time `json:"fecha_creacion"`
	FechaActualizacion time.Time `json:"fecha_actualizacion"`
}

const disputaCols = `d.id::text, d.trabajo_id::text, d.abierta_por::text, d.tipo, d.descripcion, d.estado, d.resolucion, d.admin_id::text, d.fecha_creacion, d.fecha_actualizacion`

func scanDisputa(row pgx.Row) (Disputa, error) {
	var d Disputa
	err := row.Scan(&d.ID, &d.TrabajoID, &d.AbiertaPor, &d.Tipo, &d.Descripcion, &d.Estado, &d.Resolucion, &d.AdminID, &d.FechaCreacion, &d.FechaActualizacion)
	d.FechaCreacion, d.FechaActualizacion = d.FechaCreacion.UTC(), d.FechaActualizacion.UTC()
	return d, err
}

var tiposDisputa = map[string]bool{"CALIDAD_TRABAJO": true, "NO_REALIZADO": true, "REEMBOLSO": true, "INCUMPLIMIENTO_TIEMPO": true, "OTRO": true}

// openDispute serves POST /disputas: a party freezes the escrow of a paid job.
func (m *Market) openDispute(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	var req struct {
		TrabajoID   string `json:"trabajo_id"`
		Tipo        string `json:"tipo"`
		Descripcion string `json:"descripcion"`
	}
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Descripcion = strings.TrimSpace(req.Descripcion)
	var ck apperr.Checker
	ck.Add(!tiposDisputa[req.Tipo], "tipo", "debe ser CALIDAD_TRABAJO, NO_REALIZADO, REEMBOLSO, INCUMPLIMIENTO_TIEMPO u OTRO")
	ck.Len("descripcion", req.Descripcion, 10, 2000)
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
		d, err = scanDisputa(tx.QueryRow(ctx, `INSERT INTO disputas AS d (id, trabajo_id, abierta_por, tipo, descripcion, estado_trabajo_previo, fecha_creacion, fecha_actualizacion)
			VALUES ($1,$2,$3,$4,$5,$6,$7,$7) RETURNING `+disputaCols, newID(), t.ID, a.ID, req.Tipo, req.Descripcion, t.Estado, now))
		if err != nil {
			return fmt.Errorf("open dispute on %s: %w", t.ID, err)
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = 'DISPUTADO', auto_approve_at = NULL, fecha_actualizacion = $2 WHERE id = $1`, t.ID, now); err != nil {
			return err
		}
		from, to := t.Estado, domain.EstadoDisputado
		if err := timeline(ctx, tx, t.ID, "DISPUTA", "Disputa abierta ("+req.Tipo+"): los fondos quedan congelados", &from, &to, &a.ID); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, "⚖️ Se abrió una disputa sobre el trabajo. Los fondos quedan congelados hasta que un administrador la resuelva."); err != nil {
			return err
		}
		if err := m.emit(ctx, tx, t.ID, events.DisputeOpenedV1{DisputaID: d.ID, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
			AbiertaPor: a.ID, Tipo: req.Tipo}, events.Meta{}); err != nil {
			return err
		}
		return m.pushJob(ctx, tx, t.ID)
	})
	if err != nil {
		if apperr.KindOf(err) == apperr.KindConflict {
			return apperr.Invalid("disputa_abierta", "El trabajo ya tiene una disputa abierta")
		}
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// listDisputes serves GET /disputas: admins see all, parties their jobs' disputes.
func (m *Market) listDisputes(c *fiber.Ctx) error {
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
	if e := c.Query("estado"); e != "" {
		args = append(args, e)
		where += fmt.Sprintf(" AND d.estado = $%d", len(args))
	}
	rows, err := m.pool.Query(c.UserContext(), `SELECT `+disputaCols+` FROM disputas d JOIN trabajos t ON t.id = d.trabajo_id WHERE `+where+
		fmt.Sprintf(` ORDER BY d.fecha_creacion DESC OFFSET %d LIMIT %d`, p.Skip, p.Limit), args...)
	if err != nil {
		return fmt.Errorf("list disputes: %w", err)
	}
	defer rows.Close()
	out := []Disputa{}
	for rows.Next() {
		d, err := scanDisputa(rows)
		if err != nil {
			return err
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(out)
}

// resolveDispute serves POST /disputas/{id}/resolver (admin): DisputeResolved makes
// payments release (a_favor profesional) or refund (a_favor cliente).
func (m *Market) resolveDispute(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "disputa")
	if err != nil {
		return err
	}
	var req struct {
		AFavor     string `json:"a_favor"`
		Resolucion string `json:"resolucion"`
	}
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	req.Resolucion = strings.TrimSpace(req.Resolucion)
	var ck apperr.Checker
	ck.Add(req.AFavor != "cliente" && req.AFavor != "profesional", "a_favor", "debe ser cliente o profesional")
	ck.Len("resolucion", req.Resolucion, 5, 2000)
	if err := ck.Err(); err != nil {
		return err
	}
	var d Disputa
	var t Trabajo
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		d, err = scanDisputa(tx.QueryRow(ctx, `SELECT `+disputaCols+` FROM disputas d WHERE d.id = $1 FOR UPDATE`, id))
		if err != nil {
			return notFound(err, "disputa")
		}
		if d.Estado != "ABIERTA" {
			return apperr.Invalid("disputa_resuelta", "La disputa ya fue resuelta")
		}
		if t, err = m.lockJob(ctx, tx, d.TrabajoID); err != nil {
			return err
		}
		now := m.now().UTC()
		estado, jobEstado := "RESUELTA_A_FAVOR_PROFESIONAL", domain.EstadoAprobado
		if req.AFavor == "cliente" {
			estado, jobEstado = "RESUELTA_A_FAVOR_CLIENTE", domain.EstadoCancelado
		}
		d, err = scanDisputa(tx.QueryRow(ctx, `UPDATE disputas AS d SET estado = $2, resolucion = $3, admin_id = $4, fecha_actualizacion = $5 WHERE d.id = $1 RETURNING `+disputaCols,
			d.ID, estado, req.Resolucion, a.ID, now))
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE trabajos SET estado = $2, fecha_aprobacion = CASE WHEN $2 = 'APROBADO' THEN $3 ELSE fecha_aprobacion END,
			fecha_actualizacion = $3 WHERE id = $1`, t.ID, jobEstado, now); err != nil {
			return err
		}
		from := t.Estado
		if err := timeline(ctx, tx, t.ID, "DISPUTA", "Disputa resuelta a favor del "+req.AFavor+": "+req.Resolucion, &from, &jobEstado, &a.ID); err != nil {
			return err
		}
		if err := m.info(ctx, tx, t.ChatID, "⚖️ La disputa fue resuelta a favor del "+req.AFavor+"."); err != nil {
			return err
		}
		if err := m.emit(ctx, tx, t.ID, events.DisputeResolvedV1{DisputaID: d.ID, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
			AFavor: req.AFavor, Resolucion: req.Resolucion, PrecioCentavos: int64(t.PrecioFinal)}, events.Meta{}); err != nil {
			return err
		}
		t, err = m.readAndPushJob(ctx, tx, t.ID)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"disputa": d, "trabajo": t, "mensaje": "Disputa resuelta a favor del " + req.AFavor})
}

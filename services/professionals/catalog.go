package professionals

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
)

// listOficios answers GET /public/oficios and GET /admin/oficios, by name.
func (s *svc) listOficios(c *fiber.Ctx) error {
	rows, err := s.pool.Query(c.UserContext(), `SELECT id::text, nombre, descripcion FROM oficios ORDER BY nombre`)
	if err != nil {
		return fmt.Errorf("list oficios: %w", pg.Translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (oficioRead, error) {
		var o oficioRead
		return o, r.Scan(&o.ID, &o.Nombre, &o.Descripcion)
	})
	if err != nil {
		return fmt.Errorf("list oficios: %w", err)
	}
	return c.JSON(out)
}

type oficioCreate struct {
	Nombre      string  `json:"nombre"`
	Descripcion *string `json:"descripcion"`
}

// createOficio answers POST /admin/oficios (duplicate names, accents and case aside: 400).
func (s *svc) createOficio(c *fiber.Ctx) error {
	var in oficioCreate
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	in.Nombre = strings.TrimSpace(in.Nombre)
	var ck apperr.Checker
	ck.Len("nombre", in.Nombre, 3, 100)
	if in.Descripcion != nil {
		ck.Len("descripcion", *in.Descripcion, 0, 500)
	}
	if err := ck.Err(); err != nil {
		return err
	}
	var o oficioRead
	err := s.pool.QueryRow(c.UserContext(), `INSERT INTO oficios (nombre, descripcion) VALUES ($1, $2)
		RETURNING id::text, nombre, descripcion`, in.Nombre, in.Descripcion).Scan(&o.ID, &o.Nombre, &o.Descripcion)
	if pg.IsUniqueViolation(err, "oficios_nombre_key") {
		return apperr.Invalid("oficio_duplicado", fmt.Sprintf("Ya existe un oficio con el nombre '%s'", in.Nombre))
	}
	if err != nil {
		return fmt.Errorf("create oficio: %w", pg.Translate(err))
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

type servicioInstantRead struct {
	ID            string  `json:"id"`
	Nombre        string  `json:"nombre"`
	Descripcion   *string `json:"descripcion"`
	OficioID      string  `json:"oficio_id"`
	FechaCreacion pgTime  `json:"fecha_creacion"`
}

func scanServicioInstant(r pgx.CollectableRow) (servicioInstantRead, error) {
	var x servicioInstantRead
	return x, r.Scan(&x.ID, &x.Nombre, &x.Descripcion, &x.OficioID, &x.FechaCreacion.T)
}

type servicioInstantCreate struct {
	Nombre      string  `json:"nombre"`
	Descripcion *string `json:"descripcion"`
	OficioID    string  `json:"oficio_id"`
}

// createServicioInstant answers POST /admin/servicios-instant.
func (s *svc) createServicioInstant(c *fiber.Ctx) error {
	var in servicioInstantCreate
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	in.Nombre = strings.TrimSpace(in.Nombre)
	var ck apperr.Checker
	ck.Len("nombre", in.Nombre, 1, 100)
	if in.Descripcion != nil {
		ck.Len("descripcion", *in.Descripcion, 0, 500)
	}
	ck.Add(!isUUID(in.OficioID), "oficio_id", "debe ser un UUID")
	if err := ck.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM oficios WHERE id = $1)`, in.OficioID).Scan(&exists); err != nil {
		return fmt.Errorf("check oficio: %w", pg.Translate(err))
	}
	if !exists {
		return apperr.NotFound("oficio_not_found", "Oficio no encontrado")
	}
	rows, err := s.pool.Query(ctx, `INSERT INTO servicios_instantaneos (nombre, descripcion, oficio_id) VALUES ($1, $2, $3)
		RETURNING id::text, nombre, descripcion, oficio_id::text, fecha_creacion`, in.Nombre, in.Descripcion, in.OficioID)
	if err != nil {
		return fmt.Errorf("create servicio instant: %w", pg.Translate(err))
	}
	x, err := pgx.CollectExactlyOneRow(rows, scanServicioInstant)
	if err != nil {
		return fmt.Errorf("create servicio instant: %w", pg.Translate(err))
	}
	return c.Status(fiber.StatusCreated).JSON(x)
}

// listServiciosInstant answers GET /admin/oficios/{id}/servicios-instant (any user).
func (s *svc) listServiciosInstant(c *fiber.Ctx) error {
	id := c.Params("id")
	ctx := c.UserContext()
	var exists bool
	if isUUID(id) {
		if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM oficios WHERE id = $1)`, id).Scan(&exists); err != nil {
			return fmt.Errorf("check oficio: %w", pg.Translate(err))
		}
	}
	if !exists {
		return apperr.NotFound("oficio_not_found", "Oficio no encontrado")
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, nombre, descripcion, oficio_id::text, fecha_creacion
		FROM servicios_instantaneos WHERE oficio_id = $1 ORDER BY nombre, id`, id)
	if err != nil {
		return fmt.Errorf("list servicios instant: %w", pg.Translate(err))
	}
	out, err := pgx.CollectRows(rows, scanServicioInstant)
	if err != nil {
		return fmt.Errorf("list servicios instant: %w", err)
	}
	return c.JSON(out)
}

package professionals

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
)

// oficioRead is the catalogue shape: descripcion and categoria are strings, never null
// (the frontend slices them).
type oficioRead struct {
	ID            string `json:"id"`
	Nombre        string `json:"nombre"`
	Descripcion   string `json:"descripcion"`
	Categoria     string `json:"categoria"`
	Activo        bool   `json:"activo"`
	FechaCreacion pgTime `json:"fecha_creacion"`
}

// oficioCols are the columns scanOficio reads, from a table aliased o.
const oficioCols = `o.id::text, o.nombre, o.descripcion, o.categoria, o.activo, o.fecha_creacion`

func scanOficio(r pgx.CollectableRow) (oficioRead, error) {
	var o oficioRead
	return o, r.Scan(&o.ID, &o.Nombre, &o.Descripcion, &o.Categoria, &o.Activo, &o.FechaCreacion.T)
}

var errOficioNotFound = apperr.NotFound("oficio_not_found", "Oficio no encontrado")

func errOficioInactivo(nombre string) error {
	return apperr.Invalid("oficio_inactivo", fmt.Sprintf("El oficio '%s' está deshabilitado y no se puede elegir", nombre))
}

func errOficioDuplicado(nombre string) error {
	return apperr.Invalid("oficio_duplicado", fmt.Sprintf("Ya existe un oficio con el nombre '%s'", nombre))
}

// oficioByID loads one trade; lock takes its row lock for a change.
func oficioByID(ctx context.Context, q querier, id string, lock bool) (oficioRead, error) {
	if !isUUID(id) {
		return oficioRead{}, errOficioNotFound
	}
	sql := `SELECT ` + oficioCols + ` FROM oficios o WHERE o.id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	rows, err := q.Query(ctx, sql, id)
	if err != nil {
		return oficioRead{}, fmt.Errorf("load oficio %s: %w", id, pg.Translate(err))
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOficio)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, errOficioNotFound
	}
	if err != nil {
		return o, fmt.Errorf("load oficio %s: %w", id, pg.Translate(err))
	}
	return o, nil
}

// choosable checks that the trade with id exists and is enabled: the rule for every
// place where a trade is newly chosen (a professional's trades, a published service,
// an instant service).
func choosable(ctx context.Context, q querier, id string) (oficioRead, error) {
	o, err := oficioByID(ctx, q, id, false)
	if err != nil {
		return o, err
	}
	if !o.Activo {
		return o, errOficioInactivo(o.Nombre)
	}
	return o, nil
}

// listOficios answers GET /public/oficios: the enabled trades, by name.
func (s *svc) listOficios(c *fiber.Ctx) error { return s.respondOficios(c, false) }

// listOficiosAdmin answers GET /admin/oficios: every trade, disabled ones included (the
// admin page toggles them), by name.
func (s *svc) listOficiosAdmin(c *fiber.Ctx) error { return s.respondOficios(c, true) }

func (s *svc) respondOficios(c *fiber.Ctx, all bool) error {
	rows, err := s.pool.Query(c.UserContext(), `SELECT `+oficioCols+` FROM oficios o WHERE $1 OR o.activo ORDER BY o.nombre`, all)
	if err != nil {
		return fmt.Errorf("list oficios: %w", pg.Translate(err))
	}
	out, err := pgx.CollectRows(rows, scanOficio)
	if err != nil {
		return fmt.Errorf("list oficios: %w", err)
	}
	return c.JSON(out)
}

// oficioInput is the body of POST and PUT /admin/oficios (PUT is partial).
type oficioInput struct {
	Nombre      *string `json:"nombre"`
	Descripcion *string `json:"descripcion"`
	Categoria   *string `json:"categoria"`
}

func (in *oficioInput) check(create bool) error {
	var ck apperr.Checker
	// An edit that names no field would publish a TradeUpdated that changes nothing.
	ck.Add(!create && in.Nombre == nil && in.Descripcion == nil && in.Categoria == nil, "body", "indicá nombre, descripcion o categoria")
	if in.Nombre == nil {
		ck.Add(create, "nombre", "es obligatorio")
	} else {
		t := strings.TrimSpace(*in.Nombre)
		ck.Len("nombre", t, 3, 100)
		in.Nombre = &t
	}
	if in.Descripcion != nil {
		t := strings.TrimSpace(*in.Descripcion)
		ck.Len("descripcion", t, 0, 500)
		in.Descripcion = &t
	}
	if in.Categoria != nil {
		t := strings.TrimSpace(*in.Categoria)
		ck.Len("categoria", t, 0, 100)
		in.Categoria = &t
	}
	return ck.Err()
}

// createOficio answers POST /admin/oficios (duplicate names, accents and case aside: 400;
// no description or category: "").
func (s *svc) createOficio(c *fiber.Ctx) error {
	var in oficioInput
	if err := bindChecked(c, &in, true); err != nil {
		return err
	}
	rows, err := s.pool.Query(c.UserContext(), `INSERT INTO oficios AS o (nombre, descripcion, categoria)
		VALUES ($1, coalesce($2, ''), coalesce($3, '')) RETURNING `+oficioCols, *in.Nombre, in.Descripcion, in.Categoria)
	if err != nil {
		return fmt.Errorf("create oficio: %w", pg.Translate(err))
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOficio)
	if pg.IsUniqueViolation(err, "oficios_nombre_key") {
		return errOficioDuplicado(*in.Nombre)
	}
	if err != nil {
		return fmt.Errorf("create oficio: %w", pg.Translate(err))
	}
	return c.Status(fiber.StatusCreated).JSON(o)
}

// changeOficio locks the trade in the path, applies fn, rebuilds the search rows of the
// professionals who have it (names and enabled state live there) and appends the event
// ev returns, all in one transaction; it answers the trade as it now is.
func (s *svc) changeOficio(c *fiber.Ctx, fn func(ctx context.Context, tx pgx.Tx, o oficioRead) error,
	ev func(o oficioRead, adminID string) events.Event) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var out oficioRead
	err = s.tx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		o, err := oficioByID(ctx, tx, c.Params("id"), true)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx, o); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE oficios SET fecha_actualizacion = now() WHERE id = $1`, o.ID); err != nil {
			return fmt.Errorf("touch oficio %s: %w", o.ID, err)
		}
		if _, err := tx.Exec(ctx, `SELECT refrescar_busqueda(ARRAY(SELECT profesional_id FROM profesional_oficios WHERE oficio_id = $1))`, o.ID); err != nil {
			return fmt.Errorf("refresh search rows of oficio %s: %w", o.ID, err)
		}
		if out, err = oficioByID(ctx, tx, o.ID, false); err != nil {
			return err
		}
		return s.emit(ctx, tx, out.ID, ev(out, u.UserID()), events.Meta{})
	})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// updateOficio answers PUT /admin/oficios/{id}: a partial edit of nombre, descripcion
// and categoria (duplicate name: 400), published as TradeUpdated.
func (s *svc) updateOficio(c *fiber.Ctx) error {
	var in oficioInput
	if err := bindChecked(c, &in, false); err != nil {
		return err
	}
	return s.changeOficio(c, func(ctx context.Context, tx pgx.Tx, o oficioRead) error {
		_, err := tx.Exec(ctx, `UPDATE oficios SET nombre = coalesce($2, nombre), descripcion = coalesce($3, descripcion),
			categoria = coalesce($4, categoria) WHERE id = $1`, o.ID, in.Nombre, in.Descripcion, in.Categoria)
		if pg.IsUniqueViolation(err, "oficios_nombre_key") {
			return errOficioDuplicado(*in.Nombre)
		}
		if err != nil {
			return fmt.Errorf("update oficio %s: %w", o.ID, pg.Translate(err))
		}
		return nil
	}, func(o oficioRead, adminID string) events.Event {
		return events.TradeUpdatedV1{OficioID: o.ID, Nombre: o.Nombre, Descripcion: o.Descripcion, Categoria: o.Categoria,
			Activo: o.Activo, AdminID: adminID}
	})
}

// toggleOficio answers PATCH /admin/oficios/{id}/toggle: without a body it flips the
// trade between enabled and disabled; {"activo": bool} sets the state explicitly (a
// retried request then changes nothing twice). Published as TradeToggled.
func (s *svc) toggleOficio(c *fiber.Ctx) error {
	var in toggleBody
	if err := httpx.BindOptionalJSON(c, &in); err != nil {
		return err
	}
	return s.changeOficio(c, func(ctx context.Context, tx pgx.Tx, o oficioRead) error {
		activo := !o.Activo
		if in.Activo != nil {
			activo = *in.Activo
		}
		if _, err := tx.Exec(ctx, `UPDATE oficios SET activo = $2 WHERE id = $1`, o.ID, activo); err != nil {
			return fmt.Errorf("toggle oficio %s: %w", o.ID, err)
		}
		return nil
	}, func(o oficioRead, adminID string) events.Event {
		return events.TradeToggledV1{OficioID: o.ID, Nombre: o.Nombre, Activo: o.Activo, AdminID: adminID}
	})
}

// toggleBody is PATCH /admin/oficios/{id}/toggle: activo sets the state; without it
// (or without a body) the state flips.
type toggleBody struct {
	Activo *bool `json:"activo"`
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
	if _, err := choosable(ctx, s.pool, in.OficioID); err != nil {
		return err
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
	if _, err := oficioByID(ctx, s.pool, id, false); err != nil {
		return err
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

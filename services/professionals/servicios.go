package professionals

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
)

// servicioRead is a published fixed-price service with its trade and professional
// (the frontend reads oficio.nombre, oficio.categoria and profesional.* from it).
type servicioRead struct {
	ID            string         `json:"id"`
	ProfesionalID string         `json:"profesional_id"`
	Nombre        string         `json:"nombre"`
	Descripcion   *string        `json:"descripcion"`
	PrecioFijo    money.Centavos `json:"precio_fijo"`
	OficioID      string         `json:"oficio_id"`
	FechaCreacion pgTime         `json:"fecha_creacion"`
	Profesional   servicioPro    `json:"profesional"`
	Oficio        oficioRead     `json:"oficio"`
}

type servicioPro struct {
	ID             string  `json:"id"`
	UserID         string  `json:"user_id"`
	Nombre         string  `json:"nombre"`
	Apellido       string  `json:"apellido"`
	AvatarURL      *string `json:"avatar_url"`
	Nivel          string  `json:"nivel"`
	RatingPromedio float64 `json:"rating_promedio"`
}

// servicioSelect reads servicios (alias s) with their trade and professional; callers
// append WHERE and ORDER BY.
const servicioSelect = `SELECT s.id::text, s.profesional_id::text, s.nombre, s.descripcion, s.precio_fijo, s.oficio_id::text,
		s.fecha_creacion, p.id::text, p.usuario_id::text, p.nombre, p.apellido, p.avatar_url, p.nivel,
		p.rating_promedio::float8, ` + oficioCols + `
	FROM servicios_publicados s JOIN profesionales p ON p.id = s.profesional_id JOIN oficios o ON o.id = s.oficio_id `

// servicios runs servicioSelect + rest and returns the rows with absolute avatar URLs.
func (s *svc) servicios(ctx context.Context, rest string, args ...any) ([]servicioRead, error) {
	rows, err := s.pool.Query(ctx, servicioSelect+rest, args...)
	if err != nil {
		return nil, fmt.Errorf("list servicios: %w", pg.Translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (servicioRead, error) {
		var x servicioRead
		var precio int64
		o := &x.Oficio
		err := r.Scan(&x.ID, &x.ProfesionalID, &x.Nombre, &x.Descripcion, &precio, &x.OficioID, &x.FechaCreacion.T,
			&x.Profesional.ID, &x.Profesional.UserID, &x.Profesional.Nombre, &x.Profesional.Apellido, &x.Profesional.AvatarURL,
			&x.Profesional.Nivel, &x.Profesional.RatingPromedio, &o.ID, &o.Nombre, &o.Descripcion, &o.Categoria, &o.Activo,
			&o.FechaCreacion.T)
		x.PrecioFijo = money.Centavos(precio)
		x.Profesional.AvatarURL = s.absPtr(x.Profesional.AvatarURL)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("list servicios: %w", err)
	}
	return out, nil
}

// servicio reads one servicio by id.
func (s *svc) servicio(ctx context.Context, id string) (servicioRead, error) {
	out, err := s.servicios(ctx, `WHERE s.id = $1`, id)
	if err != nil {
		return servicioRead{}, err
	}
	if len(out) != 1 {
		return servicioRead{}, errServicioNotFound
	}
	return out[0], nil
}

type servicioInput struct {
	Nombre      *string         `json:"nombre"`
	Descripcion *string         `json:"descripcion"`
	PrecioFijo  *money.Centavos `json:"precio_fijo"`
	OficioID    *string         `json:"oficio_id"`
}

func (in *servicioInput) check(create bool) error {
	var ck apperr.Checker
	in.Nombre = trimmedName(&ck, "nombre", in.Nombre, 100, create)
	if in.Descripcion != nil {
		ck.Len("descripcion", *in.Descripcion, 0, 500)
	}
	if in.PrecioFijo != nil {
		ck.Add(*in.PrecioFijo <= 0, "precio_fijo", "debe ser mayor a 0")
		ck.Add(*in.PrecioFijo > 100_000_000_00, "precio_fijo", "es demasiado alto")
	} else {
		ck.Add(create, "precio_fijo", "es obligatorio")
	}
	if in.OficioID != nil {
		ck.Add(!isUUID(*in.OficioID), "oficio_id", "debe ser un UUID")
	} else {
		ck.Add(create, "oficio_id", "es obligatorio")
	}
	return ck.Err()
}

// checkOficio checks a newly chosen trade of a servicio (absent: nothing to check).
func (s *svc) checkOficio(ctx context.Context, id *string) error {
	if id == nil {
		return nil
	}
	_, err := choosable(ctx, s.pool, *id)
	return err
}

func (s *svc) createServicio(c *fiber.Ctx) error {
	var in servicioInput
	if err := bindChecked(c, &in, true); err != nil {
		return err
	}
	ctx := c.UserContext()
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	if err := s.checkOficio(ctx, in.OficioID); err != nil {
		return err
	}
	var id string
	if err := s.pool.QueryRow(ctx, `INSERT INTO servicios_publicados (profesional_id, nombre, descripcion, precio_fijo, oficio_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING id::text`, p.ID, *in.Nombre, in.Descripcion, int64(*in.PrecioFijo), *in.OficioID).Scan(&id); err != nil {
		return fmt.Errorf("create servicio: %w", pg.Translate(err))
	}
	x, err := s.servicio(ctx, id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(x)
}

func (s *svc) listMyServicios(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	out, err := s.servicios(ctx, `WHERE s.profesional_id = $1 ORDER BY s.fecha_creacion DESC, s.id`, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

var errServicioNotFound = apperr.NotFound("servicio_not_found", "Servicio no encontrado")

// servicioOwner is the caller's profile for a change to the servicio in the path; the
// statement that changes it also matches profesional_id, so another professional's
// servicio reads as missing (404).
func (s *svc) servicioOwner(c *fiber.Ctx) (profile, error) {
	u, err := authn.MustUser(c)
	if err != nil {
		return profile{}, err
	}
	p, err := profileByUser(c.UserContext(), s.pool, u.UserID(), false)
	if err != nil {
		return p, err
	}
	if !isUUID(c.Params("id")) {
		return p, errServicioNotFound
	}
	return p, nil
}

func (s *svc) updateServicio(c *fiber.Ctx) error {
	var in servicioInput
	if err := bindChecked(c, &in, false); err != nil {
		return err
	}
	ctx := c.UserContext()
	p, err := s.servicioOwner(c)
	if err != nil {
		return err
	}
	if err := s.checkOficio(ctx, in.OficioID); err != nil {
		return err
	}
	var precio *int64
	if in.PrecioFijo != nil {
		v := int64(*in.PrecioFijo)
		precio = &v
	}
	tag, err := s.pool.Exec(ctx, `UPDATE servicios_publicados s SET nombre = coalesce($3, nombre), descripcion = coalesce($4, descripcion),
		precio_fijo = coalesce($5, precio_fijo), oficio_id = coalesce($6, oficio_id), fecha_actualizacion = now()
		WHERE s.id = $1 AND s.profesional_id = $2`, c.Params("id"), p.ID, in.Nombre, in.Descripcion, precio, in.OficioID)
	if err != nil {
		return fmt.Errorf("update servicio: %w", pg.Translate(err))
	}
	if tag.RowsAffected() == 0 {
		return errServicioNotFound
	}
	x, err := s.servicio(ctx, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(x)
}

func (s *svc) deleteServicio(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.servicioOwner(c)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM servicios_publicados WHERE id = $1 AND profesional_id = $2`, c.Params("id"), p.ID)
	if err != nil {
		return fmt.Errorf("delete servicio: %w", pg.Translate(err))
	}
	if tag.RowsAffected() == 0 {
		return errServicioNotFound
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// listServiciosPublic answers GET /servicios?oficio_id=: the public marketplace of
// services of approved, active professionals, newest first.
func (s *svc) listServiciosPublic(c *fiber.Ctx) error {
	page, err := httpx.Paging(c, 50)
	if err != nil {
		return err
	}
	var oficio *string
	if v := c.Query("oficio_id"); v != "" {
		if !isUUID(v) {
			return apperr.Validation(apperr.FieldError{Field: "oficio_id", Msg: "debe ser un UUID"})
		}
		oficio = &v
	}
	out, err := s.servicios(c.UserContext(), `WHERE p.estado_verificacion = 'APROBADO' AND p.is_active
		AND ($1::uuid IS NULL OR s.oficio_id = $1) ORDER BY s.fecha_creacion DESC, s.id OFFSET $2 LIMIT $3`,
		oficio, page.Skip, page.Limit)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

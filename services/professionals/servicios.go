package professionals

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
)

// servicioRead is a published fixed-price service.
type servicioRead struct {
	ID            string         `json:"id"`
	ProfesionalID string         `json:"profesional_id"`
	Nombre        string         `json:"nombre"`
	Descripcion   *string        `json:"descripcion"`
	PrecioFijo    money.Centavos `json:"precio_fijo"`
	OficioID      string         `json:"oficio_id"`
	FechaCreacion pgTime         `json:"fecha_creacion"`
	Profesional   *servicioPro   `json:"profesional,omitempty"`
	Oficio        *oficioRead    `json:"oficio,omitempty"`
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

const servicioCols = `s.id::text, s.profesional_id::text, s.nombre, s.descripcion, s.precio_fijo, s.oficio_id::text, s.fecha_creacion`

func scanServicio(r pgx.CollectableRow) (servicioRead, error) {
	var x servicioRead
	var precio int64
	err := r.Scan(&x.ID, &x.ProfesionalID, &x.Nombre, &x.Descripcion, &precio, &x.OficioID, &x.FechaCreacion.T)
	x.PrecioFijo = money.Centavos(precio)
	return x, err
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

func (s *svc) checkOficio(ctx context.Context, id *string) error {
	if id == nil {
		return nil
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM oficios WHERE id = $1)`, *id).Scan(&ok); err != nil {
		return fmt.Errorf("check oficio: %w", err)
	}
	if !ok {
		return apperr.NotFound("oficio_not_found", "Oficio no encontrado")
	}
	return nil
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
	rows, err := s.pool.Query(ctx, `INSERT INTO servicios_publicados AS s (profesional_id, nombre, descripcion, precio_fijo, oficio_id)
		VALUES ($1, $2, $3, $4, $5) RETURNING `+servicioCols, p.ID, *in.Nombre, in.Descripcion, int64(*in.PrecioFijo), *in.OficioID)
	if err != nil {
		return fmt.Errorf("create servicio: %w", pg.Translate(err))
	}
	x, err := pgx.CollectExactlyOneRow(rows, scanServicio)
	if err != nil {
		return fmt.Errorf("create servicio: %w", pg.Translate(err))
	}
	return c.Status(fiber.StatusCreated).JSON(x)
}

func (s *svc) listMyServicios(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT `+servicioCols+` FROM servicios_publicados s WHERE s.profesional_id = $1
		ORDER BY s.fecha_creacion DESC, s.id`, p.ID)
	if err != nil {
		return fmt.Errorf("list servicios: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanServicio)
	if err != nil {
		return fmt.Errorf("list servicios: %w", err)
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
	rows, err := s.pool.Query(ctx, `UPDATE servicios_publicados s SET nombre = coalesce($3, nombre), descripcion = coalesce($4, descripcion),
		precio_fijo = coalesce($5, precio_fijo), oficio_id = coalesce($6, oficio_id), fecha_actualizacion = now()
		WHERE s.id = $1 AND s.profesional_id = $2 RETURNING `+servicioCols, c.Params("id"), p.ID, in.Nombre, in.Descripcion, precio, in.OficioID)
	if err != nil {
		return fmt.Errorf("update servicio: %w", pg.Translate(err))
	}
	x, err := pgx.CollectExactlyOneRow(rows, scanServicio)
	if errors.Is(err, pgx.ErrNoRows) {
		return errServicioNotFound
	}
	if err != nil {
		return fmt.Errorf("update servicio: %w", pg.Translate(err))
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
	rows, err := s.pool.Query(c.UserContext(), `SELECT `+servicioCols+`, p.id::text, p.usuario_id::text, p.nombre, p.apellido, p.avatar_url,
			p.nivel, p.rating_promedio::float8, o.id::text, o.nombre, o.descripcion
		FROM servicios_publicados s JOIN profesionales p ON p.id = s.profesional_id JOIN oficios o ON o.id = s.oficio_id
		WHERE p.estado_verificacion = 'APROBADO' AND p.is_active AND ($1::uuid IS NULL OR s.oficio_id = $1)
		ORDER BY s.fecha_creacion DESC, s.id OFFSET $2 LIMIT $3`, oficio, page.Skip, page.Limit)
	if err != nil {
		return fmt.Errorf("list public servicios: %w", pg.Translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (servicioRead, error) {
		var x servicioRead
		var pr servicioPro
		var of oficioRead
		var precio int64
		err := r.Scan(&x.ID, &x.ProfesionalID, &x.Nombre, &x.Descripcion, &precio, &x.OficioID, &x.FechaCreacion.T,
			&pr.ID, &pr.UserID, &pr.Nombre, &pr.Apellido, &pr.AvatarURL, &pr.Nivel, &pr.RatingPromedio, &of.ID, &of.Nombre, &of.Descripcion)
		x.PrecioFijo, x.Profesional, x.Oficio = money.Centavos(precio), &pr, &of
		return x, err
	})
	if err != nil {
		return fmt.Errorf("list public servicios: %w", err)
	}
	return c.JSON(out)
}

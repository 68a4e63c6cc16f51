package professionals

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/pg"
)

// listMyOficios answers GET /professional/oficios: the caller's trades.
func (s *svc) listMyOficios(c *fiber.Ctx) error {
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	ofs, err := oficiosOf(c.UserContext(), s.pool, p.ID)
	if err != nil {
		return err
	}
	return c.JSON(ofs)
}

// myOficioInput names one trade of the catalogue by id or by name. descripcion and
// categoria are what the earlier system used to create a catalogue entry with; here they
// are never stored (see addMyOficio).
type myOficioInput struct {
	OficioID    *string `json:"oficio_id"`
	ID          *string `json:"id"`
	Nombre      *string `json:"nombre"`
	Descripcion *string `json:"descripcion"`
	Categoria   *string `json:"categoria"`
}

// addMyOficio answers POST /professional/oficios: it adds one trade of the catalogue to
// the caller's trades, named by oficio_id (or id) or by nombre (accents and case aside).
// The earlier system created a catalogue entry here; the catalogue is the admins' (it
// drives search and the registration form), so a name that is not in it is refused
// with a 400 that says so, and a disabled trade cannot be chosen. Answers the trade: 201
// when added, 200 when it already was theirs.
func (s *svc) addMyOficio(c *fiber.Ctx) error {
	var in myOficioInput
	if err := bindChecked(c, &in, true); err != nil {
		return err
	}
	var o oficioRead
	added := false
	_, err := s.mutateMine(c, true, func(ctx context.Context, tx pgx.Tx, p profile) error {
		var err error
		if in.OficioID != nil {
			o, err = oficioByID(ctx, tx, *in.OficioID, false)
		} else {
			o, err = oficioByName(ctx, tx, *in.Nombre)
		}
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `INSERT INTO profesional_oficios (profesional_id, oficio_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, p.ID, o.ID)
		if err != nil {
			return fmt.Errorf("add oficio: %w", pg.Translate(err))
		}
		added = tag.RowsAffected() == 1
		// A disabled trade cannot be newly chosen; one already theirs stays (no change).
		if added && !o.Activo {
			return errOficioInactivo(o.Nombre)
		}
		return nil
	})
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if added {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(o)
}

func (in *myOficioInput) check(bool) error {
	var ck apperr.Checker
	if in.OficioID == nil {
		in.OficioID = in.ID
	}
	switch {
	case in.OficioID != nil:
		ck.Add(!isUUID(*in.OficioID), "oficio_id", "debe ser un UUID")
	case in.Nombre != nil:
		t := strings.TrimSpace(*in.Nombre)
		ck.Len("nombre", t, 1, 100)
		in.Nombre = &t
	default:
		ck.Add(true, "oficio_id", "indicá el oficio por oficio_id o por nombre")
	}
	return ck.Err()
}

// oficioByName finds a catalogue trade by its exact name, accents and case aside.
func oficioByName(ctx context.Context, q querier, nombre string) (oficioRead, error) {
	rows, err := q.Query(ctx, `SELECT `+oficioCols+` FROM oficios o WHERE norm(o.nombre) = norm($1)`, nombre)
	if err != nil {
		return oficioRead{}, fmt.Errorf("find oficio by name: %w", pg.Translate(err))
	}
	o, err := pgx.CollectExactlyOneRow(rows, scanOficio)
	if errors.Is(err, pgx.ErrNoRows) {
		return o, apperr.Invalid("oficio_no_en_catalogo", fmt.Sprintf(
			"El oficio '%s' no está en el catálogo: elegí uno de la lista (solo un administrador puede agregar oficios nuevos)", nombre))
	}
	if err != nil {
		return o, fmt.Errorf("find oficio by name: %w", err)
	}
	return o, nil
}

// removeMyOficio answers DELETE /professional/oficios/{id}: the trade stops being one of
// the caller's (404 when it was not); the catalogue is untouched.
func (s *svc) removeMyOficio(c *fiber.Ctx) error {
	id := c.Params("id")
	notMine := apperr.NotFound("oficio_not_found", "Ese oficio no está entre tus oficios")
	if !isUUID(id) {
		return notMine
	}
	_, err := s.mutateMine(c, true, func(ctx context.Context, tx pgx.Tx, p profile) error {
		tag, err := tx.Exec(ctx, `DELETE FROM profesional_oficios WHERE profesional_id = $1 AND oficio_id = $2`, p.ID, id)
		if err != nil {
			return fmt.Errorf("remove oficio: %w", pg.Translate(err))
		}
		if tag.RowsAffected() == 0 {
			return notMine
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

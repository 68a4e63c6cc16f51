package professionals

import (
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
)

// internalByUser answers /internal/professionals/by-user/{usuario_id} for other services.
func (s *svc) internalByUser(c *fiber.Ctx) error {
	id := c.Params("usuario_id")
	if !isUUID(id) {
		return errNoProfile
	}
	p, err := profileByUser(c.UserContext(), s.pool, id, false)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{
		"id": p.ID, "usuario_id": p.UsuarioID, "estado_verificacion": p.Estado, "nivel": p.Nivel,
		"tasa_comision_bp": p.TasaBP, "payout_account": p.Payout, "is_active": p.IsActive,
	})
}

// internalServicio answers /internal/servicios/{id} (the marketplace hires from it).
func (s *svc) internalServicio(c *fiber.Ctx) error {
	id := c.Params("id")
	if !isUUID(id) {
		return errServicioNotFound
	}
	var out struct {
		ID                   string         `json:"id"`
		ProfesionalID        string         `json:"profesional_id"`
		ProfesionalUsuarioID string         `json:"profesional_usuario_id"`
		Nombre               string         `json:"nombre"`
		Descripcion          *string        `json:"descripcion"`
		PrecioFijo           money.Centavos `json:"precio_fijo"`
		OficioID             string         `json:"oficio_id"`
	}
	var precio int64
	err := s.pool.QueryRow(c.UserContext(), `SELECT s.id::text, s.profesional_id::text, p.usuario_id::text, s.nombre, s.descripcion,
		s.precio_fijo, s.oficio_id::text FROM servicios_publicados s JOIN profesionales p ON p.id = s.profesional_id WHERE s.id = $1`, id).
		Scan(&out.ID, &out.ProfesionalID, &out.ProfesionalUsuarioID, &out.Nombre, &out.Descripcion, &precio, &out.OficioID)
	if errors.Is(err, pgx.ErrNoRows) {
		return errServicioNotFound
	}
	if err != nil {
		return fmt.Errorf("internal servicio %s: %w", id, pg.Translate(err))
	}
	out.PrecioFijo = money.Centavos(precio)
	return c.JSON(out)
}

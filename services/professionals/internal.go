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
	return c.JSON(internalProfessional{ID: p.ID, UsuarioID: p.UsuarioID, EstadoVerificacion: p.Estado, Nivel: p.Nivel,
		TasaComisionBP: p.TasaBP, PayoutAccount: p.Payout, IsActive: p.IsActive})
}

// internalProfessional is the internal read of a professional by user id.
type internalProfessional struct {
	ID                 string  `json:"id"`
	UsuarioID          string  `json:"usuario_id"`
	EstadoVerificacion string  `json:"estado_verificacion"`
	Nivel              string  `json:"nivel"`
	TasaComisionBP     int     `json:"tasa_comision_bp"`
	PayoutAccount      *string `json:"payout_account"`
	IsActive           bool    `json:"is_active"`
}

// internalServicioRead is the internal read of a published service.
type internalServicioRead struct {
	ID                   string         `json:"id"`
	ProfesionalID        string         `json:"profesional_id"`
	ProfesionalUsuarioID string         `json:"profesional_usuario_id"`
	Nombre               string         `json:"nombre"`
	Descripcion          *string        `json:"descripcion"`
	PrecioFijo           money.Centavos `json:"precio_fijo"`
	OficioID             string         `json:"oficio_id"`
}

// internalServicio answers /internal/servicios/{id} (the marketplace hires from it).
func (s *svc) internalServicio(c *fiber.Ctx) error {
	id := c.Params("id")
	if !isUUID(id) {
		return errServicioNotFound
	}
	var out internalServicioRead
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

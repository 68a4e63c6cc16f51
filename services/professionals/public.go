package professionals

import (
	"context"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/money"
)

// publicReviews is how many recent reviews the public profile shows.
const publicReviews = 20

type resenaPublic struct {
	ID            string  `json:"id"`
	Rating        int     `json:"rating"`
	TextoResena   *string `json:"texto_resena"`
	NombreCliente *string `json:"nombre_cliente"`
	FechaCreacion pgTime  `json:"fecha_creacion"`
}

type medallaRead struct {
	Medalla        string `json:"medalla"`
	Nombre         string `json:"nombre"`
	FechaObtencion pgTime `json:"fecha_obtencion"`
}

type publicProfileRead struct {
	ID               string          `json:"id"`
	Nombre           string          `json:"nombre"`
	Apellido         string          `json:"apellido"`
	AvatarURL        *string         `json:"avatar_url"`
	Nivel            string          `json:"nivel"`
	RadioCoberturaKm int             `json:"radio_cobertura_km"`
	AceptaInstant    bool            `json:"acepta_instant"`
	TarifaPorHora    *money.Centavos `json:"tarifa_por_hora"`
	RatingPromedio   float64         `json:"rating_promedio"`
	TotalResenas     int             `json:"total_resenas"`
	Descripcion      *string         `json:"descripcion"`
	Oficios          []oficioRead    `json:"oficios"`
	Portfolio        []portfolioItem `json:"portfolio"`
	Resenas          []resenaPublic  `json:"resenas"`
	Medallas         []medallaRead   `json:"medallas"`
}

// visibleProfile loads a profile that the public may see: approved and active.
func visibleProfile(ctx context.Context, q querier, id string) (profile, error) {
	p, err := profileByID(ctx, q, id, false)
	if err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return p, apperr.NotFound("profesional_not_found", "Profesional no encontrado")
		}
		return p, err
	}
	if p.Estado != EstadoAprobado || !p.IsActive {
		return p, apperr.NotFound("profesional_no_disponible", "Profesional no disponible")
	}
	return p, nil
}

// publicProfile answers GET /public/professional/{id}: never email, KYC state or payout.
func (s *svc) publicProfile(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := visibleProfile(ctx, s.pool, c.Params("id"))
	if err != nil {
		return err
	}
	out := publicProfileRead{ID: p.ID, Nombre: p.Nombre, Apellido: p.Apellido, AvatarURL: p.AvatarURL, Nivel: p.Nivel,
		RadioCoberturaKm: p.Radio, AceptaInstant: p.AceptaInstant, TarifaPorHora: centavosPtr(p.Tarifa),
		RatingPromedio: p.RatingPromedio, TotalResenas: p.TotalResenas, Descripcion: p.Descripcion}
	if out.Oficios, err = oficiosOf(ctx, s.pool, p.ID); err != nil {
		return err
	}
	if out.Portfolio, err = portfolioOf(ctx, s.pool, p.ID, ""); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT id::text, rating, texto_resena, nombre_cliente, fecha_creacion FROM resenas
		WHERE profesional_ref = ANY (ARRAY[$1::uuid, $2::uuid]) ORDER BY fecha_creacion DESC, id LIMIT $3`, p.ID, p.UsuarioID, publicReviews)
	if err != nil {
		return fmt.Errorf("reviews of %s: %w", p.ID, err)
	}
	if out.Resenas, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (resenaPublic, error) {
		var x resenaPublic
		return x, r.Scan(&x.ID, &x.Rating, &x.TextoResena, &x.NombreCliente, &x.FechaCreacion.T)
	}); err != nil {
		return fmt.Errorf("reviews of %s: %w", p.ID, err)
	}
	rows, err = s.pool.Query(ctx, `SELECT medalla, nombre, fecha_creacion FROM medallas WHERE usuario_id = $1 ORDER BY fecha_creacion, medalla`, p.UsuarioID)
	if err != nil {
		return fmt.Errorf("medals of %s: %w", p.ID, err)
	}
	if out.Medallas, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (medallaRead, error) {
		var x medallaRead
		return x, r.Scan(&x.Medalla, &x.Nombre, &x.FechaObtencion.T)
	}); err != nil {
		return fmt.Errorf("medals of %s: %w", p.ID, err)
	}
	return c.JSON(out)
}

// publicPortfolio answers GET /public/professional/{id}/portfolio.
func (s *svc) publicPortfolio(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := visibleProfile(ctx, s.pool, c.Params("id"))
	if err != nil {
		return err
	}
	items, err := portfolioOf(ctx, s.pool, p.ID, "")
	if err != nil {
		return err
	}
	return c.JSON(items)
}

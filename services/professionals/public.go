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

// resenaPublic is one review on the public profile, under our names and the frontend's
// (cliente_nombre, comentario, created_at, cliente_avatar_url).
type resenaPublic struct {
	ID                 string  `json:"id"`
	Rating             int     `json:"rating"`
	TextoResena        *string `json:"texto_resena"`
	Comentario         string  `json:"comentario"` // texto_resena, "" when none
	NombreCliente      *string `json:"nombre_cliente"`
	ClienteNombre      string  `json:"cliente_nombre"` // nombre_cliente, "Cliente" when unknown
	ClienteAvatarURL   *string `json:"cliente_avatar_url"`
	ClienteAvatar      *string `json:"cliente_avatar"`
	TrabajoID          *string `json:"trabajo_id"`
	TrabajoDescripcion *string `json:"trabajo_descripcion"`
	FechaCreacion      pgTime  `json:"fecha_creacion"`
	CreatedAt          pgTime  `json:"created_at"`
}

type medallaRead struct {
	Medalla        string `json:"medalla"`
	Nombre         string `json:"nombre"`
	FechaObtencion pgTime `json:"fecha_obtencion"`
}

// publicProfileRead is what anyone may see of a professional: never email or payout.
// The verification state is a badge (verificado, estado_verificacion), not a gate.
type publicProfileRead struct {
	ID                  string          `json:"id"`
	Nombre              string          `json:"nombre"`
	Apellido            string          `json:"apellido"`
	AvatarURL           *string         `json:"avatar_url"`
	Nivel               string          `json:"nivel"`
	Verificado          bool            `json:"verificado"`
	EstadoVerificacion  string          `json:"estado_verificacion"`
	RadioCoberturaKm    int             `json:"radio_cobertura_km"`
	AceptaInstant       bool            `json:"acepta_instant"`
	TarifaPorHora       *money.Centavos `json:"tarifa_por_hora"`
	RatingPromedio      float64         `json:"rating_promedio"`
	TotalResenas        int             `json:"total_resenas"`
	TrabajosCompletados int             `json:"trabajos_completados"`
	Descripcion         *string         `json:"descripcion"`
	Biografia           *string         `json:"biografia"`
	ExperienciaAnos     *int            `json:"experiencia_anos"`
	Disponible          bool            `json:"disponible"`
	Habilidades         []string        `json:"habilidades"`
	Certificaciones     []string        `json:"certificaciones"`
	Oficios             []oficioRead    `json:"oficios"`
	Portfolio           []portfolioItem `json:"portfolio"`
	Resenas             []resenaPublic  `json:"resenas"`
	Medallas            []medallaRead   `json:"medallas"`
}

// visibleProfile loads a profile that the public may see: any active professional,
// verified or not; a banned one (or an unknown id) is 404.
func visibleProfile(ctx context.Context, q querier, id string) (profile, error) {
	p, err := profileByID(ctx, q, id, false)
	if err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return p, apperr.NotFound("profesional_not_found", "Profesional no encontrado")
		}
		return p, err
	}
	if !p.IsActive {
		return p, apperr.NotFound("profesional_no_disponible", "Profesional no disponible")
	}
	return p, nil
}

// publicProfile answers GET /public/professional/{id}.
func (s *svc) publicProfile(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := visibleProfile(ctx, s.pool, c.Params("id"))
	if err != nil {
		return err
	}
	out := publicProfileRead{ID: p.ID, Nombre: p.Nombre, Apellido: p.Apellido, AvatarURL: s.absPtr(p.AvatarURL), Nivel: p.Nivel,
		Verificado: p.Estado == EstadoAprobado, EstadoVerificacion: p.Estado,
		RadioCoberturaKm: p.Radio, AceptaInstant: p.AceptaInstant, TarifaPorHora: centavosPtr(p.Tarifa),
		RatingPromedio: p.RatingPromedio, TotalResenas: p.TotalResenas, Descripcion: p.Descripcion, Biografia: p.Biografia,
		ExperienciaAnos: p.ExperienciaAnos, Disponible: p.Disponible, Habilidades: nonNil(p.Habilidades),
		Certificaciones: nonNil(p.Certificaciones)}
	if out.TrabajosCompletados, err = completedJobs(ctx, s.pool, p); err != nil {
		return err
	}
	if out.Oficios, err = oficiosOf(ctx, s.pool, p.ID); err != nil {
		return err
	}
	if out.Portfolio, err = s.portfolioOf(ctx, s.pool, p.ID, nil); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `SELECT r.id::text, r.rating, r.texto_resena, coalesce(r.nombre_cliente, nullif(trim(concat_ws(' ', u.nombre, u.apellido)), '')),
			u.avatar_url, r.trabajo_id::text, r.trabajo_descripcion, r.fecha_creacion
		FROM resenas r LEFT JOIN usuarios u ON u.usuario_id = r.cliente_id
		WHERE r.profesional_ref = ANY (ARRAY[$1::uuid, $2::uuid]) ORDER BY r.fecha_creacion DESC, r.id LIMIT $3`, p.ID, p.UsuarioID, publicReviews)
	if err != nil {
		return fmt.Errorf("reviews of %s: %w", p.ID, err)
	}
	if out.Resenas, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (resenaPublic, error) {
		var x resenaPublic
		err := r.Scan(&x.ID, &x.Rating, &x.TextoResena, &x.NombreCliente, &x.ClienteAvatarURL, &x.TrabajoID, &x.TrabajoDescripcion, &x.FechaCreacion.T)
		// The page prints the author and the text as they are: never null there.
		x.Comentario, x.ClienteNombre, x.CreatedAt = "", "Cliente", x.FechaCreacion
		if x.TextoResena != nil {
			x.Comentario = *x.TextoResena
		}
		if x.NombreCliente != nil {
			x.ClienteNombre = *x.NombreCliente
		}
		x.ClienteAvatarURL = s.absPtr(x.ClienteAvatarURL)
		x.ClienteAvatar = x.ClienteAvatarURL
		return x, err
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
	items, err := s.portfolioOf(ctx, s.pool, p.ID, nil)
	if err != nil {
		return err
	}
	return c.JSON(items)
}

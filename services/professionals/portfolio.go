package professionals

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/upload"
)

type portfolioImage struct {
	ID        string `json:"id"`
	ImagenURL string `json:"imagen_url"`
	Orden     int    `json:"orden"`
}

type portfolioItem struct {
	ID            string           `json:"id"`
	ProfesionalID string           `json:"profesional_id"`
	Titulo        string           `json:"titulo"`
	Descripcion   *string          `json:"descripcion"`
	FechaCreacion pgTime           `json:"fecha_creacion"`
	Imagenes      []portfolioImage `json:"imagenes"`
}

func portfolioURL(name string) string { return "/api/v1/public/portfolio/imagenes/" + name }

// portfolioOf lists a professional's items (newest first) with their images in order;
// itemID narrows it to one item.
func portfolioOf(ctx context.Context, q querier, profID, itemID string) ([]portfolioItem, error) {
	rows, err := q.Query(ctx, `SELECT i.id::text, i.profesional_id::text, i.titulo, i.descripcion, i.fecha_creacion,
		coalesce(json_agg(json_build_object('id', im.id, 'imagen_url', im.imagen_url, 'orden', im.orden) ORDER BY im.orden)
			FILTER (WHERE im.id IS NOT NULL), '[]')
		FROM portfolio_items i LEFT JOIN portfolio_imagenes im ON im.portfolio_item_id = i.id
		WHERE i.profesional_id = $1 AND ($2::uuid IS NULL OR i.id = $2)
		GROUP BY i.id ORDER BY i.fecha_creacion DESC, i.id`, profID, nullUUID(itemID))
	if err != nil {
		return nil, fmt.Errorf("portfolio of %s: %w", profID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (portfolioItem, error) {
		var it portfolioItem
		err := r.Scan(&it.ID, &it.ProfesionalID, &it.Titulo, &it.Descripcion, &it.FechaCreacion.T, &it.Imagenes)
		return it, err
	})
}

func nullUUID(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

var errItemNotFound = apperr.NotFound("portfolio_item_not_found", "Item de portfolio no encontrado o no pertenece al profesional")

// myItem returns the caller's profile and checks that the item in the path belongs to
// it (404 otherwise, so other professionals' items are indistinguishable from missing ones).
func (s *svc) myItem(c *fiber.Ctx) (profile, error) {
	u, err := authn.MustUser(c)
	if err != nil {
		return profile{}, err
	}
	ctx, itemID := c.UserContext(), c.Params("id")
	p, err := profileByUser(ctx, s.pool, u.UserID(), false)
	if err != nil {
		return p, err
	}
	if !isUUID(itemID) {
		return p, errItemNotFound
	}
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM portfolio_items WHERE id = $1 AND profesional_id = $2)`, itemID, p.ID).Scan(&ok); err != nil {
		return p, fmt.Errorf("check portfolio item: %w", err)
	}
	if !ok {
		return p, errItemNotFound
	}
	return p, nil
}

func (s *svc) itemResponse(c *fiber.Ctx, status int, profID, itemID string) error {
	items, err := portfolioOf(c.UserContext(), s.pool, profID, itemID)
	if err != nil {
		return err
	}
	if len(items) != 1 {
		return errItemNotFound
	}
	return c.Status(status).JSON(items[0])
}

func (s *svc) listMyPortfolio(c *fiber.Ctx) error {
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	items, err := portfolioOf(c.UserContext(), s.pool, p.ID, "")
	if err != nil {
		return err
	}
	return c.JSON(items)
}

type portfolioInput struct {
	Titulo      *string `json:"titulo"`
	Descripcion *string `json:"descripcion"`
}

func (in *portfolioInput) check(create bool) error {
	var ck apperr.Checker
	in.Titulo = trimmedName(&ck, "titulo", in.Titulo, 200, create)
	if in.Descripcion != nil {
		ck.Len("descripcion", *in.Descripcion, 0, 1000)
	}
	return ck.Err()
}

func (s *svc) createPortfolioItem(c *fiber.Ctx) error {
	var in portfolioInput
	if err := bindChecked(c, &in, true); err != nil {
		return err
	}
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	var id string
	if err := s.pool.QueryRow(c.UserContext(), `INSERT INTO portfolio_items (profesional_id, titulo, descripcion) VALUES ($1, $2, $3)
		RETURNING id::text`, p.ID, *in.Titulo, in.Descripcion).Scan(&id); err != nil {
		return fmt.Errorf("create portfolio item: %w", pg.Translate(err))
	}
	return s.itemResponse(c, fiber.StatusCreated, p.ID, id)
}

func (s *svc) updatePortfolioItem(c *fiber.Ctx) error {
	var in portfolioInput
	if err := bindChecked(c, &in, false); err != nil {
		return err
	}
	ctx := c.UserContext()
	p, err := s.myItem(c)
	if err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, `UPDATE portfolio_items SET titulo = coalesce($2, titulo), descripcion = coalesce($3, descripcion),
		fecha_actualizacion = now() WHERE id = $1`, c.Params("id"), in.Titulo, in.Descripcion); err != nil {
		return fmt.Errorf("update portfolio item: %w", pg.Translate(err))
	}
	return s.itemResponse(c, fiber.StatusOK, p.ID, c.Params("id"))
}

func (s *svc) deletePortfolioItem(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if _, err := s.myItem(c); err != nil {
		return err
	}
	rows, err := s.pool.Query(ctx, `WITH gone AS (DELETE FROM portfolio_items WHERE id = $1 RETURNING id)
		SELECT objeto FROM portfolio_imagenes WHERE portfolio_item_id = $1`, c.Params("id"))
	if err != nil {
		return fmt.Errorf("delete portfolio item: %w", pg.Translate(err))
	}
	objs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("delete portfolio item: %w", err)
	}
	for _, o := range objs {
		if err := s.images.Delete(ctx, o); err != nil {
			s.k.Deps.Log.Warn("delete portfolio image object", "object", o, "err", err)
		}
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// addPortfolioImage appends one image (multipart `file`) at the end of the item's order.
func (s *svc) addPortfolioImage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	p, err := s.myItem(c)
	if err != nil {
		return err
	}
	if !isMultipart(c) {
		return apperr.New(apperr.KindUnsupported, "unsupported_media_type", "Se esperaba multipart/form-data con el archivo")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		if fh, err = c.FormFile("files"); err != nil {
			fh = nil
		}
	}
	f, err := upload.Read("file", fh, upload.MaxFile, upload.Images)
	if err != nil {
		return err
	}
	id := uuid.New()
	name := fmt.Sprintf("%s_%s%s", c.Params("id"), id, upload.Ext(f.ContentType))
	if err := s.images.Put(ctx, name, f.ContentType, f.Data); err != nil {
		return err
	}
	// The item row lock serializes concurrent appends so orden stays max+1.
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM portfolio_items WHERE id = $1 FOR UPDATE`, c.Params("id")); err != nil {
			return fmt.Errorf("lock portfolio item: %w", err)
		}
		_, err := tx.Exec(ctx, `INSERT INTO portfolio_imagenes (id, portfolio_item_id, objeto, imagen_url, orden)
			SELECT $1, $2, $3, $4, coalesce(max(orden) + 1, 0) FROM portfolio_imagenes WHERE portfolio_item_id = $2`,
			id, c.Params("id"), name, portfolioURL(name))
		if err != nil {
			return fmt.Errorf("add portfolio image: %w", pg.Translate(err))
		}
		return nil
	})
	if err != nil {
		_ = s.images.Delete(context.WithoutCancel(ctx), name)
		return err
	}
	return s.itemResponse(c, fiber.StatusOK, p.ID, c.Params("id"))
}

func (s *svc) deletePortfolioImage(c *fiber.Ctx) error {
	ctx := c.UserContext()
	if _, err := s.myItem(c); err != nil {
		return err
	}
	notFound := apperr.NotFound("portfolio_image_not_found", "Imagen no encontrada")
	if !isUUID(c.Params("image_id")) {
		return notFound
	}
	var objeto string
	err := s.pool.QueryRow(ctx, `DELETE FROM portfolio_imagenes WHERE id = $1 AND portfolio_item_id = $2 RETURNING objeto`,
		c.Params("image_id"), c.Params("id")).Scan(&objeto)
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("delete portfolio image: %w", pg.Translate(err))
	}
	if err := s.images.Delete(ctx, objeto); err != nil {
		s.k.Deps.Log.Warn("delete portfolio image object", "object", objeto, "err", err)
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// servePortfolioImage serves a public portfolio image.
func (s *svc) servePortfolioImage(c *fiber.Ctx) error {
	name := c.Params("name")
	if strings.ContainsAny(name, "/\\") || name == "" {
		return apperr.NotFound("file_not_found", "Archivo no encontrado")
	}
	return s.images.Serve(c, name, true)
}

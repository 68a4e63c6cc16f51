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
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/upload"
)

// portfolioImage is one image of an item; imagen_url is absolute, and image_url and
// portfolio_item_id/created_at are the names the frontend's image type uses.
type portfolioImage struct {
	ID              string `json:"id"`
	PortfolioItemID string `json:"portfolio_item_id"`
	ImagenURL       string `json:"imagen_url"`
	ImageURL        string `json:"image_url"`
	Orden           int    `json:"orden"`
	FechaCreacion   string `json:"fecha_creacion"`
	CreatedAt       string `json:"created_at"`
}

// portfolioItem is one portfolio entry; imagenes_urls (the images' absolute URLs in
// order) is what the frontend's portfolio views read.
type portfolioItem struct {
	ID            string           `json:"id"`
	ProfesionalID string           `json:"profesional_id"`
	Titulo        string           `json:"titulo"`
	Descripcion   *string          `json:"descripcion"`
	FechaCreacion pgTime           `json:"fecha_creacion"`
	Imagenes      []portfolioImage `json:"imagenes"`
	ImagenesURLs  []string         `json:"imagenes_urls"`
}

func portfolioURL(name string) string { return "/api/v1/public/portfolio/imagenes/" + name }

// portfolioOf lists a professional's items (newest first) with their images in order;
// itemID narrows it to one item.
func (s *svc) portfolioOf(ctx context.Context, q querier, profID string, itemID *string) ([]portfolioItem, error) {
	rows, err := q.Query(ctx, `SELECT i.id::text, i.profesional_id::text, i.titulo, i.descripcion, i.fecha_creacion,
		coalesce(json_agg(json_build_object('id', im.id, 'portfolio_item_id', im.portfolio_item_id, 'imagen_url', im.imagen_url,
			'orden', im.orden, 'fecha_creacion', to_char(im.fecha_creacion AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
			ORDER BY im.orden) FILTER (WHERE im.id IS NOT NULL), '[]')
		FROM portfolio_items i LEFT JOIN portfolio_imagenes im ON im.portfolio_item_id = i.id
		WHERE i.profesional_id = $1 AND ($2::uuid IS NULL OR i.id = $2)
		GROUP BY i.id ORDER BY i.fecha_creacion DESC, i.id`, profID, itemID)
	if err != nil {
		return nil, fmt.Errorf("portfolio of %s: %w", profID, err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (portfolioItem, error) {
		var it portfolioItem
		err := r.Scan(&it.ID, &it.ProfesionalID, &it.Titulo, &it.Descripcion, &it.FechaCreacion.T, &it.Imagenes)
		return it, err
	})
	if err != nil {
		return nil, fmt.Errorf("portfolio of %s: %w", profID, err)
	}
	for i := range items {
		items[i].ImagenesURLs = make([]string, 0, len(items[i].Imagenes))
		for j := range items[i].Imagenes {
			s.finishImage(&items[i].Imagenes[j])
			items[i].ImagenesURLs = append(items[i].ImagenesURLs, items[i].Imagenes[j].ImagenURL)
		}
	}
	return items, nil
}

// finishImage makes an image's URL absolute and fills the frontend's alias names.
func (s *svc) finishImage(im *portfolioImage) {
	im.ImagenURL = s.abs(im.ImagenURL)
	im.ImageURL = im.ImagenURL
	im.CreatedAt = im.FechaCreacion
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
	items, err := s.portfolioOf(c.UserContext(), s.pool, profID, &itemID)
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
	items, err := s.portfolioOf(c.UserContext(), s.pool, p.ID, nil)
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
	// The profile's showcase (imagenes_trabajos) forgets the item's images with it.
	rows, err := s.pool.Query(ctx, `WITH gone AS (DELETE FROM portfolio_items WHERE id = $1 RETURNING profesional_id),
		imgs AS (SELECT objeto, imagen_url FROM portfolio_imagenes WHERE portfolio_item_id = $1),
		shown AS (UPDATE profesionales p SET imagenes_trabajos = ARRAY(SELECT u FROM unnest(p.imagenes_trabajos) u
			WHERE u NOT IN (SELECT imagen_url FROM imgs)) FROM gone WHERE p.id = gone.profesional_id)
		SELECT objeto FROM imgs`, c.Params("id"))
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

// addPortfolioImage answers POST /professional/portfolio/{id}/image: one image
// (multipart `file`) appended at the end of the item's order; answers the item.
func (s *svc) addPortfolioImage(c *fiber.Ctx) error {
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
	if _, err := s.appendImage(c.UserContext(), c.Params("id"), f.ContentType, f.Data); err != nil {
		return err
	}
	return s.itemResponse(c, fiber.StatusOK, p.ID, c.Params("id"))
}

// addPortfolioImages answers POST /professional/portfolio/{id}/images: a multipart file
// is addPortfolioImage; a JSON array of URLs (what the earlier API took) adds images
// already stored by us — only images of the caller's own portfolio, copied into this
// item, so no foreign URL is ever shown as their work and deleting one copy leaves the
// other. Answers the item's images for those URLs, in the order given.
func (s *svc) addPortfolioImages(c *fiber.Ctx) error {
	if isMultipart(c) {
		return s.addPortfolioImage(c)
	}
	p, err := s.myItem(c)
	if err != nil {
		return err
	}
	var urls []string
	if err := httpx.BindJSON(c, &urls); err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Add(len(urls) == 0, "body", "enviá al menos una URL de imagen")
	ck.Add(len(urls) > maxImagesPerCall, "body", fmt.Sprintf("como máximo %d imágenes por vez", maxImagesPerCall))
	if err := ck.Err(); err != nil {
		return err
	}
	ctx, itemID := c.UserContext(), c.Params("id")
	// Every URL is checked before anything is copied: all or nothing.
	type source struct{ objeto, path string }
	srcs := make([]source, 0, len(urls))
	for _, u := range urls {
		path := s.rel(strings.TrimSpace(u))
		var objeto string
		err := s.pool.QueryRow(ctx, `SELECT im.objeto FROM portfolio_imagenes im JOIN portfolio_items i ON i.id = im.portfolio_item_id
			WHERE i.profesional_id = $1 AND im.imagen_url = $2 ORDER BY im.portfolio_item_id = $3 DESC LIMIT 1`, p.ID, path, itemID).Scan(&objeto)
		if errors.Is(err, pgx.ErrNoRows) {
			return apperr.Invalid("imagen_no_admitida", fmt.Sprintf(
				"Solo se pueden agregar imágenes ya subidas a tu portfolio (%s no lo es): subí el archivo a /professional/portfolio/{id}/image", truncate(u, 200)))
		}
		if err != nil {
			return fmt.Errorf("find portfolio image: %w", err)
		}
		srcs = append(srcs, source{objeto, path})
	}
	out := make([]portfolioImage, 0, len(srcs))
	for _, src := range srcs {
		var im portfolioImage
		err := s.pool.QueryRow(ctx, `SELECT id::text, portfolio_item_id::text, imagen_url, orden,
			to_char(fecha_creacion AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')
			FROM portfolio_imagenes WHERE portfolio_item_id = $1 AND imagen_url = $2`, itemID, src.path).
			Scan(&im.ID, &im.PortfolioItemID, &im.ImagenURL, &im.Orden, &im.FechaCreacion)
		if errors.Is(err, pgx.ErrNoRows) {
			// Another item's image: copy its object, so each row owns its own.
			data, ct, gerr := s.images.Get(ctx, src.objeto)
			if gerr != nil {
				return gerr
			}
			im, err = s.appendImage(ctx, itemID, ct, data)
		}
		if err != nil {
			return err
		}
		s.finishImage(&im)
		out = append(out, im)
	}
	return c.JSON(out)
}

// maxImagesPerCall bounds one JSON images call.
const maxImagesPerCall = 20

// appendImage stores data as a new image object and appends its row at the end of the
// item's order.
func (s *svc) appendImage(ctx context.Context, itemID, contentType string, data []byte) (portfolioImage, error) {
	id := uuid.New()
	name := fmt.Sprintf("%s_%s%s", itemID, id, upload.Ext(contentType))
	if err := s.images.Put(ctx, name, contentType, data); err != nil {
		return portfolioImage{}, err
	}
	var im portfolioImage
	// The item row lock serializes concurrent appends so orden stays max+1.
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM portfolio_items WHERE id = $1 FOR UPDATE`, itemID); err != nil {
			return fmt.Errorf("lock portfolio item: %w", err)
		}
		err := tx.QueryRow(ctx, `INSERT INTO portfolio_imagenes (id, portfolio_item_id, objeto, imagen_url, orden)
			SELECT $1, $2, $3, $4, coalesce(max(orden) + 1, 0) FROM portfolio_imagenes WHERE portfolio_item_id = $2
			RETURNING id::text, portfolio_item_id::text, imagen_url, orden,
				to_char(fecha_creacion AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`,
			id, itemID, name, portfolioURL(name)).Scan(&im.ID, &im.PortfolioItemID, &im.ImagenURL, &im.Orden, &im.FechaCreacion)
		if err != nil {
			return fmt.Errorf("add portfolio image: %w", pg.Translate(err))
		}
		return nil
	})
	if err != nil {
		_ = s.images.Delete(context.WithoutCancel(ctx), name)
		return portfolioImage{}, err
	}
	return im, nil
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
	err := s.pool.QueryRow(ctx, `WITH gone AS (DELETE FROM portfolio_imagenes WHERE id = $1 AND portfolio_item_id = $2
			RETURNING objeto, imagen_url),
		shown AS (UPDATE profesionales p SET imagenes_trabajos = array_remove(p.imagenes_trabajos, gone.imagen_url)
			FROM gone, portfolio_items i WHERE i.id = $2 AND p.id = i.profesional_id)
		SELECT objeto FROM gone`, c.Params("image_id"), c.Params("id")).Scan(&objeto)
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

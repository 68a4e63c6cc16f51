package professionals

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
)

// AnyOficio is the trade id of the search rows that stand for "any trade".
const AnyOficio = "00000000-0000-0000-0000-000000000000"

// Search shapes.
const (
	// ShapeCoverage: the client's point lies inside the professional's own coverage
	// circle (radio_cobertura_km around base_location).
	ShapeCoverage = "coverage"
	// ShapeRadius: the professional's base lies within RadioM of the client's point.
	ShapeRadius = "radius"
)

// Sort orders. Every order ends with the professional id, so pages are deterministic.
const (
	SortRating    = "rating"
	SortPrecio    = "precio"
	SortDistancia = "distancia"
	SortNivel     = "nivel"
)

// SearchParams is one search, already validated. Distances are great-circle distances
// on the sphere (what the KNN operator <-> orders by), so the radius filter, the order
// and distancia_km agree with each other.
type SearchParams struct {
	Shape string
	// OficioIDs nil means any trade; otherwise the professional has one of them. An
	// empty non-nil list, or ids of no enabled trade (the all-zero id included), match
	// nobody: the nil id names the index's "any trade" rows and is never a trade.
	OficioIDs     []string
	Lat, Lng      *float64
	RadioM        float64 // ShapeRadius
	Q             string
	RatingMin     *float64
	PrecioMin     *int64
	PrecioMax     *int64
	Nivel         string
	AceptaInstant *bool
	Sort          string
	Skip, Limit   int
}

// BuildSearch returns the SQL of p (one statement: the total in the first column, then
// the page) and its arguments. It runs on the busqueda table, whose rows are only the
// visible (approved, active) professionals, one per trade plus one under AnyOficio; the
// trade is the first column of both GiST indexes, so each shape is one index scan.
//
// The service answers from its in-memory index (searchIndex) instead; this is the same
// search in SQL, what the professionals bench measures as the raw figure, for tools that
// need it without a running service.
func BuildSearch(p SearchParams) (sql string, args []any) {
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	var where, geoWhere []string
	var ids []string // the filter's ids without the nil one (p.OficioIDs stays untouched)
	for _, id := range p.OficioIDs {
		if id != AnyOficio {
			ids = append(ids, id)
		}
	}
	oficio := AnyOficio
	if len(ids) == 1 {
		oficio = ids[0]
	}
	where = append(where, "b.oficio_id = "+arg(oficio)+"::uuid")
	switch {
	case p.OficioIDs != nil && len(ids) == 0:
		where = append(where, "false") // a filter naming no trade finds nobody
	case len(ids) > 1:
		// Rows exist only for enabled trades: a professional matches through one of them.
		where = append(where, "EXISTS (SELECT 1 FROM busqueda x WHERE x.profesional_id = b.profesional_id AND x.oficio_id = ANY ("+arg(ids)+"::uuid[]))")
	}
	geo, pt := "", ""
	if p.Lat != nil && p.Lng != nil {
		lng, lat := arg(*p.Lng), arg(*p.Lat)
		pt = "ST_SetSRID(ST_MakePoint(" + lng + "::float8, " + lat + "::float8), 4326)"
		geo = pt + "::geography"
		x, y, z := unitVector(*p.Lat, *p.Lng)
		dot := "(b.ux * " + arg(x) + "::float8 + b.uy * " + arg(y) + "::float8 + b.uz * " + arg(z) + "::float8)"
		within := func(metres string) string { return dot + " >= cos((" + metres + ") / " + earthRadius + ")" }
		switch p.Shape {
		case ShapeCoverage:
			// "The box of the coverage circle contains the point" is what the GiST
			// answers; the exact circle test runs on its few candidates.
			geoWhere = append(geoWhere, "b.coverage_geom ~ "+pt, dot+" >= b.cos_cobertura")
		default:
			// The box around the circle is the GiST condition (what ST_DWithin would
			// generate), the exact test is the dot product.
			r := arg(p.RadioM) + "::float8"
			geoWhere = append(geoWhere, "b.base_location && _ST_Expand("+geo+", "+r+")", within(r))
		}
	}
	if p.Q != "" {
		where = append(where, "b.texto LIKE '%' || norm("+arg(pg.LikeEscape(p.Q))+"::text) || '%'")
	}
	if p.RatingMin != nil {
		where = append(where, "b.rating_promedio >= "+arg(*p.RatingMin)+"::float8")
	}
	if p.PrecioMin != nil {
		where = append(where, "b.tarifa_por_hora >= "+arg(*p.PrecioMin)+"::bigint")
	}
	if p.PrecioMax != nil {
		where = append(where, "b.tarifa_por_hora <= "+arg(*p.PrecioMax)+"::bigint")
	}
	if p.Nivel != "" {
		where = append(where, "b.nivel = "+arg(p.Nivel)+"::text")
	}
	if p.AceptaInstant != nil {
		where = append(where, "b.acepta_instant = "+arg(*p.AceptaInstant)+"::bool")
	}
	plain := strings.Join(where, " AND ") // every filter but the geographic ones
	where = append(where, geoWhere...)
	cond := strings.Join(where, " AND ")
	dist := "NULL::float8"
	if geo != "" {
		dist = "b.base_location <-> " + geo
	}
	cols := `b.profesional_id::text, b.nombre, b.apellido, b.oficio_nombre, b.oficios, b.tarifa_por_hora,
		b.rating_promedio::float8, b.total_resenas, ` + dist + `, b.nivel, b.puntos_experiencia, b.avatar_url`
	// One statement (one snapshot, one round trip) answers the total and the page: the
	// first column is the total, the others are null when the page is empty.
	if p.Sort == SortDistancia && geo != "" {
		// A KNN index scan (ORDER BY <-> alone) finds the distance of the last row of the
		// page in a few index probes; the page is then the rows within that distance,
		// ordered with the id as tiebreaker. Sorting by distance and id directly makes
		// the planner sort every candidate: the KNN order cannot feed a second key. For
		// the radius shape the KNN scan ignores the radius (the nearest rows are the
		// same); for the coverage shape the nearest rows need not cover the point, so it
		// keeps the coverage test and walks outwards until it has a page of them.
		knnWhere := plain
		if p.Shape == ShapeCoverage {
			knnWhere = cond
		}
		knn := arg(p.Skip + p.Limit)
		order := "b.base_location <-> " + geo + ", b.profesional_id"
		sql = `WITH knn AS MATERIALIZED (SELECT b.base_location <-> ` + geo + ` AS d FROM busqueda b WHERE ` + knnWhere +
			` ORDER BY b.base_location <-> ` + geo + ` LIMIT ` + knn + `::int),
			pg AS (SELECT row_number() OVER (ORDER BY ` + order + `) AS pos, ` + cols + ` FROM busqueda b WHERE ` + cond +
			` AND b.base_location && _ST_Expand(` + geo + `, (SELECT coalesce(max(d), 0) + 0.01 FROM knn))
			ORDER BY ` + order + ` OFFSET ` + arg(p.Skip) + `::int LIMIT ` + arg(p.Limit) + `::int)
			SELECT t.n, pg.* FROM (SELECT count(*) AS n FROM busqueda b WHERE ` + cond + `) t LEFT JOIN pg ON true ORDER BY pg.pos`
		return sql, args
	}
	// Every other order needs every matching row anyway: one scan collects their ids
	// and sort keys, the total counts them, and only the page's rows are read in full.
	var order string
	switch p.Sort {
	case SortPrecio:
		order = "tarifa_por_hora ASC NULLS LAST, profesional_id"
	case SortNivel:
		order = "nivel_rank DESC, puntos_experiencia DESC, profesional_id"
	default:
		order = "rating_promedio DESC, total_resenas DESC, profesional_id"
	}
	sql = `WITH m AS MATERIALIZED (SELECT b.profesional_id, b.tarifa_por_hora, b.nivel_rank, b.puntos_experiencia,
			b.rating_promedio, b.total_resenas FROM busqueda b WHERE ` + cond + `),
		top AS (SELECT profesional_id, row_number() OVER (ORDER BY ` + order + `) AS pos
			FROM (SELECT * FROM m ORDER BY ` + order + ` OFFSET ` + arg(p.Skip) + `::int LIMIT ` + arg(p.Limit) + `::int) x),
		pg AS (SELECT top.pos, ` + cols + ` FROM top JOIN busqueda b ON b.profesional_id = top.profesional_id AND b.oficio_id = $1::uuid)
		SELECT t.n, pg.* FROM (SELECT count(*) AS n FROM m) t LEFT JOIN pg ON true ORDER BY pg.pos`
	return sql, args
}

// earthRadius is PostGIS's sphere radius in metres (WGS84 mean radius), the one of
// ST_Distance(…, false) and <->.
const earthRadius = "6371008.771415"

// unitVector is the point's position on the unit sphere.
func unitVector(lat, lng float64) (x, y, z float64) {
	φ, λ := lat*math.Pi/180, lng*math.Pi/180
	return math.Cos(φ) * math.Cos(λ), math.Cos(φ) * math.Sin(λ), math.Sin(φ)
}

// SearchResult is one professional in a search answer.
type SearchResult struct {
	ID                   string          `json:"id"`
	Nombre               string          `json:"nombre"`
	Apellido             string          `json:"apellido"`
	Oficio               string          `json:"oficio"`
	Oficios              []string        `json:"oficios"`
	TarifaPorHora        *money.Centavos `json:"tarifa_por_hora"`
	CalificacionPromedio float64         `json:"calificacion_promedio"`
	CantidadResenas      int             `json:"cantidad_resenas"`
	DistanciaKm          *float64        `json:"distancia_km"`
	NivelProfesional     string          `json:"nivel_profesional"`
	Nivel                string          `json:"nivel"` // the same level, under the name the frontend filters on
	ProfesionalID        string          `json:"profesional_id"`
	PuntosExperiencia    int             `json:"puntos_experiencia"`
	AvatarURL            *string         `json:"avatar_url"`
}

// Search runs p in SQL (BuildSearch) and returns the page and the total.
func Search(ctx context.Context, db interface {
	Query(context.Context, string, ...any) (pgx.Rows, error)
}, p SearchParams) ([]SearchResult, int, error) {
	sql, args := BuildSearch(p)
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, 0, fmt.Errorf("search: %w", pg.Translate(err))
	}
	defer rows.Close()
	out := []SearchResult{}
	total := 0
	for rows.Next() {
		var x SearchResult
		var id *string
		var pos *int64
		var tarifa *int64
		var dist, calif *float64
		var cant, puntos *int
		var nombre, apellido, oficio, nivel *string
		if err := rows.Scan(&total, &pos, &id, &nombre, &apellido, &oficio, &x.Oficios, &tarifa, &calif,
			&cant, &dist, &nivel, &puntos, &x.AvatarURL); err != nil {
			return nil, 0, fmt.Errorf("search: %w", err)
		}
		if id == nil {
			continue // the total's row of an empty page
		}
		x.ID, x.Nombre, x.Apellido, x.Oficio, x.NivelProfesional = *id, *nombre, *apellido, *oficio, *nivel
		x.ProfesionalID, x.Nivel = x.ID, x.NivelProfesional
		x.CalificacionPromedio, x.CantidadResenas, x.PuntosExperiencia = *calif, *cant, *puntos
		x.TarifaPorHora = centavosPtr(tarifa)
		if dist != nil {
			km := math.Round(*dist) / 1000 // metres → km with 3 decimals
			x.DistanciaKm = &km
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("search: %w", pg.Translate(err))
	}
	return out, total, nil
}

type searchBody struct {
	Oficio               *string         `json:"oficio"`
	OficioID             *string         `json:"oficio_id"`
	Q                    *string         `json:"q"`
	Latitude             *float64        `json:"latitude"`
	Longitude            *float64        `json:"longitude"`
	RadioKm              *float64        `json:"radio_km"`
	RatingMinimo         *float64        `json:"rating_minimo"`
	PrecioMinimo         *money.Centavos `json:"precio_minimo"`
	PrecioMaximo         *money.Centavos `json:"precio_maximo"`
	Nivel                *string         `json:"nivel"`
	AceptaInstant        *bool           `json:"acepta_instant"`
	Disponible           *bool           `json:"disponible"`
	SoloDisponiblesAhora *bool           `json:"solo_disponibles_ahora"`
	OrdenarPor           *string         `json:"ordenar_por"`
	Skip                 *int            `json:"skip"`
	Limit                *int            `json:"limit"`
}

// DefaultLimit is the page size when none is asked for.
const DefaultLimit = 20

func validSort(s string) bool {
	return s == SortRating || s == SortPrecio || s == SortDistancia || s == SortNivel
}

// resolveOficio maps a trade name to ids, accent- and case-insensitively: an exact name
// first, else every trade whose name contains it. ok is false when nothing matches.
func (s *svc) resolveOficio(ctx context.Context, name string) ([]string, bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT id::text FROM oficios WHERE activo AND norm(nombre) = norm($1)
		UNION ALL SELECT id::text FROM oficios WHERE activo AND NOT EXISTS (SELECT 1 FROM oficios WHERE activo AND norm(nombre) = norm($1))
			AND norm(nombre) LIKE '%' || norm($2) || '%' ORDER BY 1`, name, pg.LikeEscape(name))
	if err != nil {
		return nil, false, fmt.Errorf("resolve oficio: %w", pg.Translate(err))
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, false, fmt.Errorf("resolve oficio: %w", err)
	}
	return ids, len(ids) > 0, nil
}

// searchRadius answers POST /search and POST /search/.
func (s *svc) searchRadius(c *fiber.Ctx) error {
	var in searchBody
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := httpx.BindJSON(c, &in); err != nil {
			return err
		}
	}
	p := SearchParams{Shape: ShapeRadius, Sort: SortRating, Limit: DefaultLimit, RadioM: 10_000}
	var ck apperr.Checker
	ck.Add((in.Latitude == nil) != (in.Longitude == nil), "latitude", "latitude y longitude van juntas")
	if in.Latitude != nil && in.Longitude != nil {
		ck.Add(*in.Latitude < -90 || *in.Latitude > 90, "latitude", "debe estar entre -90 y 90")
		ck.Add(*in.Longitude < -180 || *in.Longitude > 180, "longitude", "debe estar entre -180 y 180")
		p.Lat, p.Lng = in.Latitude, in.Longitude
	}
	if in.RadioKm != nil {
		ck.Add(*in.RadioKm < 1 || *in.RadioKm > 500, "radio_km", "debe estar entre 1 y 500")
		p.RadioM = *in.RadioKm * 1000
	}
	if in.RatingMinimo != nil {
		ck.Add(*in.RatingMinimo < 0 || *in.RatingMinimo > 5, "rating_minimo", "debe estar entre 0 y 5")
		p.RatingMin = in.RatingMinimo
	}
	if in.PrecioMinimo != nil {
		ck.Add(*in.PrecioMinimo < 0, "precio_minimo", "debe ser mayor o igual a 0")
		v := int64(*in.PrecioMinimo)
		p.PrecioMin = &v
	}
	if in.PrecioMaximo != nil {
		ck.Add(*in.PrecioMaximo < 0, "precio_maximo", "debe ser mayor o igual a 0")
		v := int64(*in.PrecioMaximo)
		p.PrecioMax = &v
	}
	ck.Add(p.PrecioMin != nil && p.PrecioMax != nil && *p.PrecioMin > *p.PrecioMax, "precio_minimo", "no puede superar a precio_maximo")
	if in.Nivel != nil && *in.Nivel != "" {
		ck.Add(!validNivel(*in.Nivel), "nivel", "debe ser BRONCE, PLATA, ORO o DIAMANTE")
		p.Nivel = *in.Nivel
	}
	p.AceptaInstant = in.AceptaInstant
	// The frontend's "available now" filter means "takes instant jobs".
	for _, b := range []*bool{in.Disponible, in.SoloDisponiblesAhora} {
		if p.AceptaInstant == nil && b != nil && *b {
			p.AceptaInstant = b
		}
	}
	if in.OrdenarPor != nil && *in.OrdenarPor != "" {
		ck.Add(!validSort(*in.OrdenarPor), "ordenar_por", "debe ser rating, precio, distancia o nivel")
		p.Sort = *in.OrdenarPor
	}
	if in.Skip != nil {
		// Bounded like GET's skip: the SQL reads OFFSET (and skip + limit) as a 32-bit int.
		ck.Add(*in.Skip < 0 || *in.Skip > httpx.MaxSkip, "skip", "debe estar entre 0 y 1000000000")
		p.Skip = *in.Skip
	}
	if in.Limit != nil {
		ck.Add(*in.Limit < 1 || *in.Limit > 100, "limit", "debe estar entre 1 y 100")
		p.Limit = *in.Limit
	}
	if in.Q != nil {
		p.Q = strings.TrimSpace(*in.Q)
		ck.Len("q", p.Q, 0, 100)
	}
	if in.OficioID != nil && *in.OficioID != "" {
		ck.Add(!isUUID(*in.OficioID), "oficio_id", "debe ser un UUID")
		p.OficioIDs = []string{strings.ToLower(*in.OficioID)}
	}
	if err := ck.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	if p.OficioIDs == nil && in.Oficio != nil && strings.TrimSpace(*in.Oficio) != "" {
		ids, ok, err := s.resolveOficio(ctx, strings.TrimSpace(*in.Oficio))
		if err != nil {
			return err
		}
		if !ok {
			return c.JSON(searchPage(nil, 0, p))
		}
		p.OficioIDs = ids
	}
	res, total, err := s.index.Search(ctx, p)
	if err != nil {
		return err
	}
	s.absAvatars(res)
	return c.JSON(searchPage(res, total, p))
}

type searchPageRead struct {
	Total        int            `json:"total"`
	Pagina       int            `json:"pagina"`
	TotalPaginas int            `json:"total_paginas"`
	Limit        int            `json:"limit"`
	Skip         int            `json:"skip"`
	Resultados   []SearchResult `json:"resultados"`
}

func searchPage(res []SearchResult, total int, p SearchParams) searchPageRead {
	if res == nil {
		res = []SearchResult{}
	}
	return searchPageRead{Total: total, Pagina: p.Skip/p.Limit + 1, TotalPaginas: (total + p.Limit - 1) / p.Limit,
		Limit: p.Limit, Skip: p.Skip, Resultados: res}
}

// searchCoverage answers GET /search/professionals?oficio_id&lat&lng[&nivel]
// [&acepta_instant][&sort_by][&skip&limit]: professionals whose coverage circle contains
// the point, as a list (X-Total-Count carries the total).
func (s *svc) searchCoverage(c *fiber.Ctx) error {
	page, err := httpx.Paging(c, DefaultLimit)
	if err != nil {
		return err
	}
	p := SearchParams{Shape: ShapeCoverage, Sort: SortNivel, Skip: page.Skip, Limit: page.Limit}
	var ck apperr.Checker
	oficio := c.Query("oficio_id")
	ck.Add(!isUUID(oficio), "oficio_id", "es obligatorio y debe ser un UUID")
	p.OficioIDs = []string{strings.ToLower(oficio)}
	lat, errLat := strconv.ParseFloat(c.Query("lat"), 64)
	lng, errLng := strconv.ParseFloat(c.Query("lng"), 64)
	ck.Add(errLat != nil || lat < -90 || lat > 90 || math.IsNaN(lat), "lat", "es obligatoria, entre -90 y 90")
	ck.Add(errLng != nil || lng < -180 || lng > 180 || math.IsNaN(lng), "lng", "es obligatoria, entre -180 y 180")
	p.Lat, p.Lng = &lat, &lng
	if v := c.Query("nivel"); v != "" {
		ck.Add(!validNivel(v), "nivel", "debe ser BRONCE, PLATA, ORO o DIAMANTE")
		p.Nivel = v
	}
	if v := c.Query("acepta_instant"); v != "" {
		b, err := strconv.ParseBool(v)
		ck.Add(err != nil, "acepta_instant", "debe ser true o false")
		p.AceptaInstant = &b
	}
	if v := c.Query("sort_by"); v != "" {
		ck.Add(!validSort(v), "sort_by", "debe ser rating, precio, distancia o nivel")
		p.Sort = v
	}
	if err := ck.Err(); err != nil {
		return err
	}
	res, total, err := s.index.Search(c.UserContext(), p)
	if err != nil {
		return err
	}
	s.absAvatars(res)
	if res == nil {
		res = []SearchResult{}
	}
	c.Set("X-Total-Count", strconv.Itoa(total))
	return c.JSON(res)
}

// absAvatars makes the results' avatar URLs absolute (the page puts them in img src).
func (s *svc) absAvatars(res []SearchResult) {
	for i := range res {
		res[i].AvatarURL = s.absPtr(res[i].AvatarURL)
	}
}

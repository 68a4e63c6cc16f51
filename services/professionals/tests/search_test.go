package tests

import (
	"context"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/professionals"
)

// query is one search, described independently of the service's engine.
type query struct {
	shape                           string // coverage | radius
	oficios                         []string
	lat, lng                        *float64
	radioM                          float64
	q                               string
	ratingMin, precioMin, precioMax *float64
	nivel                           string
	instant                         *bool
	sort                            string
}

// exact computes the answer from the base tables with the plain definition: no search
// index, distances with ST_Distance on the sphere, every filter spelled out.
func (h *harness) exact(q query) []string {
	h.t.Helper()
	var args []any
	arg := func(v any) string { args = append(args, v); return "$" + strconv.Itoa(len(args)) }
	conds := []string{"p.estado_verificacion = 'APROBADO'", "p.is_active"}
	if q.oficios != nil {
		conds = append(conds, "EXISTS (SELECT 1 FROM profesional_oficios po WHERE po.profesional_id = p.id AND po.oficio_id = ANY ("+arg(q.oficios)+"::uuid[]))")
	}
	g := ""
	if q.lat != nil {
		g = "ST_SetSRID(ST_MakePoint(" + arg(*q.lng) + "::float8, " + arg(*q.lat) + "::float8), 4326)::geography"
		if q.shape == "coverage" {
			conds = append(conds, "ST_Distance(p.base_location, "+g+", false) <= p.radio_cobertura_km * 1000")
		} else {
			conds = append(conds, "ST_Distance(p.base_location, "+g+", false) <= "+arg(q.radioM)+"::float8")
		}
	}
	if q.q != "" {
		conds = append(conds, "position(norm("+arg(q.q)+"::text) in norm(concat_ws(' ', p.nombre, p.apellido, (SELECT string_agg(o.nombre, ' ') FROM profesional_oficios po JOIN oficios o ON o.id = po.oficio_id WHERE po.profesional_id = p.id), p.descripcion))) > 0")
	}
	if q.ratingMin != nil {
		conds = append(conds, "p.rating_promedio >= "+arg(*q.ratingMin)+"::float8")
	}
	if q.precioMin != nil {
		conds = append(conds, "p.tarifa_por_hora >= "+arg(*q.precioMin*100)+"::float8")
	}
	if q.precioMax != nil {
		conds = append(conds, "p.tarifa_por_hora <= "+arg(*q.precioMax*100)+"::float8")
	}
	if q.nivel != "" {
		conds = append(conds, "p.nivel = "+arg(q.nivel)+"::text")
	}
	if q.instant != nil {
		conds = append(conds, "p.acepta_instant = "+arg(*q.instant)+"::bool")
	}
	order := "p.rating_promedio DESC, p.total_resenas DESC, p.id"
	switch {
	case q.sort == "distancia" && g != "":
		order = "ST_Distance(p.base_location, " + g + ", false), p.id"
	case q.sort == "precio":
		order = "p.tarifa_por_hora ASC NULLS LAST, p.id"
	case q.sort == "nivel":
		order = "array_position(ARRAY['BRONCE','PLATA','ORO','DIAMANTE'], p.nivel) DESC, p.puntos_experiencia DESC, p.id"
	}
	rows, err := h.db.Query(context.Background(), "SELECT p.id::text FROM profesionales p WHERE "+strings.Join(conds, " AND ")+" ORDER BY "+order, args...)
	if err != nil {
		h.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var id string
		_ = rows.Scan(&id)
		out = append(out, id)
	}
	return out
}

type searchPage struct {
	Total        int `json:"total"`
	Pagina       int `json:"pagina"`
	TotalPaginas int `json:"total_paginas"`
	Resultados   []struct {
		ID          string   `json:"id"`
		Nombre      string   `json:"nombre"`
		Oficio      string   `json:"oficio"`
		Oficios     []string `json:"oficios"`
		DistanciaKm *float64 `json:"distancia_km"`
		Calif       float64  `json:"calificacion_promedio"`
		Nivel       string   `json:"nivel_profesional"`
	} `json:"resultados"`
}

// postAll pages through POST /search with limit 7 and returns every id, checking the
// totals on every page and that distancia_km is the real distance.
func (h *harness) postAll(body map[string]any) []string {
	h.t.Helper()
	ids := []string{}
	const limit = 7
	for skip := 0; ; skip += limit {
		body["skip"], body["limit"] = skip, limit
		r := h.do("POST", "/api/v1/search", "", body)
		r.Expect(h.t, 200, fmt.Sprintf("search %v", body))
		var pg searchPage
		r.Decode(h.t, &pg)
		if pg.Pagina != skip/limit+1 || pg.TotalPaginas != (pg.Total+limit-1)/limit {
			h.t.Fatalf("paging fields %+v for skip %d", pg, skip)
		}
		for _, x := range pg.Resultados {
			ids = append(ids, x.ID)
			if lat, ok := body["latitude"].(float64); ok {
				var d float64
				_ = h.db.QueryRow(context.Background(), `SELECT ST_Distance(base_location, ST_SetSRID(ST_MakePoint($1, $2), 4326)::geography, false) FROM profesionales WHERE id = $3`,
					body["longitude"], lat, x.ID).Scan(&d)
				if x.DistanciaKm == nil || math.Abs(*x.DistanciaKm-d/1000) > 0.0006 {
					h.t.Fatalf("distancia_km %v, real %.4f km", x.DistanciaKm, d/1000)
				}
			} else if x.DistanciaKm != nil {
				h.t.Fatalf("distancia_km without a point: %v", *x.DistanciaKm)
			}
		}
		if len(pg.Resultados) < limit {
			if len(ids) != pg.Total {
				h.t.Fatalf("total %d but %d results over the pages", pg.Total, len(ids))
			}
			return ids
		}
	}
}

func (h *harness) getAll(oficio string, lat, lng float64, extra url.Values) []string {
	h.t.Helper()
	ids := []string{}
	const limit = 9
	for skip := 0; ; skip += limit {
		v := url.Values{"oficio_id": {oficio}, "lat": {ftoa(lat)}, "lng": {ftoa(lng)}, "skip": {strconv.Itoa(skip)}, "limit": {strconv.Itoa(limit)}}
		for k, x := range extra {
			v[k] = x
		}
		r := h.do("GET", "/api/v1/search/professionals?"+v.Encode(), "", nil)
		r.Expect(h.t, 200, "coverage search")
		var page []struct {
			ID string `json:"id"`
		}
		r.Decode(h.t, &page)
		for _, x := range page {
			ids = append(ids, x.ID)
		}
		if len(page) < limit {
			if total, _ := strconv.Atoi(r.Header.Get("X-Total-Count")); total != len(ids) {
				h.t.Fatalf("X-Total-Count %d, %d results", total, len(ids))
			}
			return ids
		}
	}
}

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%s: got %d results, want %d\n got  %v\n want %v", what, len(got), len(want), head(got), head(want))
	}
}

func head(s []string) []string {
	if len(s) > 6 {
		return s[:6]
	}
	return s
}

func fp(f float64) *float64 { return &f }
func bp(b bool) *bool       { return &b }

// earthR is PostGIS's sphere radius, the one ST_Distance(…, false) and <-> use.
const earthR = 6371008.7714

func TestSearchMatchesTheExactDefinition(t *testing.T) {
	h := newHarness(t)
	if err := professionals.SeedProfessionals(context.Background(), h.db, 400, 7); err != nil {
		t.Fatal(err)
	}
	plom, elec := h.oficioID("Plomería"), h.oficioID("Electricidad")

	// Hand-made professionals through the real paths.
	baseLat, baseLng := -34.60, -58.40
	jose := h.approved("José", "Pérez", plom, baseLat, baseLng, 10)
	twin := h.approved("Ana", "Gemela", plom, baseLat, baseLng, 10) // same point: ties broken by id
	inigo := h.approved("Íñigo", "Núñez", elec, -34.61, -58.42, 5)
	h.do("PUT", "/api/v1/professional/me", inigo.token, map[string]any{"descripcion": "Especialista en CAÑERÍAS y tableros", "acepta_instant": true}).Expect(t, 200, "desc")
	unapproved := h.register("Sin", "Aprobar", plom)
	h.do("PUT", "/api/v1/professional/profile/location", unapproved.token, map[string]any{"latitude": baseLat, "longitude": baseLng}).Expect(t, 200, "loc")
	banned := h.approved("Baneado", "Pro", plom, baseLat, baseLng, 50)
	h.publish(events.UserBannedV1{UserID: banned.userID}, time.Now())
	h.eventually("banned professional leaves the index", func() bool {
		var n int
		_ = h.db.QueryRow(context.Background(), `SELECT count(*) FROM busqueda WHERE profesional_id = $1`, banned.profID).Scan(&n)
		return n == 0
	})
	never := map[string]bool{unapproved.profID: true, banned.profID: true}

	// Coverage boundary: due north of José at 9,999 m and 10,001 m (sphere distance).
	dLat := func(m float64) float64 { return baseLat + m/earthR*180/math.Pi }
	in := h.getAll(plom, dLat(9999), baseLng, nil)
	out := h.getAll(plom, dLat(10001), baseLng, nil)
	if !contains(in, jose.profID) || !contains(in, twin.profID) || contains(out, jose.profID) {
		t.Fatalf("coverage boundary: inside %v, outside %v", contains(in, jose.profID), contains(out, jose.profID))
	}
	// All around the circle (the box of a cap is widest away from its centre's
	// latitude): 9,990 m away in every direction is inside, 10,010 m is outside.
	for bearing := 0.0; bearing < 360; bearing += 15 {
		for _, c := range []struct {
			m    float64
			want bool
		}{{9990, true}, {10010, false}} {
			lat2, lng2 := destination(baseLat, baseLng, bearing, c.m)
			if got := contains(h.getAll(plom, lat2, lng2, nil), jose.profID); got != c.want {
				t.Fatalf("coverage at bearing %.0f, %.0f m: found %v", bearing, c.m, got)
			}
		}
	}
	// Radius boundary, the other shape: José is 9,999 m from one point and 10,001 m from the other.
	near := h.postAll(map[string]any{"oficio_id": plom, "latitude": dLat(9999), "longitude": baseLng, "radio_km": 10})
	far := h.postAll(map[string]any{"oficio_id": plom, "latitude": dLat(10001), "longitude": baseLng, "radio_km": 10})
	if !contains(near, jose.profID) || contains(far, jose.profID) {
		t.Fatal("radius boundary")
	}

	points := [][2]float64{{baseLat, baseLng}, {-34.75, -58.55}, {-34.45, -58.25}}
	sorts := []string{"rating", "precio", "distancia", "nivel"}
	check := func(what string, got []string, q query) {
		t.Helper()
		want := h.exact(q)
		same(t, what, got, want)
		for _, id := range got {
			if never[id] {
				t.Fatalf("%s: unapproved or banned professional returned", what)
			}
		}
	}
	nonEmpty := 0
	for _, pt := range points {
		lat, lng := pt[0], pt[1]
		for _, of := range []string{plom, elec} {
			for _, s := range sorts {
				got := h.getAll(of, lat, lng, url.Values{"sort_by": {s}})
				check("coverage "+s, got, query{shape: "coverage", oficios: []string{of}, lat: &lat, lng: &lng, sort: s})
				if len(got) > 0 {
					nonEmpty++
				}
				got = h.postAll(map[string]any{"oficio_id": of, "latitude": lat, "longitude": lng, "radio_km": 10, "ordenar_por": s})
				check("radius "+s, got, query{shape: "radius", oficios: []string{of}, lat: &lat, lng: &lng, radioM: 10000, sort: s})
			}
		}
		// Coverage filters.
		got := h.getAll(plom, lat, lng, url.Values{"nivel": {"ORO"}, "acepta_instant": {"false"}})
		check("coverage filters", got, query{shape: "coverage", oficios: []string{plom}, lat: &lat, lng: &lng, nivel: "ORO", instant: bp(false), sort: "nivel"})
	}
	if nonEmpty < 6 {
		t.Fatalf("only %d non-empty coverage answers: the data does not exercise the search", nonEmpty)
	}
	lat, lng := baseLat, baseLng
	cases := []struct {
		name string
		body map[string]any
		q    query
	}{
		{"trade by name without accents", map[string]any{"oficio": "plomeria", "latitude": lat, "longitude": lng, "radio_km": 15},
			query{oficios: []string{plom}, lat: &lat, lng: &lng, radioM: 15000}},
		{"trade by name in capitals", map[string]any{"oficio": "PLOMERÍA", "latitude": lat, "longitude": lng, "radio_km": 15, "ordenar_por": "distancia"},
			query{oficios: []string{plom}, lat: &lat, lng: &lng, radioM: 15000, sort: "distancia"}},
		{"part of several trade names", map[string]any{"oficio": "cion", "latitude": lat, "longitude": lng, "radio_km": 30},
			query{oficios: []string{h.oficioID("Climatización"), h.oficioID("Reparación de electrodomésticos")}, lat: &lat, lng: &lng, radioM: 30000}},
		{"free text over name, accents folded", map[string]any{"q": "nunez"}, query{q: "nunez"}},
		{"free text over description", map[string]any{"q": "canerias", "latitude": lat, "longitude": lng, "radio_km": 5}, query{q: "canerias", lat: &lat, lng: &lng, radioM: 5000}},
		{"free text over trade", map[string]any{"q": "electricidad", "latitude": lat, "longitude": lng, "radio_km": 8, "ordenar_por": "precio"},
			query{q: "electricidad", lat: &lat, lng: &lng, radioM: 8000, sort: "precio"}},
		{"rating minimum", map[string]any{"rating_minimo": 4.2, "latitude": lat, "longitude": lng, "radio_km": 20}, query{ratingMin: fp(4.2), lat: &lat, lng: &lng, radioM: 20000}},
		{"price range", map[string]any{"precio_minimo": 5000, "precio_maximo": 9000.5, "latitude": lat, "longitude": lng, "radio_km": 12, "ordenar_por": "precio"},
			query{precioMin: fp(5000), precioMax: fp(9000.5), lat: &lat, lng: &lng, radioM: 12000, sort: "precio"}},
		{"level", map[string]any{"nivel": "PLATA", "latitude": lat, "longitude": lng, "radio_km": 25, "ordenar_por": "nivel"},
			query{nivel: "PLATA", lat: &lat, lng: &lng, radioM: 25000, sort: "nivel"}},
		{"instant", map[string]any{"acepta_instant": true, "latitude": lat, "longitude": lng, "radio_km": 10}, query{instant: bp(true), lat: &lat, lng: &lng, radioM: 10000}},
		{"frontend's disponible means instant", map[string]any{"disponible": true, "latitude": lat, "longitude": lng, "radio_km": 10}, query{instant: bp(true), lat: &lat, lng: &lng, radioM: 10000}},
		{"everything, no point", map[string]any{"ordenar_por": "nivel"}, query{sort: "nivel"}},
		{"no point, distance order falls back to rating", map[string]any{"ordenar_por": "distancia", "oficio_id": elec}, query{oficios: []string{elec}}},
		{"default radius 10 km", map[string]any{"latitude": lat, "longitude": lng}, query{lat: &lat, lng: &lng, radioM: 10000}},
		{"everything within 500 km by distance", map[string]any{"latitude": lat, "longitude": lng, "radio_km": 500, "ordenar_por": "distancia"},
			query{lat: &lat, lng: &lng, radioM: 500000, sort: "distancia"}},
	}
	for _, c := range cases {
		c.q.shape = "radius"
		got := h.postAll(c.body)
		check(c.name, got, c.q)
		if len(got) == 0 {
			t.Fatalf("%s: no results, the case proves nothing", c.name)
		}
		t.Logf("%-45s %d results", c.name, len(got))
	}
	if got := h.postAll(map[string]any{"q": "nunez"}); len(got) != 1 || got[0] != inigo.profID {
		t.Fatalf("free text found %v", got)
	}
	if got := h.postAll(map[string]any{"oficio": "astronauta"}); len(got) != 0 {
		t.Fatal("unknown trade name matched")
	}
	// The same query twice gives the same order (stable tiebreaker).
	a := h.postAll(map[string]any{"latitude": lat, "longitude": lng, "radio_km": 30, "ordenar_por": "distancia"})
	b := h.postAll(map[string]any{"latitude": lat, "longitude": lng, "radio_km": 30, "ordenar_por": "distancia"})
	same(t, "repeat", a, b)

	// Unbanning brings the professional back.
	h.publish(events.UserUnbannedV1{UserID: banned.userID}, time.Now())
	h.eventually("unbanned professional back in search", func() bool {
		return contains(h.postAll(map[string]any{"oficio_id": plom, "latitude": lat, "longitude": lng, "radio_km": 1}), banned.profID)
	})

	// Validation.
	for _, bad := range []map[string]any{
		{"radio_km": 0}, {"radio_km": 501}, {"limit": 0}, {"limit": 101}, {"skip": -1}, {"latitude": 10},
		{"latitude": 91, "longitude": 0}, {"ordenar_por": "fecha"}, {"nivel": "PLATINO"}, {"rating_minimo": 6},
		{"precio_minimo": 10, "precio_maximo": 5}, {"oficio_id": "x"}, {"limit": "diez"},
	} {
		h.do("POST", "/api/v1/search/", "", bad).Expect(t, 422, fmt.Sprintf("bad search %v", bad))
	}
	for _, bad := range []string{"", "oficio_id=" + plom + "&lat=1", "oficio_id=x&lat=1&lng=1", "oficio_id=" + plom + "&lat=1&lng=1&sort_by=x",
		"oficio_id=" + plom + "&lat=100&lng=1", "oficio_id=" + plom + "&lat=1&lng=1&limit=500"} {
		h.do("GET", "/api/v1/search/professionals?"+bad, "", nil).Expect(t, 422, "bad coverage search "+bad)
	}
	h.do("POST", "/api/v1/search", "", nil).Expect(t, 200, "empty body means defaults")
}

func contains(s []string, x string) bool {
	for _, y := range s {
		if y == x {
			return true
		}
	}
	return false
}

// destination is the point d metres from (lat, lng) along bearing (degrees) on the sphere.
func destination(lat, lng, bearing, d float64) (float64, float64) {
	φ1, λ1, θ, δ := lat*math.Pi/180, lng*math.Pi/180, bearing*math.Pi/180, d/earthR
	φ2 := math.Asin(math.Sin(φ1)*math.Cos(δ) + math.Cos(φ1)*math.Sin(δ)*math.Cos(θ))
	λ2 := λ1 + math.Atan2(math.Sin(θ)*math.Sin(δ)*math.Cos(φ1), math.Cos(δ)-math.Sin(φ1)*math.Sin(φ2))
	return φ2 * 180 / math.Pi, λ2 * 180 / math.Pi
}

// The radius search finds professionals across the antimeridian and around the poles,
// where a longitude/latitude box of the circle needs every longitude: at 9,990 m in every
// direction a professional is found, at 10,010 m not, whatever the order.
func TestRadiusSearchAcrossTheAntimeridianAndThePoles(t *testing.T) {
	h := newHarness(t)
	plom := h.oficioID("Plomería")
	wrap := func(lng float64) float64 { return math.Mod(lng+540, 360) - 180 }
	for _, c := range []struct {
		name     string
		lat, lng float64
	}{{"antimeridian", -16.5, 179.98}, {"west of it", -16.5, -179.99}, {"north pole", 89.97, 45}, {"south pole", -89.95, -120}} {
		p := h.approved("Borde", c.name, plom, c.lat, c.lng, 5)
		cov := h.approved("Cobertura", c.name, plom, c.lat, c.lng, 10)
		for bearing := 0.0; bearing < 360; bearing += 30 {
			for _, d := range []struct {
				m    float64
				want bool
			}{{9990, true}, {10010, false}} {
				lat, lng := destination(c.lat, c.lng, bearing, d.m)
				for _, sort := range []string{"distancia", "rating"} {
					got := contains(h.postAll(map[string]any{"oficio_id": plom, "latitude": lat, "longitude": wrap(lng), "radio_km": 10, "ordenar_por": sort}), p.profID)
					if got != d.want {
						t.Fatalf("%s, bearing %.0f, %.0f m, by %s: found %v", c.name, bearing, d.m, sort, got)
					}
				}
				// The coverage form: the professional's own 10 km circle holds the point.
				if got := contains(h.getAll(plom, lat, wrap(lng), nil), cov.profID); got != d.want {
					t.Fatalf("coverage %s, bearing %.0f, %.0f m: found %v", c.name, bearing, d.m, got)
				}
			}
		}
	}
}

package professionals_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/httpx/httpxtest"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/professionals"
)

// searchApp is the service's real composition root (routes, error handler, the search
// index over a fresh migrated database). The search handlers parse their input inline,
// so the fuzz targets drive them through the app: parsing and the index it feeds are
// tested together, which is where a number that parses but does not fit fails.
func searchApp(f *testing.F) *fiber.App {
	env := testkit.NewEnv(f)
	deps := env.Deps(f, professionals.Name, nil)
	deps.PublicURL = "http://127.0.0.1:8000/"
	svc, err := professionals.New(context.Background(), deps)
	if err != nil {
		f.Fatal(err)
	}
	// The routes are live: otherwise every input would answer 404 and prove nothing.
	for _, req := range []*http.Request{
		{Method: http.MethodGet, URL: &url.URL{Path: "/api/v1/search/professionals", RawQuery: "oficio_id=6f1c2d3e-4b5a-4c6d-8e7f-001122334455&lat=-34.6&lng=-58.4"},
			Host: "professionals", Header: http.Header{}, Body: http.NoBody},
		{Method: http.MethodPost, URL: &url.URL{Path: "/api/v1/search"}, Host: "professionals", Header: http.Header{}, Body: http.NoBody},
	} {
		resp, err := svc.App.Test(req, -1)
		if err != nil {
			f.Fatal(err)
		}
		if resp.StatusCode != http.StatusOK {
			f.Fatalf("%s %s on an empty index: %d", req.Method, req.URL, resp.StatusCode)
		}
	}
	return svc.App
}

// FuzzSearchQuery sends any query string to GET /search/professionals (the coverage
// search: oficio_id, lat, lng, nivel, acepta_instant, sort_by, skip/limit/page): the
// answer is a 4xx with the error shape or a 200 with a JSON list, never a 5xx.
func FuzzSearchQuery(f *testing.F) {
	for _, q := range []string{
		"oficio_id=6f1c2d3e-4b5a-4c6d-8e7f-001122334455&lat=-34.6037&lng=-58.3816",
		"oficio_id=6F1C2D3E-4B5A-4C6D-8E7F-001122334455&lat=-34.6&lng=-58.4&nivel=ORO&acepta_instant=true&sort_by=distancia&limit=100&page=3",
		"oficio_id=00000000-0000-0000-0000-000000000000&lat=90&lng=180&sort_by=precio&skip=1000000000",
		"oficio_id=6f1c2d3e-4b5a-4c6d-8e7f-001122334455&lat=NaN&lng=Inf",
		"oficio_id=6f1c2d3e-4b5a-4c6d-8e7f-001122334455&lat=1e308&lng=-1e-320&acepta_instant=maybe",
		"oficio_id=6f1c2d3e-4b5a-4c6d-8e7f-001122334455&lat=0&lng=0&skip=2147483647&limit=100",
		"oficio_id=6f1c2d3e-4b5a-4c6d-8e7f-001122334455&lat=0&lng=0&page=9223372036854775807",
		"oficio_id=%27;DROP TABLE busqueda;--&lat=0&lng=0", "lat=0&lat=1&lng=0", "", "&&&=", "oficio_id[]=x",
		"lat=0&lng=0&oficio_id=" + strings.Repeat("%DB", 2000),
	} {
		f.Add(q)
	}
	app := searchApp(f)
	f.Fuzz(func(t *testing.T, rawQuery string) {
		if strings.ContainsFunc(rawQuery, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '#' }) {
			return // cannot be written on a request line
		}
		req := &http.Request{Method: http.MethodGet, URL: &url.URL{Path: "/api/v1/search/professionals", RawQuery: rawQuery},
			Host: "professionals", Header: http.Header{}, Body: http.NoBody}
		if status, raw := httpxtest.Call(t, app, req); status == http.StatusOK {
			var list []map[string]any
			if err := json.Unmarshal(raw, &list); err != nil {
				t.Fatalf("200 that is not a JSON list: %s", raw)
			}
		}
	})
}

// FuzzSearchBody sends any body to POST /search (the radius search the web frontend
// uses): a 4xx with the error shape or a 200 page, never a 5xx.
func FuzzSearchBody(f *testing.F) {
	for _, b := range []string{
		`{"latitude":-34.6037,"longitude":-58.3816,"radio_km":25,"oficio":"Plomería","q":"caño","rating_minimo":4,"precio_minimo":"1000","precio_maximo":"50000.50","nivel":"ORO","ordenar_por":"distancia","skip":0,"limit":20}`,
		`{"oficio_id":"6f1c2d3e-4b5a-4c6d-8e7f-001122334455","disponible":true,"solo_disponibles_ahora":false,"acepta_instant":null}`,
		`{"skip":2147483647,"limit":100,"ordenar_por":"precio"}`, `{"skip":9223372036854775807}`, `{"skip":1e3}`,
		`{"latitude":-34.6,"longitude":-58.4,"ordenar_por":"distancia","skip":2147483600,"limit":100}`,
		`{"precio_minimo":"92233720368547758.07","precio_maximo":"-1"}`, `{"radio_km":1e-300}`, `{"latitude":91}`,
		`{"q":"%_\\"}`, `{"oficio":"%"}`, `{"oficio":"'; DROP TABLE oficios;--"}`, `{}`, ``, `[]`, `null`,
	} {
		f.Add("application/json", []byte(b))
	}
	f.Add("text/plain", []byte(`{}`))
	app := searchApp(f)
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		if strings.ContainsFunc(ct, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return // no client can send it as a header value
		}
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: "/api/v1/search"}, Host: "professionals",
			Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), ContentLength: int64(len(body))}
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		if status, raw := httpxtest.Call(t, app, req); status == http.StatusOK {
			var page struct {
				Resultados []map[string]any `json:"resultados"`
				Limit      int              `json:"limit"`
			}
			if err := json.Unmarshal(raw, &page); err != nil || page.Resultados == nil || page.Limit < 1 {
				t.Fatalf("200 that is not a search page: %s", raw)
			}
		}
	})
}

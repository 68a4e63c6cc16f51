package httpx_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/logx"
	"github.com/conectarpro/conectar/platform/money"
)

// fuzzBody has the field types request bodies use: strings, optional numbers, money (a
// custom decoder that refuses with an apperr), booleans, lists and a nested object.
type fuzzBody struct {
	Nombre   string          `json:"nombre"`
	Edad     *int            `json:"edad"`
	Lat      *float64        `json:"lat"`
	Precio   *money.Centavos `json:"precio"`
	Activo   bool            `json:"activo"`
	Tags     []string        `json:"tags"`
	Ubic     *struct{ X, Y float64 }
	Cantidad uint8 `json:"cantidad"`
}

var jsonSeeds = []string{
	`{"nombre":"Ana","edad":30,"lat":-34.6037,"precio":"15000.50","activo":true,"tags":["plomería","gas"],"Ubic":{"X":1,"Y":2},"cantidad":3}`,
	`{"precio":15000}`, `{"precio":"1e3"}`, `{"precio":"-0.001"}`, `{"precio":99999999999999999999}`,
	`{"edad":"30"}`, `{"edad":1e400}`, `{"cantidad":256}`, `{"tags":"x"}`, `{"Ubic":[1,2]}`,
	`{"nombre":"\ud800"}`, `{"nombre":"a","nombre":5}`, `{} {}`, `{}x`, `{}]`, `[]`, `null`, `"x"`,
	"\ufeff{}", "  {}  \n", `{"a":`, ``, `{"edad":-0}`, `{"lat":1E+308}`,
}

// FuzzDecodeJSON: any body is either refused as a 422 with the field it blames, or is
// one JSON value whose decoded form survives an encode/decode round trip.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst fuzzBody
		err := httpx.DecodeJSON(body, &dst)
		if err != nil {
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.KindValidation || len(e.Fields) == 0 || e.Fields[0].Field == "" {
				t.Fatalf("refused %q with %#v, want a 422 naming a field", body, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("accepted something that is not one JSON value: %q", body)
		}
		// PostgreSQL cannot store U+0000: no accepted string may carry it.
		if strings.ContainsRune(dst.Nombre, 0) || slices.ContainsFunc(dst.Tags, func(s string) bool { return strings.ContainsRune(s, 0) }) {
			t.Fatalf("accepted a NUL character: %q", body)
		}
		wire, err := json.Marshal(dst)
		if err != nil {
			t.Fatalf("accepted value does not encode: %v", err)
		}
		var back fuzzBody
		if err := httpx.DecodeJSON(wire, &back); err != nil || !reflect.DeepEqual(dst, back) {
			t.Fatalf("round trip: %q → %+v → %s → %+v (%v)", body, dst, wire, back, err)
		}
	})
}

// FuzzBindJSON sends any Content-Type and body to a handler that binds JSON, through the
// shared error handler: the answer is 200 exactly when the type is JSON and the body
// decodes, otherwise 413, 415 or 422 with the error shape — never a 5xx.
func FuzzBindJSON(f *testing.F) {
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "application/merge-patch+json", "", "text/plain", "application/json; charset=\"", "APPLICATION/JSON", "application/x-www-form-urlencoded"} {
		for _, s := range jsonSeeds[:3] {
			f.Add(ct, []byte(s))
		}
	}
	a := httpx.NewApp(httpx.Config{Name: "fuzz", Logger: logx.Discard()})
	a.Post("/bind", func(c *fiber.Ctx) error {
		var b fuzzBody
		if err := httpx.BindJSON(c, &b); err != nil {
			return err
		}
		return c.JSON(b)
	})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		if strings.ContainsFunc(ct, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			return // no client can send it as a header value
		}
		req := httptest.NewRequest(http.MethodPost, "/bind", bytes.NewReader(body))
		if ct != "" {
			req.Header.Set("Content-Type", ct)
		}
		resp, err := a.Test(req, -1)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var want fuzzBody
		decodes := httpx.DecodeJSON(body, &want) == nil
		switch resp.StatusCode {
		case http.StatusOK:
			if !decodes {
				t.Fatalf("200 for a body DecodeJSON refuses: %q", body)
			}
		case http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity:
			var eb httpx.ErrorBody
			if json.Unmarshal(raw, &eb) != nil || eb.Code == "" {
				t.Fatalf("%d without the error shape: %s", resp.StatusCode, raw)
			}
			if resp.StatusCode == http.StatusUnprocessableEntity && decodes {
				t.Fatalf("422 for a body that decodes: %q", body)
			}
		default:
			t.Fatalf("Content-Type %q body %q: status %d %s", ct, body, resp.StatusCode, raw)
		}
	})
}

// FuzzPaging reads skip/limit/page from any query string. Accepted values are usable as
// they are in SQL: 1 ≤ limit ≤ 100, skip ≥ 0 and small enough for a 32-bit OFFSET, page
// ≥ 1 and consistent with skip. A refusal is a 422.
func FuzzPaging(f *testing.F) {
	for _, s := range [][3]string{
		{"", "", ""}, {"20", "40", ""}, {"10", "", "3"}, {"100", "", "9223372036854775807"}, {"1", "9223372036854775807", ""},
		{"0", "-1", "0"}, {"101", "x", "1.5"}, {"+5", " 5", "0x10"}, {"50", "2147483647", ""}, {"7", "", "92233720368547759"},
	} {
		f.Add(s[0], s[1], s[2])
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, limit, skip, page string) {
		q := url.Values{}
		for k, v := range map[string]string{"limit": limit, "skip": skip, "page": page} {
			if v != "" {
				q.Set(k, v)
			}
		}
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.SetRequestURI("/list?" + q.Encode())
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		p, err := httpx.Paging(c, 20)
		if err != nil {
			if apperr.KindOf(err) != apperr.KindValidation {
				t.Fatalf("refused with %v, want 422", err)
			}
			return
		}
		if p.Limit < 1 || p.Limit > 100 || p.Skip < 0 || p.Skip > httpx.MaxSkip || p.Page < 1 {
			t.Fatalf("limit=%q skip=%q page=%q accepted as %+v", limit, skip, page, p)
		}
		if page != "" {
			if n, _ := strconv.Atoi(page); p.Page != n || p.Skip != (n-1)*p.Limit {
				t.Fatalf("page=%q limit=%q gives %+v", page, limit, p)
			}
		} else if p.Page != p.Skip/p.Limit+1 {
			t.Fatalf("page of skip=%q limit=%q: %+v", skip, limit, p)
		}
	})
}

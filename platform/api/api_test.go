package api_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/logx"
)

type item struct {
	ID      string    `json:"id"`
	Nombre  string    `json:"nombre"`
	Nota    *string   `json:"nota"`
	Extra   string    `json:"extra,omitempty"`
	Estado  string    `json:"estado" jsonschema:"enum=ACTIVO,enum=INACTIVO"`
	Creado  time.Time `json:"created_at"`
	Interno string    `json:"-"`
}

type createBody struct {
	Nombre string  `json:"nombre" jsonschema:"required,maxLength=100"`
	Nota   *string `json:"nota"`
}

type itemParams struct {
	ID string `path:"id" jsonschema:"format=uuid" doc:"el ítem"`
}

type listParams struct {
	Q     string `query:"q" jsonschema:"required"`
	Limit int    `query:"limit" jsonschema:"minimum=1,maximum=100"`
}

var errGone = apperr.NotFound("item_not_found", "No existe")

// marker records which middleware ran, so the test sees the mounted chain.
func marker(name string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Append("X-Ran", name)
		return c.Next()
	}
}

func newApp(t *testing.T) (*fiber.App, *api.Document) {
	t.Helper()
	app := httpx.NewApp(httpx.Config{Name: "t", Logger: logx.Discard()})
	reg := api.New(app, api.Config{Service: "items", Title: "items", Auth: marker("auth"), Internal: marker("internal")})
	ok := func(c *fiber.Ctx) error { return c.JSON(item{}) }
	reg.Add(api.Op{Method: "GET", Path: "/items/:id", Summary: "Un ítem", Access: api.Public, Params: itemParams{},
		Answers: []api.Answer{api.JSON(200, item{}, "el ítem")}, Errors: []*apperr.Error{errGone}, Handler: ok})
	reg.Add(api.Op{Method: "POST", Path: "/items", Summary: "Crear", Roles: []string{"ADMIN"}, Body: createBody{},
		Answers: []api.Answer{api.JSON(201, item{}, "creado")}, Handler: ok})
	g := reg.Group("/internal", api.Internal)
	g.Add(api.Op{Method: "GET", Path: "/items", Summary: "Buscar", Params: listParams{},
		Answers: []api.Answer{api.JSON(200, []item{}, "lista")}, Handler: ok})
	if err := reg.Serve("/openapi.json"); err != nil {
		t.Fatal(err)
	}
	doc, err := reg.Document()
	if err != nil {
		t.Fatal(err)
	}
	return app, doc
}

func TestMountsTheDeclaredChain(t *testing.T) {
	app, _ := newApp(t)
	for _, tc := range []struct {
		method, path, ran string
		status            int
	}{
		{"GET", "/items/1", "", 200},
		{"HEAD", "/items/1", "", 200}, // as app.Get
		{"GET", "/internal/items", "internal", 200},
		{"GET", "/internal/nope", "internal", 404}, // the group's middleware covers the prefix
	} {
		resp, err := app.Test(httptest.NewRequest(tc.method, tc.path, nil), -1)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tc.status || resp.Header.Get("X-Ran") != tc.ran {
			t.Errorf("%s %s → %d ran %q; want %d %q", tc.method, tc.path, resp.StatusCode, resp.Header.Get("X-Ran"), tc.status, tc.ran)
		}
	}
	// Roles: the auth middleware, then authn.Require, which finds no claims: 401.
	resp, _ := app.Test(httptest.NewRequest("POST", "/items", strings.NewReader("{}")), -1)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Ran") != "auth" {
		t.Errorf("POST /items → %d ran %q", resp.StatusCode, resp.Header.Get("X-Ran"))
	}
}

func TestDescribesTheTypes(t *testing.T) {
	app, doc := newApp(t)
	resp, err := app.Test(httptest.NewRequest("GET", "/openapi.json", nil), -1)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("openapi.json: %v %v", resp, err)
	}
	var served map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&served); err != nil || served["openapi"] != "3.1.0" {
		t.Fatalf("served %v %v", served["openapi"], err)
	}

	get := doc.Paths["/items/{id}"].Get
	if get == nil || get.Access != "public" || get.Security != nil || len(get.Parameters) != 1 ||
		get.Parameters[0].In != "path" || !get.Parameters[0].Required || get.Parameters[0].Schema["format"] != "uuid" ||
		get.Parameters[0].Description != "el ítem" {
		t.Fatalf("GET /items/{id}: %+v", get)
	}
	if codes := errorCodes(get, "404"); codes != "item_not_found" {
		t.Errorf("404 codes %q", codes)
	}
	if codes := errorCodes(get, "500"); codes != "internal_error" {
		t.Errorf("500 codes %q", codes)
	}

	it := doc.Components.Schemas["item"]
	props := it["properties"].(map[string]any)
	if got := strings.Join(toStrings(it["required"]), ","); got != "id,nombre,nota,estado,created_at" {
		t.Errorf("answer required = %s (omitempty fields are optional, the others always written)", got)
	}
	if typ := props["nota"].(map[string]any)["type"]; !sameList(typ, "string", "null") {
		t.Errorf("pointer field type %v, want [string null]", typ)
	}
	if props["created_at"].(map[string]any)["format"] != "date-time" || props["Interno"] != nil || props["-"] != nil {
		t.Errorf("properties %v", props)
	}
	if enum := toStrings(props["estado"].(map[string]any)["enum"]); strings.Join(enum, ",") != "ACTIVO,INACTIVO" {
		t.Errorf("enum %v", enum)
	}
	if it["additionalProperties"] != false {
		t.Errorf("answers must be strict, so an undocumented field fails validation")
	}

	post := doc.Paths["/items"].Post
	body := doc.Components.Schemas["createBody"]
	if post.RequestBody == nil || !post.RequestBody.Required || strings.Join(toStrings(body["required"]), ",") != "nombre" {
		t.Errorf("body: %+v %v", post.RequestBody, body["required"])
	}
	if post.Security[0]["bearer"] == nil || strings.Join(post.Roles, ",") != "ADMIN" {
		t.Errorf("security %v roles %v", post.Security, post.Roles)
	}
	for status, want := range map[string]string{"401": "invalid_token,not_authenticated,user_banned", "403": "forbidden_role",
		"415": "unsupported_media_type", "413": "body_too_large", "422": "validation_error"} {
		if got := errorCodes(post, status); got != want {
			t.Errorf("POST %s codes %q, want %q", status, got, want)
		}
	}

	list := doc.Paths["/internal/items"].Get
	if list.Access != "internal" || list.Security[0]["internalKey"] == nil || len(list.Parameters) != 2 ||
		!list.Parameters[0].Required || list.Parameters[1].Required || list.Parameters[1].Schema["maximum"] != float64(100) {
		t.Errorf("internal list: %+v", list)
	}
	if errorCodes(list, "401") != "internal_only" {
		t.Errorf("internal 401: %q", errorCodes(list, "401"))
	}
	if doc.Components.Schemas["ErrorBody"] == nil || doc.Components.Schemas["FieldError"] == nil {
		t.Errorf("the error shape is a component: %v", doc.Components.Schemas)
	}
}

func TestReportsDeclarationMistakes(t *testing.T) {
	h := func(c *fiber.Ctx) error { return nil }
	for name, op := range map[string]api.Op{
		"no access":          {Method: "GET", Path: "/a", Handler: h},
		"undeclared param":   {Method: "GET", Path: "/a/:id", Access: api.Public, Handler: h},
		"unknown param":      {Method: "GET", Path: "/a", Access: api.Public, Params: itemParams{}, Handler: h},
		"wildcard":           {Method: "GET", Path: "/a/*", Access: api.Public, Handler: h},
		"optional level nil": {Method: "GET", Path: "/a", Access: api.Optional, Handler: h},
		"no handler":         {Method: "GET", Path: "/a", Access: api.Public},
		"answer and error": {Method: "GET", Path: "/a", Access: api.Public, Handler: h,
			Answers: []api.Answer{api.JSON(404, item{}, "")}, Errors: []*apperr.Error{errGone}},
	} {
		reg := api.New(fiber.New(), api.Config{Service: "x", Auth: h})
		reg.Add(op)
		if _, err := reg.Document(); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	reg := api.New(fiber.New(), api.Config{Service: "x", Auth: h})
	reg.Add(api.Op{Method: "GET", Path: "/a", Access: api.Public, Handler: h})
	reg.Add(api.Op{Method: "GET", Path: "/a", Access: api.Public, Handler: h})
	if _, err := reg.Document(); err == nil {
		t.Error("twice: no error")
	}
}

func errorCodes(op *api.Operation, status string) string {
	r := op.Responses[status]
	if r == nil {
		return ""
	}
	s := r.Content["application/json"].Schema["allOf"].([]any)[1].(map[string]any)
	return strings.Join(toStrings(s["properties"].(map[string]any)["code"].(map[string]any)["enum"]), ",")
}

func toStrings(v any) []string {
	var out []string
	switch x := v.(type) {
	case []any:
		for _, e := range x {
			s, _ := e.(string)
			out = append(out, s)
		}
	case []string:
		out = x
	}
	return out
}

func sameList(v any, want ...string) bool {
	return strings.Join(toStrings(v), ",") == strings.Join(want, ",")
}

package api_test

import (
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
)

// other is a second service's "item": same name, another shape.
type other struct {
	Codigo int `json:"codigo"`
}

func serviceDoc(t *testing.T, name string, body any, paths ...string) *api.Document {
	t.Helper()
	reg := api.Describe(api.Config{Service: name, Title: name})
	for _, p := range paths {
		reg.Add(api.Op{Method: "GET", Path: p, Access: api.Public, Answers: []api.Answer{api.JSON(200, body, "")},
			Handler: func(*fiber.Ctx) error { return nil }})
	}
	doc, err := reg.Document()
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func TestMerge(t *testing.T) {
	a := serviceDoc(t, "a", item{}, "/api/v1/a/items", "/api/v1/b/stolen", "/internal/a")
	b := serviceDoc(t, "b", []other{}, "/api/v1/b/items")
	b.Components.Schemas["item"] = b.Components.Schemas["other"]
	delete(b.Components.Schemas, "other")
	b.Paths["/api/v1/b/items"].Get.Responses["200"].Content["application/json"].Schema["items"] = map[string]any{"$ref": "#/components/schemas/item"}

	base := api.Describe(api.Config{Title: "gateway"})
	base.Add(api.Op{Method: "GET", Path: "/health", Access: api.Public, Handler: func(*fiber.Ctx) error { return nil }})
	bd, _ := base.Document()
	owner := func(path, svc string) bool { return strings.HasPrefix(path, "/api/v1/"+svc+"/") }
	doc, unrouted, err := api.Merge(bd, map[string]*api.Document{"a": a, "b": b}, owner)
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(api.Operations(doc), "; "); got != "GET /api/v1/a/items; GET /api/v1/b/items; GET /health" {
		t.Errorf("operations: %s", got)
	}
	if strings.Join(unrouted, ";") != "GET /api/v1/b/stolen (a)" {
		t.Errorf("unrouted: %v", unrouted)
	}
	s := doc.Components.Schemas
	if s["a.item"] == nil || s["b.item"] == nil || s["item"] != nil || s["ErrorBody"] == nil {
		t.Errorf("schemas: %v", keys(s))
	}
	ref := doc.Paths["/api/v1/b/items"].Get.Responses["200"].Content["application/json"].Schema["items"].(map[string]any)["$ref"]
	if ref != "#/components/schemas/b.item" {
		t.Errorf("b's reference: %v", ref)
	}
	if a.Components.Schemas["item"] == nil {
		t.Error("Merge changed its input")
	}

	// The gateway adds its own answers to a service's operation.
	op := doc.Paths["/api/v1/a/items"].Get
	if err := api.AddErrors(op, apperr.Unauthorized("invalid_token", ""), apperr.New(apperr.KindInternal, "x_internal", "")); err != nil {
		t.Fatal(err)
	}
	if errorCodes(op, "500") != "internal_error,x_internal" || errorCodes(op, "401") != "invalid_token" {
		t.Errorf("added errors: %q %q", errorCodes(op, "500"), errorCodes(op, "401"))
	}
}

func keys(m map[string]map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

package api_test

import (
	"encoding/json"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
)

// A nil pointer as an answer's body documents an answer that may be null (a GET of
// something not set yet answering null).
func TestNullableAnswer(t *testing.T) {
	reg := api.Describe(api.Config{Service: "x"})
	reg.Add(api.Op{Method: "GET", Path: "/a", Access: api.Public, Answers: []api.Answer{api.JSON(200, (*item)(nil), "")},
		Handler: func(*fiber.Ctx) error { return nil }})
	doc, err := reg.Document()
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(doc.Paths["/a"].Get.Responses["200"].Content["application/json"].Schema)
	if string(raw) != `{"anyOf":[{"$ref":"#/components/schemas/item"},{"type":"null"}]}` {
		t.Errorf("schema %s", raw)
	}
	if doc.Components.Schemas["item"] == nil {
		t.Error("the type is still a component")
	}
}

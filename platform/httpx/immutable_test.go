package httpx

import (
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/logx"
)

// Values a handler keeps past its return (map keys, labels, events, goroutines) must not
// be views of fasthttp's pooled request buffers: NewApp's apps hand out copies.
func TestAppValuesOutliveTheRequest(t *testing.T) {
	app := NewApp(Config{Name: "test", Logger: logx.Discard()})
	type kept struct{ method, id, header, query, path string }
	var got []kept
	app.All("/items/:id", func(c *fiber.Ctx) error {
		got = append(got, kept{c.Method(), c.Params("id"), c.Get("X-Thing"), c.Query("q"), c.Path()})
		return c.SendStatus(fiber.StatusNoContent)
	})
	methods := []string{"GET", "POST", "PUT", "PATCH", "DELETE"}
	var want []kept
	for i := 0; i < 50; i++ {
		k := kept{methods[i%len(methods)], fmt.Sprintf("id-%d", i*7919), fmt.Sprintf("thing-%d", i), fmt.Sprintf("q%d", i*31), ""}
		k.path = "/items/" + k.id
		want = append(want, k)
		req := httptest.NewRequest(k.method, k.path+"?q="+k.query, nil)
		req.Header.Set("X-Thing", k.header)
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("request %d: kept %+v, sent %+v", i, got[i], want[i])
		}
	}
}

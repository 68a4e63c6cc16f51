package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
)

type userDoc struct {
	Nombre string `json:"nombre"`
}

type userChange struct {
	Nombre *string `json:"nombre"`
}

func TestMergeDocuments(t *testing.T) {
	router, err := NewRouter(Routes())
	if err != nil {
		t.Fatal(err)
	}
	exempt, err := NewRouter(tokenExemptRoutes())
	if err != nil {
		t.Fatal(err)
	}
	d := &docs{routes: Routes(), router: router, exempt: exempt}
	h := func(*fiber.Ctx) error { return nil }
	reg := api.Describe(api.Config{Service: SvcUsers, Auth: h})
	reg.Add(api.Op{Method: "PUT", Path: "/api/v1/users/me", Access: api.Authenticated, Body: userChange{},
		Answers: []api.Answer{api.JSON(200, userDoc{}, "")}, Handler: h})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/mine", Access: api.Public, Handler: h}) // routed to payments
	reg.Add(api.Op{Method: "GET", Path: "/internal/users/:id", Access: api.Public, Params: struct {
		ID string `path:"id"`
	}{}, Handler: h})
	users, err := reg.Document()
	if err != nil {
		t.Fatal(err)
	}
	doc, err := d.merge(map[string]*api.Document{SvcUsers: users})
	if err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Paths["/health"].Get == nil || doc.Paths["/api/v1/ws"].Get == nil {
		t.Fatalf("gateway's own operations missing: %v", api.Operations(doc))
	}
	put := doc.Paths["/api/v1/users/me"].Put
	if put == nil || put.Service != SvcUsers {
		t.Fatalf("users' operation missing: %v", api.Operations(doc))
	}
	if doc.Paths["/internal/users/{id}"] != nil || doc.Paths["/api/v1/pagos/mine"] != nil {
		t.Errorf("internal or misrouted operations kept: %v", api.Operations(doc))
	}
	if !strings.Contains(doc.Info.Description, "GET /api/v1/pagos/mine (users)") {
		t.Errorf("the misrouted operation is not reported: %s", doc.Info.Description)
	}
	raw, _ := json.Marshal(put.Responses)
	for _, code := range []string{"service_unavailable", "upstream_timeout", "invalid_token", "body_too_large", "not_authenticated"} {
		if !strings.Contains(string(raw), `"`+code+`"`) {
			t.Errorf("PUT /users/me lacks %s: %s", code, raw)
		}
	}
	// The documented service is no longer listed by prefix; the others still are, marked.
	if item := doc.Paths["/api/v1/users"]; item != nil {
		t.Errorf("users still listed by prefix: %+v", item)
	}
	pagos := doc.Paths["/api/v1/pagos"]
	if pagos == nil || !pagos.Undocumented || pagos.Service != SvcPayments {
		t.Errorf("payments' prefix: %+v", pagos)
	}
	if p := doc.Paths["/api/v1/public/professional/{param1}/resenas"]; p == nil || len(p.Parameters) != 1 {
		t.Errorf("wildcard prefix: %+v", p)
	}
	for _, u := range doc.Undocumented {
		if u.Service == SvcUsers {
			t.Errorf("users listed as undocumented: %v", u)
		}
	}
}

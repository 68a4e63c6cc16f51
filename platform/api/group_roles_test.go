package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/logx"
)

// An operation inside a group that only needs a token may narrow it to roles: the group
// mounts the token check once, the operation adds the role check and documents it.
func TestRolesInsideAnAuthenticatedGroup(t *testing.T) {
	h := func(c *fiber.Ctx) error { return c.SendString("ok") }
	app := httpx.NewApp(httpx.Config{Name: "t", Logger: logx.Discard()})
	reg := api.New(app, api.Config{Service: "x", Auth: marker("auth")})
	g := reg.Group("/g", api.Authenticated)
	g.Add(api.Op{Method: "GET", Path: "/all", Handler: h})
	g.Add(api.Op{Method: "POST", Path: "/admin", Roles: []string{authn.RoleAdmin}, Handler: h})
	doc, err := reg.Document()
	if err != nil {
		t.Fatal(err)
	}
	op := doc.Paths["/g/admin"].Post
	if op.Access != "authenticated" || strings.Join(op.Roles, ",") != authn.RoleAdmin || errorCodes(op, "403") != "forbidden_role" {
		t.Errorf("narrowed op: access %s roles %v 403 %q", op.Access, op.Roles, errorCodes(op, "403"))
	}
	if all := doc.Paths["/g/all"].Get; len(all.Roles) != 0 || all.Responses["403"] != nil {
		t.Errorf("the group's other op: %+v", all)
	}
	// The marker stands for the token check and sets no claims: the role check refuses.
	resp, _ := app.Test(httptest.NewRequest("POST", "/g/admin", nil), -1)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("X-Ran") != "auth" {
		t.Errorf("POST /g/admin → %d ran %q", resp.StatusCode, resp.Header.Get("X-Ran"))
	}
	resp, _ = app.Test(httptest.NewRequest("GET", "/g/all", nil), -1)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /g/all → %d", resp.StatusCode)
	}

	// A group that already has roles, or an operation that sets the access again, is
	// still a declaration mistake.
	for _, op := range []api.Op{{Method: "GET", Path: "/a", Access: api.Authenticated, Handler: h},
		{Method: "GET", Path: "/b", Access: api.Public, Roles: []string{authn.RoleAdmin}, Handler: h}} {
		reg := api.New(fiber.New(), api.Config{Service: "x", Auth: h})
		reg.Group("/g", api.Authenticated).Add(op)
		if _, err := reg.Document(); err == nil {
			t.Errorf("%s: no error", op.Path)
		}
	}
	reg = api.New(fiber.New(), api.Config{Service: "x", Auth: h})
	reg.Group("/g", api.Authenticated, authn.RoleCliente).Add(api.Op{Method: "GET", Path: "/c", Roles: []string{authn.RoleAdmin}, Handler: h})
	if _, err := reg.Document(); err == nil {
		t.Error("roles over a group with roles: no error")
	}
}

package gateway_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/conectarpro/conectar/gateway"
)

// specTable is SPEC §1's table (plus the agreed additions), written out independently
// of gateway.Routes() so a wrong or missing entry in the data fails here.
var specTable = map[string]string{
	"/auth": "auth", "/admin/users": "auth", "/users/me/change-password": "auth",
	"/users":        "users",
	"/professional": "professionals", "/profesional": "professionals", "/search": "professionals",
	"/public": "professionals", "/servicios": "professionals", "/admin/kyc": "professionals",
	"/admin/oficios": "professionals", "/admin/servicios-instant": "professionals", "/admin": "professionals",
	"/chat": "marketplace", "/cliente": "marketplace", "/ofertas": "marketplace", "/trabajos": "marketplace",
	"/resenas": "marketplace", "/disputas": "marketplace", "/admin/trabajos": "marketplace",
	"/admin/trabajo": "marketplace", "/webhook/chat": "marketplace",
	"/mercadopago": "payments", "/webhook/mercadopago": "payments", "/payments": "payments", "/pagos": "payments",
	"/escrow": "payments", "/payout": "payments", "/admin/metrics/financials": "payments", "/admin/dashboard": "payments",
	"/notifications": "notifications", "/notificaciones": "notifications", "/gamification": "notifications",
	// additions: sub-paths other services own
	"/professional/ofertas": "marketplace", "/professional/trabajos": "marketplace", "/auth/.well-known": "auth",
	"/admin/trabajo/*/simular-pago": "payments",
	"/chat_ofertas":                 "marketplace", "/public/professional/*/resenas": "marketplace", "/admin/disputas": "marketplace",
	"/admin/pagos": "payments", "/admin/metrics/users": "auth",
	"/pagos/transacciones/*/liberar": "marketplace", "/pagos/transacciones/*/reembolso": "marketplace",
}

func TestRouteTableMatchesSpec(t *testing.T) {
	got := map[string]string{}
	for _, r := range gateway.Routes() {
		got[r.Prefix] = r.Service
	}
	for p, want := range specTable {
		if got[p] != want {
			t.Errorf("route table: %s → %q, SPEC says %q", p, got[p], want)
		}
	}
	for p := range got {
		if _, ok := specTable[p]; !ok {
			t.Errorf("route table has %s, which the SPEC table does not list", p)
		}
	}
}

func TestEveryPrefixReachesItsOwner(t *testing.T) {
	s := newStack(t, nil)
	const id = "5b0c7a8e-4f0e-4b59-9a63-1f7cf0b2a001"
	for prefix, owner := range specTable {
		p := strings.ReplaceAll(prefix, "*", id)
		for _, path := range []string{p, p + "/" + id + "/detalle"} {
			var e echo
			resp := s.do(http.MethodGet, "/api/v1"+path, nil, nil, &e)
			if resp.StatusCode != http.StatusOK || e.Service != owner {
				t.Errorf("GET /api/v1%s: status %d, answered by %q, want %q", path, resp.StatusCode, e.Service, owner)
			}
			if e.Path != "/api/v1"+path {
				t.Errorf("GET /api/v1%s: service saw path %q", path, e.Path)
			}
		}
	}
}

func TestPrecedenceAndSegmentMatching(t *testing.T) {
	s := newStack(t, nil)
	cases := map[string]string{
		"/admin/trabajo/42/simular-pago":            "payments",
		"/admin/trabajo/42/simular-pago/extra":      "payments",
		"/admin/trabajo/42/otra-cosa":               "marketplace",
		"/admin/trabajo/simular-pago":               "marketplace", // the wildcard needs its segment
		"/pagos/transacciones/42/liberar":           "marketplace",
		"/pagos/transacciones/42/reembolso":         "marketplace",
		"/pagos/transacciones/42":                   "payments", // reading a transaction stays in payments
		"/pagos/transacciones/42/otra-cosa":         "payments",
		"/pagos/transacciones/liberar":              "payments", // the wildcard needs its segment
		"/pagos/mis-transacciones":                  "payments",
		"/admin/whatever":                           "professionals",
		"/admin/kyc/pending":                        "professionals",
		"/admin/users/7/ban":                        "auth",
		"/admin/metrics/financials":                 "payments",
		"/admin/metrics/users":                      "auth",
		"/public/professional/42/resenas":           "marketplace",
		"/public/professional/42/portfolio":         "professionals",
		"/users/me":                                 "users",
		"/users/me/change-password":                 "auth",
		"/users/me/change-passwordx":                "users",
		"/professional/me":                          "professionals",
		"/professional/ofertas/9/aceptar":           "marketplace",
		"/professional/trabajos":                    "marketplace",
		"/professional/ofertasx":                    "professionals",
		"/webhook/chat/infraction":                  "marketplace",
		"/webhook/mercadopago":                      "payments",
		"/auth/.well-known/jwks.json":               "auth",
		"/CHAT/Conversations":                       "marketplace", // case-insensitive like the services
		"/payments/x":                               "payments",
		"/notificaciones/unread-count":              "notifications",
		"/gamification/me?x=1":                      "notifications",
		"/servicios/instant":                        "professionals",
		"/search/professionals?oficio_id=1&lat=-34": "professionals",
	}
	for path, owner := range cases {
		var e echo
		resp := s.do(http.MethodGet, "/api/v1"+path, nil, nil, &e)
		if resp.StatusCode != http.StatusOK || e.Service != owner {
			t.Errorf("GET /api/v1%s: status %d, answered by %q, want %q", path, resp.StatusCode, e.Service, owner)
		}
	}
}

func TestUnknownPrefixIs404JSON(t *testing.T) {
	s := newStack(t, nil)
	for _, path := range []string{"/api/v1/nada", "/api/v1/authx/login", "/api/v1", "/api/v1/", "/api/v2/auth/login",
		"/otra", "/api/v1/webhook", "/api/v1/webhook/otro", "/api/v1/auth/../../internal/accounts/1"} {
		var e errorBody
		resp := s.do(http.MethodGet, path, nil, nil, &e)
		if resp.StatusCode != http.StatusNotFound || e.Code == "" || e.Detail == "" {
			t.Errorf("GET %s: status %d body %+v, want 404 JSON", path, resp.StatusCode, e)
		}
	}
	for name, f := range s.Services {
		if n := f.hits.Load(); n != 0 {
			t.Errorf("%s received %d requests for unknown paths", name, n)
		}
	}
}

func TestRouterRules(t *testing.T) {
	r, err := gateway.NewRouter([]gateway.Route{
		{Prefix: "/a", Service: "A"},
		{Prefix: "/a/b", Service: "AB"},
		{Prefix: "/a/*/c", Service: "A*C"},
		{Prefix: "/a/*/c/*/e", Service: "A*C*E"},
		{Prefix: "/a/b/c", Service: "ABC"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{
		"/a": "A", "/a/x": "A", "/a/b": "AB", "/a/b/x": "AB", "/a/x/c": "A*C", "/a/b/c": "ABC",
		"/a/x/c/y/e": "A*C*E", "/a/b/c/y/e": "A*C*E", "/a/x/c/y": "A*C", "/ax": "", "/": "", "": "", "/b": "",
	} {
		got, ok := r.Match(path)
		if (want == "") != !ok || got.Service != want {
			t.Errorf("Match(%q) = %q, %v; want %q", path, got.Service, ok, want)
		}
	}
	for _, bad := range [][]gateway.Route{
		{{Prefix: "a", Service: "x"}},
		{{Prefix: "/*/a", Service: "x"}},
		{{Prefix: "/a//b", Service: "x"}},
		{{Prefix: "/a", Service: ""}},
		{{Prefix: "/a", Service: "x"}, {Prefix: "/A", Service: "y"}},
	} {
		if _, err := gateway.NewRouter(bad); err == nil {
			t.Errorf("NewRouter(%+v) accepted an invalid table", bad)
		}
	}
}

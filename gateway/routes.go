package gateway

import (
	"fmt"
	"sort"
	"strings"
)

// Service names as cmd/conectar and Deps.ServiceURLs spell them.
const (
	SvcAuth          = "auth"
	SvcUsers         = "users"
	SvcProfessionals = "professionals"
	SvcMarketplace   = "marketplace"
	SvcPayments      = "payments"
	SvcNotifications = "notifications"
)

// APIPrefix starts every public path.
const APIPrefix = "/api/v1"

// Route sends every path under Prefix (after /api/v1) to Service. Prefix is made of
// segments; a segment "*" matches exactly one path segment of any value.
type Route struct {
	Prefix  string `json:"prefix"`
	Service string `json:"service"`
	// Why documents entries that are not in the SPEC §1 table.
	Why string `json:"why,omitempty"`
}

// Routes is SPEC §1's route table as data. The matcher picks the route with the most
// literal segments among those that match, then the longest, so "/admin/kyc" beats the
// "/admin" fallback and "/admin/trabajo/*/simular-pago" beats "/admin/trabajo".
func Routes() []Route {
	return []Route{
		// auth
		{Prefix: "/auth", Service: SvcAuth},
		{Prefix: "/auth/.well-known", Service: SvcAuth, Why: "JWKS document; explicit so no future /auth rule can capture it"},
		{Prefix: "/admin/users", Service: SvcAuth},
		{Prefix: "/users/me/change-password", Service: SvcAuth},
		{Prefix: "/admin/metrics/users", Service: SvcAuth, Why: "user growth counts accounts, which auth owns"},
		// users
		{Prefix: "/users", Service: SvcUsers},
		// professionals
		{Prefix: "/professional", Service: SvcProfessionals},
		{Prefix: "/profesional", Service: SvcProfessionals},
		{Prefix: "/search", Service: SvcProfessionals},
		{Prefix: "/public", Service: SvcProfessionals},
		{Prefix: "/servicios", Service: SvcProfessionals},
		{Prefix: "/admin/kyc", Service: SvcProfessionals},
		{Prefix: "/admin/oficios", Service: SvcProfessionals},
		{Prefix: "/admin/servicios-instant", Service: SvcProfessionals},
		{Prefix: "/admin", Service: SvcProfessionals, Why: "fallback for admin paths no other rule claims"},
		// marketplace
		{Prefix: "/chat", Service: SvcMarketplace},
		{Prefix: "/cliente", Service: SvcMarketplace},
		{Prefix: "/ofertas", Service: SvcMarketplace},
		{Prefix: "/trabajos", Service: SvcMarketplace},
		{Prefix: "/resenas", Service: SvcMarketplace},
		{Prefix: "/disputas", Service: SvcMarketplace},
		{Prefix: "/admin/trabajos", Service: SvcMarketplace},
		{Prefix: "/admin/trabajo", Service: SvcMarketplace},
		{Prefix: "/webhook/chat", Service: SvcMarketplace},
		{Prefix: "/professional/ofertas", Service: SvcMarketplace, Why: "offers are created by professionals but owned by marketplace"},
		{Prefix: "/professional/trabajos", Service: SvcMarketplace, Why: "a professional's jobs are owned by marketplace"},
		{Prefix: "/chat_ofertas", Service: SvcMarketplace, Why: "the web frontend's prefix for offers and jobs"},
		{Prefix: "/public/professional/*/resenas", Service: SvcMarketplace, Why: "public reviews of a professional are owned by marketplace"},
		{Prefix: "/admin/disputas", Service: SvcMarketplace, Why: "admin views of disputes, owned by marketplace"},
		{Prefix: "/pagos/transacciones/*/liberar", Service: SvcMarketplace, Why: "releasing a transaction is the client's approval of the job (its id), a marketplace decision"},
		{Prefix: "/pagos/transacciones/*/reembolso", Service: SvcMarketplace, Why: "a refund request is the client's cancel of the paid job, a marketplace decision"},
		// payments
		{Prefix: "/mercadopago", Service: SvcPayments},
		{Prefix: "/webhook/mercadopago", Service: SvcPayments},
		{Prefix: "/payments", Service: SvcPayments},
		{Prefix: "/pagos", Service: SvcPayments},
		{Prefix: "/escrow", Service: SvcPayments},
		{Prefix: "/payout", Service: SvcPayments},
		{Prefix: "/admin/metrics/financials", Service: SvcPayments},
		{Prefix: "/admin/dashboard", Service: SvcPayments},
		{Prefix: "/admin/pagos", Service: SvcPayments, Why: "admin payments dashboard and withdrawals"},
		{Prefix: "/admin/trabajo/*/simular-pago", Service: SvcPayments, Why: "the sandbox payment of a job is a payments action"},
		// notifications
		{Prefix: "/notifications", Service: SvcNotifications},
		{Prefix: "/notificaciones", Service: SvcNotifications},
		{Prefix: "/gamification", Service: SvcNotifications},
	}
}

// compiledRoute is a route split into segments, with its precedence.
type compiledRoute struct {
	Route
	segs     []string
	literals int
	label    string // APIPrefix + Prefix, the route's metrics label, made once
}

// Router matches paths against a route table.
type Router struct {
	// byFirst groups candidates by their first (always literal, lower-case) segment, each
	// group ordered by precedence, so a lookup scans a handful of entries.
	byFirst map[string][]compiledRoute
	routes  []Route
}

// NewRouter validates and compiles routes. Prefixes must start with "/", have no empty
// segments, a literal first segment, and be unique.
func NewRouter(routes []Route) (*Router, error) {
	r := &Router{byFirst: map[string][]compiledRoute{}, routes: append([]Route(nil), routes...)}
	seen := map[string]bool{}
	for _, rt := range routes {
		if !strings.HasPrefix(rt.Prefix, "/") || rt.Service == "" {
			return nil, fmt.Errorf("route %q: prefix must start with / and name a service", rt.Prefix)
		}
		segs := strings.Split(strings.ToLower(rt.Prefix[1:]), "/")
		cr := compiledRoute{Route: rt, segs: segs, label: APIPrefix + rt.Prefix}
		for i, s := range segs {
			switch {
			case s == "":
				return nil, fmt.Errorf("route %q: empty segment", rt.Prefix)
			case s == "*" && i == 0:
				return nil, fmt.Errorf("route %q: first segment must be literal", rt.Prefix)
			case s != "*":
				cr.literals++
			}
		}
		key := strings.Join(segs, "/")
		if seen[key] {
			return nil, fmt.Errorf("route %q: duplicate prefix", rt.Prefix)
		}
		seen[key] = true
		r.byFirst[segs[0]] = append(r.byFirst[segs[0]], cr)
	}
	for _, group := range r.byFirst {
		sort.SliceStable(group, func(i, j int) bool {
			if group[i].literals != group[j].literals {
				return group[i].literals > group[j].literals
			}
			return len(group[i].segs) > len(group[j].segs)
		})
	}
	return r, nil
}

// Routes returns the table the router was built from.
func (r *Router) Routes() []Route { return append([]Route(nil), r.routes...) }

// Match returns the route owning path, which is the part after /api/v1 (e.g.
// "/auth/login"). Matching is by whole segments and ignores case, like the services'
// own routers.
func (r *Router) Match(path string) (Route, bool) {
	if cr := r.match(path); cr != nil {
		return cr.Route, true
	}
	return Route{}, false
}

func (r *Router) match(path string) *compiledRoute {
	if len(path) < 2 || path[0] != '/' {
		return nil
	}
	first, _, _ := strings.Cut(path[1:], "/")
	group := r.byFirst[strings.ToLower(first)]
	for i := range group {
		if matchSegments(group[i].segs, path[1:]) {
			return &group[i]
		}
	}
	return nil
}

// matchSegments reports whether the pattern segments are a segment-wise prefix of rest
// (a path without its leading slash). It does not allocate.
func matchSegments(segs []string, rest string) bool {
	for _, want := range segs {
		if rest == "" {
			return false
		}
		seg := rest
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			seg, rest = rest[:i], rest[i+1:]
		} else {
			rest = ""
		}
		if want == "*" {
			if seg == "" {
				return false
			}
			continue
		}
		if !strings.EqualFold(seg, want) {
			return false
		}
	}
	return true
}

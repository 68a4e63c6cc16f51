package gateway

import (
	"encoding/json"
	"fmt"
	"html"
	"sort"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// serviceTitles describe each owner in the generated documents.
var serviceTitles = map[string]string{
	SvcAuth:          "auth (8001): accounts, credentials, sessions, signing keys",
	SvcUsers:         "users (8002): profiles, chat strikes",
	SvcProfessionals: "professionals (8003): profiles, trades, KYC, portfolio, search",
	SvcMarketplace:   "marketplace (8004): chat, offers, jobs, reviews, disputes",
	SvcPayments:      "payments (8005): payments, escrow, payouts, refunds",
	SvcNotifications: "notifications (8006): notifications, preferences, gamification",
}

// openAPI builds an OpenAPI 3 document from the route table: one path item per prefix,
// tagged with its owner (x-service), plus the gateway's own endpoints. The services'
// detailed operations live with them; this document is the edge's map.
func openAPI(routes []Route) ([]byte, error) {
	paths := map[string]any{}
	for _, r := range routes {
		p := APIPrefix + r.Prefix
		params := []any{}
		n := 0
		segs := strings.Split(p, "/")
		for i, s := range segs {
			if s == "*" {
				n++
				name := fmt.Sprintf("param%d", n)
				segs[i] = "{" + name + "}"
				params = append(params, map[string]any{"name": name, "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
			}
		}
		desc := fmt.Sprintf("Every path under %s is forwarded unchanged to the %s service.", p, r.Service)
		if r.Why != "" {
			desc += " " + r.Why + "."
		}
		item := map[string]any{
			"summary":     "→ " + r.Service,
			"description": desc,
			"x-service":   r.Service,
			"x-prefix":    r.Prefix,
		}
		if len(params) > 0 {
			item["parameters"] = params
		}
		paths[strings.Join(segs, "/")] = item
	}
	errResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	paths["/health"] = map[string]any{"get": map[string]any{
		"summary": "Aggregated health of the gateway and the six services", "tags": []string{"gateway"},
		"responses": map[string]any{"200": map[string]any{"description": "Report (status healthy or degraded)",
			"content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Health"}}}}},
	}}
	paths["/metrics"] = map[string]any{"get": map[string]any{
		"summary": "Prometheus metrics of the gateway", "tags": []string{"gateway"},
		"responses": map[string]any{"200": map[string]any{"description": "Prometheus text format"}},
	}}
	paths["/docs"] = map[string]any{"get": map[string]any{
		"summary": "This documentation (HTML)", "tags": []string{"gateway"},
		"responses": map[string]any{"200": map[string]any{"description": "HTML"}},
	}}
	paths[APIPrefix+"/ws"] = map[string]any{"get": map[string]any{
		"summary": "WebSocket hub: realtime pushes addressed to the authenticated user",
		"description": "Authenticate with ?token=, with Sec-WebSocket-Protocol: bearer, <token> (the server selects \"bearer\"), " +
			"or with a first message {\"type\":\"auth\",\"token\":\"…\"} within 5 s. The server then sends " +
			"{\"type\":\"connected\",\"data\":{\"user_id\":…}} and forwards every push as a text frame. " +
			"Close codes: 4401 bad token, 4403 banned, 4408 no auth in time, 1001 server shutdown.",
		"tags":       []string{"gateway"},
		"parameters": []any{map[string]any{"name": "token", "in": "query", "schema": map[string]any{"type": "string"}}},
		"responses": map[string]any{"101": map[string]any{"description": "Switching protocols"},
			"401": errResp, "426": errResp},
	}}
	doc := map[string]any{
		"openapi": "3.0.3",
		"info": map[string]any{
			"title":       "ConectarProfesionales API (gateway)",
			"version":     "1.0.0",
			"description": "Public entry on port 8000. Paths are routed by longest prefix (most literal segments) to their owning service; unknown prefixes answer 404 JSON.",
		},
		"paths": paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA)"}},
			"schemas": map[string]any{
				"Error": map[string]any{"type": "object", "required": []string{"detail", "code"}, "properties": map[string]any{
					"detail": map[string]any{"type": "string"}, "code": map[string]any{"type": "string"},
					"errors": map[string]any{"type": "array", "items": map[string]any{"type": "object", "properties": map[string]any{
						"field": map[string]any{"type": "string"}, "msg": map[string]any{"type": "string"}}}},
				}},
				"Health": map[string]any{"type": "object", "properties": map[string]any{
					"status":       map[string]any{"type": "string", "enum": []string{"healthy", "degraded"}},
					"gateway":      map[string]any{"type": "string"},
					"services":     map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}},
					"dependencies": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "object", "additionalProperties": map[string]any{"type": "string"}}},
				}},
			},
		},
		"security":      []any{map[string]any{"bearer": []string{}}, map[string]any{}},
		"x-route-table": routes,
	}
	return json.MarshalIndent(doc, "", "  ")
}

// docsHTML renders the route table as a small page that needs nothing from the network.
func docsHTML(routes []Route) []byte {
	sorted := append([]Route(nil), routes...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Prefix < sorted[j].Prefix })
	var b strings.Builder
	b.WriteString(`<!doctype html><html lang="es"><head><meta charset="utf-8"><title>ConectarProfesionales API</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;max-width:60rem}table{border-collapse:collapse;width:100%}
td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}code{background:#f4f4f4;padding:0 .2rem}</style></head><body>
<h1>ConectarProfesionales API</h1>
<p>Every public path starts with <code>/api/v1</code>. The gateway routes each path to the service that owns the
longest matching prefix (<code>*</code> matches one segment). OpenAPI document: <a href="/docs/openapi.json">/docs/openapi.json</a>.
Gateway endpoints: <code>GET /health</code>, <code>GET /metrics</code>, WebSocket <code>/api/v1/ws</code>.</p>
<table><thead><tr><th>Prefix</th><th>Service</th><th>Note</th></tr></thead><tbody>
`)
	for _, r := range sorted {
		fmt.Fprintf(&b, "<tr><td><code>%s%s</code></td><td>%s</td><td>%s</td></tr>\n",
			APIPrefix, html.EscapeString(r.Prefix), html.EscapeString(serviceTitles[r.Service]), html.EscapeString(r.Why))
	}
	b.WriteString("</tbody></table></body></html>\n")
	return []byte(b.String())
}

func docsHandler(page []byte) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(page)
	}
}

func openAPIHandler(doc []byte) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(doc)
	}
}

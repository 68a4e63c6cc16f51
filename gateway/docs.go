package gateway

import (
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
)

// docsUI is Swagger UI (swagger-ui-dist, see docsui/README.md) and our page around it,
// embedded so /docs needs nothing from the network. go:embed needs a package variable;
// it is read only.
//
//go:embed docsui
var docsUI embed.FS

// serviceTitles describe each owner in the prefix listing of services without a document.
var serviceTitles = map[string]string{
	SvcAuth:          "auth (8001): accounts, credentials, sessions, signing keys",
	SvcUsers:         "users (8002): profiles, chat strikes",
	SvcProfessionals: "professionals (8003): profiles, trades, KYC, portfolio, search",
	SvcMarketplace:   "marketplace (8004): chat, offers, jobs, reviews, disputes",
	SvcPayments:      "payments (8005): payments, escrow, payouts, refunds",
	SvcNotifications: "notifications (8006): notifications, preferences, gamification",
}

// ServiceDocPath is where every service serves its own OpenAPI document (platform/api).
const ServiceDocPath = "/openapi.json"

// docsCache says how long a merged document is served before the services are asked
// again: long when every service answered, short when one could not (it may be starting).
const (
	docsCache      = 30 * time.Second
	docsCacheShort = 2 * time.Second
)

// docs builds /docs/openapi.json: the gateway's own operations, every operation of the
// services that publish a document (platform/api), and today's prefix listing for those
// that do not yet. It asks the services when the document is requested (cached), not at
// start: the gateway starts before them and must not depend on their order.
type docs struct {
	routes []Route
	router *Router
	exempt *Router
	urls   map[string]string
	client *http.Client
	now    func() time.Time

	mu    sync.Mutex
	raw   []byte
	until time.Time
}

func newDocs(g *Gateway) *docs {
	return &docs{routes: g.router.Routes(), router: g.router, exempt: g.exempt, urls: g.deps.ServiceURLs,
		client: &http.Client{Timeout: 3 * time.Second}, now: g.deps.Now}
}

// mountDocs serves /docs (Swagger UI), its assets and /docs/openapi.json.
func (g *Gateway) mountDocs(app *fiber.App) error {
	ui, err := fs.Sub(docsUI, "docsui")
	if err != nil {
		return err
	}
	page, err := fs.ReadFile(ui, "index.html")
	if err != nil {
		return err
	}
	lifecycle, err := fs.ReadFile(ui, "lifecycle.html")
	if err != nil {
		return err
	}
	d := newDocs(g)
	if _, err := d.base(); err != nil { // a declaration mistake fails at start, not on the first visit
		return err
	}
	app.Get("/docs", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(page)
	})
	// The lifecycles' page: marketplace draws the diagrams and serves the table (the
	// gateway only knows routes); the page loads them through the gateway's routing.
	app.Get("/docs/lifecycle", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Send(lifecycle)
	})
	app.Get("/docs/assets/:file", func(c *fiber.Ctx) error {
		name := c.Params("file")
		if path.Ext(name) == ".html" || strings.Contains(name, "/") { // pages have their own paths
			return apperr.NotFound("not_found", "Recurso no encontrado")
		}
		data, err := fs.ReadFile(ui, name)
		if err != nil {
			return apperr.NotFound("not_found", "Recurso no encontrado")
		}
		if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
			c.Set(fiber.HeaderContentType, ct)
		}
		c.Set(fiber.HeaderCacheControl, "public, max-age=3600")
		return c.Send(data)
	})
	app.Get("/docs/openapi.json", func(c *fiber.Ctx) error {
		raw, err := d.document(c.UserContext())
		if err != nil {
			return err
		}
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(raw)
	})
	return nil
}

// document returns the merged document, from the cache when fresh.
func (d *docs) document(ctx context.Context) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.raw != nil && d.now().Before(d.until) {
		return d.raw, nil
	}
	services, complete := d.fetch(ctx)
	doc, err := d.merge(services)
	if err != nil {
		return nil, err
	}
	// Compact: the merged document of every service is large (indenting more than
	// doubles it), and Swagger UI and clients parse it whole.
	raw, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("gateway docs: %w", err)
	}
	d.raw = raw
	d.until = d.now().Add(docsCacheShort)
	if complete {
		d.until = d.now().Add(docsCache)
	}
	return raw, nil
}

// fetch asks every service for its document, concurrently. complete is false when one
// could not be asked (down, starting); a service that answers without a document (404)
// simply has none yet.
func (d *docs) fetch(ctx context.Context) (map[string]*api.Document, bool) {
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		out      = map[string]*api.Document{}
		complete = true
	)
	for _, name := range allServices {
		base, ok := d.urls[name]
		if !ok {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			doc, reached := d.fetchOne(ctx, strings.TrimRight(base, "/")+ServiceDocPath)
			mu.Lock()
			defer mu.Unlock()
			if doc != nil {
				out[name] = doc
			}
			complete = complete && reached
		}()
	}
	wg.Wait()
	return out, complete
}

func (d *docs) fetchOne(ctx context.Context, url string) (*api.Document, bool) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, false
	}
	resp, err := d.client.Do(req)
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, resp.StatusCode < 500
	}
	var doc api.Document
	if err := json.NewDecoder(io.LimitReader(resp.Body, 8<<20)).Decode(&doc); err != nil ||
		!strings.HasPrefix(doc.OpenAPI, "3.1") || len(doc.Paths) == 0 {
		return nil, true // not a document of ours (a service without one may answer anything)
	}
	return &doc, true
}

// gatewayOps describes what the gateway answers itself.
func (d *docs) base() (*api.Document, error) {
	reg := api.Describe(api.Config{Title: "ConectarProfesionales API", Version: "1.0.0", Description: baseDescription})
	noop := func(*fiber.Ctx) error { return nil } // described only: gateway.go mounts these
	reg.Add(api.Op{Method: "GET", Path: "/health", Access: api.Public, Summary: "Health of the gateway and the six services",
		Description: "200 even when degraded: status says whether every service is healthy.",
		Answers:     []api.Answer{api.JSON(200, HealthReport{}, "the report")}, Handler: noop})
	reg.Add(api.Op{Method: "GET", Path: "/metrics", Access: api.Public, Summary: "Prometheus metrics of the gateway",
		Answers: []api.Answer{api.Bytes(200, "text/plain", "Prometheus text format")}, Handler: noop})
	reg.Add(api.Op{Method: "GET", Path: "/docs", Access: api.Public, Summary: "This documentation (Swagger UI)",
		Answers: []api.Answer{api.Bytes(200, "text/html", "HTML")}, Handler: noop})
	reg.Add(api.Op{Method: "GET", Path: "/docs/lifecycle", Access: api.Public, Summary: "The offer and job lifecycles: diagrams and transition tables",
		Description: "A page that loads GET /api/v1/ofertas/lifecycle, GET /api/v1/trabajos/lifecycle and their .svg diagrams from marketplace.",
		Answers:     []api.Answer{api.Bytes(200, "text/html", "HTML")}, Handler: noop})
	reg.Add(api.Op{Method: "GET", Path: "/docs/openapi.json", Access: api.Public, Summary: "This document (OpenAPI 3.1)",
		Answers: []api.Answer{api.JSON(200, map[string]any{}, "the merged document")}, Handler: noop})
	reg.Add(api.Op{Method: "GET", Path: APIPrefix + "/ws", Access: api.Public, Params: wsQuery{},
		Summary: "WebSocket hub: realtime pushes addressed to the authenticated user",
		Description: "Authenticate with ?token=, with Sec-WebSocket-Protocol: bearer, <token> (the server selects \"bearer\"), " +
			"with Authorization: Bearer, or with a first message {\"type\":\"auth\",\"token\":\"…\"} within 5 s. The server then sends " +
			"{\"type\":\"connected\",\"data\":{\"user_id\":…}} and forwards every push as {\"type\":…,\"data\":…}: notificacion, " +
			"message, leido, oferta, trabajo, disputa_mensaje. {\"type\":\"ping\"} answers {\"type\":\"pong\"}. " +
			"Close codes: 4401 bad token, 4403 banned, 4408 no auth in time, 1013 too slow, 1001 server shutdown.",
		Answers: []api.Answer{{Status: 101, Description: "Switching protocols"}}, Handler: noop})
	return reg.Document()
}

type wsQuery struct {
	Token string `query:"token" doc:"the access token (one of four ways to authenticate)"`
}

const baseDescription = "The public API, through the gateway (port 8000). Every API path starts with /api/v1 and is " +
	"forwarded to the service that owns its prefix. Conventions (errors, pagination, money, dates, uploads): docs/api.md. " +
	"The WebSocket's frames: GET /api/v1/ws and the WS* schemas. The events between services (subjects, payload schemas, " +
	"producers and consumers): docs/events.md. " +
	"The offer and job state machines, drawn from the rules marketplace enforces, with every move: [lifecycle diagrams](/docs/lifecycle). " +
	"Unknown JSON fields are ignored by the services; this document lists only the fields they read and write."

// edgeErrors are what the gateway itself may answer on a service's operation.
func (d *docs) edgeErrors(p string, op *api.Operation) []*apperr.Error {
	errs := []*apperr.Error{apperr.Unavailable("service_unavailable", "", nil), apperr.Unavailable("upstream_timeout", "", nil)}
	rest := strings.TrimPrefix(p, APIPrefix)
	if _, exempt := d.exempt.Match(concrete(rest)); !exempt {
		errs = append(errs, apperr.Unauthorized("invalid_token", ""), apperr.Unauthorized("user_banned", ""))
	}
	if op.RequestBody != nil {
		errs = append(errs, apperr.New(apperr.KindTooLarge, "body_too_large", ""), apperr.Invalid("body_read_failed", ""))
	}
	if underAny(strings.ToLower(rest), webhookLimited) {
		errs = append(errs, apperr.New(apperr.KindRateLimited, "rate_limited", ""))
	}
	return errs
}

var templateParam = regexp.MustCompile(`\{[^}/]+\}`)

// concrete turns a path template into a path the route table can match.
func concrete(tmpl string) string { return templateParam.ReplaceAllString(tmpl, "x") }

// merge builds the document from the services' documents; the services without one are
// listed by prefix as before, marked undocumented.
func (d *docs) merge(services map[string]*api.Document) (*api.Document, error) {
	base, err := d.base()
	if err != nil {
		return nil, err
	}
	owns := func(p, svc string) bool {
		rt, ok := d.router.Match(concrete(strings.TrimPrefix(p, APIPrefix)))
		return ok && rt.Service == svc
	}
	doc, unrouted, err := api.Merge(base, services, owns)
	if err != nil {
		return nil, fmt.Errorf("gateway docs: %w", err)
	}
	for p, item := range doc.Paths {
		if !strings.HasPrefix(p, APIPrefix+"/") || p == APIPrefix+"/ws" {
			continue
		}
		for _, op := range []*api.Operation{item.Get, item.Put, item.Post, item.Delete, item.Patch} {
			if op == nil {
				continue
			}
			if err := api.AddErrors(op, d.edgeErrors(p, op)...); err != nil {
				return nil, fmt.Errorf("gateway docs: %s: %w", p, err)
			}
		}
	}
	open, err := describeWS(doc)
	if err != nil {
		return nil, err
	}
	if len(open) > 0 {
		// A push whose data schema is missing is a service not documented yet or a
		// realtime.Kinds entry naming the wrong schema: say so where readers look.
		doc.Info.Description += "\n\n**WebSocket pushes without a data schema**: " + strings.Join(open, ", ") + "."
	}
	var missing []string
	for _, r := range d.routes {
		if services[r.Service] != nil {
			continue
		}
		doc.Undocumented = append(doc.Undocumented, api.Prefix{Prefix: APIPrefix + r.Prefix, Service: r.Service})
		if !contains(missing, r.Service) {
			missing = append(missing, r.Service)
		}
		p, params := prefixTemplate(APIPrefix + r.Prefix)
		desc := fmt.Sprintf("Every path under %s is forwarded unchanged to the %s service, whose operations are not documented here yet.", p, r.Service)
		if r.Why != "" {
			desc += " " + r.Why + "."
		}
		item := doc.Paths[p]
		if item == nil {
			item = &api.PathItem{}
			doc.Paths[p] = item
		}
		item.Summary, item.Description, item.Parameters = "→ "+r.Service+" (undocumented)", desc, params
		item.Service, item.RoutePrefix, item.Undocumented = r.Service, r.Prefix, true
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		doc.Info.Description += "\n\n**Not documented yet** (routed, listed by path prefix only): "
		for i, s := range missing {
			if i > 0 {
				doc.Info.Description += "; "
			}
			doc.Info.Description += serviceTitles[s]
		}
		doc.Info.Description += "."
	}
	if len(unrouted) > 0 {
		// A service describes a path the route table sends elsewhere: a bug in one of the two.
		doc.Info.Description += "\n\n**Described but routed to another service** (left out): " + strings.Join(unrouted, "; ") + "."
	}
	return doc, nil
}

// prefixTemplate writes a route prefix as a path template: each "*" segment becomes
// {paramN}.
func prefixTemplate(p string) (string, []api.Parameter) {
	segs := strings.Split(p, "/")
	var params []api.Parameter
	for i, s := range segs {
		if s == "*" {
			name := fmt.Sprintf("param%d", len(params)+1)
			segs[i] = "{" + name + "}"
			params = append(params, api.Parameter{Name: name, In: "path", Required: true, Schema: map[string]any{"type": "string"}})
		}
	}
	return strings.Join(segs, "/"), params
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}

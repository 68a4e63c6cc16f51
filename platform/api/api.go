package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
)

// Access says who may call an operation. Roles (Op.Roles) narrow Authenticated.
type Access string

// The access levels.
const (
	// Public operations check no token in the service (the gateway still refuses a bad
	// one that is sent).
	Public Access = "public"
	// Optional operations verify a token when one is sent and answer everyone.
	Optional Access = "optional"
	// Authenticated operations need a valid token; Op.Roles may narrow the roles.
	Authenticated Access = "authenticated"
	// Internal operations need the X-Internal-Key of service-to-service reads.
	Internal Access = "internal"
)

// Config is what a registry needs from its service.
type Config struct {
	// Service names the owner: the tag of every operation and its x-service.
	Service     string
	Title       string
	Description string
	Version     string // of the API; "1.0.0" when empty
	// The middleware of each access level, as the service mounted them before: Auth
	// refuses requests without a valid token, Optional verifies a token when present,
	// Internal checks X-Internal-Key. A level whose middleware is nil cannot be declared.
	Auth, Optional, Internal fiber.Handler
	// Common are errors any operation of the service can answer (StoreErrors for a
	// service on PostgreSQL).
	Common []*apperr.Error
}

// StoreErrors are what pg.Translate makes of a database that is down or a transaction
// that lost a serialization race: 503 with these codes (platform/pg).
func StoreErrors() []*apperr.Error {
	return []*apperr.Error{apperr.Unavailable("db_unavailable", "", nil), apperr.Unavailable("db_retry", "", nil)}
}

// Op declares one operation.
type Op struct {
	Method      string // GET, POST, PUT, PATCH, DELETE
	Path        string // Fiber syntax, relative to the registry's group: "/users/:id"
	ID          string // operationId; derived from method and path when empty
	Summary     string
	Description string
	Deprecated  bool
	// Access is required outside a group that sets one; Roles implies Authenticated.
	// Inside a group that only needs a token (Authenticated, no roles), Roles alone
	// narrows that operation to those roles.
	Access Access
	Roles  []string
	// Params is a struct value whose fields carry path:"…", query:"…" or header:"…" tags.
	Params any
	// Body is the JSON body's type (a zero value); BodyOptional when it may be omitted.
	Body         any
	BodyOptional bool
	// Forms are bodies in other media types (form-urlencoded, multipart/form-data), each
	// a struct whose json tags name the form fields (api.File for a file part).
	Forms []Form
	// Answers are the answers other than errors, by status.
	Answers []Answer
	// Errors are the apperr values the handler answers with: their kind gives the status
	// and their code is listed. The errors of the access level and of a JSON body are
	// added by the registry.
	Errors []*apperr.Error
	// Before are handlers run after the access middleware and before Handler.
	Before  []fiber.Handler
	Handler fiber.Handler
}

// Form is a body in a non-JSON media type.
type Form struct {
	MediaType string
	Schema    any
}

// Answer is one documented answer.
type Answer struct {
	Status      int
	Description string
	Body        any    // a zero value of the JSON answer's type; nil for no body
	MediaType   string // when not JSON: the answer is bytes of this type
}

// JSON documents a JSON answer; body is a zero value of its type, or a nil pointer to it
// for an answer that may be null.
func JSON(status int, body any, description string) Answer {
	return Answer{Status: status, Body: body, Description: description}
}

// Bytes documents a non-JSON answer (a file) of mediaType.
func Bytes(status int, mediaType, description string) Answer {
	return Answer{Status: status, MediaType: mediaType, Description: description}
}

// Registry mounts operations on a Fiber router and describes them.
type Registry struct {
	shared *shared
	router fiber.Router
	prefix string // path of router, for the document
	access Access // set by Group: mounted once on the prefix
	roles  []string
}

// shared is what a registry and its groups have in common.
type shared struct {
	cfg     Config
	doc     *Document
	schemas *schemas
	errs    []error
	ids     map[string]bool
}

// New returns a registry mounting on router.
func New(router fiber.Router, cfg Config) *Registry {
	if cfg.Version == "" {
		cfg.Version = "1.0.0"
	}
	doc := &Document{OpenAPI: Version, Info: Info{Title: cfg.Title, Version: cfg.Version, Description: cfg.Description},
		Paths: map[string]*PathItem{}, Components: Components{SecuritySchemes: securitySchemes()}}
	if cfg.Service != "" {
		doc.Tags = []Tag{{Name: cfg.Service, Description: cfg.Title}}
	}
	sh := &shared{cfg: cfg, doc: doc, schemas: newSchemas(), ids: map[string]bool{}}
	r := &Registry{shared: sh, router: router}
	if _, err := sh.schemas.schema(reflect.TypeFor[httpx.ErrorBody](), false); err != nil {
		sh.errs = append(sh.errs, err)
	}
	return r
}

// Describe returns a registry that only describes: Add mounts nothing (for routes a
// component mounts itself, such as the gateway's own).
func Describe(cfg Config) *Registry { return New(nil, cfg) }

// Group returns a registry for the operations under prefix. With an access level (and
// roles), its middleware is mounted once on the prefix, as fiber's Group(prefix,
// handlers...) does — every request under the prefix, routed or not, goes through it —
// and every operation declared in the group inherits that access.
func (r *Registry) Group(prefix string, access Access, roles ...string) *Registry {
	g := &Registry{shared: r.shared, prefix: r.prefix + prefix, access: r.access, roles: r.roles}
	var mw []fiber.Handler
	if access != "" || len(roles) > 0 {
		if r.access != "" {
			r.fail(fmt.Errorf("group %s: access set twice", g.prefix))
		}
		g.access, g.roles = effective(access, roles)
		var err error
		if mw, err = r.middleware(g.access, g.roles); err != nil {
			r.fail(fmt.Errorf("group %s: %w", g.prefix, err))
		}
	}
	if r.router != nil {
		g.router = r.router.Group(prefix, mw...)
	}
	return g
}

func effective(access Access, roles []string) (Access, []string) {
	if len(roles) > 0 && access == "" {
		access = Authenticated
	}
	return access, roles
}

func (r *Registry) fail(err error) { r.shared.errs = append(r.shared.errs, err) }

// middleware is the chain an access level mounts.
func (r *Registry) middleware(access Access, roles []string) ([]fiber.Handler, error) {
	cfg := r.shared.cfg
	need := func(h fiber.Handler, what string) ([]fiber.Handler, error) {
		if h == nil {
			return nil, fmt.Errorf("access %s declared but Config.%s is nil", access, what)
		}
		return []fiber.Handler{h}, nil
	}
	if len(roles) > 0 && access != Authenticated {
		return nil, fmt.Errorf("roles %v need access %s, not %s", roles, Authenticated, access)
	}
	switch access {
	case Public:
		return nil, nil
	case Optional:
		return need(cfg.Optional, "Optional")
	case Internal:
		return need(cfg.Internal, "Internal")
	case Authenticated:
		mw, err := need(cfg.Auth, "Auth")
		if err == nil && len(roles) > 0 {
			mw = append(mw, authn.Require(roles...))
		}
		return mw, err
	}
	return nil, fmt.Errorf("unknown access %q", access)
}

// fiberParam matches a Fiber path parameter (":id"); optional, greedy and constrained
// parameters are refused, as OpenAPI has no spelling for them.
var fiberParam = regexp.MustCompile(`:([A-Za-z0-9_]+)`)

// Add mounts op's handler and describes it. A declaration mistake is kept and reported
// by Document, so a composition root checks once.
func (r *Registry) Add(op Op) {
	if err := r.add(op); err != nil {
		r.fail(fmt.Errorf("%s %s%s: %w", op.Method, r.prefix, op.Path, err))
	}
}

func (r *Registry) add(op Op) error {
	method := strings.ToUpper(op.Method)
	if op.Handler == nil {
		return errors.New("no handler")
	}
	access, roles := effective(op.Access, op.Roles)
	var chain []fiber.Handler
	switch {
	case r.access == Authenticated && len(r.roles) == 0 && op.Access == "" && len(op.Roles) > 0:
		// Roles narrowing a group that only needs a token: the group's middleware has
		// verified it, the operation adds the role check (as a hand-written route inside
		// app.Group(prefix, auth) added authn.Require(role) before its handler).
		access, roles = Authenticated, op.Roles
		chain = []fiber.Handler{authn.Require(roles...)}
	case r.access != "" && (access != "" || len(roles) > 0):
		return fmt.Errorf("access declared in group %s and again on the operation", r.prefix)
	case r.access != "":
		access, roles = r.access, r.roles // mounted by the group
	case access == "":
		return errors.New("no access declared")
	default:
		mw, err := r.middleware(access, roles)
		if err != nil {
			return err
		}
		chain = mw
	}
	chain = append(append(chain, op.Before...), op.Handler)

	full := r.prefix + op.Path
	if strings.ContainsAny(full, "*+?<") {
		return errors.New("wildcard, optional or constrained parameters cannot be documented")
	}
	tmpl := fiberParam.ReplaceAllString(full, "{$1}")
	o, err := r.describe(method, full, op, access, roles)
	if err != nil {
		return err
	}
	item := r.shared.doc.Paths[tmpl]
	if item == nil {
		item = &PathItem{}
		r.shared.doc.Paths[tmpl] = item
	}
	slot := item.slot(method)
	if slot == nil {
		return fmt.Errorf("method %s is not documented here", method)
	}
	if *slot != nil {
		return errors.New("declared twice")
	}
	*slot = o
	// app.Get also answers HEAD; Add(GET) alone would not.
	switch {
	case r.router == nil:
	case method == fiber.MethodGet:
		r.router.Get(op.Path, chain...)
	default:
		r.router.Add(method, op.Path, chain...)
	}
	return nil
}

// describe builds the operation object.
func (r *Registry) describe(method, full string, op Op, access Access, roles []string) (*Operation, error) {
	sh := r.shared
	o := &Operation{OperationID: op.ID, Summary: op.Summary, Description: op.Description, Deprecated: op.Deprecated,
		Access: string(access), Roles: roles, Service: sh.cfg.Service, Responses: map[string]*Response{}}
	if o.OperationID == "" {
		o.OperationID = operationID(method, full)
	}
	if sh.ids[o.OperationID] {
		return nil, fmt.Errorf("operationId %s used twice", o.OperationID)
	}
	sh.ids[o.OperationID] = true
	if sh.cfg.Service != "" {
		o.Tags = []string{sh.cfg.Service}
	}
	errs := append(slices.Clone(op.Errors), sh.cfg.Common...)
	switch access {
	case Authenticated:
		o.Security = []map[string][]string{{SchemeBearer: {}}}
		errs = append(errs, authErrors()...)
		if len(roles) > 0 {
			errs = append(errs, apperr.Forbidden("forbidden_role", ""))
			o.Description = strings.TrimSpace("Rol requerido: " + strings.Join(roles, " o ") + ". " + o.Description)
		}
	case Optional:
		// Either with a token or without one.
		o.Security = []map[string][]string{{SchemeBearer: {}}, {}}
		errs = append(errs, authErrors()[1:]...)
	case Internal:
		o.Security = []map[string][]string{{SchemeInternal: {}}}
		errs = append(errs, apperr.Unauthorized("internal_only", ""))
	}

	// Parameters: every Fiber parameter must be declared, and only those.
	if op.Params != nil {
		ps, err := sh.schemas.params(reflect.TypeOf(op.Params))
		if err != nil {
			return nil, err
		}
		for _, p := range ps {
			o.Parameters = append(o.Parameters, Parameter{Name: p.name, In: p.in, Description: p.doc, Required: p.required, Schema: p.schema})
		}
	}
	var inPath []string
	for _, m := range fiberParam.FindAllStringSubmatch(full, -1) {
		inPath = append(inPath, m[1])
	}
	var declared []string
	for _, p := range o.Parameters {
		if p.In == "path" {
			declared = append(declared, p.Name)
		}
	}
	sort.Strings(inPath)
	sort.Strings(declared)
	if !slices.Equal(inPath, declared) {
		return nil, fmt.Errorf("path parameters %v, declared %v", inPath, declared)
	}

	if op.Body != nil || len(op.Forms) > 0 {
		rb := &RequestBody{Required: !op.BodyOptional, Content: map[string]MediaType{}}
		if op.Body != nil {
			s, err := sh.schemas.schema(reflect.TypeOf(op.Body), true)
			if err != nil {
				return nil, err
			}
			rb.Content[fiber.MIMEApplicationJSON] = MediaType{Schema: s}
			errs = append(errs, jsonBodyErrors()...)
		}
		for _, f := range op.Forms {
			s, err := sh.schemas.schema(reflect.TypeOf(f.Schema), true)
			if err != nil {
				return nil, err
			}
			rb.Content[f.MediaType] = MediaType{Schema: s}
		}
		o.RequestBody = rb
	}

	for _, resp := range op.Answers {
		key := strconv.Itoa(resp.Status)
		if o.Responses[key] != nil {
			return nil, fmt.Errorf("response %d declared twice", resp.Status)
		}
		out := &Response{Description: resp.Description}
		if out.Description == "" {
			out.Description = http.StatusText(resp.Status)
		}
		switch {
		case resp.MediaType != "":
			out.Content = map[string]MediaType{resp.MediaType: {Schema: map[string]any{
				"type": "string", "contentMediaType": resp.MediaType}}}
		case resp.Body != nil:
			s, err := sh.schemas.schema(reflect.TypeOf(resp.Body), false)
			if err != nil {
				return nil, err
			}
			if reflect.TypeOf(resp.Body).Kind() == reflect.Pointer {
				// A pointer answer may be null (c.JSON(nil) when there is nothing to show).
				s = nullable(s)
			}
			out.Content = map[string]MediaType{fiber.MIMEApplicationJSON: {Schema: s}}
		}
		o.Responses[key] = out
	}
	errs = append(errs, apperr.New(apperr.KindInternal, "internal_error", ""))
	if err := addErrors(o, errs); err != nil {
		return nil, err
	}
	return o, nil
}

// authErrors are the answers of a missing, bad or banned token.
func authErrors() []*apperr.Error {
	return []*apperr.Error{apperr.Unauthorized("not_authenticated", ""), apperr.Unauthorized("invalid_token", ""),
		apperr.Unauthorized("user_banned", "")}
}

// jsonBodyErrors are httpx.BindJSON's refusals.
func jsonBodyErrors() []*apperr.Error {
	return []*apperr.Error{apperr.New(apperr.KindUnsupported, "unsupported_media_type", ""),
		apperr.New(apperr.KindTooLarge, "body_too_large", ""), apperr.Validation()}
}

// AddErrors documents more errors on op: each joins the codes of its status (the
// gateway adds the answers it gives itself in front of every service).
func AddErrors(op *Operation, errs ...*apperr.Error) error { return addErrors(op, errs) }

// addErrors groups errors by status: one response each, the shared error shape with
// its code limited to the listed ones (merged with those already listed).
func addErrors(o *Operation, errs []*apperr.Error) error {
	codes := map[int][]string{}
	for _, e := range errs {
		if e == nil {
			return errors.New("nil error declared")
		}
		if e.Kind == apperr.KindAccepted {
			return errors.New("declare a 202 as an Answer, not an error")
		}
		st := httpx.Status(e.Kind)
		if !slices.Contains(codes[st], e.Code) {
			codes[st] = append(codes[st], e.Code)
		}
	}
	for st, cs := range codes {
		key := strconv.Itoa(st)
		if prev := o.Responses[key]; prev != nil {
			old, ok := errorCodes(prev)
			if !ok {
				return fmt.Errorf("status %d is both an answer and an error", st)
			}
			for _, c := range old {
				if !slices.Contains(cs, c) {
					cs = append(cs, c)
				}
			}
		}
		sort.Strings(cs)
		enum := make([]any, len(cs))
		for i, c := range cs {
			enum[i] = c
		}
		o.Responses[key] = &Response{Description: http.StatusText(st) + ": " + strings.Join(cs, ", "),
			Content: map[string]MediaType{fiber.MIMEApplicationJSON: {Schema: map[string]any{"allOf": []any{
				map[string]any{"$ref": componentRef + "ErrorBody"},
				map[string]any{"properties": map[string]any{"code": map[string]any{"enum": enum}}},
			}}}}}
	}
	return nil
}

// errorCodes reads back the codes of an error response written by addErrors.
func errorCodes(r *Response) ([]string, bool) {
	s := r.Content[fiber.MIMEApplicationJSON].Schema
	all, _ := s["allOf"].([]any)
	if len(all) != 2 {
		return nil, false
	}
	ref, _ := all[0].(map[string]any)
	if ref["$ref"] != componentRef+"ErrorBody" {
		return nil, false
	}
	props, _ := all[1].(map[string]any)["properties"].(map[string]any)
	code, _ := props["code"].(map[string]any)
	var out []string
	switch enum := code["enum"].(type) {
	case []any:
		for _, c := range enum {
			if s, ok := c.(string); ok {
				out = append(out, s)
			}
		}
	case []string:
		out = enum
	}
	return out, true
}

var nonWord = regexp.MustCompile(`[^a-z0-9]+`)

// operationID derives a stable id: "post_auth_login" for POST /api/v1/auth/login.
func operationID(method, path string) string {
	p := strings.TrimPrefix(strings.ToLower(path), "/api/v1")
	return strings.ToLower(method) + "_" + strings.Trim(nonWord.ReplaceAllString(p, "_"), "_")
}

// Document returns the description of every operation added, or the declaration
// mistakes found on the way.
func (r *Registry) Document() (*Document, error) {
	sh := r.shared
	if err := errors.Join(sh.errs...); err != nil {
		return nil, fmt.Errorf("api %s: %w", sh.cfg.Service, err)
	}
	sh.doc.Components.Schemas = sh.schemas.comps
	return sh.doc, nil
}

// Serve renders the document once and mounts GET path answering it (the services use
// /openapi.json, which the gateway fetches to merge).
func (r *Registry) Serve(path string) error {
	doc, err := r.Document()
	if err != nil {
		return err
	}
	if r.router == nil {
		return errors.New("api: Serve on a describe-only registry")
	}
	raw, err := json.Marshal(doc)
	if err != nil {
		return fmt.Errorf("api %s: %w", r.shared.cfg.Service, err)
	}
	r.router.Get(path, func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		return c.Send(raw)
	})
	return nil
}

package api

// The OpenAPI 3.1 objects the registry writes: only the fields it uses. Schemas are
// kept as decoded JSON (map[string]any), the form invopop/jsonschema's output takes after
// the registry has rewritten its references and nullability.

// Version is the OpenAPI version of every document written here.
const Version = "3.1.0"

// Document is an OpenAPI 3.1 document.
type Document struct {
	OpenAPI    string               `json:"openapi"`
	Info       Info                 `json:"info"`
	Tags       []Tag                `json:"tags,omitempty"`
	Paths      map[string]*PathItem `json:"paths"`
	Components Components           `json:"components"`
	// Undocumented lists the gateway prefixes whose service has not published a
	// document yet: their paths are routed but not described (see Merge).
	Undocumented []Prefix `json:"x-undocumented-prefixes,omitempty"`
}

// Info is the document's info object.
type Info struct {
	Title       string `json:"title"`
	Version     string `json:"version"`
	Description string `json:"description,omitempty"`
}

// Tag groups operations (one per service).
type Tag struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// Prefix is a routed path prefix without described operations.
type Prefix struct {
	Prefix  string `json:"prefix"`
	Service string `json:"service"`
}

// PathItem holds the operations of one path template.
type PathItem struct {
	Summary     string      `json:"summary,omitempty"`
	Description string      `json:"description,omitempty"`
	Parameters  []Parameter `json:"parameters,omitempty"`
	Get         *Operation  `json:"get,omitempty"`
	Put         *Operation  `json:"put,omitempty"`
	Post        *Operation  `json:"post,omitempty"`
	Delete      *Operation  `json:"delete,omitempty"`
	Patch       *Operation  `json:"patch,omitempty"`
	// The gateway's prefix listing (services without a document) marks its items.
	Service      string `json:"x-service,omitempty"`
	RoutePrefix  string `json:"x-prefix,omitempty"`
	Undocumented bool   `json:"x-undocumented,omitempty"`
}

// operations returns the item's operations by upper-case method.
func (p *PathItem) operations() map[string]*Operation {
	out := map[string]*Operation{}
	for m, op := range map[string]*Operation{"GET": p.Get, "PUT": p.Put, "POST": p.Post, "DELETE": p.Delete, "PATCH": p.Patch} {
		if op != nil {
			out[m] = op
		}
	}
	return out
}

// slot returns where the operation of method lives in the item.
func (p *PathItem) slot(method string) **Operation {
	switch method {
	case "GET":
		return &p.Get
	case "PUT":
		return &p.Put
	case "POST":
		return &p.Post
	case "DELETE":
		return &p.Delete
	case "PATCH":
		return &p.Patch
	}
	return nil
}

// Operation is one method on one path.
type Operation struct {
	OperationID string                `json:"operationId"`
	Summary     string                `json:"summary,omitempty"`
	Description string                `json:"description,omitempty"`
	Tags        []string              `json:"tags,omitempty"`
	Deprecated  bool                  `json:"deprecated,omitempty"`
	Security    []map[string][]string `json:"security,omitempty"`
	Parameters  []Parameter           `json:"parameters,omitempty"`
	RequestBody *RequestBody          `json:"requestBody,omitempty"`
	Responses   map[string]*Response  `json:"responses"`
	// Access is public, optional, authenticated or internal; Roles the roles allowed
	// when only some are.
	Access string   `json:"x-access"`
	Roles  []string `json:"x-roles,omitempty"`
	// Service is the owner, set on every operation so a merged document keeps it.
	Service string `json:"x-service,omitempty"`
}

// Parameter is a path, query or header parameter.
type Parameter struct {
	Name        string         `json:"name"`
	In          string         `json:"in"`
	Description string         `json:"description,omitempty"`
	Required    bool           `json:"required,omitempty"`
	Schema      map[string]any `json:"schema"`
}

// RequestBody is an operation's body, by media type.
type RequestBody struct {
	Description string               `json:"description,omitempty"`
	Required    bool                 `json:"required,omitempty"`
	Content     map[string]MediaType `json:"content"`
}

// MediaType is the schema of one media type.
type MediaType struct {
	Schema map[string]any `json:"schema,omitempty"`
}

// Response is one status's answer.
type Response struct {
	Description string               `json:"description"`
	Content     map[string]MediaType `json:"content,omitempty"`
}

// Components holds the shared schemas and security schemes.
type Components struct {
	Schemas         map[string]map[string]any `json:"schemas,omitempty"`
	SecuritySchemes map[string]SecurityScheme `json:"securitySchemes,omitempty"`
}

// SecurityScheme is a bearer token or an API key.
type SecurityScheme struct {
	Type         string `json:"type"`
	Scheme       string `json:"scheme,omitempty"`
	BearerFormat string `json:"bearerFormat,omitempty"`
	In           string `json:"in,omitempty"`
	Name         string `json:"name,omitempty"`
	Description  string `json:"description,omitempty"`
}

// Security scheme names.
const (
	SchemeBearer   = "bearer"
	SchemeInternal = "internalKey"
)

// securitySchemes are the two ways an operation is authenticated.
func securitySchemes() map[string]SecurityScheme {
	return map[string]SecurityScheme{
		SchemeBearer: {Type: "http", Scheme: "bearer", BearerFormat: "JWT",
			Description: "Access token from POST /api/v1/auth/login (EdDSA-signed JWT; claims sub, rol, email)."},
		SchemeInternal: {Type: "apiKey", In: "header", Name: "X-Internal-Key",
			Description: "Service-to-service reads; never routed by the gateway."},
	}
}

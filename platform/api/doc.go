// Package api is the typed route registry of the services: each operation is declared
// once — method, path in Fiber syntax, summary, who may call it, the Go types of its
// parameters, body and answers, and the apperr values it can answer with — and that one
// declaration both mounts the Fiber handler, with the same middleware chain the service
// used to write by hand, and describes the operation in the service's OpenAPI 3.1
// document, whose schemas are reflected from those Go types by
// github.com/invopop/jsonschema. The gateway merges the services' documents (Merge) into
// its /docs/openapi.json.
//
// Why this shape, and not a framework adapter (huma's Fiber adapter was the other
// candidate):
//
//   - Handlers stay plain fiber.Handler. A typed-handler framework owns decoding and
//     encoding: ours have behaviour the clients depend on (httpx.BindJSON's 415/413/422
//     answers, login's three body encodings, Spanish 422 details naming the first bad
//     field, 202 answers through apperr.Accepted). Moving that into an adapter would
//     change answers; describing it changes nothing.
//   - Zero cost per request. The registry runs at startup only: it calls
//     router.Get/Add with exactly the handlers a hand-written route had (access
//     middleware, then the handler) and renders the document once to bytes. A request
//     never touches the registry, reflection or the document.
//   - Fiber v2 as it is: groups keep their Use semantics (Group mounts middleware on the
//     prefix as app.Group did), GET also answers HEAD as app.Get does, and the route
//     template Fiber matches is the path documented (":id" becomes "{id}").
//   - It removes the hand-written route tables and the prefix-only /docs: the role check
//     is derived from the declared access, so what the document says is what is
//     mounted, and the common errors (401/403 of the access, 413/415/422 of a JSON body,
//     500) are added from the same facts.
//   - What a declaration cannot prove — that a handler really decodes the declared body
//     and encodes the declared answers — the system tests check: every exchange they make
//     through the gateway is validated against the merged document with kin-openapi's
//     openapi3filter (cmd/conectar/openapi_check_test.go). Schemas are strict
//     (additionalProperties false): an undocumented field, status, error code or route
//     fails a test.
//
// Schemas: JSON tags name the properties. In an answer a property is required unless
// tagged omitempty (encoding/json always writes it); in a request body, query or path
// only what is tagged `jsonschema:"required"` is required, as the handlers treat a
// missing field as absent. A pointer field is nullable (encoding/json writes null).
// Other keywords (enum, minimum, maxLength, format, description) come from the
// `jsonschema` struct tags invopop/jsonschema reads. Named types become
// components/schemas entries; the error shape is httpx.ErrorBody, one shared component.
package api

package api

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/platform/money"
)

// File is the type of a multipart file field: declare a form struct with a field of this
// type (tagged with the form field's name) for an upload.
type File struct{}

// JSONSchema describes a file part: bytes of some media type (OpenAPI 3.1 writes binary
// content as a string with a contentMediaType).
func (File) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Format: "binary", ContentMediaType: "application/octet-stream"}
}

// componentRef is where a named schema lives in the document.
const componentRef = "#/components/schemas/"

// schemas reflects Go types into JSON Schemas and collects the named ones as components.
type schemas struct {
	out, in *jsonschema.Reflector // answers; request bodies and parameters
	named   map[string]reflect.Type
	comps   map[string]map[string]any
	from    map[string]string // component name → "in" or "out", for conflict reports
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

func newSchemas() *schemas {
	s := &schemas{named: map[string]reflect.Type{}, comps: map[string]map[string]any{}, from: map[string]string{}}
	namer := func(t reflect.Type) string {
		// Generic instantiations ("Page[pkg.Item]") are not valid component names.
		name := strings.Trim(unsafeName.ReplaceAllString(t.Name(), "_"), "_")
		if name != "" {
			s.named[name] = t
		}
		return name
	}
	s.out = &jsonschema.Reflector{Anonymous: true, Namer: namer, Mapper: mapType}
	s.in = &jsonschema.Reflector{Anonymous: true, Namer: namer, Mapper: mapType, RequiredFromJSONSchemaTags: true}
	return s
}

var (
	timeType = reflect.TypeFor[time.Time]()
	uuidType = reflect.TypeFor[uuid.UUID]()
	centType = reflect.TypeFor[money.Centavos]()
	textType = reflect.TypeFor[encoding.TextMarshaler]()
	jsonType = reflect.TypeFor[json.Marshaler]()
)

// mapType describes the types whose JSON is not what their Go kind suggests.
func mapType(t reflect.Type) *jsonschema.Schema {
	switch {
	case t == uuidType:
		return &jsonschema.Schema{Type: "string", Format: "uuid"}
	case t == timeType:
		return &jsonschema.Schema{Type: "string", Format: "date-time"}
	case t == centType:
		// Money is written as pesos with at most two decimals (money.Centavos).
		return &jsonschema.Schema{Type: "number", MultipleOf: "0.01"}
	case t.Implements(textType) && !t.Implements(jsonType):
		return &jsonschema.Schema{Type: "string"}
	}
	return nil
}

// schema returns the schema of t: a reference for a named struct, inline otherwise.
// Named types met on the way are added to the components.
func (s *schemas) schema(t reflect.Type, input bool) (map[string]any, error) {
	r, dir := s.out, "out"
	if input {
		r, dir = s.in, "in"
	}
	root, err := toMap(r.ReflectFromType(t))
	if err != nil {
		return nil, err
	}
	defs, _ := root["$defs"].(map[string]any)
	delete(root, "$defs")
	delete(root, "$schema")
	delete(root, "$id")
	for name, d := range defs {
		def, _ := d.(map[string]any)
		if rt, ok := s.named[name]; ok {
			nullablePointers(def, rt)
		}
		rewriteRefs(def)
		if prev, ok := s.comps[name]; ok {
			if !sameJSON(prev, def) {
				return nil, fmt.Errorf("schema %s: two different schemas under one name (%s and %s use); "+
					"give the request and the answer types different names", name, s.from[name], dir)
			}
			continue
		}
		s.comps[name] = def
		s.from[name] = dir
	}
	rewriteRefs(root)
	return root, nil
}

// nullablePointers marks the properties of struct t that encoding/json may write as
// null — pointers — as nullable. invopop/jsonschema leaves them typed as their element.
func nullablePointers(def map[string]any, t reflect.Type) {
	props, _ := def["properties"].(map[string]any)
	if props == nil || t.Kind() != reflect.Struct {
		return
	}
	for _, f := range reflect.VisibleFields(t) {
		if !f.IsExported() || f.Anonymous {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		if f.Type.Kind() != reflect.Pointer {
			continue
		}
		if p, ok := props[name].(map[string]any); ok {
			props[name] = nullable(p)
		}
	}
}

// nullable returns p accepting null too.
func nullable(p map[string]any) map[string]any {
	switch typ := p["type"].(type) {
	case string:
		p["type"] = []any{typ, "null"}
		if enum, ok := p["enum"].([]any); ok {
			p["enum"] = append(enum, nil)
		}
		return p
	case []any:
		return p
	}
	if _, ok := p["$ref"]; ok {
		out := map[string]any{"anyOf": []any{map[string]any{"$ref": p["$ref"]}, map[string]any{"type": "null"}}}
		if d, ok := p["description"]; ok {
			out["description"] = d
		}
		return out
	}
	return p // no type: anything, null included
}

// rewriteRefs points invopop's "#/$defs/X" references at the document's components.
func rewriteRefs(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" && strings.HasPrefix(s, "#/$defs/") {
				x[k] = componentRef + strings.TrimPrefix(s, "#/$defs/")
				continue
			}
			rewriteRefs(e)
		}
	case []any:
		for _, e := range x {
			rewriteRefs(e)
		}
	}
}

func toMap(v any) (map[string]any, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("schema: %w", err)
	}
	return m, nil
}

func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

// param is one parameter of a Params struct.
type param struct {
	name, in, doc string
	required      bool
	schema        map[string]any
}

// params reads a Params struct: each field tagged path:"name", query:"name" or
// header:"name" is one parameter, its schema reflected from the field's type and
// `jsonschema` tag, its description from a `doc` tag.
func (s *schemas) params(t reflect.Type) ([]param, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.Kind() != reflect.Struct {
		return nil, fmt.Errorf("params: %s is not a struct", t)
	}
	var out []param
	for _, f := range reflect.VisibleFields(t) {
		if f.Anonymous {
			continue
		}
		var p param
		for _, in := range []string{"path", "query", "header"} {
			if n := f.Tag.Get(in); n != "" {
				p.name, p.in = n, in
			}
		}
		if p.in == "" {
			return nil, fmt.Errorf("params %s.%s: no path, query or header tag", t.Name(), f.Name)
		}
		// One-field struct: the field's type with its jsonschema keywords, inline.
		one := reflect.StructOf([]reflect.StructField{{Name: "V", Type: f.Type,
			Tag: reflect.StructTag(`json:"v" jsonschema:"` + f.Tag.Get("jsonschema") + `"`)}})
		r := &jsonschema.Reflector{Anonymous: true, DoNotReference: true, Mapper: mapType, RequiredFromJSONSchemaTags: true,
			ExpandedStruct: true}
		m, err := toMap(r.ReflectFromType(one))
		if err != nil {
			return nil, err
		}
		props, _ := m["properties"].(map[string]any)
		p.schema, _ = props["v"].(map[string]any)
		if p.schema == nil {
			return nil, fmt.Errorf("params %s.%s: no schema", t.Name(), f.Name)
		}
		p.doc = f.Tag.Get("doc")
		if p.doc == "" {
			p.doc, _ = p.schema["description"].(string)
		}
		delete(p.schema, "description")
		req, _ := m["required"].([]any)
		p.required = p.in == "path" || len(req) > 0
		out = append(out, p)
	}
	return out, nil
}

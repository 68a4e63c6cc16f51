package api

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// Merge combines base (the gateway's own operations, info and tags) with the services'
// documents into one. Only the public paths (under /api/v1) are taken; keep says whether
// the gateway routes a path template to a service, and an operation it would send
// elsewhere is left out and reported in unrouted ("POST /api/v1/x (svc)"), so the
// merged document never describes a call that would not reach its handler.
//
// Schema names are per service: a name two services define differently (each has its
// own UserRead) becomes "<service>.<name>" in both; identical ones (the error shape) stay
// shared. The inputs are not modified.
func Merge(base *Document, services map[string]*Document, keep func(path, service string) bool) (*Document, []string, error) {
	var out Document
	if err := clone(base, &out); err != nil {
		return nil, nil, err
	}
	if out.Paths == nil {
		out.Paths = map[string]*PathItem{}
	}
	if out.Components.Schemas == nil {
		out.Components.Schemas = map[string]map[string]any{}
	}
	if out.Components.SecuritySchemes == nil {
		out.Components.SecuritySchemes = map[string]SecurityScheme{}
	}
	names := make([]string, 0, len(services))
	docs := map[string]*Document{}
	for name, d := range services {
		var c Document
		if err := clone(d, &c); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", name, err)
		}
		names = append(names, name)
		docs[name] = &c
	}
	sort.Strings(names)

	// Which component names clash: defined by two owners (the base included) differently.
	defs := map[string]map[string]string{} // name → owner → JSON
	note := func(owner string, comps map[string]map[string]any) {
		for n, s := range comps {
			raw, _ := json.Marshal(s)
			if defs[n] == nil {
				defs[n] = map[string]string{}
			}
			defs[n][owner] = string(raw)
		}
	}
	note("", out.Components.Schemas)
	for _, n := range names {
		note(n, docs[n].Components.Schemas)
	}
	clash := map[string]bool{}
	for n, owners := range defs {
		first := ""
		for _, raw := range owners {
			if first == "" {
				first = raw
			} else if raw != first {
				clash[n] = true
			}
		}
	}

	var unrouted []string
	for _, svc := range names {
		d := docs[svc]
		rename := map[string]string{}
		for n := range d.Components.Schemas {
			if clash[n] {
				rename[componentRef+n] = componentRef + svc + "." + n
			}
		}
		for n, s := range d.Components.Schemas {
			renameRefs(s, rename)
			key := n
			if clash[n] {
				key = svc + "." + n
			}
			out.Components.Schemas[key] = s
		}
		for k, v := range d.Components.SecuritySchemes {
			out.Components.SecuritySchemes[k] = v
		}
		out.Tags = append(out.Tags, d.Tags...)
		paths := make([]string, 0, len(d.Paths))
		for p := range d.Paths {
			paths = append(paths, p)
		}
		sort.Strings(paths)
		for _, p := range paths {
			if !strings.HasPrefix(p, "/api/v1/") {
				continue // the service's own and internal paths: never routed by the gateway
			}
			item := d.Paths[p]
			for method, op := range item.operations() {
				if !keep(p, svc) {
					unrouted = append(unrouted, fmt.Sprintf("%s %s (%s)", method, p, svc))
					continue
				}
				renameOpRefs(op, rename)
				into := out.Paths[p]
				if into == nil {
					into = &PathItem{}
					out.Paths[p] = into
				}
				slot := into.slot(method)
				if *slot != nil {
					return nil, nil, fmt.Errorf("%s %s described by %s and %s", method, p, (*slot).Service, svc)
				}
				*slot = op
			}
		}
	}
	sort.Strings(unrouted)
	return &out, unrouted, nil
}

// Operations lists every operation of doc as "METHOD path", sorted.
func Operations(doc *Document) []string {
	var out []string
	for p, item := range doc.Paths {
		for m := range item.operations() {
			out = append(out, m+" "+p)
		}
	}
	sort.Strings(out)
	return out
}

// Each calls fn for every operation of doc.
func Each(doc *Document, fn func(method, path string, op *Operation)) {
	for p, item := range doc.Paths {
		for m, op := range item.operations() {
			fn(m, p, op)
		}
	}
}

func renameOpRefs(op *Operation, rename map[string]string) {
	if len(rename) == 0 {
		return
	}
	for _, p := range op.Parameters {
		renameRefs(p.Schema, rename)
	}
	if op.RequestBody != nil {
		for _, m := range op.RequestBody.Content {
			renameRefs(m.Schema, rename)
		}
	}
	for _, r := range op.Responses {
		for _, m := range r.Content {
			renameRefs(m.Schema, rename)
		}
	}
}

func renameRefs(v any, rename map[string]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if s, ok := e.(string); ok && k == "$ref" {
				if to, ok := rename[s]; ok {
					x[k] = to
				}
				continue
			}
			renameRefs(e, rename)
		}
	case []any:
		for _, e := range x {
			renameRefs(e, rename)
		}
	}
}

// clone deep-copies a document through its JSON form.
func clone(in *Document, out *Document) error {
	if in == nil {
		return nil
	}
	raw, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("api: copy document: %w", err)
	}
	return json.Unmarshal(raw, out)
}

package gateway

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/platform/api"
)

// Component names of the WebSocket's messages in the merged document.
const (
	wsServerSchema = "WSServerMessage"
	wsClientSchema = "WSClientMessage"
)

// wsPushSchema names the component of one push type ("WSPush_oferta").
func wsPushSchema(typ string) string { return "WSPush_" + typ }

// describeWS adds the WebSocket's messages to the merged document: the hub's own
// messages reflected from their Go types (ws.go), one schema per push type whose data
// refers to the sending service's component (realtime.Kinds), WSServerMessage and
// WSClientMessage as the unions a client receives and sends, and the 101 answer of
// GET /api/v1/ws pointing at them, so /docs shows every frame. It returns the push types
// whose data schema the services' documents lack (a service without a document yet, or
// a Kind naming a schema its service does not have): their data is left open.
func describeWS(doc *api.Document) ([]string, error) {
	r := &jsonschema.Reflector{Anonymous: true, DoNotReference: true, ExpandedStruct: true}
	reflectTo := func(name string, v any) error {
		raw, err := json.Marshal(r.ReflectFromType(reflect.TypeOf(v)))
		if err != nil {
			return err
		}
		var s map[string]any
		if err := json.Unmarshal(raw, &s); err != nil {
			return err
		}
		delete(s, "$schema") // a component is part of the document, not a schema resource
		doc.Components.Schemas[name] = s
		return nil
	}
	own := []struct {
		name string
		v    any
	}{{"WSAuthMessage", WSAuthMessage{}}, {"WSPingMessage", WSPingMessage{}}, {"WSPongMessage", WSPongMessage{}},
		{"WSConnectedMessage", WSConnectedMessage{}}}
	for _, o := range own {
		if err := reflectTo(o.name, o.v); err != nil {
			return nil, fmt.Errorf("gateway docs: %s: %w", o.name, err)
		}
	}
	ref := func(name string) map[string]any { return map[string]any{"$ref": "#/components/schemas/" + name} }
	server := []any{ref("WSConnectedMessage"), ref("WSPongMessage")}
	var open []string
	for _, k := range realtime.Kinds() {
		var data map[string]any
		switch {
		case k.Data != nil:
			name := "WS" + reflect.TypeOf(k.Data).Name()
			if err := reflectTo(name, k.Data); err != nil {
				return nil, fmt.Errorf("gateway docs: %s: %w", name, err)
			}
			data = ref(name)
		default:
			// api.Merge renames a component two services define differently to
			// "<service>.<name>"; the plain name is the sender's otherwise.
			for _, name := range []string{k.Service + "." + k.Schema, k.Schema} {
				if _, ok := doc.Components.Schemas[name]; ok {
					data = ref(name)
					break
				}
			}
			if data == nil {
				open = append(open, k.Type)
				data = map[string]any{"description": fmt.Sprintf("%s's %s (its document is not available)", k.Service, k.Schema)}
			}
		}
		doc.Components.Schemas[wsPushSchema(k.Type)] = map[string]any{
			"type":        "object",
			"description": fmt.Sprintf("Push from %s: %s.", k.Service, k.Summary),
			"required":    []string{"type", "data"},
			"properties": map[string]any{
				"type": map[string]any{"type": "string", "enum": []string{k.Type}},
				"data": data,
			},
		}
		server = append(server, ref(wsPushSchema(k.Type)))
	}
	doc.Components.Schemas[wsServerSchema] = map[string]any{
		"description": "A JSON text frame the server sends: connected first, then pushes and pongs.",
		"oneOf":       server,
	}
	doc.Components.Schemas[wsClientSchema] = map[string]any{
		"description": "A JSON text frame the client sends: auth (first, unless the token came with the upgrade) and ping.",
		"oneOf":       []any{ref("WSAuthMessage"), ref("WSPingMessage")},
	}
	item := doc.Paths[APIPrefix+"/ws"]
	if item == nil || item.Get == nil {
		return nil, fmt.Errorf("gateway docs: no GET %s/ws to describe", APIPrefix)
	}
	var closes []string
	for _, c := range wsCloseReasons {
		closes = append(closes, fmt.Sprintf("%d %s", c.Code, c.Reasons))
	}
	item.Get.Responses["101"] = &api.Response{
		Description: "Switching protocols. The server then sends " + wsServerSchema + " frames (this schema) and reads " +
			wsClientSchema + " frames (see Schemas). Errors are close frames: " + strings.Join(closes, "; ") + ".",
		Content: map[string]api.MediaType{"application/json": {Schema: ref(wsServerSchema)}},
	}
	return open, nil
}

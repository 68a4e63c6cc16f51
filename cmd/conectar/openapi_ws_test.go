package main

import (
	"encoding/json"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// checkFrame validates one WebSocket frame the server sent against the document's
// WSServerMessage (gateway/docs_ws.go): the connected message, pongs, and every push
// with its data described by the sending service's schema. dialWS runs it on every
// frame, so the system tests check the realtime half of the contract as they use it.
func (c *contract) checkFrame(frame []byte) {
	c.rep.Helper()
	ref := c.doc.Components.Schemas["WSServerMessage"]
	if ref == nil || ref.Value == nil {
		c.rep.Errorf("contract: the document has no WSServerMessage schema")
		return
	}
	var v any
	if err := json.Unmarshal(frame, &v); err != nil {
		c.rep.Errorf("contract: websocket frame is not JSON: %v\n%s", err, clip(frame))
		return
	}
	if err := ref.Value.VisitJSON(v, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		c.rep.Errorf("contract: websocket frame does not match WSServerMessage: %v\n%s", err, clip(frame))
	}
}

// checkPushesDescribed fails when the document leaves a push type's data open (its
// service published no document, or realtime.Kinds names a schema the service lacks):
// checkFrame would then accept anything as that push's data.
func (c *contract) checkPushesDescribed() {
	c.rep.Helper()
	const open = "WebSocket pushes without a data schema"
	if i := strings.Index(c.doc.Info.Description, open); i >= 0 {
		c.rep.Errorf("contract: %s", c.doc.Info.Description[i:])
	}
}

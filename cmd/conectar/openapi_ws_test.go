package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

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

// TestSystemHelpersUseTheContract: the system tests' helpers report what the document
// does not describe (s.call), s.raw does not, and a WebSocket frame the document does
// not describe is reported too — so the green system tests mean something.
func TestSystemHelpersUseTheContract(t *testing.T) {
	sys := startSystem(t, nil)
	rec := &recorder{}
	sys.contract.rep = rec
	sys.call(http.MethodGet, "/api/v1/auth/no-such-call", "", nil)
	if got := rec.since(0); len(got) != 1 || !strings.Contains(got[0], "not in the document") {
		t.Errorf("s.call of an undocumented route: reported %q", got)
	}
	before := rec.count()
	sys.raw(http.MethodGet, "/api/v1/auth/no-such-call", "", nil)
	if got := rec.since(before); len(got) != 0 {
		t.Errorf("s.raw was checked: %q", got)
	}
	before = rec.count()
	for _, f := range []string{`{"type":"connected","data":{"user_id":"u"}}`, `{"type":"pong"}`,
		`{"type":"leido","data":{"chat_id":"c","reader_id":"r"}}`} {
		sys.contract.checkFrame([]byte(f))
	}
	if got := rec.since(before); len(got) != 0 {
		t.Errorf("documented frames reported: %q", got)
	}
	for _, f := range []string{`{"type":"connected"}`, `{"type":"made_up","data":{}}`, `{"type":"leido","data":{"chat_id":1}}`} {
		before = rec.count()
		sys.contract.checkFrame([]byte(f))
		if got := rec.since(before); len(got) != 1 || !strings.Contains(got[0], "does not match WSServerMessage") {
			t.Errorf("frame %s: reported %q", f, got)
		}
	}
}

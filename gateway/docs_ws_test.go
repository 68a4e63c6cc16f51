package gateway

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/platform/api"
)

// Stand-ins for the services' push data types: the document names components by Go
// type name, as the real services' documents do.
type (
	Message          struct{ Texto string }
	Oferta           struct{ Estado string }
	Trabajo          struct{ Estado string }
	MensajeDisputa   struct{ Texto string }
	NotificationRead struct{ Titulo string }
)

func TestWebSocketMessagesDocumented(t *testing.T) {
	router, err := NewRouter(Routes())
	if err != nil {
		t.Fatal(err)
	}
	exempt, err := NewRouter(tokenExemptRoutes())
	if err != nil {
		t.Fatal(err)
	}
	d := &docs{routes: Routes(), router: router, exempt: exempt}
	h := func(*fiber.Ctx) error { return nil }
	market := api.Describe(api.Config{Service: SvcMarketplace, Auth: h})
	for i, v := range []any{Message{}, Oferta{}, Trabajo{}, MensajeDisputa{}} {
		market.Add(api.Op{Method: "GET", Path: "/api/v1/chat/" + string(rune('a'+i)), Access: api.Public,
			Answers: []api.Answer{api.JSON(200, v, "")}, Handler: h})
	}
	mdoc, err := market.Document()
	if err != nil {
		t.Fatal(err)
	}

	// Without the notifications document, its push is left open and the document says so.
	doc, err := d.merge(map[string]*api.Document{SvcMarketplace: mdoc})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(doc.Info.Description, "WebSocket pushes without a data schema**: "+realtime.TypeNotification+".") {
		t.Errorf("the open notification push is not reported: %s", doc.Info.Description)
	}

	notif := api.Describe(api.Config{Service: SvcNotifications, Auth: h})
	notif.Add(api.Op{Method: "GET", Path: "/api/v1/notificaciones/x", Access: api.Public,
		Answers: []api.Answer{api.JSON(200, NotificationRead{}, "")}, Handler: h})
	ndoc, err := notif.Document()
	if err != nil {
		t.Fatal(err)
	}
	doc, err = d.merge(map[string]*api.Document{SvcMarketplace: mdoc, SvcNotifications: ndoc})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(doc.Info.Description, "without a data schema") {
		t.Errorf("every push has its data schema, yet: %s", doc.Info.Description)
	}
	ok := doc.Paths[APIPrefix+"/ws"].Get.Responses["101"]
	if ok == nil || ok.Content["application/json"].Schema["$ref"] != "#/components/schemas/"+wsServerSchema {
		t.Fatalf("GET /ws 101 does not show the server's messages: %+v", ok)
	}
	comps := doc.Components.Schemas
	for _, k := range realtime.Kinds() {
		s := comps[wsPushSchema(k.Type)]
		raw, _ := json.Marshal(s)
		ref, _ := s["properties"].(map[string]any)["data"].(map[string]any)["$ref"].(string)
		name := strings.TrimPrefix(ref, "#/components/schemas/")
		if ref == "" || comps[name] == nil {
			t.Errorf("push %s: data refers to no component: %s", k.Type, raw)
		}
		if !strings.Contains(string(raw), `"enum":["`+k.Type+`"]`) {
			t.Errorf("push %s: type is not pinned: %s", k.Type, raw)
		}
	}
	// The hub's own messages come from the types it encodes and decodes.
	auth, _ := json.Marshal(comps["WSAuthMessage"])
	if !strings.Contains(string(auth), `"token"`) || !strings.Contains(string(auth), `"enum":["auth"]`) {
		t.Errorf("WSAuthMessage: %s", auth)
	}
	hello, _ := json.Marshal(comps["WSConnectedMessage"])
	if !strings.Contains(string(hello), `"user_id"`) {
		t.Errorf("WSConnectedMessage: %s", hello)
	}
	for _, u := range []string{wsServerSchema, wsClientSchema, "WSReadReceipt"} {
		if comps[u] == nil {
			t.Errorf("no %s component", u)
		}
	}
}

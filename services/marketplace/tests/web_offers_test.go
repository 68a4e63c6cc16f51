package tests

import (
	"strings"
	"testing"

	"github.com/conectarpro/conectar/events"
)

// getList reads a JSON array answer into a fresh slice (decoding into a used one would
// merge old keys into its maps).
func (h *harness) getList(path, token string) []map[string]any {
	h.t.Helper()
	var out []map[string]any
	h.want(200, "GET", path, token, nil).Decode(h.t, &out)
	return out
}

// TestWebOffers drives the offers the way the web frontend does, under /chat_ofertas:
// the same rules as our paths, answers shaped for its pages.
func TestWebOffers(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	pro2 := h.newPro("Pedro", "APROBADO", "")
	stranger := h.newUser("CLIENTE", "Eva")
	chat := h.chatBetween(cli, pro)
	const base = "/api/v1/chat_ofertas/ofertas"
	body := func(cliente, chatID string) map[string]any {
		return map[string]any{"cliente_id": cliente, "chat_id": chatID, "descripcion": "Cambio de cañería completa del baño", "precio_final": 1500.5}
	}

	// The chat page sends cliente_id "": the chat names the client.
	h.want(403, "POST", base, cli.Token, body("", chat))         // clients do not offer
	h.want(403, "POST", base, pro2.Token, body("", chat))        // not a participant
	h.want(422, "POST", base, pro.Token, body("", "no-es-uuid")) // malformed chat
	asClient := h.chatBetween(pro2, pro)                         // pro2 hires pro: pro2 is this chat's client
	if r := h.want(400, "POST", base, pro2.Token, body("", asClient)).Map(t); !strings.Contains(r["detail"].(string), "profesional") {
		t.Fatalf("offer from the client side of a chat: %v", r)
	}
	if n := h.count(events.StreamMarketplace, events.SubjOfferCreated); n != 0 {
		t.Fatalf("refused offers published %d events", n)
	}
	o := h.want(201, "POST", base, pro.Token, body("", chat)).Map(t)
	if o["cliente_id"] != cli.ID || o["estado"] != "OFERTADO" || o["precio"] != 1500.5 || o["precio_final"] != 1500.5 ||
		o["created_at"] != o["fecha_creacion"] || o["updated_at"] != o["fecha_actualizacion"] || o["created_at"] == nil {
		t.Fatalf("created offer: %v", o)
	}
	if o["profesional_nombre"] != "Juan" || o["profesional_apellido"] != "Test" || o["cliente_nombre"] != "Ana" ||
		o["cliente_apellido"] != "Test" || o["profesional_rating"] != float64(0) || o["profesional_avatar_url"] != nil {
		t.Fatalf("offer not enriched with both sides: %v", o)
	}
	oid := o["id"].(string)

	// The avatar comes from the replica, absolute for img src.
	h.publish("users", pro.ID, events.UserProfileUpdatedV1{UserID: pro.ID, Nombre: "Juan", Apellido: "Pérez", AvatarURL: "/api/v1/users/avatars/juan.png"})
	h.eventually("avatar replicated", func() bool {
		got := h.want(200, "GET", base+"/"+oid, cli.Token, nil).Map(t)
		return got["profesional_avatar_url"] == publicURL+"/api/v1/users/avatars/juan.png" && got["profesional_apellido"] == "Pérez"
	})

	// Offers of one chat: participants only; a chat without offers is an empty list.
	list := h.getList(base+"/chat/"+chat, cli.Token)
	if len(list) != 1 || list[0]["id"] != oid || list[0]["profesional_nombre"] != "Juan" {
		t.Fatalf("offers of the chat: %v", list)
	}
	h.want(403, "GET", base+"/chat/"+chat, stranger.Token, nil)
	h.want(404, "GET", base+"/chat/6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11", cli.Token, nil)
	list = h.getList(base+"/chat/"+asClient, pro.Token)
	if list == nil || len(list) != 0 {
		t.Fatalf("a chat without offers: %v", list)
	}

	// Edit: only its professional, only while open, with the creation rules.
	edit := base + "/" + oid
	h.want(403, "PUT", edit, cli.Token, map[string]any{"precio_final": 2000})
	h.want(403, "PUT", edit, pro2.Token, map[string]any{"precio_final": 2000})
	if r := h.want(422, "PUT", edit, pro.Token, map[string]any{}).Map(t); !strings.Contains(r["detail"].(string), "precio") {
		t.Fatalf("empty edit: %v", r)
	}
	h.want(422, "PUT", edit, pro.Token, map[string]any{"descripcion": "corto"})
	h.want(422, "PUT", edit, pro.Token, map[string]any{"precio_final": 0})
	e := h.want(200, "PUT", edit, pro.Token, map[string]any{"precio_final": 2000}).Map(t)
	if e["precio_final"] != float64(2000) || e["precio"] != float64(2000) || e["descripcion"] != "Cambio de cañería completa del baño" ||
		e["estado"] != "OFERTADO" || e["expires_at"] != o["expires_at"] {
		t.Fatalf("edited offer: %v", e)
	}
	h.want(200, "PUT", edit, pro.Token, map[string]any{"precio_final": 2000}) // no change: no event, no note
	h.waitCount(events.StreamMarketplace, events.SubjOfferUpdated, 1)
	if ev := lastEvent[events.OfferUpdatedV1](h, events.StreamMarketplace); ev.PrecioCentavos != 200000 || ev.PrecioAnteriorCentavos != 150050 || ev.ClienteID != cli.ID {
		t.Fatalf("OfferUpdated: %+v", ev)
	}
	msgs := h.messages(chat, cli)
	if msgs[0]["type"] != "info" || msgs[0]["text"] != "✏️ El profesional modificó la oferta: $2000.00 (antes $1500.50)" {
		t.Fatalf("edit note: %v", msgs[0])
	}
	if msgs[1]["type"] != "oferta" || msgs[1]["precio_final"] != float64(2000) {
		t.Fatalf("the offer's message shows the new price: %v", msgs[1])
	}

	// Withdraw: RETIRADO stays ours; the web's pages only know EXPIRADO.
	o2 := h.want(201, "POST", base, pro.Token, body(cli.ID, chat)).Map(t)
	oid2 := o2["id"].(string)
	if r := h.want(200, "DELETE", base+"/"+oid2, pro.Token, nil).Map(t); r["estado"] != "EXPIRADO" {
		t.Fatalf("withdrawn offer on the web's path: %v", r)
	}
	if r := h.want(200, "GET", "/api/v1/ofertas/"+oid2, pro.Token, nil).Map(t); r["estado"] != "RETIRADO" {
		t.Fatalf("withdrawn offer on our path: %v", r)
	}
	h.want(400, "PUT", base+"/"+oid2, pro.Token, map[string]any{"precio_final": 10})
	list = h.getList(base, pro.Token)
	if len(list) != 2 {
		t.Fatalf("pro's offers: %v", list)
	}
	for _, x := range list {
		if x["estado"] != "OFERTADO" && x["estado"] != "EXPIRADO" {
			t.Fatalf("a state the web page does not know: %v", x)
		}
		if x["cliente_nombre"] != "Ana" {
			t.Fatalf("the professional's page reads cliente_nombre: %v", x)
		}
	}
	list = h.getList(base+"?estado=EXPIRADO", pro.Token)
	if len(list) != 1 || list[0]["id"] != oid2 {
		t.Fatalf("web filter EXPIRADO covers withdrawn offers: %v", list)
	}
	list = h.getList("/api/v1/ofertas?estado=EXPIRADO", pro.Token)
	if len(list) != 0 {
		t.Fatalf("our filter keeps the stored words: %v", list)
	}

	// Timelines from the recorded history.
	tl := h.want(200, "GET", base+"/"+oid2+"/timeline", cli.Token, nil).Map(t)
	steps := tl["timeline"].([]any)
	if tl["oferta_id"] != oid2 || tl["estado_actual"] != "EXPIRADO" || len(steps) != 2 ||
		steps[0].(map[string]any)["evento"] != "CREADA" || steps[1].(map[string]any)["evento"] != "RETIRADA" ||
		steps[1].(map[string]any)["estado"] != "EXPIRADO" || steps[1].(map[string]any)["fecha"] == nil {
		t.Fatalf("web timeline: %v", tl)
	}
	if ours := h.want(200, "GET", "/api/v1/ofertas/"+oid2+"/timeline", cli.Token, nil).Map(t); ours["estado_actual"] != "RETIRADO" {
		t.Fatalf("our timeline: %v", ours)
	}
	h.want(403, "GET", base+"/"+oid2+"/timeline", stranger.Token, nil)

	// Reject and accept from the chat page.
	o3 := h.want(201, "POST", base, pro.Token, body("", chat)).Map(t)
	h.want(403, "POST", base+"/"+o3["id"].(string)+"/reject", pro.Token, nil)
	if r := h.want(200, "POST", base+"/"+o3["id"].(string)+"/reject", cli.Token, nil).Map(t); r["estado"] != "RECHAZADO" {
		t.Fatalf("reject: %v", r)
	}
	h.want(403, "PUT", base+"/"+oid+"/accept", pro.Token, nil)
	acc := h.want(200, "PUT", base+"/"+oid+"/accept", cli.Token, nil).Map(t)
	if acc["payment_url"] == nil || acc["trabajo_id"] == nil || acc["oferta"].(map[string]any)["estado"] != "ACEPTADO" ||
		acc["oferta"].(map[string]any)["profesional_nombre"] != "Juan" {
		t.Fatalf("accept: %v", acc)
	}
	h.want(400, "PUT", edit, pro.Token, map[string]any{"precio_final": 10}) // accepted: frozen
	tl = h.want(200, "GET", base+"/"+oid+"/timeline", pro.Token, nil).Map(t)
	var evs []string
	for _, s := range tl["timeline"].([]any) {
		evs = append(evs, s.(map[string]any)["evento"].(string))
	}
	if strings.Join(evs, ",") != "CREADA,ACTUALIZADA,ACEPTADA" || tl["estado_actual"] != "ACEPTADO" {
		t.Fatalf("accepted offer's history: %v", tl)
	}
	h.waitCount(events.StreamMarketplace, events.SubjOfferUpdated, 1)
}

// TestOfferHistoryOfFailedCheckout: the compensation of a failed checkout reopens the
// offer, and its history says so.
func TestOfferHistoryOfFailedCheckout(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	oid, _ := h.offer(cli, pro, 5000)
	h.pay.setMode("fail")
	h.want(502, "PUT", "/api/v1/chat_ofertas/ofertas/"+oid+"/accept", cli.Token, nil)
	tl := h.want(200, "GET", "/api/v1/chat_ofertas/ofertas/"+oid+"/timeline", cli.Token, nil).Map(t)
	var evs []string
	for _, s := range tl["timeline"].([]any) {
		step := s.(map[string]any)
		evs = append(evs, step["evento"].(string))
		if step["evento"] == "REABIERTA" && step["usuario_id"] != nil {
			t.Fatalf("a system step names a user: %v", step)
		}
	}
	if strings.Join(evs, ",") != "CREADA,ACEPTADA,REABIERTA" || tl["estado_actual"] != "OFERTADO" {
		t.Fatalf("history of a failed checkout: %v", tl)
	}
}

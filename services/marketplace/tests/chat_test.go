package tests

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/marketplace/moderation"
)

func TestChatConversationsMessagesAndRealtime(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	stranger := h.newUser("CLIENTE", "Eva")

	// Idempotent creation: 201 the first time, 200 with the same id afterwards, from
	// either side and through every path.
	r := h.want(201, "POST", "/api/v1/chat/conversations", cli.Token, map[string]any{"profesional_id": pro.ID})
	chat := r.Map(t)["chat_id"].(string)
	if r.Map(t)["profesional_nombre"] != "Juan Test" || r.Map(t)["cliente_nombre"] != "Ana Test" {
		t.Fatalf("names: %s", r.Body)
	}
	for _, c := range []struct {
		path string
		tok  string
		body map[string]any
	}{
		{"/api/v1/chat/conversations", pro.Token, map[string]any{"cliente_id": cli.ID}},
		{"/api/v1/chat/create", cli.Token, map[string]any{"cliente_id": cli.ID, "profesional_id": pro.ID}},
		{"/api/v1/cliente/chat/create", cli.Token, map[string]any{"profesional_id": pro.ID}},
	} {
		if got := h.want(200, "POST", c.path, c.tok, c.body).Map(t)["chat_id"]; got != chat {
			t.Fatalf("%s: chat %v, want %s", c.path, got, chat)
		}
	}
	h.waitCount(events.StreamMarketplace, events.SubjConversationStarted, 1)
	// Refusals.
	h.want(403, "POST", "/api/v1/chat/create", stranger.Token, map[string]any{"cliente_id": cli.ID, "profesional_id": pro.ID})
	h.want(400, "POST", "/api/v1/chat/conversations", cli.Token, map[string]any{"profesional_id": stranger.ID}) // not a professional
	h.want(404, "POST", "/api/v1/chat/conversations", cli.Token, map[string]any{"profesional_id": "6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11"})
	h.want(422, "POST", "/api/v1/chat/conversations", cli.Token, map[string]any{"profesional_id": "nope"})
	h.want(401, "GET", "/api/v1/chat/my-chats", "", nil)

	// Realtime: the professional's subject receives what the client sends.
	sub, err := h.env.NATS.NC.SubscribeSync(events.RealtimeSubject(pro.ID))
	if err != nil {
		t.Fatal(err)
	}
	sent := h.want(201, "POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": "Hola Juan, ¿podés venir el martes?"}).Map(t)
	deadline := time.Now().Add(3 * time.Second)
	got := false
	for time.Now().Before(deadline) && !got {
		msg, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		var push struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(msg.Data, &push)
		got = push.Type == "message" && push.Data["id"] == sent["id"] && push.Data["text"] == "Hola Juan, ¿podés venir el martes?"
	}
	if !got {
		t.Fatal("the professional did not receive the client's message on rt.user.<id>")
	}
	if sent["sender_nombre"] != "Ana Test" || sent["type"] != "text" || sent["read"] != false {
		t.Fatalf("message shape: %v", sent)
	}

	// Both paths send; non-participants are refused; bad text is 422.
	h.want(201, "POST", "/api/v1/chat/send-message", pro.Token, map[string]any{"chat_id": chat, "text": "Sí, lo hago en 3 horas por la mañana"})
	h.want(403, "POST", "/api/v1/chat/"+chat+"/messages", stranger.Token, map[string]any{"text": "hola"})
	h.want(403, "GET", "/api/v1/chat/"+chat+"/messages", stranger.Token, nil)
	h.want(422, "POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": "   "})
	long := make([]byte, 2001)
	for i := range long {
		long[i] = 'a'
	}
	h.want(422, "POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": string(long)})
	h.want(404, "POST", "/api/v1/chat/6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11/messages", cli.Token, map[string]any{"text": "hola"})

	// Unread counts and read marks.
	if n := h.want(200, "GET", "/api/v1/chat/unread-count", pro.Token, nil).Map(t)["unread_count"]; n != float64(1) {
		t.Fatalf("pro unread %v, want 1", n)
	}
	list := h.want(200, "GET", "/api/v1/chat/my-chats", cli.Token, nil).Map(t)
	if list["total_unread"] != float64(1) || len(list["chats"].([]any)) != 1 {
		t.Fatalf("client chats: %v", list)
	}
	h.want(204, "POST", "/api/v1/chat/mark-read/"+chat, pro.Token, nil)
	if n := h.want(200, "GET", "/api/v1/chat/unread-count", pro.Token, nil).Map(t)["unread_count"]; n != float64(0) {
		t.Fatalf("pro unread after read %v, want 0", n)
	}
	h.want(403, "POST", "/api/v1/chat/mark-read/"+chat, stranger.Token, nil)

	// Keyset pagination: newest first, `before` continues without gaps or repeats.
	for i := 0; i < 5; i++ {
		h.want(201, "POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": "mensaje " + string(rune('A'+i))})
	}
	var page1, page2 []map[string]any
	h.want(200, "GET", "/api/v1/chat/"+chat+"/messages?limit=4", cli.Token, nil).Decode(t, &page1)
	if len(page1) != 4 || page1[0]["text"] != "mensaje E" {
		t.Fatalf("page1: %v", page1)
	}
	h.want(200, "GET", "/api/v1/chat/messages/"+chat+"?limit=4&before="+page1[3]["id"].(string), cli.Token, nil).Decode(t, &page2)
	if len(page2) != 3 || page2[0]["text"] != "mensaje A" || page2[2]["text"] != "Hola Juan, ¿podés venir el martes?" {
		t.Fatalf("page2: %v", page2)
	}
	h.want(422, "GET", "/api/v1/chat/"+chat+"/messages?limit=101", cli.Token, nil)
}

func TestChatModerationStrikesAndBan(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	chat := h.chatBetween(cli, pro)

	raw := "Llamame al 11 4567-8901 y arreglamos por afuera"
	m := h.want(201, "POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": raw}).Map(t)
	if m["text"] != moderation.Censored || m["censurado"] != true {
		t.Fatalf("not censored: %v", m)
	}
	h.want(201, "POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": "El presupuesto sería de $15.000, ¿te sirve el 15/03?"})
	msgs := h.messages(chat, pro)
	if msgs[0]["text"] != "El presupuesto sería de $15.000, ¿te sirve el 15/03?" || msgs[1]["text"] != moderation.Censored {
		t.Fatalf("stored texts: %v", msgs)
	}
	// The original is never stored, only its hash.
	var hash string
	var stored int
	conn := pgConn(t, h)
	if err := conn.QueryRow(context.Background(), `SELECT original_hash, (SELECT count(*) FROM marketplace.mensajes WHERE texto LIKE '%4567%') FROM marketplace.mensajes WHERE censurado`).Scan(&hash, &stored); err != nil {
		t.Fatal(err)
	}
	if hash != moderation.Hash(raw) || stored != 0 {
		t.Fatalf("hash %q stored-originals %d", hash, stored)
	}
	h.waitCount(events.StreamMarketplace, events.SubjChatInfractionDetected, 1)
	h.waitCount(events.StreamMarketplace, events.SubjMessageSent, 2)
	inf := lastEvent[events.ChatInfractionDetectedV1](h, events.StreamMarketplace)
	if inf.UserID != cli.ID || inf.ChatID != chat || inf.Motivo != "phone" {
		t.Fatalf("infraction: %+v", inf)
	}
	sentEv := lastEvent[events.MessageSentV1](h, events.StreamMarketplace)
	if sentEv.Text == raw {
		t.Fatal("MessageSent must never carry a censored original")
	}

	// The webhook: missing key 422, wrong key 401, right key adds a strike.
	hdr := func(k string) map[string]string {
		if k == "" {
			return nil
		}
		return map[string]string{"X-API-Key": k}
	}
	body := map[string]any{"user_id": cli.ID, "reason": "contacto por imagen"}
	if r := doAt(t, h.base, "POST", "/api/v1/webhook/chat/infraction", "", body, hdr("")); r.Status != 422 {
		t.Fatalf("no key: %d", r.Status)
	}
	if r := doAt(t, h.base, "POST", "/api/v1/webhook/chat/infraction", "", body, hdr("wrong")); r.Status != 401 {
		t.Fatalf("wrong key: %d", r.Status)
	}
	if r := doAt(t, h.base, "POST", "/api/v1/webhook/chat/infraction", "", body, hdr("test-webhook-key")); r.Status != 202 {
		t.Fatalf("right key: %d %s", r.Status, r.Body)
	}
	if r := doAt(t, h.base, "POST", "/api/v1/webhook/chat/infraction", "", map[string]any{"user_id": "6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11"}, hdr("test-webhook-key")); r.Status != 404 {
		t.Fatalf("unknown user: %d", r.Status)
	}
	h.waitCount(events.StreamMarketplace, events.SubjChatInfractionDetected, 2)

	// users bans at 3 strikes: UserChatBanned → sending is refused with 403; reading works.
	h.publish("users", cli.ID, events.UserChatBannedV1{UserID: cli.ID, Infracciones: 3})
	h.eventually("chat ban applied", func() bool {
		return h.do("POST", "/api/v1/chat/"+chat+"/messages", cli.Token, map[string]any{"text": "hola?"}).Status == 403
	})
	h.want(200, "GET", "/api/v1/chat/"+chat+"/messages", cli.Token, nil)
	h.want(201, "POST", "/api/v1/chat/"+chat+"/messages", pro.Token, map[string]any{"text": "¿Seguís ahí?"})
}

// TestReplicasFromEvents: names and roles come from identity events; the directory is
// never asked once the replica has them.
func TestReplicasFromEvents(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newUser("PROFESIONAL", "Juan")
	// Only events know these users: remove them from the directory.
	h.dir.mu.Lock()
	delete(h.dir.users, cli.ID)
	delete(h.dir.users, pro.ID)
	h.dir.mu.Unlock()
	h.publish("auth", cli.ID, events.UserRegisteredV1{UserID: cli.ID, Email: cli.Email, Nombre: "Ana", Apellido: "López", Rol: "CLIENTE"})
	h.publish("auth", pro.ID, events.UserRegisteredV1{UserID: pro.ID, Email: pro.Email, Nombre: "Juan", Apellido: "Pérez", Rol: "PROFESIONAL"})
	upd := h.publish("users", pro.ID, events.UserProfileUpdatedV1{UserID: pro.ID, Nombre: "Juan Carlos", Apellido: "Pérez"})
	publishEnv(t, h.env.NATS.JS, upd, upd.ID.String()+"-again") // a redelivery
	var chat map[string]any
	h.eventually("conversation with replicated users", func() bool {
		r := h.do("POST", "/api/v1/chat/conversations", cli.Token, map[string]any{"profesional_id": pro.ID})
		if r.Status != 201 && r.Status != 200 {
			return false
		}
		chat = r.Map(t)
		return chat["profesional_nombre"] == "Juan Carlos Pérez"
	})
	if chat["cliente_nombre"] != "Ana López" {
		t.Fatalf("client name %v", chat["cliente_nombre"])
	}
}

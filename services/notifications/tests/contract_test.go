package tests

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// The web frontend's notification calls (issue #10): PUT forms of mark-read, delete one,
// clear read, the unread counter, the list's fecha_creacion/metadata and its tipo and
// page parameters, on both the Spanish and the English prefix.
func TestFrontendNotificationCalls(t *testing.T) {
	h := start(t, nil)
	a, _ := h.register("CLIENTE", "Ana")
	b, _ := h.register("CLIENTE", "Beto")
	ta, tb := h.token(a, "CLIENTE"), h.token(b, "CLIENTE")
	job, chat := uuid.NewString(), uuid.NewString()
	h.publish(events.JobStartedV1{TrabajoID: job, ClienteID: a, ProfesionalID: b})
	h.publish(events.OfferCreatedV1{OfertaID: uuid.NewString(), ChatID: chat, ClienteID: a, ProfesionalID: b,
		Descripcion: "Arreglo de persiana", PrecioCentavos: 1234500})
	testkit.Eventually(t, 10*time.Second, "three for a", func() bool { return h.list(a, "CLIENTE", "").Total == 3 })

	// The list carries the frontend's names with the same values.
	all := h.list(a, "CLIENTE", "")
	for _, n := range all.Notificaciones {
		if n.FechaCreacion.IsZero() || !n.FechaCreacion.Equal(n.CreatedAt) || !reflect.DeepEqual(n.Metadata, n.Data) {
			t.Fatalf("aliases differ: %+v", n)
		}
	}
	jobN := h.withEvento(a, "trabajo_iniciado")[0]
	if jobN.Metadata["url"] != "/trabajos/"+job {
		t.Fatalf("metadata.url %v", jobN.Metadata["url"])
	}

	// ?tipo filters the list and its total; no_leidas stays the whole badge.
	l := h.list(a, "CLIENTE", "?tipo=trabajo")
	if l.Total != 1 || len(l.Notificaciones) != 1 || l.Notificaciones[0].Tipo != "trabajo" || l.NoLeidas != 3 {
		t.Fatalf("tipo=trabajo: %+v", l)
	}
	if l := h.list(a, "CLIENTE", "?tipo=pago"); l.Total != 0 || len(l.Notificaciones) != 0 {
		t.Fatalf("tipo=pago: %+v", l)
	}
	h.expect(h.do("GET", "/api/v1/notificaciones?tipo=promocion", ta, nil), 422)
	// ?page with limit pages like skip.
	var raw map[string]any
	h.expect(h.do("GET", "/api/v1/notificaciones?page=2&limit=1", ta, nil), 200).Decode(t, &raw)
	if raw["page"] != float64(2) || raw["limit"] != float64(1) {
		t.Fatalf("page/limit echo: %v", raw)
	}
	p2 := h.list(a, "CLIENTE", "?page=2&limit=1")
	if p2.Total != 3 || len(p2.Notificaciones) != 1 || p2.Notificaciones[0].ID != all.Notificaciones[1].ID {
		t.Fatalf("page 2: %+v, want %s", p2, all.Notificaciones[1].ID)
	}
	if p3 := h.list(a, "CLIENTE", "?page=4&limit=1"); len(p3.Notificaciones) != 0 {
		t.Fatalf("page past the end: %+v", p3)
	}
	h.expect(h.do("GET", "/api/v1/notificaciones?page=0", ta, nil), 422)

	// PUT marks read like POST; the counter answers {count}.
	counter := func(path, tok string) int {
		t.Helper()
		var c map[string]any
		h.expect(h.do("GET", path, tok, nil), 200).Decode(t, &c)
		if c["count"] != c["no_leidas"] {
			t.Fatalf("counter names disagree: %v", c)
		}
		return int(c["count"].(float64))
	}
	if n := counter("/api/v1/notificaciones/no-leidas/contador", ta); n != 3 {
		t.Fatalf("counter %d, want 3", n)
	}
	h.expect(h.do("PUT", "/api/v1/notificaciones/"+jobN.ID+"/leer", tb, nil), 403)
	var read notification
	h.expect(h.do("PUT", "/api/v1/notificaciones/"+jobN.ID+"/leer", ta, nil), 200).Decode(t, &read)
	if !read.Leida || read.ID != jobN.ID {
		t.Fatalf("PUT leer: %+v", read)
	}
	if n := counter("/api/v1/notifications/no-leidas/contador", ta); n != 2 {
		t.Fatalf("counter after one read %d, want 2", n)
	}

	// DELETE one: only one's own; another person's answers 404 and stays.
	offerN := h.withEvento(a, "oferta_recibida")[0]
	h.expect(h.do("DELETE", "/api/v1/notificaciones/"+offerN.ID, tb, nil), 404)
	h.expect(h.do("DELETE", "/api/v1/notificaciones/"+offerN.ID, "", nil), 401)
	h.expect(h.do("DELETE", "/api/v1/notificaciones/no-es-uuid", ta, nil), 422)
	if n := h.count(`SELECT count(*) FROM notifications WHERE id = $1`, offerN.ID); n != 1 {
		t.Fatalf("another user's delete removed the row")
	}
	h.expect(h.do("DELETE", "/api/v1/notifications/"+offerN.ID, ta, nil), 204)
	h.expect(h.do("DELETE", "/api/v1/notificaciones/"+offerN.ID, ta, nil), 404)
	if l := h.list(a, "CLIENTE", ""); l.Total != 2 || l.NoLeidas != 1 {
		t.Fatalf("after delete: %+v", l)
	}

	// PUT leer-todas, then limpiar-leidas removes only the caller's read ones.
	var rd map[string]any
	h.expect(h.do("PUT", "/api/v1/notificaciones/leer-todas", tb, nil), 200).Decode(t, &rd)
	if rd["marcadas"] != float64(1) {
		t.Fatalf("b leer-todas: %v", rd)
	}
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: a, ProfesionalID: b})
	testkit.Eventually(t, 10*time.Second, "a has a new unread", func() bool { return h.list(a, "CLIENTE", "").NoLeidas == 2 })
	h.expect(h.do("DELETE", "/api/v1/notificaciones/limpiar-leidas", ta, nil), 200).Decode(t, &rd)
	if rd["eliminadas"] != float64(1) {
		t.Fatalf("limpiar-leidas: %v", rd)
	}
	l = h.list(a, "CLIENTE", "")
	if l.Total != 2 || l.NoLeidas != 2 {
		t.Fatalf("a after limpiar-leidas: %+v", l)
	}
	for _, n := range l.Notificaciones {
		if n.Leida {
			t.Fatalf("a read notification survived: %+v", n)
		}
	}
	if l := h.list(b, "CLIENTE", ""); l.Total != 1 || !l.Notificaciones[0].Leida {
		t.Fatalf("b's read notification touched by a's clear: %+v", l)
	}
	h.expect(h.do("DELETE", "/api/v1/notifications/limpiar-leidas", "", nil), 401)
}

func TestEmailMensajesPreference(t *testing.T) {
	h := start(t, nil)
	cli, email := h.register("CLIENTE", "Carla")
	prof, _ := h.register("PROFESIONAL", "Pablo")
	tok := h.token(cli, "CLIENTE")
	testkit.Eventually(t, 10*time.Second, "welcome", func() bool { return len(h.catcher.To(email)) == 1 })

	var p map[string]any
	h.expect(h.do("GET", "/api/v1/notificaciones/preferencias", tok, nil), 200).Decode(t, &p)
	if v, ok := p["email_mensajes"]; !ok || v != false {
		t.Fatalf("email_mensajes default: %v", p)
	}
	msg := events.MessageSentV1{MessageID: uuid.NewString(), ChatID: uuid.NewString(), SenderID: prof, RecipientID: cli, Tipo: "text", Text: "¿Paso el jueves?"}
	h.publish(msg)
	h.settle()
	time.Sleep(300 * time.Millisecond)
	if n := len(h.catcher.To(email)); n != 1 {
		t.Fatalf("chat message emailed with email_mensajes off (%d emails)", n)
	}

	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, map[string]any{"email_mensajes": true}), 200).Decode(t, &p)
	if p["email_mensajes"] != true || p["email_ofertas"] != true || p["push_mensajes"] != false {
		t.Fatalf("after turning email_mensajes on: %v", p)
	}
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, map[string]any{"email_mensajes": "sí"}), 422)
	h.expect(h.do("GET", "/api/v1/notifications/preferences", tok, nil), 200).Decode(t, &p)
	if p["email_mensajes"] != true {
		t.Fatalf("email_mensajes not stored: %v", p)
	}
	msg.MessageID = uuid.NewString()
	env := h.publish(msg)
	h.publishEnv(env, env.ID.String()+"-again")
	testkit.Eventually(t, 10*time.Second, "chat email", func() bool { return len(h.catcher.To(email)) == 2 })
	h.settle()
	mails := h.catcher.To(email)
	if len(mails) != 2 || mails[1].Subject != "Nuevo mensaje de Pablo Pérez" || !strings.Contains(mails[1].Text, "¿Paso el jueves?") {
		t.Fatalf("chat email: %d mails, last %q", len(mails), mails[len(mails)-1].Subject)
	}
	// Still no in-app row for chat lines.
	if n := len(h.withEvento(cli, "mensaje_nuevo")); n != 0 {
		t.Fatalf("chat message created %d in-app rows", n)
	}
}

func TestDeviceTokenRegistration(t *testing.T) {
	h := start(t, nil)
	a, _ := h.register("CLIENTE", "Ana")
	b, _ := h.register("PROFESIONAL", "Beto")
	ta, tb := h.token(a, "CLIENTE"), h.token(b, "PROFESIONAL")
	tokA := "fcmA1b2C3d4:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_example-token"

	// push/registrar: created, then refreshed (idempotent: same row).
	var first, again map[string]any
	h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", ta, map[string]any{"token": tokA, "device_type": "android"}), 201).Decode(t, &first)
	h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", ta, map[string]any{"token": tokA, "device_type": "android"}), 200).Decode(t, &again)
	if first["id"] != again["id"] || first["entrega_activa"] != false || !strings.Contains(first["mensaje"].(string), "Firebase") {
		t.Fatalf("registrar answers: %v / %v", first, again)
	}
	if n := h.count(`SELECT count(*) FROM push_subscriptions WHERE user_id = $1 AND kind = 'fcm' AND platform = 'android'`, a); n != 1 {
		t.Fatalf("%d device rows for a, want 1", n)
	}

	// Bad input changes nothing.
	for _, body := range []map[string]any{
		{"token": "", "device_type": "web"},
		{"token": "https://fcm.googleapis.com/fcm/send/abc", "device_type": "web"},
		{"token": "corto", "device_type": "web"},
		{"token": tokA + "x", "device_type": "windows"},
		{"token": tokA + "x", "fcmToken": tokA + "y"},
	} {
		h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", ta, body), 422)
	}
	h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", ta, []byte("token="+tokA)), 415)
	h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", "", map[string]any{"token": tokA}), 401)

	// fcm-token: userId must be the caller; "Bearer null" is simply 401.
	tokWeb := "eWebTokenFromFirebaseJS:APA91bE-web_token_0123456789"
	h.expect(h.do("POST", "/api/v1/notifications/fcm-token", ta, map[string]any{"userId": b, "fcmToken": tokWeb, "platform": "web"}), 403)
	h.expect(h.do("POST", "/api/v1/notifications/fcm-token", "null", map[string]any{"userId": a, "fcmToken": tokWeb, "platform": "web"}), 401)
	if n := h.count(`SELECT count(*) FROM push_subscriptions WHERE endpoint = $1`, tokWeb); n != 0 {
		t.Fatalf("refused registrations stored %d rows", n)
	}
	h.expect(h.do("POST", "/api/v1/notifications/fcm-token", ta, map[string]any{"userId": a, "fcmToken": tokWeb, "platform": "web"}), 201)
	if n := h.count(`SELECT count(*) FROM push_subscriptions WHERE user_id = $1 AND kind = 'fcm'`, a); n != 2 {
		t.Fatalf("%d device rows for a, want 2", n)
	}

	// Device tokens are kept, not sent to: a notification queues no push for them.
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: a, ProfesionalID: b})
	testkit.Eventually(t, 10*time.Second, "job notification", func() bool { return len(h.withEvento(a, "trabajo_iniciado")) == 1 })
	h.settle()
	if n := h.count(`SELECT count(*) FROM deliveries WHERE channel = 'push' AND user_id = $1`, a); n != 0 {
		t.Fatalf("%d push deliveries queued for device tokens", n)
	}

	// A shared device: the token moves to whoever registered it last.
	h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", tb, map[string]any{"token": tokA, "device_type": "ios"}), 200)
	if n := h.count(`SELECT count(*) FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2 AND platform = 'ios'`, tokA, b); n != 1 {
		t.Fatalf("shared device token did not move to b")
	}

	// desregistrar: only one's own; then gone.
	h.expect(h.do("POST", "/api/v1/notificaciones/push/desregistrar", ta, map[string]any{"token": tokA}), 404)
	h.expect(h.do("POST", "/api/v1/notificaciones/push/desregistrar", ta, map[string]any{}), 422)
	h.expect(h.do("POST", "/api/v1/notificaciones/push/desregistrar", tb, map[string]any{"token": tokA}), 204)
	h.expect(h.do("POST", "/api/v1/notificaciones/push/desregistrar", tb, map[string]any{"token": tokA}), 404)
	h.expect(h.do("DELETE", "/api/v1/notifications/fcm-token", ta, map[string]any{"fcmToken": tokWeb}), 204)
	if n := h.count(`SELECT count(*) FROM push_subscriptions`); n != 0 {
		t.Fatalf("%d registrations left", n)
	}

	// One account keeps at most 20 device tokens: the oldest is forgotten.
	for i := range 21 {
		h.expect(h.do("POST", "/api/v1/notificaciones/push/registrar", ta, map[string]any{"token": fmt.Sprintf("device-token-%03d:APA91b", i), "device_type": "android"}), 201)
	}
	if n := h.count(`SELECT count(*) FROM push_subscriptions WHERE user_id = $1`, a); n != 20 {
		t.Fatalf("%d device rows, want 20", n)
	}
	if n := h.count(`SELECT count(*) FROM push_subscriptions WHERE endpoint = 'device-token-000:APA91b'`); n != 0 {
		t.Fatalf("the oldest device token was kept")
	}
}

func TestSelfTestNotificationIsOwnAndRateLimited(t *testing.T) {
	h := start(t, nil)
	a, email := h.register("CLIENTE", "Ana")
	b, _ := h.register("CLIENTE", "Beto")
	ta := h.token(a, "CLIENTE")
	rt := h.subscribeRealtime(a)
	testkit.Eventually(t, 10*time.Second, "welcome", func() bool { return len(h.catcher.To(email)) == 1 })

	h.expect(h.do("POST", "/api/v1/notificaciones/test", ta, map[string]any{"tipo": "promocion"}), 422)
	h.expect(h.do("POST", "/api/v1/notificaciones/test", "", map[string]any{"tipo": "oferta"}), 401)
	var n notification
	h.expect(h.do("POST", "/api/v1/notificaciones/test", ta, map[string]any{"tipo": "oferta"}), 201).Decode(t, &n)
	if n.Tipo != "oferta" || n.Leida || n.Metadata["evento"] != "prueba" || n.FechaCreacion.IsZero() {
		t.Fatalf("test notification: %+v", n)
	}
	if l := h.list(a, "CLIENTE", "?tipo=oferta"); l.Total != 1 || l.Notificaciones[0].ID != n.ID {
		t.Fatalf("test notification not listed: %+v", l)
	}
	testkit.Eventually(t, 5*time.Second, "live push", func() bool {
		for _, m := range rt.all() {
			if d, ok := m["data"].(map[string]any); ok && m["type"] == "notificacion" && d["id"] == n.ID {
				return true
			}
		}
		return false
	})
	// An empty body is a sistema test.
	h.expect(h.do("POST", "/api/v1/notifications/test", ta, nil), 201).Decode(t, &n)
	if n.Tipo != "sistema" {
		t.Fatalf("default tipo %q", n.Tipo)
	}
	for range 3 {
		h.expect(h.do("POST", "/api/v1/notificaciones/test", ta, map[string]any{"tipo": "pago"}), 201)
	}
	if c := h.count(`SELECT count(*) FROM notifications WHERE user_id = $1 AND data->>'evento' = 'prueba'`, a); c != 5 {
		t.Fatalf("%d test notifications, want 5", c)
	}
	// Deleting them does not reset the limit.
	h.expect(h.do("PUT", "/api/v1/notificaciones/leer-todas", ta, nil), 200)
	h.expect(h.do("DELETE", "/api/v1/notificaciones/limpiar-leidas", ta, nil), 200)
	e := h.do("POST", "/api/v1/notificaciones/test", ta, map[string]any{"tipo": "pago"}).ExpectError(t, 429, "sixth test")
	if e["code"] != "test_rate_limited" {
		t.Fatalf("rate limit answer: %v", e)
	}
	if c := h.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, a); c != 0 {
		t.Fatalf("the refused test still created a notification (%d rows)", c)
	}
	// Only ever to oneself, and never by email.
	if c := h.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, b); c != 1 {
		t.Fatalf("b has %d notifications, want only the welcome", c)
	}
	h.settle()
	if c := len(h.catcher.To(email)); c != 1 {
		t.Fatalf("test notifications emailed (%d emails)", c)
	}
}

// A client may not record gamification events: XP and levels lower the platform's
// commission, so they come only from server-side facts.
func TestGamificationEventFromClientMovesNoXP(t *testing.T) {
	h := start(t, nil)
	prof, _ := h.register("PROFESIONAL", "Pablo")
	release(h, prof, uuid.NewString())
	testkit.Eventually(t, 10*time.Second, "100 XP", func() bool { return h.gamification(prof).PuntosExperiencia == 100 })
	before := h.gamification(prof)

	body := map[string]any{"user_id": prof, "event_type": "trabajo_completado", "metadata": map[string]any{"trabajo_id": uuid.NewString(), "puntos": 100000}}
	for _, tok := range []string{h.token(prof, "PROFESIONAL"), h.token(uuid.NewString(), "CLIENTE"), h.token(uuid.NewString(), "ADMIN")} {
		e := h.do("POST", "/api/v1/gamification/event", tok, body).ExpectError(t, 403, "gamification event")
		if e["code"] != "xp_server_side" || !strings.Contains(e["detail"].(string), "trabajo") {
			t.Fatalf("answer: %v", e)
		}
	}
	h.do("POST", "/api/v1/gamification/event", h.token(prof, "PROFESIONAL"), map[string]any{"user_id": prof, "event_type": "nivel_subido", "metadata": map[string]any{"nivel": "DIAMANTE"}}).
		ExpectError(t, 403, "nivel_subido")
	h.expect(h.do("POST", "/api/v1/gamification/event", "", body), 401)

	time.Sleep(300 * time.Millisecond)
	after := h.gamification(prof)
	if after.PuntosExperiencia != before.PuntosExperiencia || after.NivelActual != before.NivelActual || after.TrabajosCompletados != before.TrabajosCompletados {
		t.Fatalf("XP moved: before %+v after %+v", before, after)
	}
	if n := h.count(`SELECT count(*) FROM xp_awards WHERE usuario_id = $1`, prof); n != 1 {
		t.Fatalf("%d XP grants, want 1", n)
	}
	xp := 0
	for _, env := range h.engagementEvents() {
		if env.Type == (events.XPAwardedV1{}).EventType() {
			var e events.XPAwardedV1
			if err := json.Unmarshal(env.Data, &e); err != nil {
				t.Fatal(err)
			}
			if e.UsuarioID == prof {
				xp++
			}
		}
	}
	if xp != 1 {
		t.Fatalf("%d XPAwarded events, want 1", xp)
	}
}

package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

func TestWelcomeAndPasswordResetEmailsOverSMTP(t *testing.T) {
	h := start(t, nil)
	id, email := h.register("CLIENTE", "Ana")

	testkit.Eventually(t, 10*time.Second, "welcome email", func() bool { return len(h.catcher.To(email)) == 1 })
	m := h.catcher.To(email)[0]
	if m.Subject != "¡Bienvenido a ConectarProfesionales!" {
		t.Fatalf("subject %q", m.Subject)
	}
	if !strings.Contains(m.Text, "Hola Ana") || !strings.Contains(m.HTML, "Hola Ana") || !strings.Contains(m.HTML, "<a href=\""+frontend) {
		t.Fatalf("welcome bodies:\nTEXT %s\nHTML %s", m.Text, m.HTML)
	}
	if m.MessageID == "" || !strings.Contains(m.From, "no-reply@") {
		t.Fatalf("headers: from %q message-id %q", m.From, m.MessageID)
	}
	welcome := h.withEvento(id, "bienvenida")
	if len(welcome) != 1 || welcome[0].Tipo != "sistema" || welcome[0].Leida {
		t.Fatalf("welcome in-app: %+v", welcome)
	}

	// The reset email carries the frontend link with the token; it is sent once even
	// when the event arrives twice (a redelivery JetStream's dedupe cannot see).
	reset := events.PasswordResetRequestedV1{UserID: id, Email: email, Nombre: "Ana Pérez", Token: "tok+en/123", ExpiresAt: time.Now().Add(time.Hour).Format(time.RFC3339)}
	env := h.publish(reset)
	h.publishEnv(env, env.ID.String()+"-again")
	testkit.Eventually(t, 10*time.Second, "reset email", func() bool { return len(h.catcher.To(email)) == 2 })
	h.settle()
	mails := h.catcher.To(email)
	if len(mails) != 2 {
		t.Fatalf("want welcome + one reset email, got %d", len(mails))
	}
	r := mails[1]
	link := frontend + "/reset-password?token=tok%2Ben%2F123"
	if r.Subject != "Recuperación de contraseña" || !strings.Contains(r.Text, link) || !strings.Contains(r.HTML, link) ||
		!strings.Contains(r.Text, "1 hora") {
		t.Fatalf("reset email: %q\n%s", r.Subject, r.Text)
	}
	// A reset is email only.
	if n := len(h.withEvento(id, "recuperar_contrasena")); n != 0 {
		t.Fatalf("reset created %d in-app notifications", n)
	}
	if n := h.count(`SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'sent'`); n != 2 {
		t.Fatalf("%d sent email deliveries, want 2", n)
	}
}

func TestOfferNotificationOnceWithRealtimeAndEmail(t *testing.T) {
	h := start(t, nil)
	cli, cliEmail := h.register("CLIENTE", "Carla")
	prof, profEmail := h.register("PROFESIONAL", "Pablo")
	rt := h.subscribeRealtime(cli)
	testkit.Eventually(t, 10*time.Second, "welcome emails", func() bool { return len(h.catcher.Messages()) == 2 })

	oferta, chat := uuid.NewString(), uuid.NewString()
	env := h.publish(events.OfferCreatedV1{OfertaID: oferta, ChatID: chat, ClienteID: cli, ProfesionalID: prof,
		Descripcion: "Cambio de cañerías del baño completo", PrecioCentavos: 1500000})
	h.publishEnv(env, env.ID.String()+"-dup") // same event id, new Nats-Msg-Id

	testkit.Eventually(t, 10*time.Second, "offer notification", func() bool { return len(h.withEvento(cli, "oferta_recibida")) == 1 })
	testkit.Eventually(t, 10*time.Second, "offer email", func() bool { return len(h.catcher.To(cliEmail)) == 2 })
	h.settle()

	got := h.withEvento(cli, "oferta_recibida")
	if len(got) != 1 {
		t.Fatalf("%d offer notifications, want 1", len(got))
	}
	n := got[0]
	if n.Tipo != "oferta" || n.Titulo != "Nueva oferta recibida" || !strings.Contains(n.Mensaje, "Pablo Pérez") ||
		!strings.Contains(n.Mensaje, "$ 15.000,00") || n.Data["oferta_id"] != oferta || n.Data["url"] != "/chat/"+chat {
		t.Fatalf("offer notification: %+v", n)
	}
	mails := h.catcher.To(cliEmail)
	if len(mails) != 2 {
		t.Fatalf("client got %d emails, want welcome + offer", len(mails))
	}
	if mails[1].Subject != "Nueva oferta recibida" || !strings.Contains(mails[1].Text, frontend+"/chat/"+chat) ||
		!strings.Contains(mails[1].HTML, "$ 15.000,00") {
		t.Fatalf("offer email: %q %s", mails[1].Subject, mails[1].Text)
	}
	if len(h.catcher.To(profEmail)) != 1 {
		t.Fatalf("the professional got emails for the client's offer")
	}

	// The notification was pushed live to the client's realtime subject, once.
	testkit.Eventually(t, 5*time.Second, "realtime push", func() bool {
		for _, m := range rt.all() {
			if d, ok := m["data"].(map[string]any); ok && m["type"] == "notificacion" && d["id"] == n.ID {
				return true
			}
		}
		return false
	})
	pushes := 0
	for _, m := range rt.all() {
		if d, ok := m["data"].(map[string]any); ok && d["titulo"] == "Nueva oferta recibida" {
			pushes++
		}
	}
	if pushes != 1 {
		t.Fatalf("%d realtime pushes for the offer, want 1", pushes)
	}

	// Accepted / rejected reach the professional.
	trabajo := uuid.NewString()
	h.publish(events.OfferAcceptedV1{OfertaID: oferta, TrabajoID: trabajo, ChatID: chat, ClienteID: cli, ProfesionalID: prof, PrecioCentavos: 1500000})
	h.publish(events.OfferRejectedV1{OfertaID: uuid.NewString(), ChatID: chat, ClienteID: cli, ProfesionalID: prof})
	testkit.Eventually(t, 10*time.Second, "accepted and rejected", func() bool {
		return len(h.withEvento(prof, "oferta_aceptada")) == 1 && len(h.withEvento(prof, "oferta_rechazada")) == 1
	})
	acc := h.withEvento(prof, "oferta_aceptada")[0]
	if !strings.Contains(acc.Mensaje, "Carla Pérez") || acc.Data["trabajo_id"] != trabajo {
		t.Fatalf("accepted: %+v", acc)
	}
}

func TestJobAndPaymentLifecycleNotifications(t *testing.T) {
	h := start(t, nil)
	cli, cliEmail := h.register("CLIENTE", "Carla")
	prof, profEmail := h.register("PROFESIONAL", "Pablo")
	job := uuid.NewString()

	h.publish(events.PaymentApprovedV1{TrabajoID: job, PaymentID: "123", Status: "approved", MontoCentavos: 2000000, ClienteID: cli, ProfesionalID: prof})
	h.publish(events.JobStartedV1{TrabajoID: job, ClienteID: cli, ProfesionalID: prof})
	h.publish(events.JobDeliveredV1{TrabajoID: job, ClienteID: cli, ProfesionalID: prof, Nota: "Listo"})
	h.publish(events.JobCompletedV1{TrabajoID: job, ClienteID: cli, ProfesionalID: prof, PrecioCentavos: 2000000, Motivo: "cliente"})
	h.publish(events.PayoutSentV1{PayoutID: uuid.NewString(), TrabajoID: job, ProfesionalID: prof, MontoCentavos: 1600000})
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: job, ClienteID: cli, ProfesionalID: prof, Rating: 5, RatingPromedio: 5, TotalResenas: 1})
	other := uuid.NewString()
	h.publish(events.JobCancelledV1{TrabajoID: other, ClienteID: cli, ProfesionalID: prof, PrecioCentavos: 500000, Paid: true, By: cli, Motivo: "Ya no lo necesito"})

	wantCli := []string{"pago_aprobado", "trabajo_iniciado", "trabajo_entregado"}
	wantProf := []string{"pago_confirmado", "trabajo_aprobado", "pago_enviado", "resena_recibida", "trabajo_cancelado"}
	testkit.Eventually(t, 15*time.Second, "lifecycle notifications", func() bool {
		for _, e := range wantCli {
			if len(h.withEvento(cli, e)) != 1 {
				return false
			}
		}
		for _, e := range wantProf {
			if len(h.withEvento(prof, e)) != 1 {
				return false
			}
		}
		return true
	})
	// The canceller (the client) is not told about their own cancellation.
	if n := len(h.withEvento(cli, "trabajo_cancelado")); n != 0 {
		t.Fatalf("client notified of own cancellation (%d)", n)
	}
	if m := h.withEvento(prof, "pago_enviado")[0].Mensaje; !strings.Contains(m, "$ 16.000,00") {
		t.Fatalf("payout message %q", m)
	}
	h.settle()
	// One email per notification (welcome included), all HTML + text.
	if got, want := len(h.catcher.To(cliEmail)), 1+len(wantCli); got != want {
		t.Fatalf("client emails %d, want %d", got, want)
	}
	if got, want := len(h.catcher.To(profEmail)), 1+len(wantProf); got != want {
		t.Fatalf("professional emails %d, want %d", got, want)
	}
	for _, m := range h.catcher.Messages() {
		if m.Text == "" || m.HTML == "" {
			t.Fatalf("email %q lacks a part", m.Subject)
		}
	}
}

func TestPreferencesAreRespected(t *testing.T) {
	h := start(t, nil)
	cli, cliEmail := h.register("CLIENTE", "Carla")
	prof, _ := h.register("PROFESIONAL", "Pablo")
	tok := h.token(cli, "CLIENTE")

	var p map[string]any
	h.expect(h.do("GET", "/api/v1/notificaciones/preferencias", tok, nil), 200).Decode(t, &p)
	if p["email_ofertas"] != true || p["push_mensajes"] != false || p["frecuencia_resumen"] != "nunca" {
		t.Fatalf("defaults: %v", p)
	}
	h.expect(h.do("PUT", "/api/v1/notifications/preferences", tok, map[string]any{"email_ofertas": false, "frecuencia_resumen": "semanal"}), 200).Decode(t, &p)
	if p["email_ofertas"] != false || p["email_trabajos"] != true || p["frecuencia_resumen"] != "semanal" {
		t.Fatalf("after update: %v", p)
	}
	// Bad input changes nothing.
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, map[string]any{"frecuencia_resumen": "horaria"}), 422)
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, map[string]any{"email_pagos": "si"}), 422)
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, []byte("email_pagos=false")), 415)
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, "{"), 422)
	h.expect(h.do("GET", "/api/v1/notificaciones/preferencias", tok, nil), 200).Decode(t, &p)
	if p["email_pagos"] != true || p["frecuencia_resumen"] != "semanal" {
		t.Fatalf("bad input changed preferences: %v", p)
	}

	testkit.Eventually(t, 10*time.Second, "welcome email", func() bool { return len(h.catcher.To(cliEmail)) == 1 })
	h.publish(events.OfferCreatedV1{OfertaID: uuid.NewString(), ChatID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof,
		Descripcion: "Pintura de living y comedor", PrecioCentavos: 90000})
	job := uuid.NewString()
	h.publish(events.JobStartedV1{TrabajoID: job, ClienteID: cli, ProfesionalID: prof})
	testkit.Eventually(t, 10*time.Second, "both in-app", func() bool {
		return len(h.withEvento(cli, "oferta_recibida")) == 1 && len(h.withEvento(cli, "trabajo_iniciado")) == 1
	})
	testkit.Eventually(t, 10*time.Second, "job email", func() bool { return len(h.catcher.To(cliEmail)) == 2 })
	h.settle()
	mails := h.catcher.To(cliEmail)
	if len(mails) != 2 || mails[1].Subject != "Tu trabajo comenzó" {
		var subs []string
		for _, m := range mails {
			subs = append(subs, m.Subject)
		}
		t.Fatalf("emails with email_ofertas=false: %v", subs)
	}

	// Chat messages: no push while push_mensajes is off (the default), and never in-app
	// or email.
	h.publish(events.MessageSentV1{MessageID: uuid.NewString(), ChatID: uuid.NewString(), SenderID: prof, RecipientID: cli, Tipo: "text", Text: "Hola"})
	time.Sleep(500 * time.Millisecond)
	if n := h.count(`SELECT count(*) FROM deliveries WHERE idem_key LIKE 'notifications-notify-marketplace:%' AND user_id = $1 AND channel = 'push'`, cli); n != 0 {
		t.Fatalf("%d chat pushes queued with push_mensajes off", n)
	}
	if n := len(h.withEvento(cli, "mensaje_nuevo")); n != 0 {
		t.Fatalf("chat message created %d in-app rows", n)
	}
}

func TestEndpointsOwnershipRolesAndValidation(t *testing.T) {
	h := start(t, nil)
	a, _ := h.register("CLIENTE", "Ana")
	b, _ := h.register("CLIENTE", "Beto")
	ta, tb := h.token(a, "CLIENTE"), h.token(b, "CLIENTE")
	na := h.list(a, "CLIENTE", "").Notificaciones[0]

	h.expect(h.do("GET", "/api/v1/notificaciones", "", nil), 401)
	h.expect(h.do("GET", "/api/v1/notificaciones", "garbage", nil), 401)
	h.expect(h.do("GET", "/api/v1/notificaciones?limit=1000", ta, nil), 422)
	h.expect(h.do("GET", "/api/v1/notificaciones?skip=-1", ta, nil), 422)
	h.expect(h.do("GET", "/api/v1/notificaciones?solo_no_leidas=quizas", ta, nil), 422)

	// Only the owner can mark a notification read.
	h.expect(h.do("POST", "/api/v1/notificaciones/"+na.ID+"/leer", tb, nil), 403)
	h.expect(h.do("POST", "/api/v1/notificaciones/"+uuid.NewString()+"/leer", ta, nil), 404)
	h.expect(h.do("POST", "/api/v1/notificaciones/not-a-uuid/leer", ta, nil), 422)
	var read notification
	h.expect(h.do("POST", "/api/v1/notifications/"+na.ID+"/leer", ta, nil), 200).Decode(t, &read)
	if !read.Leida || read.ID != na.ID {
		t.Fatalf("mark read: %+v", read)
	}
	if l := h.list(a, "CLIENTE", "?solo_no_leidas=true"); l.Total != 0 || l.NoLeidas != 0 || len(l.Notificaciones) != 0 {
		t.Fatalf("unread list after read: %+v", l)
	}
	if l := h.list(b, "CLIENTE", ""); l.Total != 1 || l.NoLeidas != 1 || l.Notificaciones[0].Leida {
		t.Fatalf("other user's list changed: %+v", l)
	}

	// Two more for b, then leer-todas.
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: b, ProfesionalID: a})
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: b, ProfesionalID: a})
	testkit.Eventually(t, 10*time.Second, "b has 3", func() bool { return h.list(b, "CLIENTE", "").Total == 3 })
	page := h.list(b, "CLIENTE", "?skip=1&limit=1")
	if page.Total != 3 || page.NoLeidas != 3 || len(page.Notificaciones) != 1 {
		t.Fatalf("paging: %+v", page)
	}
	all := h.list(b, "CLIENTE", "").Notificaciones
	if !all[0].CreatedAt.After(all[2].CreatedAt) && !all[0].CreatedAt.Equal(all[2].CreatedAt) {
		t.Fatalf("not newest first: %v %v", all[0].CreatedAt, all[2].CreatedAt)
	}
	var cnt map[string]any
	h.expect(h.do("GET", "/api/v1/notificaciones/no-leidas", tb, nil), 200).Decode(t, &cnt)
	if cnt["no_leidas"] != float64(3) {
		t.Fatalf("no-leidas: %v", cnt)
	}
	h.expect(h.do("POST", "/api/v1/notificaciones/leer-todas", tb, nil), 200).Decode(t, &cnt)
	if cnt["marcadas"] != float64(3) {
		t.Fatalf("leer-todas: %v", cnt)
	}
	h.expect(h.do("GET", "/api/v1/notifications/no-leidas", tb, nil), 200).Decode(t, &cnt)
	if cnt["no_leidas"] != float64(0) {
		t.Fatalf("no-leidas after leer-todas: %v", cnt)
	}

	// Admin-only sends.
	admin := uuid.NewString()
	tadm := h.token(admin, "ADMIN")
	body := map[string]any{"usuario_id": a, "asunto": "Mantenimiento", "mensaje": "El sábado habrá una ventana de mantenimiento."}
	h.expect(h.do("POST", "/api/v1/notifications/email", ta, body), 403)
	h.expect(h.do("POST", "/api/v1/notifications/email", "", body), 401)
	h.expect(h.do("POST", "/api/v1/notifications/push", ta, map[string]any{"usuario_id": a, "titulo": "x", "mensaje": "y"}), 403)
	h.expect(h.do("POST", "/api/v1/notifications/email", tadm, map[string]any{"asunto": "", "mensaje": ""}), 422)
	h.expect(h.do("POST", "/api/v1/notifications/email", tadm, map[string]any{"email": "no-es-mail", "asunto": "a", "mensaje": "b"}), 422)
	h.expect(h.do("POST", "/api/v1/notifications/email", tadm, map[string]any{"usuario_id": uuid.NewString(), "asunto": "a", "mensaje": "b"}), 404)
	h.expect(h.do("POST", "/api/v1/notifications/push", tadm, map[string]any{"usuario_id": "x", "titulo": "", "mensaje": ""}), 422)
	h.expect(h.do("POST", "/api/v1/notifications/email", tadm, body), 202)
	h.expect(h.do("POST", "/api/v1/notifications/email", tadm, map[string]any{"email": "externo@example.org", "asunto": "Hola", "mensaje": "Prueba"}), 202)
	testkit.Eventually(t, 10*time.Second, "admin emails", func() bool {
		return len(h.catcher.To("externo@example.org")) == 1 && func() bool {
			for _, m := range h.catcher.Messages() {
				if m.Subject == "Mantenimiento" && strings.Contains(m.Text, "ventana de mantenimiento") {
					return true
				}
			}
			return false
		}()
	})

	// Push subscriptions: validation, ownership of deletion.
	h.expect(h.do("POST", "/api/v1/notifications/push/subscribe", ta, map[string]any{"endpoint": "ftp://x", "keys": map[string]any{"p256dh": "nope", "auth": "x"}}), 422)
	h.expect(h.do("POST", "/api/v1/notifications/push/subscribe", ta, map[string]any{"endpoint": "http://push.example.com/x", "keys": validKeys(t)}), 422)
	h.expect(h.do("POST", "/api/v1/notifications/push/subscribe", ta, map[string]any{"endpoint": "https://push.example.com/abc", "keys": validKeys(t)}), 201)
	h.expect(h.do("DELETE", "/api/v1/notifications/push/subscribe?endpoint=https://push.example.com/abc", tb, nil), 404)
	h.expect(h.do("DELETE", "/api/v1/notifications/push/subscribe", ta, map[string]any{}), 422)
	h.expect(h.do("DELETE", "/api/v1/notifications/push/subscribe", ta, map[string]any{"endpoint": "https://push.example.com/abc"}), 204)
	var key map[string]string
	h.expect(h.do("GET", "/api/v1/notifications/push/vapid-public-key", "", nil), 200).Decode(t, &key)
	if len(key["public_key"]) < 80 {
		t.Fatalf("vapid key %q", key["public_key"])
	}
}

func TestEmailRetriesAndContactMissIsFilledFromUsers(t *testing.T) {
	h := start(t, nil)
	// A user this service never heard of (its UserRegistered still in flight): the
	// address comes from users' internal API.
	cli := uuid.NewString()
	h.users.add(cli, "tardio@example.com", "Tania")
	h.catcher.RejectNext(2) // the relay answers 451 twice
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: uuid.NewString()})
	testkit.Eventually(t, 15*time.Second, "email after retries", func() bool { return len(h.catcher.To("tardio@example.com")) == 1 })
	h.settle()
	if n := len(h.catcher.To("tardio@example.com")); n != 1 {
		t.Fatalf("%d emails after retries, want 1", n)
	}
	var attempts int
	var status string
	if err := h.db.QueryRow(t.Context(), `SELECT attempts, status FROM deliveries WHERE user_id = $1 AND channel = 'email'`, cli).Scan(&attempts, &status); err != nil {
		t.Fatal(err)
	}
	if attempts != 3 || status != "sent" {
		t.Fatalf("delivery attempts=%d status=%s, want 3 sent", attempts, status)
	}
	if !strings.Contains(h.catcher.To("tardio@example.com")[0].Text, "Hola Tania") {
		t.Fatalf("greeting lacks the fetched name: %s", h.catcher.To("tardio@example.com")[0].Text)
	}
}

func TestBannedUserGetsNoEmail(t *testing.T) {
	h := start(t, nil)
	cli, email := h.register("CLIENTE", "Bruno")
	testkit.Eventually(t, 10*time.Second, "welcome", func() bool { return len(h.catcher.To(email)) == 1 })
	h.publish(events.UserBannedV1{UserID: cli, By: uuid.NewString()})
	testkit.Eventually(t, 10*time.Second, "ban replicated", func() bool {
		return h.count(`SELECT count(*) FROM contacts WHERE user_id = $1 AND NOT is_active`, cli) == 1
	})
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: uuid.NewString()})
	testkit.Eventually(t, 10*time.Second, "in-app kept", func() bool { return len(h.withEvento(cli, "trabajo_iniciado")) == 1 })
	h.settle()
	if n := len(h.catcher.To(email)); n != 1 {
		t.Fatalf("banned user got %d emails, want only the welcome", n)
	}
}

func TestQueuedEmailsSurviveRestartAndCompetingInstancesSendOnce(t *testing.T) {
	// The first instance has no relay configured: its emails are committed to the
	// deliveries table but cannot leave, which is the state a crash before sending
	// leaves behind.
	h := start(t, map[string]string{"SMTP_HOST": ""})
	cli, email := h.register("CLIENTE", "Carla")
	for i := 0; i < 5; i++ {
		h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: uuid.NewString()})
	}
	testkit.Eventually(t, 10*time.Second, "six queued emails", func() bool {
		return h.count(`SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'pending'`) == 6
	})
	time.Sleep(300 * time.Millisecond)
	if n := len(h.catcher.Messages()); n != 0 {
		t.Fatalf("%d emails left without a relay", n)
	}
	h.stop()

	// Two new instances with the relay pick up the queue and share new work; every
	// email leaves exactly once.
	relay := map[string]string{"SMTP_HOST": h.catcher.Host()}
	h.instance(relay)
	h.instance(relay)
	for i := 0; i < 10; i++ {
		h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: uuid.NewString()})
	}
	testkit.Eventually(t, 20*time.Second, "sixteen emails", func() bool { return len(h.catcher.To(email)) >= 16 })
	h.settle()
	mails := h.catcher.To(email)
	ids := map[string]bool{}
	for _, m := range mails {
		ids[m.MessageID] = true
	}
	if len(mails) != 16 || len(ids) != 16 {
		t.Fatalf("%d emails with %d distinct ids, want 16", len(mails), len(ids))
	}
	if n := h.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, cli); n != 16 {
		t.Fatalf("%d in-app notifications, want 16", n)
	}
}

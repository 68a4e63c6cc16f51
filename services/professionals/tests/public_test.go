package tests

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
)

func TestPublicProfileAndReadModelFromEvents(t *testing.T) {
	h := newHarness(t)
	plom := h.oficioID("Plomería")
	pending := h.register("Pen", "Diente", plom)
	// Verification is a badge, not a gate: an active professional in any KYC state shows.
	r := h.do("GET", "/api/v1/public/professional/"+pending.profID, "", nil)
	if m := r.Expect(t, 200, "unverified profile").Map(t); m["verificado"] != false || m["estado_verificacion"] != "PENDIENTE" || m["nombre"] != "Pen" {
		t.Fatalf("unverified profile %s", r.Body)
	}
	h.do("GET", "/api/v1/public/professional/"+pending.profID+"/portfolio", "", nil).Expect(t, 200, "unverified portfolio")
	h.do("GET", "/api/v1/public/professional/"+uuid.NewString(), "", nil).Expect(t, 404, "unknown profile")
	h.do("GET", "/api/v1/public/professional/nope", "", nil).Expect(t, 404, "bad id")

	p := h.approved("Rita", "Mora", plom, -34.6, -58.4, 10)
	h.do("PUT", "/api/v1/professional/payout", p.token, map[string]any{"payout_account": "rita.mora"}).Expect(t, 200, "payout")
	r = h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil)
	r.Expect(t, 200, "public profile")
	for _, secret := range []string{"email", "payout_account", "rita.mora", "@example.com", "motivo_rechazo"} {
		if bytes.Contains(r.Body, []byte(secret)) {
			t.Fatalf("public profile leaks %q: %s", secret, r.Body)
		}
	}
	if m := r.Map(t); m["verificado"] != true || m["estado_verificacion"] != "APROBADO" {
		t.Fatalf("verified badge %s", r.Body)
	}

	// Names and avatar (UserProfileUpdated), stale copies ignored.
	now := time.Now()
	h.publish(events.UserProfileUpdatedV1{UserID: p.userID, Nombre: "Ritá", Apellido: "Nueva", AvatarURL: "/api/v1/users/avatars/x.png"}, now)
	old := h.publish(events.UserProfileUpdatedV1{UserID: p.userID, Nombre: "Vieja", Apellido: "Copia"}, now.Add(-time.Minute))
	// Ratings (ReviewPosted carries the aggregate), a stale one, and a redelivery.
	client := uuid.NewString()
	h.publish(events.UserProfileUpdatedV1{UserID: client, Nombre: "Clara", Apellido: "Cliente", AvatarURL: "/api/v1/users/avatars/c.png"}, now)
	rev := h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: client,
		ProfesionalID: p.userID, Rating: 5, RatingPromedio: 4.5, TotalResenas: 2, TextoResena: "Impecable", NombreCliente: "Clara C."}, now)
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(),
		ProfesionalID: p.profID, Rating: 4, RatingPromedio: 4, TotalResenas: 1}, now.Add(-time.Minute))
	h.publishEnv(rev)
	h.publishEnv(old)
	// Level and XP, medals.
	h.publish(events.LevelChangedV1{UsuarioID: p.userID, NivelAnterior: "BRONCE", Nivel: "ORO", PuntosExperiencia: 5100, TasaComisionBP: 1500}, now)
	h.publish(events.LevelChangedV1{UsuarioID: p.userID, NivelAnterior: "BRONCE", Nivel: "PLATA", PuntosExperiencia: 1100, TasaComisionBP: 1800}, now.Add(-time.Minute))
	h.publish(events.XPAwardedV1{UsuarioID: p.userID, Puntos: 50, PuntosExperiencia: 5150}, now)
	h.publish(events.XPAwardedV1{UsuarioID: p.userID, Puntos: 10, PuntosExperiencia: 5010}, now.Add(-time.Second))
	medal := h.publish(events.MedalAwardedV1{UsuarioID: p.userID, Medalla: "PRIMER_TRABAJO", Nombre: "Primer trabajo"}, now)
	h.publishEnv(medal)

	var pub map[string]any
	h.eventually("read model applied", func() bool {
		pub = h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil).Map(t)
		return pub["nombre"] == "Ritá" && pub["rating_promedio"] == 4.5 && pub["nivel"] == "ORO" &&
			len(pub["medallas"].([]any)) == 1 && len(pub["resenas"].([]any)) == 2
	})
	time.Sleep(300 * time.Millisecond) // let the stale events and redeliveries arrive too
	pub = h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil).Map(t)
	if pub["nombre"] != "Ritá" || pub["apellido"] != "Nueva" || pub["avatar_url"] != publicURL+"/api/v1/users/avatars/x.png" ||
		pub["rating_promedio"] != 4.5 || pub["total_resenas"] != 2.0 || pub["nivel"] != "ORO" || len(pub["medallas"].([]any)) != 1 ||
		len(pub["resenas"].([]any)) != 2 {
		t.Fatalf("public profile after events %v", pub)
	}
	// Reviews under our names and the frontend's, newest first, with the client's avatar.
	first := pub["resenas"].([]any)[0].(map[string]any)
	for k, want := range map[string]any{"texto_resena": "Impecable", "comentario": "Impecable", "nombre_cliente": "Clara C.",
		"cliente_nombre": "Clara C.", "cliente_avatar_url": publicURL + "/api/v1/users/avatars/c.png", "rating": 5.0} {
		if first[k] != want {
			t.Fatalf("review %s = %v, want %v (%v)", k, first[k], want, first)
		}
	}
	if first["created_at"] == nil || first["created_at"] != first["fecha_creacion"] {
		t.Fatalf("review dates %v", first)
	}
	// A review without text or name still gives the page strings to print.
	second := pub["resenas"].([]any)[1].(map[string]any)
	if second["cliente_nombre"] != "Cliente" || second["comentario"] != "" || second["texto_resena"] != nil || second["cliente_avatar_url"] != nil {
		t.Fatalf("review without text or name %v", second)
	}
	me := h.do("GET", "/api/v1/professional/me", p.token, nil).Map(t)
	if me["puntos_experiencia"] != 5150.0 || me["tasa_comision_actual"] != 0.15 {
		t.Fatalf("me after events %v", me)
	}
	// Search shows the fresh names and ratings.
	var pg searchPage
	h.do("POST", "/api/v1/search", "", map[string]any{"q": "rita nueva"}).Decode(t, &pg)
	if pg.Total != 1 || pg.Resultados[0].Nombre != "Ritá" || pg.Resultados[0].Calif != 4.5 || pg.Resultados[0].Nivel != "ORO" {
		t.Fatalf("search after events %+v", pg)
	}

	// Banned: gone from public profile and search.
	h.publish(events.UserBannedV1{UserID: p.userID}, time.Now())
	h.eventually("ban applied", func() bool {
		return h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil).Status == 404
	})
	h.do("POST", "/api/v1/search", "", map[string]any{"q": "rita"}).Decode(t, &pg)
	if pg.Total != 0 {
		t.Fatal("banned professional in search")
	}
	// An older unban than the ban does not undo it.
	h.publish(events.UserUnbannedV1{UserID: p.userID}, time.Now().Add(-time.Hour))
	time.Sleep(300 * time.Millisecond)
	h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil).Expect(t, 404, "stale unban ignored")
	var active bool
	_ = h.db.QueryRow(context.Background(), `SELECT is_active FROM profesionales WHERE id = $1`, p.profID).Scan(&active)
	if active {
		t.Fatal("stale unban applied")
	}
	if got := h.published("ProfessionalProfileUpdated"); len(got) == 0 {
		t.Fatal("no profile events")
	}
}

func TestPortfolioAndPublishedServices(t *testing.T) {
	h := newHarness(t)
	plom := h.oficioID("Plomería")
	p := h.approved("Port", "Folio", plom, -34.6, -58.4, 10)
	other := h.register("Otro", "Pro", plom)
	cli := h.token(uuid.NewString(), authn.RoleCliente)

	h.do("POST", "/api/v1/professional/portfolio", p.token, map[string]any{"descripcion": "x"}).Expect(t, 422, "missing titulo")
	h.do("POST", "/api/v1/professional/portfolio", p.token, map[string]any{"titulo": ""}).Expect(t, 422, "empty titulo")
	r := h.do("POST", "/api/v1/professional/portfolio", p.token, map[string]any{"titulo": "Baño completo", "descripcion": "Antes y después"})
	r.Expect(t, 201, "create item")
	item := str(r.Map(t)["id"])
	img := "/api/v1/professional/portfolio/" + item + "/image"
	h.upload(img, p.token, part{"file", "x.pdf", pdfDoc}).Expect(t, 400, "pdf as portfolio image")
	h.upload(img, p.token, part{"file", "x.png", nil}).Expect(t, 422, "empty image")
	h.upload(img, p.token).Expect(t, 422, "no image")
	h.upload(img, p.token, part{"file", "big.png", append(append([]byte{}, pngImg...), make([]byte, 10<<20)...)}).Expect(t, 413, "image too large")
	h.upload(img, other.token, part{"file", "a.png", pngImg}).Expect(t, 404, "other's item")
	h.upload(img, p.token, part{"file", "a.png", pngImg}).Expect(t, 200, "image 1")
	r = h.upload(img, p.token, part{"file", "b.png", pngImg})
	r.Expect(t, 200, "image 2")
	imgs := r.Map(t)["imagenes"].([]any)
	if len(imgs) != 2 || imgs[0].(map[string]any)["orden"] != 0.0 || imgs[1].(map[string]any)["orden"] != 1.0 {
		t.Fatalf("images %v", imgs)
	}
	url0 := h.path(imgs[0].(map[string]any)["imagen_url"])
	if r := h.do("GET", url0, "", nil); r.Status != 200 || !bytes.Equal(r.Body, pngImg) || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("public image: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	h.do("PUT", "/api/v1/professional/portfolio/"+item, other.token, map[string]any{"titulo": "mío"}).Expect(t, 404, "other updates")
	h.do("DELETE", "/api/v1/professional/portfolio/"+item, other.token, nil).Expect(t, 404, "other deletes")
	h.do("DELETE", "/api/v1/professional/portfolio/"+item+"/image/"+str(imgs[0].(map[string]any)["id"]), other.token, nil).Expect(t, 404, "other deletes image")
	h.do("PUT", "/api/v1/professional/portfolio/"+item, cli, map[string]any{"titulo": "x"}).Expect(t, 403, "client")
	r = h.do("PUT", "/api/v1/professional/portfolio/"+item, p.token, map[string]any{"titulo": "Baño nuevo"})
	if r.Expect(t, 200, "update item"); r.Map(t)["descripcion"] != "Antes y después" {
		t.Fatalf("partial update lost descripcion: %s", r.Body)
	}
	h.do("DELETE", "/api/v1/professional/portfolio/"+item+"/image/"+str(imgs[0].(map[string]any)["id"]), p.token, nil).Expect(t, 204, "delete image")
	h.do("GET", url0, "", nil).Expect(t, 404, "deleted image gone")
	var pub []map[string]any
	h.do("GET", "/api/v1/public/professional/"+p.profID+"/portfolio", "", nil).Decode(t, &pub)
	if len(pub) != 1 || len(pub[0]["imagenes"].([]any)) != 1 || pub[0]["titulo"] != "Baño nuevo" {
		t.Fatalf("public portfolio %v", pub)
	}
	h.do("GET", "/api/v1/public/professional/"+other.profID+"/portfolio", "", nil).Expect(t, 200, "unverified portfolio")

	// Published services.
	svc := "/api/v1/profesional/servicios"
	for _, bad := range []map[string]any{
		{"nombre": "Destape", "precio_fijo": 0, "oficio_id": plom}, {"nombre": "Destape", "precio_fijo": -5, "oficio_id": plom},
		{"nombre": "", "precio_fijo": 10, "oficio_id": plom}, {"nombre": "Destape", "oficio_id": plom}, {"nombre": "D", "precio_fijo": 1.234, "oficio_id": plom},
	} {
		h.do("POST", svc, p.token, bad).Expect(t, 422, "bad servicio")
	}
	h.do("POST", svc, p.token, map[string]any{"nombre": "D", "precio_fijo": 10, "oficio_id": uuid.NewString()}).Expect(t, 404, "unknown oficio")
	h.do("POST", svc, cli, map[string]any{"nombre": "D", "precio_fijo": 10, "oficio_id": plom}).Expect(t, 403, "client publishes")
	r = h.do("POST", svc, p.token, map[string]any{"nombre": "Destape de cañería", "descripcion": "Con máquina", "precio_fijo": 15000.5, "oficio_id": plom})
	r.Expect(t, 201, "publish")
	sid := str(r.Map(t)["id"])
	if !bytes.Contains(r.Body, []byte(`"precio_fijo":15000.50`)) {
		t.Fatalf("money format %s", r.Body)
	}
	h.do("POST", svc, other.token, map[string]any{"nombre": "Oculto", "precio_fijo": 10, "oficio_id": plom})
	var list []map[string]any
	h.do("GET", "/api/v1/servicios?oficio_id="+plom, "", nil).Decode(t, &list)
	if len(list) != 1 || list[0]["id"] != sid || list[0]["profesional"].(map[string]any)["user_id"] != p.userID {
		t.Fatalf("public servicios (unapproved hidden) %v", list)
	}
	if bytes.Contains(h.do("GET", "/api/v1/servicios", "", nil).Body, []byte("@example.com")) {
		t.Fatal("servicios leak email")
	}
	h.do("PUT", svc+"/"+sid, other.token, map[string]any{"precio_fijo": 1}).Expect(t, 404, "other edits")
	h.do("DELETE", svc+"/"+sid, other.token, nil).Expect(t, 404, "other deletes")
	r = h.do("PUT", svc+"/"+sid, p.token, map[string]any{"precio_fijo": 20000})
	if r.Expect(t, 200, "edit"); r.Map(t)["nombre"] != "Destape de cañería" || r.Map(t)["precio_fijo"] != 20000.0 {
		t.Fatalf("edit %s", r.Body)
	}
	in := h.rawInternal("/internal/servicios/" + sid)
	if in.Expect(t, 200, "internal servicio"); in.Map(t)["profesional_usuario_id"] != p.userID || in.Map(t)["precio_fijo"] != 20000.0 {
		t.Fatalf("internal servicio %s", in.Body)
	}
	var mine []map[string]any
	h.do("GET", svc+"/me", p.token, nil).Decode(t, &mine)
	if len(mine) != 1 {
		t.Fatalf("mine %v", mine)
	}
	h.do("DELETE", svc+"/"+sid, p.token, nil).Expect(t, 204, "delete")
	h.rawInternal("/internal/servicios/"+sid).Expect(t, 404, "internal after delete")
}

package tests

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
)

// The web frontend's contract (issue #10) for this service: trades, the professional's
// own trades, the profile page's fields, search items and filters.

const zeroUUID = "00000000-0000-0000-0000-000000000000"

func TestTradesCarryDescriptionCategoryAndDate(t *testing.T) {
	h := newHarness(t)
	adm := h.adminToken()
	for _, path := range []string{"/api/v1/public/oficios", "/api/v1/admin/oficios"} {
		var list []map[string]any
		h.do("GET", path, adm, nil).Expect(t, 200, path).Decode(t, &list)
		if len(list) != 12 {
			t.Fatalf("%s: %d trades", path, len(list))
		}
		for _, o := range list {
			d, ok := o["descripcion"].(string)
			if !ok || len(d) < 20 {
				t.Fatalf("%s: seeded trade without a real description: %v", path, o)
			}
			if c, ok := o["categoria"].(string); !ok || c == "" || o["activo"] != true {
				t.Fatalf("%s: categoria/activo %v", path, o)
			}
			if _, err := time.Parse(time.RFC3339Nano, str(o["fecha_creacion"])); err != nil {
				t.Fatalf("%s: fecha_creacion %v", path, o)
			}
		}
	}
	// Admin-created trades default to "" (never null), with or without a category.
	r := h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "  Techista "})
	o := r.Expect(t, 201, "create").Map(t)
	if o["nombre"] != "Techista" || o["descripcion"] != "" || o["categoria"] != "" || o["activo"] != true {
		t.Fatalf("created %v", o)
	}
	o = h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "Vidriería", "descripcion": "Vidrios", "categoria": "Hogar"}).Expect(t, 201, "create 2").Map(t)
	if o["descripcion"] != "Vidrios" || o["categoria"] != "Hogar" {
		t.Fatalf("created %v", o)
	}
	h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "techistá"}).Expect(t, 400, "duplicate name")
	h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "Xy"}).Expect(t, 422, "short name")
}

func TestAdminEditsAndTogglesTrades(t *testing.T) {
	h := newHarness(t)
	adm := h.adminToken()
	plom := h.oficioID("Plomería")
	a := h.approved("Ana", "Techo", plom, -34.6, -58.4, 10)
	b := h.register("Beto", "Nuevo", "")
	techo := str(h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "Techista"}).Expect(t, 201, "create").Map(t)["id"])
	h.do("POST", "/api/v1/professional/oficios", a.token, map[string]any{"oficio_id": techo}).Expect(t, 201, "a adds the trade")

	// Edit: partial, duplicate names refused, only admins, unknown ids 404.
	e := "/api/v1/admin/oficios/" + techo
	o := h.do("PUT", e, adm, map[string]any{"descripcion": "Membranas y tejas", "categoria": "Construcción y reformas"}).Expect(t, 200, "edit").Map(t)
	if o["nombre"] != "Techista" || o["descripcion"] != "Membranas y tejas" || o["categoria"] != "Construcción y reformas" || o["activo"] != true {
		t.Fatalf("edited %v", o)
	}
	h.do("PUT", e, adm, map[string]any{"nombre": "plomeria"}).Expect(t, 400, "duplicate name")
	h.do("PUT", e, adm, map[string]any{"nombre": "ab"}).Expect(t, 422, "short name")
	h.do("PUT", e, adm, map[string]any{}).Expect(t, 422, "nothing to change")
	h.do("PUT", e, a.token, map[string]any{"nombre": "Mío"}).Expect(t, 403, "professional edits")
	h.do("PUT", "/api/v1/admin/oficios/"+uuid.NewString(), adm, map[string]any{"nombre": "Nada"}).Expect(t, 404, "unknown")
	h.do("PUT", "/api/v1/admin/oficios/"+zeroUUID, adm, map[string]any{"nombre": "Nada"}).Expect(t, 404, "zero id is an id like any other")
	h.do("PUT", e, adm, map[string]any{"nombre": "Techos y membranas"}).Expect(t, 200, "rename")
	// The rename reaches search rows (names are denormalised there).
	var pg searchPage
	h.do("POST", "/api/v1/search", "", map[string]any{"oficio": "techos y membranas"}).Decode(t, &pg)
	if pg.Total != 1 || pg.Resultados[0].ID != a.profID || !contains(pg.Resultados[0].Oficios, "Techos y membranas") {
		t.Fatalf("search after rename %+v", pg)
	}

	// Disable: hidden from the public catalogue, listed for admins with activo false.
	tg := "/api/v1/admin/oficios/" + techo + "/toggle"
	h.do("PATCH", tg, a.token, nil).Expect(t, 403, "professional toggles")
	if o := h.do("PATCH", tg, adm, nil).Expect(t, 200, "disable").Map(t); o["activo"] != false || o["id"] != techo {
		t.Fatalf("disabled %v", o)
	}
	if ids := oficioIDs(h, "/api/v1/public/oficios", ""); contains(ids, techo) || len(ids) != 12 {
		t.Fatalf("public catalogue shows a disabled trade: %v", ids)
	}
	var all []map[string]any
	h.do("GET", "/api/v1/admin/oficios", adm, nil).Decode(t, &all)
	if !hasTrade(all, techo, false) {
		t.Fatalf("admin list %v", all)
	}
	// It cannot be newly chosen, by any path.
	h.do("POST", "/api/v1/professional/oficios", b.token, map[string]any{"oficio_id": techo}).Expect(t, 400, "add disabled by id")
	h.do("POST", "/api/v1/professional/oficios", b.token, map[string]any{"nombre": "Techos y membranas"}).Expect(t, 400, "add disabled by name")
	h.do("PUT", "/api/v1/professional/me", b.token, map[string]any{"oficio_ids": []string{techo}}).Expect(t, 400, "choose disabled on me")
	h.do("PUT", "/api/v1/professional/profile/oficios", b.token, map[string]any{"oficio_ids": []string{techo}}).Expect(t, 400, "choose disabled")
	h.do("POST", "/api/v1/profesional/servicios", b.token, map[string]any{"nombre": "Techo", "precio_fijo": 10, "oficio_id": techo}).Expect(t, 400, "servicio on disabled")
	h.do("POST", "/api/v1/admin/servicios-instant", adm, map[string]any{"nombre": "Teja", "oficio_id": techo}).Expect(t, 400, "instant on disabled")
	if ids := oficioIDs(h, "/api/v1/professional/oficios", b.token); len(ids) != 0 {
		t.Fatalf("refusals changed b's trades: %v", ids)
	}
	// Who already had it keeps it (flagged), and may keep it in a replacement set.
	var mine []map[string]any
	h.do("GET", "/api/v1/professional/oficios", a.token, nil).Decode(t, &mine)
	if !hasTrade(mine, techo, false) {
		t.Fatalf("a's trades %v", mine)
	}
	h.do("PUT", "/api/v1/professional/me", a.token, map[string]any{"oficio_ids": []string{techo, plom}}).Expect(t, 200, "keep a disabled trade")
	// Search: a disabled trade finds nobody, by id or by name; the professional is still
	// found through their other trades.
	h.do("POST", "/api/v1/search", "", map[string]any{"oficio_id": techo}).Decode(t, &pg)
	if pg.Total != 0 {
		t.Fatalf("disabled trade by id found %+v", pg)
	}
	h.do("POST", "/api/v1/search", "", map[string]any{"oficio": "techos"}).Decode(t, &pg)
	if pg.Total != 0 {
		t.Fatalf("disabled trade by name found %+v", pg)
	}
	if got := h.getAll(techo, -34.6, -58.4, nil); len(got) != 0 {
		t.Fatalf("coverage search by a disabled trade %v", got)
	}
	h.do("POST", "/api/v1/search", "", map[string]any{"oficio_id": plom}).Decode(t, &pg)
	if pg.Total != 1 || contains(pg.Resultados[0].Oficios, "Techos y membranas") {
		t.Fatalf("other trades of the professional %+v", pg)
	}
	// An explicit state is idempotent; enabling brings everything back.
	h.do("PATCH", tg, adm, map[string]any{"activo": true}).Expect(t, 200, "enable")
	if o := h.do("PATCH", tg, adm, map[string]any{"activo": true}).Expect(t, 200, "enable again").Map(t); o["activo"] != true {
		t.Fatalf("enabled %v", o)
	}
	h.do("POST", "/api/v1/search", "", map[string]any{"oficio_id": techo}).Decode(t, &pg)
	if pg.Total != 1 || pg.Resultados[0].ID != a.profID {
		t.Fatalf("re-enabled trade %+v", pg)
	}
	h.do("POST", "/api/v1/professional/oficios", b.token, map[string]any{"oficio_id": techo}).Expect(t, 201, "choosable again")

	h.eventually("trade events", func() bool {
		return len(h.published("TradeUpdated")) == 2 && len(h.published("TradeToggled")) == 3
	})
	up, _ := events.Decode[events.TradeUpdatedV1](h.published("TradeUpdated")[1])
	if up.OficioID != techo || up.Nombre != "Techos y membranas" || up.Descripcion != "Membranas y tejas" || !up.Activo || up.AdminID == "" {
		t.Fatalf("TradeUpdated %+v", up)
	}
	var states []bool
	for _, env := range h.published("TradeToggled") {
		e, _ := events.Decode[events.TradeToggledV1](env)
		if e.OficioID != techo {
			t.Fatalf("TradeToggled %+v", e)
		}
		states = append(states, e.Activo)
	}
	if fmt.Sprint(states) != "[false true true]" {
		t.Fatalf("toggle states %v", states)
	}
}

func oficioIDs(h *harness, path, token string) []string {
	h.t.Helper()
	var list []map[string]any
	h.do("GET", path, token, nil).Expect(h.t, 200, path).Decode(h.t, &list)
	ids := []string{}
	for _, o := range list {
		ids = append(ids, str(o["id"]))
	}
	return ids
}

func hasTrade(list []map[string]any, id string, activo bool) bool {
	for _, o := range list {
		if o["id"] == id {
			return o["activo"] == activo
		}
	}
	return false
}

func TestProfessionalOwnTrades(t *testing.T) {
	h := newHarness(t)
	plom, elec := h.oficioID("Plomería"), h.oficioID("Electricidad")
	p := h.register("Ola", "Oficios", plom)
	cli := h.token(uuid.NewString(), authn.RoleCliente)
	path := "/api/v1/professional/oficios"

	var mine []map[string]any
	h.do("GET", path, p.token, nil).Expect(t, 200, "list").Decode(t, &mine)
	if len(mine) != 1 || mine[0]["id"] != plom || mine[0]["categoria"] != "Instalaciones" || mine[0]["descripcion"] == "" {
		t.Fatalf("own trades %v", mine)
	}
	h.do("GET", path, cli, nil).Expect(t, 403, "client")

	// By id: 201 when added, 200 when it already was theirs.
	if o := h.do("POST", path, p.token, map[string]any{"oficio_id": elec}).Expect(t, 201, "add by id").Map(t); o["nombre"] != "Electricidad" {
		t.Fatalf("added %v", o)
	}
	h.do("POST", path, p.token, map[string]any{"oficio_id": elec}).Expect(t, 200, "add again")
	// By name, accents and case aside; the earlier frontend also sends descripcion and
	// categoria, which describe the catalogue's trade and are not stored.
	o := h.do("POST", path, p.token, map[string]any{"nombre": "CARPINTERIA", "descripcion": "la mía", "categoria": "x"}).Expect(t, 201, "add by name").Map(t)
	if o["nombre"] != "Carpintería" || o["descripcion"] == "la mía" {
		t.Fatalf("added by name %v", o)
	}
	// A professional never creates catalogue entries.
	e := h.do("POST", path, p.token, map[string]any{"nombre": "Astronauta", "descripcion": "Viajes", "categoria": "Espacio"}).ExpectError(t, 400, "unknown name")
	if e["code"] != "oficio_no_en_catalogo" || !strings.Contains(str(e["detail"]), "administrador") {
		t.Fatalf("unknown name answer %v", e)
	}
	if n := len(oficioIDs(h, "/api/v1/public/oficios", "")); n != 12 {
		t.Fatalf("catalogue changed: %d trades", n)
	}
	h.do("POST", path, p.token, map[string]any{}).Expect(t, 422, "neither id nor name")
	h.do("POST", path, p.token, map[string]any{"oficio_id": "x"}).Expect(t, 422, "bad id")
	h.do("POST", path, p.token, map[string]any{"oficio_id": uuid.NewString()}).Expect(t, 404, "unknown id")
	h.do("POST", path, p.token, map[string]any{"oficio_id": zeroUUID}).Expect(t, 404, "zero id is unknown, not absent")
	if ids := oficioIDs(h, path, p.token); len(ids) != 3 {
		t.Fatalf("after adds %v", ids)
	}

	// Delete one of theirs; others' or unknown ones are 404.
	h.do("DELETE", path+"/"+elec, p.token, nil).Expect(t, 204, "delete")
	h.do("DELETE", path+"/"+elec, p.token, nil).Expect(t, 404, "delete again")
	h.do("DELETE", path+"/"+zeroUUID, p.token, nil).Expect(t, 404, "zero id")
	h.do("DELETE", path+"/nope", p.token, nil).Expect(t, 404, "bad id")
	if ids := oficioIDs(h, path, p.token); len(ids) != 2 || contains(ids, elec) {
		t.Fatalf("after delete %v", ids)
	}
	h.eventually("profile events carry the trades", func() bool {
		envs := h.published("ProfessionalProfileUpdated")
		if len(envs) == 0 {
			return false
		}
		e, _ := events.Decode[events.ProfessionalProfileUpdatedV1](envs[len(envs)-1])
		return len(e.OficioIDs) == 2 && !contains(e.OficioIDs, elec)
	})
}

func TestProfileMeAcceptsWhatThePagesSend(t *testing.T) {
	h := newHarness(t)
	plom, elec, carp := h.oficioID("Plomería"), h.oficioID("Electricidad"), h.oficioID("Carpintería")
	p := h.register("Pia", "Perfil", plom)
	me := "/api/v1/professional/me"
	get := func() map[string]any { return h.do("GET", me, p.token, nil).Expect(t, 200, "me").Map(t) }

	m := get()
	if m["kyc_status"] != "PENDIENTE" || m["verificado"] != false || m["trabajos_completados"] != 0.0 || m["disponible"] != true {
		t.Fatalf("new profile %v", m)
	}
	for _, k := range []string{"foto_perfil", "biografia", "experiencia_anos", "habilidades", "certificaciones", "imagenes_trabajos"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("me lacks %s: %v", k, m)
		}
	}

	// Each of the dashboard's six separate saves is stored.
	for _, c := range []struct {
		body  map[string]any
		check func(m map[string]any) bool
	}{
		{map[string]any{"tarifa_por_hora": 7500.5}, func(m map[string]any) bool { return m["tarifa_por_hora"] == 7500.5 }},
		{map[string]any{"radio_cobertura_km": 25}, func(m map[string]any) bool { return m["radio_cobertura_km"] == 25.0 }},
		{map[string]any{"acepta_instant": true}, func(m map[string]any) bool { return m["acepta_instant"] == true }},
		{map[string]any{"latitude": -34.61, "longitude": -58.42}, func(m map[string]any) bool { return m["latitude"] == -34.61 && m["longitude"] == -58.42 }},
		{map[string]any{"latitud": -34.7, "longitud": -58.5}, func(m map[string]any) bool { return m["latitude"] == -34.7 && m["longitude"] == -58.5 }},
		{map[string]any{"ubicacion_lat": -34.8, "ubicacion_lon": -58.6}, func(m map[string]any) bool { return m["latitude"] == -34.8 && m["longitude"] == -58.6 }},
		{map[string]any{"payout_account": "Pia.Perfil.MP"}, func(m map[string]any) bool { return m["payout_account"] == "pia.perfil.mp" }},
		{map[string]any{"oficios_ids": map[string]any{"oficio_ids": []string{elec, plom}}}, func(m map[string]any) bool { return tradeNames(m) == "Electricidad,Plomería" }},
		{map[string]any{"oficios_ids": []string{carp}}, func(m map[string]any) bool { return tradeNames(m) == "Carpintería" }},
		{map[string]any{"oficio_ids": []string{plom, carp}}, func(m map[string]any) bool { return tradeNames(m) == "Carpintería,Plomería" }},
		// The edit page's fields.
		{map[string]any{"biografia": " Plomera desde 2010 ", "descripcion": "Trabajos prolijos", "experiencia_anos": 14, "disponible": false,
			"habilidades": []string{"Termotanques", "Cloacas", "Termotanques"}, "certificaciones": []string{"Matrícula 123"}},
			func(m map[string]any) bool {
				return m["biografia"] == "Plomera desde 2010" && m["descripcion"] == "Trabajos prolijos" && m["experiencia_anos"] == 14.0 &&
					m["disponible"] == false && fmt.Sprint(m["habilidades"]) == "[Termotanques Cloacas]" && fmt.Sprint(m["certificaciones"]) == "[Matrícula 123]"
			}},
	} {
		r := h.do("PUT", me, p.token, c.body).Expect(t, 200, fmt.Sprintf("PUT %v", c.body))
		if !c.check(r.Map(t)) || !c.check(get()) {
			t.Fatalf("PUT %v not stored: %v", c.body, get())
		}
	}
	// The dedicated endpoints apply the same rules.
	h.do("PUT", "/api/v1/professional/profile", p.token, map[string]any{"habilidades": []string{"Gas"}}).Expect(t, 200, "profile alias")
	if fmt.Sprint(get()["habilidades"]) != "[Gas]" {
		t.Fatal("PUT /professional/profile is not the same handler")
	}
	// An empty list clears; an absent one leaves the list as it is.
	h.do("PUT", me, p.token, map[string]any{"certificaciones": []string{}}).Expect(t, 200, "clear certificaciones")
	if m := get(); fmt.Sprint(m["certificaciones"]) != "[]" || fmt.Sprint(m["habilidades"]) != "[Gas]" {
		t.Fatalf("clearing one list %v %v", m["certificaciones"], m["habilidades"])
	}

	// Bad input: 422 with the reason in detail, and nothing of the body applied (one
	// transaction), even when other fields of it are fine.
	before := get()
	for _, bad := range []map[string]any{
		{"latitude": -34.5},            // half a pair
		{"latitud": 95, "longitud": 0}, // out of range
		{"latitude": -34.5, "longitude": -58.4, "latitud": -30, "longitud": -58.4}, // two spellings disagree
		{"payout_account": "123", "tarifa_por_hora": 1},                            // bad CBU
		{"oficios_ids": "plomeria"},                                                // neither list nor object
		{"oficios_ids": map[string]any{"otra": []string{plom}}},                    // object without oficio_ids
		{"oficios_ids": []string{plom}, "oficio_ids": []string{elec}},              // disagree
		{"oficio_ids": []string{"x"}},
		{"experiencia_anos": 81, "biografia": "otra"},
		{"radio_cobertura_km": 0},
		{"habilidades": []string{""}},
		{"habilidades": []string{strings.Repeat("x", 101)}},
		{"biografia": strings.Repeat("x", 2001)},
	} {
		e := h.do("PUT", me, p.token, bad).ExpectError(t, 422, fmt.Sprintf("bad %v", bad))
		if d := str(e["detail"]); !strings.HasPrefix(d, "Datos inválidos en ") {
			t.Fatalf("detail without the reason for %v: %q", bad, d)
		}
	}
	h.do("PUT", me, p.token, map[string]any{"oficio_ids": []string{uuid.NewString()}, "biografia": "x"}).Expect(t, 404, "unknown trade")
	h.do("PUT", me, p.token, map[string]any{"imagenes_trabajos": []string{"https://evil.example/x.png"}, "biografia": "x"}).Expect(t, 400, "foreign image")
	after := get()
	for _, k := range []string{"latitude", "longitude", "payout_account", "tarifa_por_hora", "oficios", "experiencia_anos", "biografia", "radio_cobertura_km", "habilidades"} {
		if fmt.Sprint(before[k]) != fmt.Sprint(after[k]) {
			t.Fatalf("refused update changed %s: %v → %v", k, before[k], after[k])
		}
	}

	// imagenes_trabajos: images of their own portfolio, given absolute or as paths.
	item := str(h.do("POST", "/api/v1/professional/portfolio", p.token, map[string]any{"titulo": "Baño"}).Expect(t, 201, "item").Map(t)["id"])
	img := h.upload("/api/v1/professional/portfolio/"+item+"/image", p.token, part{"file", "a.png", pngImg}).Expect(t, 200, "image").Map(t)["imagenes_urls"].([]any)[0]
	r := h.do("PUT", me, p.token, map[string]any{"imagenes_trabajos": []string{str(img)}})
	if got := r.Expect(t, 200, "work images").Map(t)["imagenes_trabajos"]; fmt.Sprint(got) != fmt.Sprint([]any{img}) {
		t.Fatalf("imagenes_trabajos %v, want %v", got, img)
	}
	h.do("PUT", me, p.token, map[string]any{"imagenes_trabajos": []string{h.path(img)}}).Expect(t, 200, "work images as a path")
	other := h.register("Otra", "Pro", plom)
	h.do("PUT", "/api/v1/professional/me", other.token, map[string]any{"imagenes_trabajos": []string{str(img)}}).Expect(t, 400, "another's image")
	// Deleting the portfolio image drops it from the showcase.
	h.do("DELETE", "/api/v1/professional/portfolio/"+item, p.token, nil).Expect(t, 204, "delete item")
	if got := get()["imagenes_trabajos"]; fmt.Sprint(got) != "[]" {
		t.Fatalf("showcase keeps a deleted image: %v", got)
	}

	// trabajos_completados counts JobCompleted once per job (the event names the user).
	job := uuid.NewString()
	env := h.publish(events.JobCompletedV1{TrabajoID: job, ClienteID: uuid.NewString(), ProfesionalID: p.userID, PrecioCentavos: 100, Motivo: "cliente"}, time.Now())
	h.publishEnv(env)
	h.publish(events.JobCompletedV1{TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(), ProfesionalID: p.profID, PrecioCentavos: 100, Motivo: "automatico"}, time.Now())
	h.eventually("completed jobs counted", func() bool { return get()["trabajos_completados"] == 2.0 })
	time.Sleep(300 * time.Millisecond)
	if n := get()["trabajos_completados"]; n != 2.0 {
		t.Fatalf("a redelivered JobCompleted counted twice: %v", n)
	}
	pub := h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil).Expect(t, 200, "public").Map(t)
	if pub["trabajos_completados"] != 2.0 || pub["verificado"] != false {
		t.Fatalf("public profile %v", pub)
	}

	// foto_perfil is the absolute avatar.
	h.publish(events.UserProfileUpdatedV1{UserID: p.userID, Nombre: "Pia", Apellido: "Perfil", AvatarURL: "/api/v1/users/avatars/p.png"}, time.Now())
	h.eventually("avatar", func() bool {
		m := get()
		return m["foto_perfil"] == publicURL+"/api/v1/users/avatars/p.png" && m["avatar_url"] == m["foto_perfil"]
	})
}

func tradeNames(m map[string]any) string {
	var names []string
	for _, o := range m["oficios"].([]any) {
		names = append(names, str(o.(map[string]any)["nombre"]))
	}
	return strings.Join(names, ",")
}

func TestSearchItemsAndEveryFilterPinned(t *testing.T) {
	h := newHarness(t)
	plom, elec := h.oficioID("Plomería"), h.oficioID("Electricidad")
	p := h.approved("Rosa", "Buscada", plom, -34.6, -58.4, 10) // tarifa 5000, BRONCE
	h.do("PUT", "/api/v1/professional/me", p.token, map[string]any{"acepta_instant": true}).Expect(t, 200, "instant")
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(),
		ProfesionalID: p.profID, Rating: 5, RatingPromedio: 4.5, TotalResenas: 1}, time.Now())
	h.eventually("rating", func() bool {
		return len(h.postAll(map[string]any{"rating_minimo": 4.4})) == 1
	})
	unverified := h.register("Rosa", "Pendiente", plom)
	h.do("PUT", "/api/v1/professional/profile/location", unverified.token, map[string]any{"latitude": -34.6, "longitude": -58.4}).Expect(t, 200, "loc")

	// Every field the frontend reads from an item, nivel included.
	r := h.do("POST", "/api/v1/search", "", map[string]any{"latitude": -34.6, "longitude": -58.4, "radio_km": 10, "skip": 0, "limit": 100, "ordenar_por": "rating"})
	var page struct {
		Resultados []map[string]any `json:"resultados"`
	}
	r.Expect(t, 200, "search").Decode(t, &page)
	if len(page.Resultados) != 1 {
		t.Fatalf("search lists verified professionals only: %v", page.Resultados)
	}
	it := page.Resultados[0]
	for k, want := range map[string]any{"id": p.profID, "profesional_id": p.profID, "nombre": "Rosa", "apellido": "Buscada", "oficio": "Plomería",
		"tarifa_por_hora": 5000.0, "calificacion_promedio": 4.5, "cantidad_resenas": 1.0, "nivel": "BRONCE", "nivel_profesional": "BRONCE"} {
		if it[k] != want {
			t.Fatalf("item %s = %v, want %v (%v)", k, it[k], want, it)
		}
	}
	if _, ok := it["avatar_url"]; !ok {
		t.Fatalf("item lacks avatar_url: %v", it)
	}

	// POST /search: each filter with a matching value finds her, with a non-matching one nobody.
	near := map[string]any{"latitude": -34.6, "longitude": -58.4, "radio_km": 5}
	far := map[string]any{"latitude": -31.42, "longitude": -64.18, "radio_km": 50} // Córdoba
	for _, c := range []struct {
		name      string
		hit, miss map[string]any
	}{
		{"oficio_id", map[string]any{"oficio_id": plom}, map[string]any{"oficio_id": elec}},
		{"oficio_id unknown", map[string]any{"oficio_id": plom}, map[string]any{"oficio_id": uuid.NewString()}},
		{"oficio_id all zero", map[string]any{"oficio_id": plom}, map[string]any{"oficio_id": zeroUUID}},
		{"oficio (name)", map[string]any{"oficio": "plomeria"}, map[string]any{"oficio": "electricidad"}},
		{"oficio unknown name", map[string]any{"oficio": "plom"}, map[string]any{"oficio": "astronauta"}},
		{"q", map[string]any{"q": "buscada"}, map[string]any{"q": "inexistente"}},
		{"location", near, far},
		{"radio_km", map[string]any{"latitude": -34.7, "longitude": -58.4, "radio_km": 12}, map[string]any{"latitude": -34.7, "longitude": -58.4, "radio_km": 10}},
		{"rating_minimo", map[string]any{"rating_minimo": 4.5}, map[string]any{"rating_minimo": 4.6}},
		{"precio_minimo", map[string]any{"precio_minimo": 5000}, map[string]any{"precio_minimo": 5000.01}},
		{"precio_maximo", map[string]any{"precio_maximo": 5000}, map[string]any{"precio_maximo": 4999.99}},
		{"nivel", map[string]any{"nivel": "BRONCE"}, map[string]any{"nivel": "ORO"}},
		{"acepta_instant", map[string]any{"acepta_instant": true}, map[string]any{"acepta_instant": false}},
		{"disponible", map[string]any{"disponible": true}, map[string]any{"disponible": true, "acepta_instant": false}},
	} {
		if got := h.postAll(c.hit); len(got) != 1 || got[0] != p.profID {
			t.Fatalf("POST %s %v: want her, got %v", c.name, c.hit, got)
		}
		if got := h.postAll(c.miss); len(got) != 0 {
			t.Fatalf("POST %s %v: want nobody, got %v", c.name, c.miss, got)
		}
	}

	// GET /search/professionals (coverage): the same, filter by filter.
	for _, c := range []struct {
		name                string
		oficio              string
		lat, lng            float64
		hitExtra, missExtra url.Values
		missOficio          string
		missLat, missLng    float64
	}{
		{name: "oficio_id other", oficio: plom, lat: -34.6, lng: -58.4, missOficio: elec, missLat: -34.6, missLng: -58.4},
		{name: "oficio_id unknown", oficio: plom, lat: -34.6, lng: -58.4, missOficio: uuid.NewString(), missLat: -34.6, missLng: -58.4},
		{name: "oficio_id all zero", oficio: plom, lat: -34.6, lng: -58.4, missOficio: zeroUUID, missLat: -34.6, missLng: -58.4},
		{name: "point outside her coverage", oficio: plom, lat: -34.65, lng: -58.4, missOficio: plom, missLat: -34.7, missLng: -58.4},
		{name: "nivel", oficio: plom, lat: -34.6, lng: -58.4, hitExtra: url.Values{"nivel": {"BRONCE"}}, missExtra: url.Values{"nivel": {"DIAMANTE"}}, missOficio: plom, missLat: -34.6, missLng: -58.4},
		{name: "acepta_instant", oficio: plom, lat: -34.6, lng: -58.4, hitExtra: url.Values{"acepta_instant": {"true"}}, missExtra: url.Values{"acepta_instant": {"false"}}, missOficio: plom, missLat: -34.6, missLng: -58.4},
	} {
		if got := h.getAll(c.oficio, c.lat, c.lng, c.hitExtra); len(got) != 1 || got[0] != p.profID {
			t.Fatalf("GET %s: want her, got %v", c.name, got)
		}
		if got := h.getAll(c.missOficio, c.missLat, c.missLng, c.missExtra); len(got) != 0 {
			t.Fatalf("GET %s: want nobody, got %v", c.name, got)
		}
	}
	var items []map[string]any
	h.do("GET", "/api/v1/search/professionals?oficio_id="+plom+"&lat=-34.6&lng=-58.4", "", nil).Decode(t, &items)
	if len(items) != 1 || items[0]["nivel"] != "BRONCE" || items[0]["profesional_id"] != p.profID {
		t.Fatalf("coverage items %v", items)
	}

	// The public profile shows the unverified one (search does not).
	if m := h.do("GET", "/api/v1/public/professional/"+unverified.profID, "", nil).Expect(t, 200, "unverified public").Map(t); m["verificado"] != false {
		t.Fatalf("unverified public %v", m)
	}
	_ = context.Background
}

func TestPortfolioURLsAndPublishedServiceShapes(t *testing.T) {
	h := newHarness(t)
	plom := h.oficioID("Plomería")
	p := h.approved("Uma", "Urls", plom, -34.6, -58.4, 10)
	other := h.register("Otro", "Pro", plom)
	mk := func(tok, titulo string) string {
		return str(h.do("POST", "/api/v1/professional/portfolio", tok, map[string]any{"titulo": titulo}).Expect(t, 201, "item").Map(t)["id"])
	}
	a, b := mk(p.token, "Cocina"), mk(p.token, "Baño")
	it := h.upload("/api/v1/professional/portfolio/"+a+"/image", p.token, part{"file", "a.png", pngImg}).Expect(t, 200, "upload").Map(t)
	urls := it["imagenes_urls"].([]any)
	im := it["imagenes"].([]any)[0].(map[string]any)
	if len(urls) != 1 || urls[0] != im["imagen_url"] || im["image_url"] != im["imagen_url"] || im["portfolio_item_id"] != a || im["created_at"] == nil {
		t.Fatalf("item %v", it)
	}
	src := h.path(urls[0])
	// The multipart form works on the plural path too.
	h.upload("/api/v1/professional/portfolio/"+b+"/images", p.token, part{"file", "b.png", pngImg}).Expect(t, 200, "multipart on /images")

	// JSON URLs: only images already stored in the caller's own portfolio.
	imgs := "/api/v1/professional/portfolio/" + b + "/images"
	for _, bad := range []any{
		[]string{"https://evil.example/x.png"},
		[]string{publicURL + "/api/v1/public/portfolio/imagenes/nope.png"},
		[]string{publicURL + "/api/v1/users/avatars/x.png"},
		[]string{str(urls[0]), "https://evil.example/x.png"}, // all or nothing
	} {
		if e := h.do("POST", imgs, p.token, bad).ExpectError(t, 400, fmt.Sprintf("bad urls %v", bad)); e["code"] != "imagen_no_admitida" {
			t.Fatalf("refusal %v", e)
		}
	}
	h.do("POST", imgs, p.token, []string{}).Expect(t, 422, "empty list")
	h.do("POST", imgs, p.token, map[string]any{"url": "x"}).Expect(t, 422, "not a list")
	h.do("POST", "/api/v1/professional/portfolio/"+a+"/images", other.token, []string{str(urls[0])}).Expect(t, 404, "another's item")
	var added []map[string]any
	h.do("POST", imgs, p.token, []string{str(urls[0])}).Expect(t, 200, "copy own image").Decode(t, &added)
	if len(added) != 1 || added[0]["portfolio_item_id"] != b || added[0]["orden"] != 1.0 || added[0]["id"] == "" || added[0]["created_at"] == nil ||
		!strings.HasPrefix(str(added[0]["image_url"]), publicURL+"/api/v1/public/portfolio/imagenes/") {
		t.Fatalf("added %v", added)
	}
	// Sending its own URL again adds nothing.
	var again []map[string]any
	h.do("POST", imgs, p.token, []string{str(added[0]["image_url"])}).Expect(t, 200, "again").Decode(t, &again)
	var items []map[string]any
	h.do("GET", "/api/v1/professional/portfolio", p.token, nil).Decode(t, &items)
	for _, x := range items {
		if x["id"] == b && len(x["imagenes_urls"].([]any)) != 2 {
			t.Fatalf("item b %v", x)
		}
	}
	if again[0]["id"] != added[0]["id"] {
		t.Fatalf("duplicate image %v vs %v", again, added)
	}
	// The copy outlives the original.
	h.do("DELETE", "/api/v1/professional/portfolio/"+a, p.token, nil).Expect(t, 204, "delete original item")
	h.do("GET", src, "", nil).Expect(t, 404, "original gone")
	if r := h.do("GET", h.path(added[0]["image_url"]), "", nil); r.Status != 200 || string(r.Body) != string(pngImg) {
		t.Fatalf("copy %d", r.Status)
	}
	var pub []map[string]any
	h.do("GET", "/api/v1/public/professional/"+p.profID+"/portfolio", "", nil).Decode(t, &pub)
	if len(pub) != 1 || len(pub[0]["imagenes_urls"].([]any)) != 2 {
		t.Fatalf("public portfolio %v", pub)
	}

	// Published services carry the trade object (with categoria) and the professional.
	h.do("POST", "/api/v1/profesional/servicios", p.token, map[string]any{"nombre": "Destape", "precio_fijo": 100, "oficio_id": plom}).Expect(t, 201, "publish")
	for _, path := range []string{"/api/v1/profesional/servicios/me", "/api/v1/servicios"} {
		var list []map[string]any
		h.do("GET", path, p.token, nil).Expect(t, 200, path).Decode(t, &list)
		if len(list) != 1 {
			t.Fatalf("%s %v", path, list)
		}
		of, _ := list[0]["oficio"].(map[string]any)
		pr, _ := list[0]["profesional"].(map[string]any)
		if of["id"] != plom || of["nombre"] != "Plomería" || of["categoria"] != "Instalaciones" || of["descripcion"] == "" ||
			pr["nombre"] != "Uma" || pr["rating_promedio"] != 0.0 {
			t.Fatalf("%s shape %v", path, list[0])
		}
	}
	// Zero oficio_id on /servicios is an id that matches nothing, not "all".
	var none []map[string]any
	h.do("GET", "/api/v1/servicios?oficio_id="+zeroUUID, "", nil).Expect(t, 200, "zero").Decode(t, &none)
	if len(none) != 0 {
		t.Fatalf("zero oficio_id listed %v", none)
	}
}

package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
)

func TestRegistrationCreatesProfileOnceWithTrade(t *testing.T) {
	h := newHarness(t)
	plom := h.oficioID("Plomería")
	id := uuid.NewString()
	env := h.publish(events.UserRegisteredV1{UserID: id, Email: "ana@example.com", Nombre: "Ana", Apellido: "Paz",
		Rol: authn.RoleProfesional, OficioID: plom}, time.Now())
	h.publishEnv(env) // redelivery: applied once
	h.publish(events.UserRegisteredV1{UserID: uuid.NewString(), Email: "c@example.com", Nombre: "C", Apellido: "C", Rol: authn.RoleCliente}, time.Now())
	tok := h.token(id, authn.RoleProfesional)
	var me map[string]any
	h.eventually("profile", func() bool {
		r := h.do("GET", "/api/v1/professional/me", tok, nil)
		if r.Status != 200 {
			return false
		}
		me = r.Map(t)
		return true
	})
	if h.auth.calls != 0 {
		// The consumer may race the first GET; only a miss asks auth, and the fake has
		// no account, so a miss would have been a 404.
		t.Logf("auth asked %d times", h.auth.calls)
	}
	if me["nombre"] != "Ana" || me["email"] != "ana@example.com" || me["estado_verificacion"] != "PENDIENTE" || me["nivel"] != "BRONCE" {
		t.Fatalf("profile %v", me)
	}
	ofs := me["oficios"].([]any)
	if len(ofs) != 1 || ofs[0].(map[string]any)["id"] != plom {
		t.Fatalf("oficios %v", ofs)
	}
	var n int
	_ = h.db.QueryRow(context.Background(), `SELECT count(*) FROM profesionales`).Scan(&n)
	if n != 1 {
		t.Fatalf("%d profiles, want 1 (client gets none, redelivery creates none)", n)
	}
	// The relay publishes right after commit, asynchronously.
	h.eventually("ProfessionalProfileUpdated of the new profile", func() bool { return len(h.published("ProfessionalProfileUpdated")) >= 1 })
	time.Sleep(200 * time.Millisecond)
	if got := h.published("ProfessionalProfileUpdated"); len(got) != 1 {
		t.Fatalf("%d ProfessionalProfileUpdated, want 1", len(got))
	}
}

func TestMeReadsItsWritesByAskingAuthOnAMiss(t *testing.T) {
	h := newHarness(t)
	id := uuid.NewString()
	elec := h.oficioID("Electricidad")
	h.auth.accounts[id] = map[string]any{"id": id, "email": "leo@example.com", "nombre": "Leo", "apellido": "Gil",
		"rol": "PROFESIONAL", "is_active": true, "oficio_id": elec, "fecha_creacion": time.Now().UTC().Format(time.RFC3339Nano)}
	tok := h.token(id, authn.RoleProfesional)
	r := h.do("GET", "/api/v1/professional/me", tok, nil)
	r.Expect(t, 200, "me on a miss")
	me := r.Map(t)
	if me["nombre"] != "Leo" || len(me["oficios"].([]any)) != 1 {
		t.Fatalf("me %v", me)
	}
	// The registration event arriving later finds the same row.
	h.publish(events.UserRegisteredV1{UserID: id, Email: "leo@example.com", Nombre: "Leo", Apellido: "Gil", Rol: "PROFESIONAL", OficioID: elec}, time.Now().Add(-time.Second))
	time.Sleep(300 * time.Millisecond)
	var n int
	_ = h.db.QueryRow(context.Background(), `SELECT count(*) FROM profesionales WHERE usuario_id = $1`, id).Scan(&n)
	if n != 1 {
		t.Fatalf("%d profiles", n)
	}
	// A user auth does not know (or a client) has no profile.
	h.do("GET", "/api/v1/professional/me", h.token(uuid.NewString(), authn.RoleProfesional), nil).Expect(t, 404, "unknown account")
}

func TestProfileRulesAndEvents(t *testing.T) {
	h := newHarness(t)
	p := h.register("Bea", "Sol", "")
	for _, bad := range []map[string]any{
		{"radio_cobertura_km": 0}, {"radio_cobertura_km": 501}, {"tarifa_por_hora": -1}, {"tarifa_por_hora": 10.123},
		{"radio_cobertura_km": "diez"},
	} {
		h.do("PUT", "/api/v1/professional/profile", p.token, bad).Expect(t, 422, "bad profile update")
	}
	h.do("PUT", "/api/v1/professional/me", p.token, "{").Expect(t, 422, "malformed json")
	h.raw("PUT", "/api/v1/professional/me", p.token, "text/plain", strings.NewReader("x")).Expect(t, 415, "wrong content type")
	r := h.do("PUT", "/api/v1/professional/me", p.token, map[string]any{"radio_cobertura_km": 500, "tarifa_por_hora": 0, "acepta_instant": true, "descripcion": "Hago de todo"})
	r.Expect(t, 200, "update")
	me := r.Map(t)
	if me["radio_cobertura_km"] != 500.0 || me["tarifa_por_hora"] != 0.0 || me["acepta_instant"] != true {
		t.Fatalf("after update %v", me)
	}
	// Partial: only the rate changes.
	r = h.do("PUT", "/api/v1/professional/profile", p.token, map[string]any{"tarifa_por_hora": 1234.5})
	if me = r.Map(t); me["radio_cobertura_km"] != 500.0 || me["tarifa_por_hora"] != 1234.5 {
		t.Fatalf("partial update %v", me)
	}
	h.do("PUT", "/api/v1/professional/profile/location", p.token, map[string]any{"latitude": 91, "longitude": 0}).Expect(t, 422, "lat range")
	h.do("PUT", "/api/v1/professional/profile/location", p.token, map[string]any{"latitude": 10}).Expect(t, 422, "lng missing")
	r = h.do("PUT", "/api/v1/professional/profile/location", p.token, map[string]any{"latitude": -34.6, "longitude": -58.4})
	if me = r.Map(t); me["latitude"] != -34.6 || me["longitude"] != -58.4 {
		t.Fatalf("location %v", me)
	}
	// Trades: replaced as a set; unknown ids 404 and nothing changes.
	plom, gas := h.oficioID("Plomería"), h.oficioID("Gasista")
	r = h.do("PUT", "/api/v1/professional/profile/oficios", p.token, map[string]any{"oficio_ids": []string{plom, gas, plom}})
	r.Expect(t, 200, "oficios")
	var ofs []map[string]any
	r.Decode(t, &ofs)
	if len(ofs) != 2 {
		t.Fatalf("oficios %v", ofs)
	}
	h.do("PUT", "/api/v1/professional/profile/oficios", p.token, map[string]any{"oficio_ids": []string{uuid.NewString()}}).Expect(t, 404, "unknown oficio")
	h.do("PUT", "/api/v1/professional/profile/oficios", p.token, map[string]any{"oficio_ids": []string{"x"}}).Expect(t, 422, "bad uuid")
	if me = h.do("GET", "/api/v1/professional/me", p.token, nil).Map(t); len(me["oficios"].([]any)) != 2 {
		t.Fatalf("set changed by a failed update: %v", me["oficios"])
	}
	// Instant services.
	adm := h.adminToken()
	r = h.do("POST", "/api/v1/admin/servicios-instant", adm, map[string]any{"nombre": "Destapar cañería", "oficio_id": plom})
	r.Expect(t, 201, "create instant service")
	sid := str(r.Map(t)["id"])
	h.do("POST", "/api/v1/admin/servicios-instant", adm, map[string]any{"nombre": "X", "oficio_id": uuid.NewString()}).Expect(t, 404, "instant for unknown oficio")
	r = h.do("PUT", "/api/v1/professional/profile/servicios-instant", p.token, map[string]any{"servicio_ids": []string{sid}})
	r.Expect(t, 200, "servicios instant")
	h.do("PUT", "/api/v1/professional/profile/servicios-instant", p.token, map[string]any{"servicio_ids": []string{uuid.NewString()}}).Expect(t, 404, "unknown servicio")
	r = h.do("GET", "/api/v1/admin/oficios/"+plom+"/servicios-instant", p.token, nil)
	if r.Expect(t, 200, "list instant"); !bytes.Contains(r.Body, []byte("Destapar")) {
		t.Fatalf("list instant %s", r.Body)
	}
	// Payout: CBU with valid check digits or an alias.
	for _, bad := range []string{"2850590940090418135202", "123", "alias con espacios", "un_alias_invalido"} {
		h.do("PUT", "/api/v1/professional/payout-info", p.token, map[string]any{"payout_account": bad}).Expect(t, 422, "bad payout "+bad)
	}
	h.do("PUT", "/api/v1/professional/payout", p.token, map[string]any{}).Expect(t, 422, "payout missing")
	r = h.do("PUT", "/api/v1/professional/payout", p.token, map[string]any{"payout_account": "2850590940090418135201"})
	r.Expect(t, 200, "payout cbu")
	r = h.do("PUT", "/api/v1/professional/payout-info", p.token, map[string]any{"payout_account": "Bea.Sol.MP"})
	if r.Expect(t, 200, "payout alias"); r.Map(t)["payout_account"] != "bea.sol.mp" {
		t.Fatalf("payout %s", r.Body)
	}
	h.eventually("ProfessionalProfileUpdated with the payout account", func() bool {
		for _, env := range h.published("ProfessionalProfileUpdated") {
			e, _ := events.Decode[events.ProfessionalProfileUpdatedV1](env)
			if e.PayoutAccount == "bea.sol.mp" && e.UsuarioID == p.userID && len(e.OficioIDs) == 2 && e.RadioCoberturaKm == 500 &&
				e.TarifaPorHoraCentavos != nil && *e.TarifaPorHoraCentavos == 123450 {
				return true
			}
		}
		return false
	})
	// Internal read for payments.
	r = h.do("GET", "/internal/professionals/by-user/"+p.userID, "", nil)
	r.Expect(t, 401, "internal without key")
	req := h.rawInternal("/internal/professionals/by-user/" + p.userID)
	if req.Expect(t, 200, "internal by user"); req.Map(t)["payout_account"] != "bea.sol.mp" || req.Map(t)["tasa_comision_bp"] != 2000.0 {
		t.Fatalf("internal %s", req.Body)
	}
	h.rawInternal("/internal/professionals/by-user/"+uuid.NewString()).Expect(t, 404, "internal unknown")
}

func TestRoleMatrixAndCatalogue(t *testing.T) {
	h := newHarness(t)
	cli := h.token(uuid.NewString(), authn.RoleCliente)
	pr := h.register("Pro", "Uno", "")
	adm := h.adminToken()
	for _, path := range []string{"/api/v1/professional/me", "/api/v1/professional/portfolio", "/api/v1/profesional/servicios/me", "/api/v1/professional/kyc/status"} {
		h.do("GET", path, "", nil).Expect(t, 401, "no token "+path)
		h.do("GET", path, cli, nil).Expect(t, 403, "client "+path)
		h.do("GET", path, adm, nil).Expect(t, 403, "admin "+path)
	}
	h.do("GET", "/api/v1/professional/me", "garbage", nil).Expect(t, 401, "bad token")
	for _, path := range []string{"/api/v1/admin/kyc/pendientes", "/api/v1/admin/kyc/pending"} {
		h.do("GET", path, pr.token, nil).Expect(t, 403, "pro on admin "+path)
		h.do("GET", path, cli, nil).Expect(t, 403, "client on admin "+path)
		h.do("GET", path, adm, nil).Expect(t, 200, "admin "+path)
	}
	h.do("POST", "/api/v1/admin/kyc/approve/"+pr.profID, pr.token, nil).Expect(t, 403, "pro approves")
	h.do("POST", "/api/v1/admin/oficios", pr.token, map[string]any{"nombre": "Techista"}).Expect(t, 403, "pro creates oficio")
	// Catalogue: 12 seeded trades, public and to any authenticated user, by name.
	r := h.do("GET", "/api/v1/public/oficios", "", nil)
	var ofs []map[string]any
	r.Decode(t, &ofs)
	if len(ofs) != 12 || ofs[0]["nombre"] != "Albañilería" {
		t.Fatalf("catalogue %s", r.Body)
	}
	h.do("GET", "/api/v1/admin/oficios", "", nil).Expect(t, 401, "admin oficios without token")
	h.do("GET", "/api/v1/admin/oficios", cli, nil).Expect(t, 200, "admin oficios as client")
	r = h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "Techista", "descripcion": "Techos"})
	r.Expect(t, 201, "create oficio")
	h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "techísta"}).Expect(t, 400, "duplicate oficio (accents, case)")
	h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "PLOMERIA"}).Expect(t, 400, "duplicate seeded oficio")
	h.do("POST", "/api/v1/admin/oficios", adm, map[string]any{"nombre": "ab"}).Expect(t, 422, "short name")
	h.do("GET", "/api/v1/admin/oficios/"+uuid.NewString()+"/servicios-instant", cli, nil).Expect(t, 404, "instant of unknown oficio")
}

func (h *harness) rawInternal(path string) resp {
	h.t.Helper()
	req, _ := h.newReq("GET", path)
	return req
}

func (h *harness) newReq(method, path string) (resp, error) {
	r := h.rawWithHeader(method, path, map[string]string{"X-Internal-Key": "dev-internal-key"})
	return r, nil
}

func (h *harness) rawWithHeader(method, path string, hdr map[string]string) resp {
	h.t.Helper()
	req, _ := newRequest(method, h.base+path)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	return doReq(h.t, req)
}

var _ = json.Marshal

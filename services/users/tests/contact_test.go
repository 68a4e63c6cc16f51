package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// TestContactFieldsAndEmail: PUT /users/me stores telefono and direccion (validated,
// empty clears), accepts the same email the settings form sends back and refuses a
// different one without changing anything.
func TestContactFieldsAndEmail(t *testing.T) {
	s := startBoth(t)
	a := s.account("contacto@example.com", "CLIENTE")
	put := func(body map[string]any) resp {
		return do(t, "PUT", s.usersURL+"/api/v1/users/me", a.Access, "", body)
	}
	m := s.get("/api/v1/users/me", a.Access).Map(t)
	for _, k := range []string{"telefono", "direccion", "kyc_verificado"} {
		if _, ok := m[k]; !ok {
			t.Fatalf("me lacks %s: %v", k, m)
		}
	}
	if m["telefono"] != nil || m["direccion"] != nil || m["kyc_verificado"] != false {
		t.Fatalf("fresh profile: %v", m)
	}

	// The settings page sends the whole form, the unchanged email included.
	r := put(map[string]any{"nombre": "Nora", "apellido": "Ape", "telefono": " +54 11 4555-1234 ",
		"direccion": " Av. Corrientes 1234, CABA ", "email": "CONTACTO@example.com"})
	r.Expect(t, 200, "put contact")
	if m := r.Map(t); m["telefono"] != "+54 11 4555-1234" || m["direccion"] != "Av. Corrientes 1234, CABA" || m["nombre"] != "Nora" {
		t.Fatalf("put answer: %s", r.Body)
	}
	if m := s.get("/api/v1/users/me", a.Access).Map(t); m["telefono"] != "+54 11 4555-1234" || m["direccion"] != "Av. Corrientes 1234, CABA" {
		t.Fatalf("stored: %v", m)
	}
	// Only the phone: the rest stays.
	put(map[string]any{"telefono": "(011) 4555 9999"}).Expect(t, 200, "phone only")
	if m := s.get("/api/v1/users/me", a.Access).Map(t); m["telefono"] != "(011) 4555 9999" || m["direccion"] != "Av. Corrientes 1234, CABA" {
		t.Fatalf("partial: %v", m)
	}

	// Refusals change nothing and say why in detail.
	for name, tc := range map[string]struct {
		body   map[string]any
		status int
		detail string
	}{
		"letters in phone": {map[string]any{"telefono": "llamame"}, 422, "teléfono"},
		"short phone":      {map[string]any{"telefono": "123"}, 422, "teléfono"},
		"long address":     {map[string]any{"direccion": strings.Repeat("x", 201)}, 422, "dirección"},
		"another email":    {map[string]any{"nombre": "Otra", "email": "otra@example.com"}, 400, "email"},
	} {
		r := put(tc.body)
		m := r.ExpectError(t, tc.status, name)
		if d, _ := m["detail"].(string); !strings.Contains(d, tc.detail) {
			t.Errorf("%s: detail %q", name, d)
		}
	}
	if m := s.get("/api/v1/users/me", a.Access).Map(t); m["nombre"] != "Nora" || m["email"] != "contacto@example.com" ||
		m["telefono"] != "(011) 4555 9999" {
		t.Fatalf("a refused update changed data: %v", m)
	}
	// Empty clears.
	r = put(map[string]any{"telefono": "", "direccion": ""})
	r.Expect(t, 200, "clear")
	if m := r.Map(t); m["telefono"] != nil || m["direccion"] != nil {
		t.Fatalf("clear: %s", r.Body)
	}
	// Contact details are private: no UserProfileUpdated for them (one for the rename).
	evs := testkit.StreamEvents(t, s.env.NATS.JS, events.StreamUsers, events.SubjUserProfileUpdated, 1, 3*time.Second)
	if len(evs) != 1 {
		t.Fatalf("UserProfileUpdated: %d, want 1", len(evs))
	}
}

// TestKYCVerificadoFromEvents: kyc_verificado follows the professionals' KYC events;
// a redelivered or late older event does not undo a newer state.
func TestKYCVerificadoFromEvents(t *testing.T) {
	s := startUsers(t)
	id := uuid.NewString()
	publish(t, s.env.NATS.JS, events.UserRegisteredV1{UserID: id, Email: "kyc@example.com", Nombre: "Ka", Apellido: "Ye", Rol: "PROFESIONAL"}, id)
	tok := s.env.Keys.Token(id, "PROFESIONAL", "kyc@example.com")
	verified := func() any {
		r := s.get("/api/v1/users/me", tok)
		if r.Status != 200 {
			return nil
		}
		return r.Map(t)["kyc_verificado"]
	}
	testkit.Eventually(t, 5*time.Second, "profile", func() bool { return verified() == false })

	prof := uuid.NewString()
	submitted := publish(t, s.env.NATS.JS, events.KYCSubmittedV1{ProfesionalID: prof, UsuarioID: id, Documentos: 2}, prof)
	time.Sleep(200 * time.Millisecond)
	if v := verified(); v != false {
		t.Fatalf("submitted is not verified: %v", v)
	}
	approved := publish(t, s.env.NATS.JS, events.KYCApprovedV1{ProfesionalID: prof, UsuarioID: id, AdminID: uuid.NewString()}, prof)
	testkit.Eventually(t, 5*time.Second, "approval", func() bool { return verified() == true })

	// The submission delivered again (older than the approval) changes nothing; so does
	// the approval delivered twice.
	publishEnv(t, s.env.NATS.JS, submitted)
	publishEnv(t, s.env.NATS.JS, approved)
	older, err := events.New("professionals", prof, events.KYCSubmittedV1{ProfesionalID: prof, UsuarioID: id, Documentos: 1}, events.Meta{},
		submitted.OccurredAt.Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	publishEnv(t, s.env.NATS.JS, older)
	time.Sleep(300 * time.Millisecond)
	if v := verified(); v != true {
		t.Fatalf("a late older event undid the approval: %v", v)
	}
	// A later rejection (new documents refused) clears it.
	publish(t, s.env.NATS.JS, events.KYCRejectedV1{ProfesionalID: prof, UsuarioID: id, AdminID: uuid.NewString(), Motivo: "ilegible"}, prof)
	testkit.Eventually(t, 5*time.Second, "rejection", func() bool { return verified() == false })
}

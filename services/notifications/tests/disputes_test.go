package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// Disputes, review replies and expired offers reach the party who did not cause them,
// once per event.
func TestDisputeReplyAndExpiryNotifications(t *testing.T) {
	h := start(t, nil)
	cli, cliEmail := h.register("CLIENTE", "Carla")
	prof, _ := h.register("PROFESIONAL", "Pablo")
	job, disputa := uuid.NewString(), uuid.NewString()

	env := h.publish(events.DisputeOpenedV1{DisputaID: disputa, TrabajoID: job, ClienteID: cli, ProfesionalID: prof, AbiertaPor: cli, Tipo: "CALIDAD_TRABAJO"})
	h.publishEnv(env, env.ID.String()+"-again")
	h.publish(events.DisputeResolvedV1{DisputaID: disputa, TrabajoID: job, ClienteID: cli, ProfesionalID: prof, AFavor: "cliente",
		Resolucion: "El trabajo no se terminó", PrecioCentavos: 2500000})
	h.publish(events.DisputeCancelledV1{DisputaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof,
		CanceladaPor: prof, EstadoTrabajo: "EN_PROCESO"})
	h.publish(events.ReviewRepliedV1{ResenaID: uuid.NewString(), TrabajoID: job, ClienteID: cli, ProfesionalID: prof, Respuesta: "¡Gracias por tu reseña!"})
	h.publish(events.OfferExpiredV1{OfertaID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof})

	testkit.Eventually(t, 10*time.Second, "dispute notifications", func() bool {
		return len(h.withEvento(prof, "disputa_abierta")) == 1 && len(h.withEvento(cli, "disputa_resuelta")) == 1 &&
			len(h.withEvento(prof, "disputa_resuelta")) == 1 && len(h.withEvento(cli, "disputa_retirada")) == 1 &&
			len(h.withEvento(cli, "resena_respondida")) == 1 && len(h.withEvento(prof, "oferta_vencida")) == 1
	})
	// Nobody hears about what they did themselves.
	for _, c := range []struct{ user, evento string }{{cli, "disputa_abierta"}, {prof, "disputa_retirada"}, {prof, "resena_respondida"}, {cli, "oferta_vencida"}} {
		if n := len(h.withEvento(c.user, c.evento)); n != 0 {
			t.Fatalf("%s got %d %s", c.user, n, c.evento)
		}
	}
	opened := h.withEvento(prof, "disputa_abierta")[0]
	if opened.Tipo != "trabajo" || !strings.Contains(opened.Mensaje, "Carla Pérez") || opened.Metadata["url"] != "/trabajos/"+job ||
		opened.Metadata["disputa_id"] != disputa {
		t.Fatalf("dispute opened: %+v", opened)
	}
	if m := h.withEvento(cli, "disputa_resuelta")[0].Mensaje; !strings.Contains(m, "$ 25.000,00") || !strings.Contains(m, "no se terminó") {
		t.Fatalf("resolution for the client: %q", m)
	}
	if m := h.withEvento(prof, "disputa_resuelta")[0].Mensaje; !strings.Contains(m, "a favor del cliente") {
		t.Fatalf("resolution for the professional: %q", m)
	}
	if r := h.withEvento(cli, "resena_respondida")[0]; r.Tipo != "resena" || r.Titulo != "Pablo Pérez respondió tu reseña" || r.Mensaje != "¡Gracias por tu reseña!" {
		t.Fatalf("reply: %+v", r)
	}
	h.settle()
	var subjects []string
	for _, m := range h.catcher.To(cliEmail) {
		subjects = append(subjects, m.Subject)
	}
	if len(subjects) != 4 { // welcome, resolution, withdrawal, reply
		t.Fatalf("client emails: %v", subjects)
	}
}

// Work only an admin can do reaches every active admin: a KYC submission to review and a
// new dispute.
func TestAdminsHearOfKYCAndDisputes(t *testing.T) {
	h := start(t, nil)
	cli, _ := h.register("CLIENTE", "Carla")
	prof, _ := h.register("PROFESIONAL", "Pablo")
	admin, banned := uuid.NewString(), uuid.NewString()
	h.publish(events.UserRegisteredV1{UserID: admin, Email: "admin@example.com", Nombre: "Ada", Apellido: "Admin", Rol: "ADMIN"})
	h.publish(events.UserRegisteredV1{UserID: banned, Email: "ex-admin@example.com", Nombre: "Exa", Apellido: "Admin", Rol: "ADMIN"})
	h.publish(events.UserBannedV1{UserID: banned, By: admin})
	testkit.Eventually(t, 10*time.Second, "admins replicated", func() bool {
		return h.count(`SELECT count(*) FROM contacts WHERE rol = 'ADMIN' AND is_active`) == 1 &&
			h.count(`SELECT count(*) FROM contacts WHERE user_id = $1 AND NOT is_active`, banned) == 1
	})

	env := h.publish(events.KYCSubmittedV1{ProfesionalID: uuid.NewString(), UsuarioID: prof, Documentos: 2})
	h.publishEnv(env, env.ID.String()+"-again")
	h.publish(events.DisputeOpenedV1{DisputaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof,
		AbiertaPor: cli, Tipo: "NO_REALIZADO"})
	testkit.Eventually(t, 10*time.Second, "admin notifications", func() bool {
		return len(h.withEvento(admin, "kyc_pendiente")) == 1 && len(h.withEvento(admin, "disputa_para_revisar")) == 1
	})
	k := h.withEvento(admin, "kyc_pendiente")[0]
	if k.Tipo != "sistema" || !strings.Contains(k.Mensaje, "Pablo Pérez envió 2 documentos") || k.Metadata["url"] != "/dashboard/admin/kyc" {
		t.Fatalf("kyc for admins: %+v", k)
	}
	if d := h.withEvento(admin, "disputa_para_revisar")[0]; !strings.Contains(d.Mensaje, "Carla Pérez") || !strings.Contains(d.Mensaje, "no realizado") {
		t.Fatalf("dispute for admins: %+v", d)
	}
	h.settle()
	if n := h.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, banned); n != 0 {
		t.Fatalf("a banned admin got %d notifications", n)
	}
	if n := len(h.withEvento(prof, "kyc_pendiente")) + len(h.withEvento(cli, "disputa_para_revisar")); n != 0 {
		t.Fatalf("non-admins got admin notifications (%d)", n)
	}
	if len(h.catcher.To("admin@example.com")) != 2 {
		t.Fatalf("admin emails: %d, want 2", len(h.catcher.To("admin@example.com")))
	}
}

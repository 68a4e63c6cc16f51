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

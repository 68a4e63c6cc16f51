package tests

import (
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
)

// TestKYCReplicaFromEvents: the KYC state comes from professionals' events, and an older
// event delivered late never moves it backwards.
func TestKYCReplicaFromEvents(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newUser("PROFESIONAL", "Juan") // not in the directory's professionals: events only
	chat := h.chatBetween(cli, pro)
	body := map[string]any{"cliente_id": cli.ID, "chat_id": chat, "descripcion": "Cambio de cañería completa del baño", "precio_final": 1000}

	// An EN_REVISION profile update happens before the approval, but is delivered after.
	old, err := events.New("professionals", pro.ID, events.ProfessionalProfileUpdatedV1{ProfesionalID: "7d7a1c7e-1d1e-4f55-9a39-0f8f2a4c1b2d",
		UsuarioID: pro.ID, EstadoVerificacion: "EN_REVISION", PayoutAccount: "juan.mp"}, events.Meta{}, time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	h.publish("professionals", pro.ID, events.KYCRejectedV1{ProfesionalID: "7d7a1c7e-1d1e-4f55-9a39-0f8f2a4c1b2d", UsuarioID: pro.ID, Motivo: "borroso"})
	h.eventually("rejection replicated", func() bool { return h.do("POST", "/api/v1/ofertas", pro.Token, body).Status == 403 })
	h.publish("professionals", pro.ID, events.KYCApprovedV1{ProfesionalID: "7d7a1c7e-1d1e-4f55-9a39-0f8f2a4c1b2d", UsuarioID: pro.ID})
	h.eventually("approval replicated", func() bool { return h.do("POST", "/api/v1/ofertas", pro.Token, body).Status == 201 })
	publishEnv(t, h.env.NATS.JS, old, old.ID.String())
	time.Sleep(500 * time.Millisecond)
	h.want(201, "POST", "/api/v1/ofertas", pro.Token, body) // still approved
	// …while its payout account (a profile field) was applied.
	var payout string
	conn := pgConn(t, h)
	if err := conn.QueryRow(t.Context(), `SELECT payout_account FROM marketplace.profesionales WHERE usuario_id = $1`, pro.ID).Scan(&payout); err != nil || payout != "juan.mp" {
		t.Fatalf("payout %q err %v", payout, err)
	}
	// A newer payout account is not undone by an older profile event delivered late.
	h.publish("professionals", pro.ID, events.ProfessionalProfileUpdatedV1{UsuarioID: pro.ID, EstadoVerificacion: "APROBADO", PayoutAccount: "juan.nuevo"})
	stale, _ := events.New("professionals", pro.ID, events.ProfessionalProfileUpdatedV1{UsuarioID: pro.ID, EstadoVerificacion: "EN_REVISION",
		PayoutAccount: "juan.viejo"}, events.Meta{}, time.Now().Add(-30*time.Second))
	h.eventually("new payout", func() bool {
		_ = conn.QueryRow(t.Context(), `SELECT payout_account FROM marketplace.profesionales WHERE usuario_id = $1`, pro.ID).Scan(&payout)
		return payout == "juan.nuevo"
	})
	publishEnv(t, h.env.NATS.JS, stale, stale.ID.String())
	time.Sleep(500 * time.Millisecond)
	_ = conn.QueryRow(t.Context(), `SELECT payout_account FROM marketplace.profesionales WHERE usuario_id = $1`, pro.ID).Scan(&payout)
	if payout != "juan.nuevo" {
		t.Fatalf("stale profile event applied: %q", payout)
	}
	h.want(201, "POST", "/api/v1/ofertas", pro.Token, body)

	// Reviews resolve the profile id through the same replica.
	if r := doAt(t, h.base, "GET", "/api/v1/resenas/professional/7d7a1c7e-1d1e-4f55-9a39-0f8f2a4c1b2d", "", nil, nil); r.Status != 200 {
		t.Fatalf("reviews by profile id: %d", r.Status)
	}
}

package tests

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

type gamificationRead struct {
	NivelActual            string  `json:"nivel_actual"`
	PuntosExperiencia      int     `json:"puntos_experiencia"`
	ProximoNivel           *string `json:"proximo_nivel"`
	PuntosParaProximoNivel int     `json:"puntos_para_proximo_nivel"`
	ProgresoPorcentaje     float64 `json:"progreso_porcentaje"`
	TrabajosCompletados    int     `json:"trabajos_completados"`
	RatingPromedio         float64 `json:"rating_promedio"`
	TotalResenas           int     `json:"total_resenas"`
	ComisionActual         float64 `json:"comision_actual"`
	TasaComisionBP         int     `json:"tasa_comision_bp"`
	Medallas               []struct {
		Codigo string `json:"codigo"`
		Nombre string `json:"nombre"`
	} `json:"medallas"`
}

func (h *harness) gamification(userID string) gamificationRead {
	h.t.Helper()
	var g gamificationRead
	h.expect(h.do("GET", "/api/v1/gamification/user/"+userID, "", nil), 200).Decode(h.t, &g)
	return g
}

func medalSet(g gamificationRead) map[string]bool {
	out := map[string]bool{}
	for _, m := range g.Medallas {
		out[m.Codigo] = true
	}
	return out
}

func release(h *harness, prof, job string) events.Envelope {
	return h.publish(events.EscrowReleasedV1{TrabajoID: job, ProfesionalID: prof, PrecioCentavos: 100000,
		ComisionCentavos: 20000, LiberadoCentavos: 80000, TasaComisionBasisPt: 2000, PayoutID: uuid.NewString()})
}

func TestGamificationXPLevelsMedalsAndEvents(t *testing.T) {
	h := start(t, nil)
	prof, _ := h.register("PROFESIONAL", "Pablo")

	g := h.gamification(prof)
	if g.NivelActual != "BRONCE" || g.PuntosExperiencia != 0 || g.ProximoNivel == nil || *g.ProximoNivel != "PLATA" ||
		g.PuntosParaProximoNivel != 1000 || g.ComisionActual != 0.2 || len(g.Medallas) != 0 {
		t.Fatalf("fresh professional: %+v", g)
	}

	// KYC approval: a medal, no XP.
	kyc := h.publish(events.KYCApprovedV1{ProfesionalID: uuid.NewString(), UsuarioID: prof, AdminID: uuid.NewString()})
	h.publishEnv(kyc, kyc.ID.String()+"-dup")
	testkit.Eventually(t, 10*time.Second, "KYC medal", func() bool { return medalSet(h.gamification(prof))["KYC_VERIFICADO"] })

	// First job released: +100 and the first-job medal; the same event redelivered and a
	// second event about the same job change nothing.
	first := uuid.NewString()
	env := release(h, prof, first)
	h.publishEnv(env, env.ID.String()+"-dup")
	release(h, prof, first)
	testkit.Eventually(t, 10*time.Second, "first job XP", func() bool { return h.gamification(prof).PuntosExperiencia == 100 })
	time.Sleep(500 * time.Millisecond)
	g = h.gamification(prof)
	if g.PuntosExperiencia != 100 || g.TrabajosCompletados != 1 || !medalSet(g)["PRIMER_TRABAJO"] || g.ProgresoPorcentaje != 10 {
		t.Fatalf("after first job (and duplicates): %+v", g)
	}

	// Nine more jobs: 1000 XP → PLATA (18 %), the 10-jobs and Plata medals.
	for i := 0; i < 9; i++ {
		release(h, prof, uuid.NewString())
	}
	testkit.Eventually(t, 15*time.Second, "ten jobs", func() bool { return h.gamification(prof).TrabajosCompletados == 10 })
	g = h.gamification(prof)
	ms := medalSet(g)
	if g.PuntosExperiencia != 1000 || g.NivelActual != "PLATA" || g.ComisionActual != 0.18 || g.TasaComisionBP != 1800 ||
		*g.ProximoNivel != "ORO" || g.PuntosParaProximoNivel != 4000 || !ms["TRABAJOS_10"] || !ms["NIVEL_PLATA"] || ms["TRABAJOS_50"] {
		t.Fatalf("after ten jobs: %+v", g)
	}

	// Reviews: 5★ +50, 4★ +10, 3★ nothing; the rating aggregate comes from the event.
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: first, ClienteID: uuid.NewString(), ProfesionalID: prof, Rating: 5, RatingPromedio: 5, TotalResenas: 1})
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(), ProfesionalID: prof, Rating: 4, RatingPromedio: 4.5, TotalResenas: 2})
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(), ProfesionalID: prof, Rating: 3, RatingPromedio: 4, TotalResenas: 3})
	testkit.Eventually(t, 10*time.Second, "review stats", func() bool { return h.gamification(prof).TotalResenas == 3 })
	g = h.gamification(prof)
	if g.PuntosExperiencia != 1060 || g.RatingPromedio != 4 {
		t.Fatalf("after reviews: %+v", g)
	}

	// The events in ENGAGEMENT: one XPAwarded per grant, one LevelChanged with the new
	// commission, one MedalAwarded per medal.
	var xp, levels, medals int
	var lc events.LevelChangedV1
	testkit.Eventually(t, 10*time.Second, "engagement events", func() bool {
		xp, levels, medals = 0, 0, 0
		for _, e := range h.engagementEvents() {
			switch e.Type {
			case "XPAwarded":
				xp++
			case "LevelChanged":
				levels++
				lc, _ = events.Decode[events.LevelChangedV1](e)
			case "MedalAwarded":
				medals++
			}
		}
		return xp == 12 && levels == 1 && medals == 4
	})
	if lc.UsuarioID != prof || lc.NivelAnterior != "BRONCE" || lc.Nivel != "PLATA" || lc.TasaComisionBP != 1800 || lc.PuntosExperiencia != 1000 {
		t.Fatalf("LevelChanged: %+v", lc)
	}

	// Level-up and medal notifications reach the professional (through ENGAGEMENT).
	testkit.Eventually(t, 10*time.Second, "level and medal notifications", func() bool {
		return len(h.withEvento(prof, "nivel_subido")) == 1 && len(h.withEvento(prof, "medalla_ganada")) == 4
	})
	if m := h.withEvento(prof, "nivel_subido")[0].Mensaje; m != "Ahora sos nivel Plata. Tu comisión pasa a ser del 18 %." {
		t.Fatalf("level message %q", m)
	}

	// Leaderboard and levels.
	other, _ := h.register("PROFESIONAL", "Olga")
	release(h, other, uuid.NewString())
	testkit.Eventually(t, 10*time.Second, "other XP", func() bool { return h.gamification(other).PuntosExperiencia == 100 })
	var board []struct {
		Posicion  int    `json:"posicion"`
		UsuarioID string `json:"usuario_id"`
		Nombre    string `json:"nombre"`
		Puntos    int    `json:"puntos"`
		Nivel     string `json:"nivel"`
	}
	h.expect(h.do("GET", "/api/v1/gamification/leaderboard?limit=5", "", nil), 200).Decode(t, &board)
	if len(board) != 2 || board[0].UsuarioID != prof || board[0].Posicion != 1 || board[0].Nombre != "Pablo Pérez" ||
		board[1].UsuarioID != other || board[1].Puntos != 100 {
		t.Fatalf("leaderboard: %+v", board)
	}
	h.expect(h.do("GET", "/api/v1/gamification/leaderboard?limit=0", "", nil), 422)
	h.expect(h.do("GET", "/api/v1/gamification/leaderboard?limit=abc", "", nil), 422)
	var niveles []struct {
		Nivel          string  `json:"nivel"`
		PuntosMinimos  int     `json:"puntos_minimos"`
		Comision       float64 `json:"comision"`
		TasaComisionBP int     `json:"tasa_comision_bp"`
	}
	h.expect(h.do("GET", "/api/v1/gamification/niveles", "", nil), 200).Decode(t, &niveles)
	if len(niveles) != 4 || niveles[3].Nivel != "DIAMANTE" || niveles[3].PuntosMinimos != 15000 || niveles[3].Comision != 10 || niveles[1].TasaComisionBP != 1800 {
		t.Fatalf("niveles: %+v", niveles)
	}
	h.expect(h.do("GET", "/api/v1/gamification/user/not-a-uuid", "", nil), 422)
	// A known client has no gamification.
	cli, _ := h.register("CLIENTE", "Carla")
	h.expect(h.do("GET", "/api/v1/gamification/user/"+cli, "", nil), 404)
}

func TestGamificationDeadLettersBadPayload(t *testing.T) {
	h := start(t, nil)
	// An EscrowReleased without a professional can never apply: it goes to the DLQ
	// instead of blocking the consumer, and the next event still applies.
	h.publish(events.EscrowReleasedV1{TrabajoID: uuid.NewString(), ProfesionalID: "not-a-uuid"})
	prof := uuid.NewString()
	release(h, prof, uuid.NewString())
	testkit.Eventually(t, 10*time.Second, "next event applied", func() bool { return h.gamification(prof).PuntosExperiencia == 100 })
	testkit.Eventually(t, 10*time.Second, "dead letter", func() bool {
		st, err := h.env.NATS.JS.Stream(t.Context(), events.StreamDLQ)
		if err != nil {
			return false
		}
		info, err := st.Info(t.Context())
		return err == nil && info.State.Msgs >= 1
	})
}

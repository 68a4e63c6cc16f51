package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/professionals"
)

// readModel is what professionals keeps from other contexts' events, in a fixed order,
// and what search answers from it.
func (h *harness) readModel() string {
	h.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT usuario_id::text, email, nombre, apellido, avatar_url, is_active, nivel, tasa_comision_bp, puntos_experiencia
			FROM usuarios ORDER BY 1`,
		`SELECT id::text, email, nombre, apellido, avatar_url, is_active, nivel, tasa_comision_bp, puntos_experiencia,
			rating_promedio::text, total_resenas FROM profesionales ORDER BY 1`,
		`SELECT id::text, rating, texto_resena FROM resenas ORDER BY 1`,
		`SELECT usuario_id::text, medalla FROM medallas ORDER BY 1, 2`,
		`SELECT trabajo_id::text, profesional_ref::text FROM trabajos_completados ORDER BY 1`,
		`SELECT profesional_id::text, oficio_id::text, nombre, apellido, avatar_url, texto, rating_promedio::text, nivel,
			puntos_experiencia FROM busqueda ORDER BY 1, 2`,
	} {
		rows, err := h.db.Query(context.Background(), q)
		if err != nil {
			h.t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				h.t.Fatal(err)
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		b.WriteString("--\n")
	}
	b.Write(h.do("POST", "/api/v1/search", "", map[string]any{"limit": 100}).Expect(h.t, 200, "search").Body)
	b.WriteString("\n")
	b.Write(h.do("GET", "/api/v1/search/professionals?oficio_id="+h.oficioID("Plomería")+"&lat=-34.6&lng=-58.4&sort_by=rating", "", nil).
		Expect(h.t, 200, "coverage search").Body)
	return b.String()
}

// rebuild runs every consumer of a fresh professionals service from the start of its
// streams under new inbox names with the outbox muted, as `conectar events rebuild`
// does, until all have caught up.
func (h *harness) rebuild() {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	svc, err := professionals.New(ctx, h.env.Deps(h.t, professionals.Name, nil))
	if err != nil {
		h.t.Fatal(err)
	}
	epoch := time.Unix(0, 0)
	var specs []consumer.Spec
	for _, sp := range svc.Runner.Specs {
		r := sp
		handle := sp.Handle
		r.Handle = func(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
			return handle(outbox.Muted(ctx), tx, env)
		}
		r.InboxName = sp.Name + "-rebuild-" + uuid.NewString()[:8]
		r.Name = r.InboxName
		r.StartTime = &epoch
		specs = append(specs, r)
	}
	runner := &consumer.Runner{Pool: svc.Deps.Pool, JS: h.env.NATS.JS, Log: h.env.Log, Specs: specs}
	if err := runner.Start(ctx); err != nil {
		h.t.Fatal(err)
	}
	defer runner.Stop()
	h.eventually("rebuild caught up", func() bool {
		for _, r := range specs {
			if !testkit.CaughtUp(ctx, h.env.NATS.JS, r.Stream, r.Name) {
				return false
			}
		}
		return true
	})
}

// TestRebuildOfTheSearchReadModelEqualsLive: after vaciar_replicas, running every
// professionals consumer again over its streams gives back the same replicas, profile
// columns, search rows and search answers, and publishes nothing. The professional
// whose only event is UserRegistered is the case that needs ensureProfile to refresh
// the search rows of a profile that already exists.
func TestRebuildOfTheSearchReadModelEqualsLive(t *testing.T) {
	h := newHarness(t)
	plom := h.oficioID("Plomería")
	_ = h.approved("Solo", "Registro", plom, -34.6, -58.4, 10) // UserRegistered is its only event
	rich := h.approved("Rita", "Mora", plom, -34.61, -58.41, 20)
	gone := h.approved("Baneado", "Luego", plom, -34.62, -58.42, 30)

	now := time.Now()
	h.publish(events.UserProfileUpdatedV1{UserID: rich.userID, Nombre: "Ritá", Apellido: "Nueva", AvatarURL: "/api/v1/users/avatars/r.png"}, now)
	h.publish(events.UserProfileUpdatedV1{UserID: rich.userID, Nombre: "Vieja", Apellido: "Copia"}, now.Add(-time.Minute))
	rev := uuid.NewString()
	h.publish(events.ReviewPostedV1{ResenaID: rev, TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(),
		ProfesionalID: rich.userID, Rating: 3, RatingPromedio: 3, TotalResenas: 1, TextoResena: "Bien"}, now)
	h.publish(events.ReviewUpdatedV1{ResenaID: rev, ProfesionalID: rich.userID, Rating: 5, TextoResena: "Muy bien",
		RatingPromedio: 5, TotalResenas: 1}, now.Add(time.Second))
	deleted := uuid.NewString()
	h.publish(events.ReviewPostedV1{ResenaID: deleted, TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(),
		ProfesionalID: rich.profID, Rating: 1, RatingPromedio: 3, TotalResenas: 2}, now.Add(2*time.Second))
	h.publish(events.ReviewDeletedV1{ResenaID: deleted, ProfesionalID: rich.profID, RatingPromedio: 5, TotalResenas: 1}, now.Add(3*time.Second))
	h.publish(events.JobCompletedV1{TrabajoID: uuid.NewString(), ProfesionalID: rich.userID}, now)
	h.publish(events.LevelChangedV1{UsuarioID: rich.userID, NivelAnterior: "BRONCE", Nivel: "ORO", PuntosExperiencia: 5100, TasaComisionBP: 1500}, now)
	h.publish(events.XPAwardedV1{UsuarioID: rich.userID, Puntos: 50, PuntosExperiencia: 5150}, now.Add(time.Second))
	h.publish(events.MedalAwardedV1{UsuarioID: rich.userID, Medalla: "PRIMER_TRABAJO", Nombre: "Primer trabajo"}, now)
	h.publish(events.UserBannedV1{UserID: gone.userID}, now)
	h.publish(events.UserUnbannedV1{UserID: gone.userID}, now.Add(-time.Hour)) // stale: the ban stands

	h.eventually("events applied", func() bool {
		var n int
		_ = h.db.QueryRow(context.Background(), `SELECT count(*) FROM profesionales WHERE (id = $1 AND nivel = 'ORO'
			AND rating_promedio = 5 AND puntos_experiencia = 5150 AND nombre = 'Ritá') OR (id = $2 AND NOT is_active)`,
			rich.profID, gone.profID).Scan(&n)
		return n == 2 && h.count(`SELECT count(*) FROM medallas`) == 1 && h.count(`SELECT count(*) FROM trabajos_completados`) == 1 &&
			h.count(`SELECT count(*) FROM resenas`) == 1
	})
	time.Sleep(300 * time.Millisecond) // the stale copies arrive too
	live := h.readModel()
	if !strings.Contains(live, "Ritá") || !strings.Contains(live, "Solo") || strings.Contains(live, `"nombre":"Baneado"`) {
		t.Fatalf("live read model:\n%s", live)
	}
	outboxBefore := h.count(`SELECT count(*) FROM outbox`)

	if _, err := h.db.Exec(context.Background(), `SELECT vaciar_replicas()`); err != nil {
		t.Fatal(err)
	}
	if h.readModel() == live {
		t.Fatal("vaciar_replicas changed nothing")
	}
	h.rebuild()
	if got := h.readModel(); got != live {
		t.Errorf("rebuilt read model differs:\n got:\n%s\nlive:\n%s", got, live)
	}
	if n := h.count(`SELECT count(*) FROM outbox`) - outboxBefore; n != 0 {
		t.Errorf("the rebuild published %d events", n)
	}
	// What professionals owns survived: the verification and the trade.
	if h.count(`SELECT count(*) FROM profesionales WHERE estado_verificacion = 'APROBADO' AND base_location IS NOT NULL`) != 3 ||
		h.count(`SELECT count(*) FROM profesional_oficios`) != 3 {
		t.Error("vaciar_replicas touched professionals' own state")
	}
}

func (h *harness) count(sql string) int {
	h.t.Helper()
	var n int
	if err := h.db.QueryRow(context.Background(), sql).Scan(&n); err != nil {
		h.t.Fatalf("%s: %v", sql, err)
	}
	return n
}

package tests

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
)

// TestReviewEditsAndDeletionsMoveTheRating: the marketplace's ReviewUpdated and
// ReviewDeleted carry the professional's new aggregate (which may go down) and change the
// review replica the public profile shows; a redelivery applies nothing twice.
func TestReviewEditsAndDeletionsMoveTheRating(t *testing.T) {
	h := newHarness(t)
	p := h.approved("Rita", "Mora", h.oficioID("Plomería"), -34.6, -58.4, 10)
	now := time.Now()
	a, b := uuid.NewString(), uuid.NewString()
	h.publish(events.ReviewPostedV1{ResenaID: a, TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(), ProfesionalID: p.userID,
		Rating: 5, RatingPromedio: 5, TotalResenas: 1, TextoResena: "Impecable", NombreCliente: "Ana"}, now)
	h.publish(events.ReviewPostedV1{ResenaID: b, TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(), ProfesionalID: p.userID,
		Rating: 3, RatingPromedio: 4, TotalResenas: 2, NombreCliente: "Beto"}, now)
	profile := func() map[string]any { return h.do("GET", "/api/v1/public/professional/"+p.profID, "", nil).Map(t) }
	review := func(pub map[string]any, id string) map[string]any {
		for _, r := range pub["resenas"].([]any) {
			if m := r.(map[string]any); m["id"] == id {
				return m
			}
		}
		return nil
	}
	h.eventually("posted reviews applied", func() bool { pub := profile(); return pub["total_resenas"] == 2.0 && pub["rating_promedio"] == 4.0 })

	// The author lowers a review: the average goes down, the text changes.
	h.publish(events.ReviewUpdatedV1{ResenaID: a, ProfesionalID: p.userID, Rating: 1, RatingAnterior: 5, TextoResena: "Se rompió al otro día",
		RatingPromedio: 2, TotalResenas: 2}, now)
	h.eventually("edit applied", func() bool {
		pub := profile()
		r := review(pub, a)
		return pub["rating_promedio"] == 2.0 && r != nil && r["rating"] == 1.0 && r["texto_resena"] == "Se rompió al otro día"
	})

	// A deletion lowers the count, and its redelivery changes nothing more.
	del := h.publish(events.ReviewDeletedV1{ResenaID: b, ProfesionalID: p.userID, EliminadaPor: uuid.NewString(), PorAdmin: true,
		RatingPromedio: 1, TotalResenas: 1}, now)
	h.eventually("deletion applied", func() bool {
		pub := profile()
		return pub["total_resenas"] == 1.0 && pub["rating_promedio"] == 1.0 && review(pub, b) == nil && len(pub["resenas"].([]any)) == 1
	})
	h.publishEnv(del)
	time.Sleep(300 * time.Millisecond)
	if pub := profile(); pub["total_resenas"] != 1.0 || pub["rating_promedio"] != 1.0 {
		t.Fatalf("after a redelivered deletion %v", pub)
	}
	var pg searchPage
	h.do("POST", "/api/v1/search", "", map[string]any{"q": "rita mora"}).Decode(t, &pg)
	if pg.Total != 1 || pg.Resultados[0].Calif != 1 {
		t.Fatalf("search after review changes %+v", pg)
	}
	// A new review after the deletion counts again (its total is above the stored one).
	h.publish(events.ReviewPostedV1{ResenaID: uuid.NewString(), TrabajoID: uuid.NewString(), ClienteID: uuid.NewString(), ProfesionalID: p.userID,
		Rating: 5, RatingPromedio: 3, TotalResenas: 2}, now)
	h.eventually("new review after deletion", func() bool { pub := profile(); return pub["total_resenas"] == 2.0 && pub["rating_promedio"] == 3.0 })
}

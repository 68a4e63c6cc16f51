package tests

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/professionals"
)

// The service answers searches from memory (search_index.go); these tests change the
// busqueda table behind its back and expect the very next search to see it.
func TestSearchSeesEveryCommittedChangeAtOnce(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	plom := h.oficioID("Plomería")
	lat, lng := -34.60, -58.40
	a := h.approved("Ana", "Antes", plom, lat, lng, 10)
	b := h.approved("Beto", "Después", plom, lat, lng, 10)
	names := func(base string) map[string]string {
		t.Helper()
		req, err := newRequest("GET", base+"/api/v1/search/professionals?oficio_id="+plom+"&lat=-34.6&lng=-58.4&limit=100")
		if err != nil {
			t.Fatal(err)
		}
		r := doReq(t, req)
		r.Expect(t, 200, "search")
		var page []struct{ ID, Nombre string }
		r.Decode(t, &page)
		out := map[string]string{}
		for _, x := range page {
			out[x.ID] = x.Nombre
		}
		return out
	}
	if got := names(h.base); got[a.profID] != "Ana" || got[b.profID] != "Beto" {
		t.Fatalf("before: %v", got)
	}

	// A transaction that took its id first and commits last: an index reading "changes
	// with ids above the last one seen" would skip it for good.
	conn, err := pgx.Connect(ctx, h.env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SET search_path = professionals, public"); err != nil {
		t.Fatal(err)
	}
	first, err := conn.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer first.Rollback(ctx)
	if _, err := first.Exec(ctx, `SELECT pg_current_xact_id()`); err != nil {
		t.Fatal(err)
	}
	if err := pgx.BeginFunc(ctx, h.db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `UPDATE profesionales SET nombre = 'Beto2' WHERE id = $1`, b.profID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `SELECT refrescar_busqueda(ARRAY[$1::uuid])`, b.profID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if got := names(h.base); got[b.profID] != "Beto2" || got[a.profID] != "Ana" {
		t.Fatalf("after the later transaction: %v", got)
	}
	if _, err := first.Exec(ctx, `UPDATE profesionales SET nombre = 'Ana2' WHERE id = $1`, a.profID); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Exec(ctx, `SELECT refrescar_busqueda(ARRAY[$1::uuid])`, a.profID); err != nil {
		t.Fatal(err)
	}
	if got := names(h.base); got[a.profID] != "Ana" {
		t.Fatalf("an uncommitted change is visible: %v", got)
	}
	if err := first.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if got := names(h.base); got[a.profID] != "Ana2" || got[b.profID] != "Beto2" {
		t.Fatalf("after the earlier transaction committed: %v", got)
	}

	// A second replica on the same database sees what the first one's writes did.
	deps := h.env.Deps(t, professionals.Name, nil)
	deps.ServiceURLs, deps.PublicURL = map[string]string{"auth": h.authURL}, publicURL+"/"
	other, err := professionals.New(ctx, deps)
	if err != nil {
		t.Fatal(err)
	}
	otherBase := testkit.Serve(t, other)
	if got := names(otherBase); got[a.profID] != "Ana2" || got[b.profID] != "Beto2" {
		t.Fatalf("second replica: %v", got)
	}
	h.do("PUT", "/api/v1/professional/profile", b.token, map[string]any{"radio_cobertura_km": 1}).Expect(t, 200, "shrink")
	h.do("PUT", "/api/v1/professional/profile/location", b.token, map[string]any{"latitude": -34.70, "longitude": -58.40}).Expect(t, 200, "move")
	if got := names(otherBase); got[b.profID] != "" {
		t.Fatalf("second replica still finds the professional who moved away: %v", got)
	}

	// Emptying the table, then filling it again, is seen whole.
	if _, err := h.db.Exec(ctx, `TRUNCATE busqueda`); err != nil {
		t.Fatal(err)
	}
	if got := names(h.base); len(got) != 0 {
		t.Fatalf("after TRUNCATE: %v", got)
	}
	if _, err := h.db.Exec(ctx, `SELECT refrescar_busqueda(ARRAY(SELECT id FROM profesionales))`); err != nil {
		t.Fatal(err)
	}
	if got := names(otherBase); got[a.profID] != "Ana2" || len(got) != 1 {
		t.Fatalf("after refilling: %v", got)
	}
}

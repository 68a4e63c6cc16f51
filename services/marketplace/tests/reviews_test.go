package tests

import (
	"context"
	"testing"

	"github.com/conectarpro/conectar/events"
)

// releasedJob runs a job through payment and the client's approval (the responder
// releases the escrow), so it can be reviewed.
func (h *harness) releasedJob(cli, pro user, precio float64) string {
	h.t.Helper()
	jobID, _ := h.paidJob(cli, pro, precio)
	h.want(200, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil)
	h.eventually("released", func() bool { return h.job(jobID, cli)["estado_escrow"] == "LIBERADO" })
	return jobID
}

// sqlExec runs a statement as the superuser (to move a review back in time).
func sqlExec(t *testing.T, h *harness, sql string, args ...any) {
	t.Helper()
	if _, err := pgConn(t, h).Exec(context.Background(), sql, args...); err != nil {
		t.Fatal(err)
	}
}

func TestReviewReadEditReplyReportDelete(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	cli2 := h.newUser("CLIENTE", "Beto")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	admin := h.newUser("ADMIN", "Root")
	paid, _ := h.paidJob(cli, pro, 1000)
	job1 := h.releasedJob(cli, pro, 25000)
	job2 := h.releasedJob(cli2, pro, 30000)

	// Can I review this job?
	can := func(job string, as user) map[string]any {
		return h.want(200, "GET", "/api/v1/resenas/puede-resenar/"+job, as.Token, nil).Map(t)
	}
	if r := can(job1, cli); r["puede_resenar"] != true || r["ya_reseno"] != false || r["motivo"] != nil {
		t.Fatalf("can review released job: %v", r)
	}
	if r := can(paid, cli); r["puede_resenar"] != false || r["motivo"] == nil {
		t.Fatalf("can review unreleased job: %v", r)
	}
	if r := can(job1, pro); r["puede_resenar"] != false || r["motivo"] == nil {
		t.Fatalf("professional can review: %v", r)
	}
	h.want(403, "GET", "/api/v1/resenas/puede-resenar/"+job1, stranger.Token, nil)
	h.want(404, "GET", "/api/v1/resenas/puede-resenar/00000000-0000-0000-0000-000000000000", cli.Token, nil)
	h.want(401, "GET", "/api/v1/resenas/puede-resenar/"+job1, "", nil)

	r1 := h.want(201, "POST", "/api/v1/resenas", cli.Token, map[string]any{"trabajo_id": job1, "rating": 2, "texto_resena": "Regular"}).Map(t)["resena"].(map[string]any)
	id1 := r1["id"].(string)
	if r := can(job1, cli); r["puede_resenar"] != false || r["ya_reseno"] != true {
		t.Fatalf("can review twice: %v", r)
	}

	// One review, every name the frontend reads, public.
	got := doAt(t, h.base, "GET", "/api/v1/resenas/"+id1, "", nil, nil).Expect(t, 200, "get review").Map(t)
	for k, want := range map[string]any{"id": id1, "trabajo_id": job1, "cliente_id": cli.ID, "profesional_id": pro.ID, "rating": float64(2),
		"texto_resena": "Regular", "comentario": "Regular", "cliente_nombre": "Ana Test", "nombre_cliente": "Ana Test",
		"trabajo_titulo": "Cambio de cañería completa del baño", "trabajo_descripcion": "Cambio de cañería completa del baño",
		"respuesta_profesional": nil} {
		if got[k] != want {
			t.Errorf("review %s = %v, want %v", k, got[k], want)
		}
	}
	for _, k := range []string{"cliente_avatar", "cliente_avatar_url", "fecha_creacion", "created_at"} {
		if _, ok := got[k]; !ok {
			t.Errorf("review lacks %s: %v", k, got)
		}
	}
	if got["created_at"] != got["fecha_creacion"] || got["reportes"] != nil {
		t.Fatalf("review dates / reports: %v", got)
	}
	h.want(404, "GET", "/api/v1/resenas/nope", "", nil)
	h.want(404, "GET", "/api/v1/resenas/00000000-0000-0000-0000-000000000000", "", nil)

	// Edit: the author only, valid fields only; the rating follows.
	h.want(403, "PUT", "/api/v1/resenas/"+id1, pro.Token, map[string]any{"rating": 5})
	h.want(422, "PUT", "/api/v1/resenas/"+id1, cli.Token, map[string]any{"rating": 7})
	h.want(422, "PUT", "/api/v1/resenas/"+id1, cli.Token, map[string]any{})
	if got := h.want(200, "GET", "/api/v1/resenas/"+id1, cli.Token, nil).Map(t); got["rating"] != float64(2) {
		t.Fatalf("a refused edit changed the review: %v", got)
	}
	up := h.want(200, "PUT", "/api/v1/resenas/"+id1, cli.Token, map[string]any{"rating": 5}).Map(t)
	if up["rating"] != float64(5) || up["texto_resena"] != "Regular" {
		t.Fatalf("edited review: %v", up)
	}
	h.waitCount(events.StreamMarketplace, events.SubjReviewPosted, 1)
	if ev := lastEvent[events.ReviewPostedV1](h, events.StreamMarketplace); ev.TrabajoDescripcion != "Cambio de cañería completa del baño" || ev.Rating != 2 {
		t.Fatalf("ReviewPosted: %+v", ev)
	}
	h.waitCount(events.StreamMarketplace, events.SubjReviewUpdated, 1)
	if ev := lastEvent[events.ReviewUpdatedV1](h, events.StreamMarketplace); ev.Rating != 5 || ev.RatingAnterior != 2 || ev.RatingPromedio != 5 ||
		ev.TotalResenas != 1 || ev.ProfesionalID != pro.ID || ev.TextoResena != "Regular" {
		t.Fatalf("ReviewUpdated: %+v", ev)
	}
	up = h.want(200, "PUT", "/api/v1/resenas/"+id1, cli.Token, map[string]any{"texto_resena": "  Excelente, volvió a revisar  "}).Map(t)
	if up["rating"] != float64(5) || up["texto_resena"] != "Excelente, volvió a revisar" || up["comentario"] != up["texto_resena"] {
		t.Fatalf("edited text: %v", up)
	}
	r2 := h.want(201, "POST", "/api/v1/resenas", cli2.Token, map[string]any{"trabajo_id": job2, "rating": 3}).Map(t)
	id2 := r2["resena"].(map[string]any)["id"].(string)
	if r2["profesional_rating_promedio"] != float64(4) || r2["profesional_total_resenas"] != float64(2) {
		t.Fatalf("aggregate after edit and second review: %v", r2)
	}
	if got := h.want(200, "GET", "/api/v1/resenas/"+id2, "", nil).Map(t); got["texto_resena"] != "" || got["comentario"] != "" || got["cliente_nombre"] != "Beto Test" {
		t.Fatalf("a review without text: %v", got)
	}

	// Reply: the reviewed professional; rewording within 24 h is not announced again.
	h.want(403, "POST", "/api/v1/resenas/"+id1+"/responder", cli.Token, map[string]any{"respuesta": "Gracias"})
	h.want(422, "POST", "/api/v1/resenas/"+id1+"/responder", pro.Token, map[string]any{"respuesta": " "})
	rep := h.want(200, "POST", "/api/v1/resenas/"+id1+"/responder", pro.Token, map[string]any{"respuesta": "¡Gracias Ana!"}).Map(t)
	resp, ok := rep["respuesta_profesional"].(map[string]any)
	if !ok || resp["texto"] != "¡Gracias Ana!" || resp["fecha"] == nil || resp["fecha_edicion"] != nil {
		t.Fatalf("reply: %v", rep)
	}
	rep = h.want(200, "POST", "/api/v1/resenas/"+id1+"/responder", pro.Token, map[string]any{"respuesta": "¡Gracias Ana, un placer!"}).Map(t)
	if resp := rep["respuesta_profesional"].(map[string]any); resp["texto"] != "¡Gracias Ana, un placer!" || resp["fecha_edicion"] == nil {
		t.Fatalf("reworded reply: %v", rep)
	}
	h.waitCount(events.StreamMarketplace, events.SubjReviewReplied, 1)
	if ev := lastEvent[events.ReviewRepliedV1](h, events.StreamMarketplace); ev.ClienteID != cli.ID || ev.Respuesta != "¡Gracias Ana!" {
		t.Fatalf("ReviewReplied: %+v", ev)
	}
	sqlExec(t, h, `UPDATE marketplace.resenas SET respuesta_fecha = respuesta_fecha - interval '25 hours' WHERE id = $1`, id1)
	h.want(400, "POST", "/api/v1/resenas/"+id1+"/responder", pro.Token, map[string]any{"respuesta": "Otra cosa"})

	// Reports: one per user, not the author's own; admins see them.
	h.want(400, "POST", "/api/v1/resenas/"+id1+"/reportar", cli.Token, map[string]any{"motivo": "Me arrepentí"})
	h.want(422, "POST", "/api/v1/resenas/"+id1+"/reportar", stranger.Token, map[string]any{"motivo": ""})
	h.want(201, "POST", "/api/v1/resenas/"+id1+"/reportar", stranger.Token, map[string]any{"motivo": "Lenguaje ofensivo"})
	h.want(400, "POST", "/api/v1/resenas/"+id1+"/reportar", stranger.Token, map[string]any{"motivo": "Otra vez"})
	h.want(201, "POST", "/api/v1/resenas/"+id1+"/reportar", pro.Token, map[string]any{"motivo": "No es verdad"})
	h.want(403, "GET", "/api/v1/resenas/reportadas", stranger.Token, nil)
	rep = h.want(200, "GET", "/api/v1/resenas/reportadas", admin.Token, nil).Map(t)
	list := rep["resenas"].([]any)
	if rep["total"] != float64(1) || len(list) != 1 {
		t.Fatalf("reported reviews: %v", rep)
	}
	if first := list[0].(map[string]any); first["id"] != id1 || first["reportes"] != float64(2) || len(first["lista_reportes"].([]any)) != 2 {
		t.Fatalf("reported review: %v", first)
	}
	if got := h.want(200, "GET", "/api/v1/resenas/"+id1, admin.Token, nil).Map(t); got["reportes"] != float64(2) {
		t.Fatalf("admin's view of a reported review: %v", got)
	}

	// My reviews: written by a client, received by a professional; paged.
	mine := h.want(200, "GET", "/api/v1/resenas/mis-resenas", cli.Token, nil).Map(t)
	if mine["total"] != float64(1) || mine["resenas"].([]any)[0].(map[string]any)["id"] != id1 {
		t.Fatalf("client's reviews: %v", mine)
	}
	mine = h.want(200, "GET", "/api/v1/resenas/mis-resenas?page=2&limit=1", pro.Token, nil).Map(t)
	if mine["total"] != float64(2) || len(mine["resenas"].([]any)) != 1 || mine["resenas"].([]any)[0].(map[string]any)["id"] != id1 {
		t.Fatalf("professional's reviews, page 2: %v", mine)
	}
	h.want(422, "GET", "/api/v1/resenas/mis-resenas?limit=0", pro.Token, nil)

	// The public list by profile id, under the frontend's path.
	profileID := h.dir.pros[pro.ID]["id"].(string)
	var pub []map[string]any
	doAt(t, h.base, "GET", "/api/v1/public/professional/"+profileID+"/resenas", "", nil, nil).Expect(t, 200, "public reviews").Decode(t, &pub)
	if len(pub) != 2 || pub[0]["id"] != id2 || pub[1]["cliente_nombre"] != "Ana Test" || pub[1]["comentario"] != "Excelente, volvió a revisar" {
		t.Fatalf("public reviews: %v", pub)
	}

	// After 24 h the author can neither edit nor delete; an admin can delete.
	sqlExec(t, h, `UPDATE marketplace.resenas SET fecha_creacion = fecha_creacion - interval '25 hours' WHERE id = $1`, id1)
	if e := h.want(400, "PUT", "/api/v1/resenas/"+id1, cli.Token, map[string]any{"rating": 1}).Map(t); e["code"] != "plazo_vencido" {
		t.Fatalf("late edit: %v", e)
	}
	h.want(400, "DELETE", "/api/v1/resenas/"+id1, cli.Token, nil)
	h.want(403, "DELETE", "/api/v1/resenas/"+id1, stranger.Token, nil)
	h.want(200, "DELETE", "/api/v1/resenas/"+id1, admin.Token, nil)
	h.want(404, "GET", "/api/v1/resenas/"+id1, cli.Token, nil)
	h.want(404, "DELETE", "/api/v1/resenas/"+id1, admin.Token, nil)
	h.waitCount(events.StreamMarketplace, events.SubjReviewDeleted, 1)
	if ev := lastEvent[events.ReviewDeletedV1](h, events.StreamMarketplace); ev.ResenaID != id1 || !ev.PorAdmin || ev.RatingPromedio != 3 || ev.TotalResenas != 1 {
		t.Fatalf("ReviewDeleted: %+v", ev)
	}
	st := doAt(t, h.base, "GET", "/api/v1/resenas/profesional/"+pro.ID+"/estadisticas", "", nil, nil).Map(t)
	if st["total"] != float64(1) || st["promedio"] != float64(3) {
		t.Fatalf("stats after deletion: %v", st)
	}
	if rep := h.want(200, "GET", "/api/v1/resenas/reportadas", admin.Token, nil).Map(t); rep["total"] != float64(0) {
		t.Fatalf("a deleted review is still listed as reported: %v", rep)
	}
	// A removed review does not free the job for another one.
	if r := can(job1, cli); r["puede_resenar"] != false || r["ya_reseno"] != true {
		t.Fatalf("can review after deletion: %v", r)
	}
	h.want(400, "POST", "/api/v1/resenas", cli.Token, map[string]any{"trabajo_id": job1, "rating": 5})

	// The author deletes within 24 h: the professional has no reviews left.
	h.want(200, "DELETE", "/api/v1/resenas/"+id2, cli2.Token, nil)
	h.waitCount(events.StreamMarketplace, events.SubjReviewDeleted, 2)
	if ev := lastEvent[events.ReviewDeletedV1](h, events.StreamMarketplace); ev.PorAdmin || ev.TotalResenas != 0 || ev.RatingPromedio != 0 {
		t.Fatalf("ReviewDeleted by the author: %+v", ev)
	}
	doAt(t, h.base, "GET", "/api/v1/resenas/professional/"+pro.ID, "", nil, nil).Decode(t, &pub)
	if len(pub) != 0 {
		t.Fatalf("reviews after both deletions: %v", pub)
	}
}

package tests

import (
	"testing"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/marketplace/moderation"
)

// TestDisputeFrontendFlow drives a dispute through the web frontend's paths: opening in
// its words with evidence, detail, evidence, messages, the lists, withdrawal (the job
// resumes), a dismissal ("ninguno": the job resumes) and a resolution on our path.
func TestDisputeFrontendFlow(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	admin := h.newUser("ADMIN", "Root")
	jobID, _ := h.paidJob(cli, pro, 5000)

	// Bad input changes nothing.
	open := map[string]any{"trabajo_id": jobID, "tipo": "calidad", "descripcion": "Quedó una pérdida en la cañería del baño",
		"evidencias": []string{"https://img.example.com/perdida.jpg"}}
	h.want(422, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": jobID, "tipo": "capricho", "descripcion": "Quedó una pérdida en la cañería"})
	h.want(422, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": jobID, "tipo": "calidad", "descripcion": "Quedó una pérdida en la cañería",
		"evidencias": []string{"javascript:alert(1)"}})
	if j := h.job(jobID, cli); j["estado"] != "PAGADO" {
		t.Fatalf("a refused dispute changed the job: %v", j)
	}
	d := h.want(201, "POST", "/api/v1/disputas", cli.Token, open).Map(t)
	id := d["id"].(string)
	for k, want := range map[string]any{"tipo": "calidad", "estado": "abierta", "estado_codigo": "ABIERTA", "iniciador_id": cli.ID, "abierta_por": cli.ID,
		"trabajo_id": jobID, "transaccion_id": "mp-" + jobID[:8], "cliente_nombre": "Ana Test", "profesional_nombre": "Juan Test",
		"trabajo_titulo": "Cambio de cañería completa del baño", "resolucion": nil, "fecha_resolucion": nil} {
		if d[k] != want {
			t.Errorf("dispute %s = %v, want %v", k, d[k], want)
		}
	}
	if ev := d["evidencias"].([]any); len(ev) != 1 || ev[0] != "https://img.example.com/perdida.jpg" {
		t.Fatalf("evidence: %v", d["evidencias"])
	}
	h.waitCount(events.StreamMarketplace, events.SubjDisputeOpened, 1)
	if ev := lastEvent[events.DisputeOpenedV1](h, events.StreamMarketplace); ev.Tipo != "CALIDAD_TRABAJO" {
		t.Fatalf("DisputeOpened carries our type: %+v", ev)
	}

	// Detail: the parties and admins.
	base := "/api/v1/disputas/" + id
	for _, u := range []user{cli, pro, admin} {
		if got := h.want(200, "GET", base, u.Token, nil).Map(t); got["id"] != id || got["tipo"] != "calidad" {
			t.Fatalf("detail as %s: %v", u.Nombre, got)
		}
	}
	h.want(403, "GET", base, stranger.Token, nil)
	h.want(404, "GET", "/api/v1/disputas/00000000-0000-0000-0000-000000000000", admin.Token, nil)

	// Evidence: the parties, valid URLs, stored once.
	h.want(422, "POST", base+"/evidencias", pro.Token, map[string]any{"evidencia": "foto.jpg"})
	h.want(403, "POST", base+"/evidencias", stranger.Token, map[string]any{"evidencia": "https://img.example.com/x.jpg"})
	h.want(403, "POST", base+"/evidencias", admin.Token, map[string]any{"evidencia": "https://img.example.com/x.jpg"})
	h.want(201, "POST", base+"/evidencias", pro.Token, map[string]any{"evidencia": "https://img.example.com/entrega.jpg"})
	got := h.want(201, "POST", base+"/evidencias", pro.Token, map[string]any{"evidencia": "https://img.example.com/entrega.jpg"}).Map(t)
	if ev := got["evidencias"].([]any); len(ev) != 2 || ev[1] != "https://img.example.com/entrega.jpg" {
		t.Fatalf("evidence after adding: %v", got["evidencias"])
	}

	// Messages: parties and admins; contact data censored as in the chat.
	h.want(201, "POST", base+"/mensajes", cli.Token, map[string]any{"mensaje": "La pérdida sigue"})
	h.want(201, "POST", base+"/mensajes", admin.Token, map[string]any{"mensaje": "Estoy revisando las fotos"})
	cen := h.want(201, "POST", base+"/mensajes", pro.Token, map[string]any{"mensaje": "llamame al 11 4567-8901"}).Map(t)
	if cen["censurado"] != true || cen["mensaje"] != moderation.Censored {
		t.Fatalf("censored message: %v", cen)
	}
	h.want(403, "POST", base+"/mensajes", stranger.Token, map[string]any{"mensaje": "hola"})
	h.want(422, "POST", base+"/mensajes", cli.Token, map[string]any{"mensaje": "  "})
	h.want(403, "GET", base+"/mensajes", stranger.Token, nil)
	var msgs []map[string]any
	h.want(200, "GET", base+"/mensajes", pro.Token, nil).Decode(t, &msgs)
	if len(msgs) != 3 || msgs[0]["usuario_nombre"] != "Ana Test" || msgs[0]["es_admin"] != false || msgs[1]["es_admin"] != true ||
		msgs[0]["disputa_id"] != id || msgs[0]["fecha_creacion"] == nil {
		t.Fatalf("messages: %v", msgs)
	}

	// Lists in the frontend's shape and words; filters in either vocabulary.
	list := func(path string, as user) map[string]any { return h.want(200, "GET", path, as.Token, nil).Map(t) }
	if l := list("/api/v1/disputas/mis-disputas", cli); l["total"] != float64(1) || l["disputas"].([]any)[0].(map[string]any)["estado"] != "abierta" {
		t.Fatalf("my disputes: %v", l)
	}
	if l := list("/api/v1/disputas/mis-disputas?estado=abierta", pro); l["total"] != float64(1) {
		t.Fatalf("my open disputes: %v", l)
	}
	if l := list("/api/v1/disputas/mis-disputas?estado=resuelta", cli); l["total"] != float64(0) {
		t.Fatalf("my resolved disputes: %v", l)
	}
	if l := list("/api/v1/disputas/mis-disputas", stranger); l["total"] != float64(0) {
		t.Fatalf("a stranger's disputes: %v", l)
	}
	h.want(422, "GET", "/api/v1/disputas/mis-disputas?estado=volando", cli.Token, nil)
	h.want(403, "GET", "/api/v1/admin/disputas", cli.Token, nil)
	if l := list("/api/v1/admin/disputas?tipo=calidad&estado=ABIERTA", admin); l["total"] != float64(1) {
		t.Fatalf("admin disputes by type: %v", l)
	}
	if l := list("/api/v1/admin/disputas?tipo=reembolso", admin); l["total"] != float64(0) {
		t.Fatalf("admin disputes of another type: %v", l)
	}

	// Withdrawal: only whoever opened it; the job resumes and nothing more can be added.
	h.want(403, "POST", base+"/cancelar", pro.Token, nil)
	c := h.want(200, "POST", base+"/cancelar", cli.Token, nil).Map(t)
	if c["estado"] != "resuelta" || c["estado_codigo"] != "CANCELADA" || c["fecha_resolucion"] == nil {
		t.Fatalf("cancelled dispute: %v", c)
	}
	if j := h.job(jobID, cli); j["estado"] != "PAGADO" || j["estado_escrow"] != "PAGADO_EN_ESCROW" {
		t.Fatalf("job after withdrawal: %v", j)
	}
	h.waitCount(events.StreamMarketplace, events.SubjDisputeCancelled, 1)
	if ev := lastEvent[events.DisputeCancelledV1](h, events.StreamMarketplace); ev.DisputaID != id || ev.EstadoTrabajo != "PAGADO" || ev.CanceladaPor != cli.ID {
		t.Fatalf("DisputeCancelled: %+v", ev)
	}
	h.want(400, "POST", base+"/cancelar", cli.Token, nil)
	h.want(400, "POST", base+"/evidencias", cli.Token, map[string]any{"evidencia": "https://img.example.com/otra.jpg"})
	h.want(400, "POST", base+"/mensajes", cli.Token, map[string]any{"mensaje": "¿Sigue abierta?"})
	h.want(400, "POST", "/api/v1/admin/disputas/"+id+"/resolver", admin.Token, map[string]any{"favorece_a": "cliente", "resolucion": "Tarde"})

	// The job goes on: started, delivered, disputed again by the professional, dismissed
	// ("ninguno") on the frontend's admin path; the job is delivered again, with a new
	// automatic approval time, and no money moved.
	status := "/api/v1/trabajos/" + jobID + "/status"
	h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo"})
	d2 := h.want(201, "POST", "/api/v1/disputas", pro.Token, map[string]any{"trabajo_id": jobID, "tipo": "otro",
		"descripcion": "El cliente no aprueba un trabajo terminado"}).Map(t)
	if j := h.job(jobID, cli); j["estado"] != "DISPUTADO" || j["fecha_aprobacion_automatica"] != nil {
		t.Fatalf("job in second dispute: %v", j)
	}
	res := "/api/v1/admin/disputas/" + d2["id"].(string) + "/resolver"
	h.want(403, "POST", res, pro.Token, map[string]any{"favorece_a": "ninguno", "resolucion": "Sin elementos"})
	h.want(422, "POST", res, admin.Token, map[string]any{"favorece_a": "nadie", "resolucion": "Sin elementos"})
	r := h.want(200, "POST", res, admin.Token, map[string]any{"favorece_a": "ninguno", "resolucion": "Sin elementos para decidir"}).Map(t)
	if r["estado"] != "rechazada" || r["favorece_a"] != "ninguno" || r["resolucion"] != "Sin elementos para decidir" || r["fecha_resolucion"] == nil {
		t.Fatalf("dismissed dispute: %v", r)
	}
	if j := h.job(jobID, cli); j["estado"] != "COMPLETADO" || j["estado_escrow"] != "PAGADO_EN_ESCROW" || j["fecha_aprobacion_automatica"] == nil {
		t.Fatalf("job after dismissal: %v", j)
	}
	h.waitCount(events.StreamMarketplace, events.SubjDisputeResolved, 1)
	if ev := lastEvent[events.DisputeResolvedV1](h, events.StreamMarketplace); ev.AFavor != "ninguno" {
		t.Fatalf("DisputeResolved: %+v", ev)
	}
	h.want(400, "POST", res, admin.Token, map[string]any{"favorece_a": "cliente", "resolucion": "Cambio de idea"})

	// Our words on our paths: a third dispute resolved for the client refunds.
	d3 := h.want(201, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": jobID, "tipo": "NO_REALIZADO",
		"descripcion": "No terminó lo acordado"}).Map(t)
	if d3["estado"] != "ABIERTA" || d3["tipo"] != "NO_REALIZADO" {
		t.Fatalf("dispute in our words: %v", d3)
	}
	out := h.want(200, "POST", "/api/v1/disputas/"+d3["id"].(string)+"/resolver", admin.Token, map[string]any{"a_favor": "cliente", "resolucion": "Se reembolsa"}).Map(t)
	if out["disputa"].(map[string]any)["estado"] != "RESUELTA_A_FAVOR_CLIENTE" || out["trabajo"].(map[string]any)["estado"] != "CANCELADO" {
		t.Fatalf("resolution on our path: %v", out)
	}
	h.eventually("refunded", func() bool { return h.job(jobID, cli)["estado_escrow"] == "CANCELADO_REEMBOLSADO" })
	var ours []map[string]any
	h.want(200, "GET", "/api/v1/disputas", admin.Token, nil).Decode(t, &ours)
	if len(ours) != 3 || ours[0]["estado"] != "RESUELTA_A_FAVOR_CLIENTE" || ours[1]["estado"] != "DESESTIMADA" || ours[2]["estado"] != "CANCELADA" {
		t.Fatalf("our list: %v", ours)
	}
	if l := list("/api/v1/admin/disputas?estado=rechazada", admin); l["total"] != float64(1) {
		t.Fatalf("dismissed disputes: %v", l)
	}
}

// TestDisputeWithdrawnAfterTheMoneyWentBack: a refund that reached a disputed job (a
// chargeback) cancelled it; withdrawing the dispute then closes it and leaves the job
// cancelled instead of resuming it.
func TestDisputeWithdrawnAfterTheMoneyWentBack(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	jobID, _ := h.paidJob(cli, pro, 5000)
	d := h.want(201, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": jobID, "tipo": "reembolso",
		"descripcion": "Nunca vino a hacer el trabajo"}).Map(t)
	h.publish("payments", jobID, events.RefundIssuedV1{RefundID: "chargeback-" + jobID[:8], TrabajoID: jobID, ClienteID: cli.ID, MontoCentavos: 500000})
	h.eventually("refunded", func() bool { return h.job(jobID, cli)["estado_escrow"] == "CANCELADO_REEMBOLSADO" })
	c := h.want(200, "POST", "/api/v1/disputas/"+d["id"].(string)+"/cancelar", cli.Token, nil).Map(t)
	if c["estado_codigo"] != "CANCELADA" {
		t.Fatalf("withdrawn dispute: %v", c)
	}
	if j := h.job(jobID, cli); j["estado"] != "CANCELADO" || j["estado_escrow"] != "CANCELADO_REEMBOLSADO" {
		t.Fatalf("a refunded job resumed: %v", j)
	}
}

package tests

import (
	"strings"
	"testing"
)

// TestWebJobLifecycle drives a job the way the web's job page does: start, deliver
// without a note, approve (the release), all under /chat_ofertas, each answer the bare job.
func TestWebJobLifecycle(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	jobID, _ := h.paidJob(cli, pro, 25000)
	const base = "/api/v1/chat_ofertas/trabajos"
	step := base + "/" + jobID

	list := h.getList(base, cli.Token)
	if len(list) != 1 || list[0]["id"] != jobID || list[0]["estado"] != "PAGADO" || list[0]["oferta_id"] == nil || list[0]["created_at"] == nil {
		t.Fatalf("web job list: %v", list)
	}
	j := h.want(200, "GET", step, pro.Token, nil).Map(t)
	for _, k := range []string{"created_at", "fecha_creacion", "updated_at", "fecha_actualizacion", "notas_profesional", "notas_cliente", "imagenes", "en_disputa"} {
		if _, ok := j[k]; !ok {
			t.Fatalf("job lacks %s: %v", k, j)
		}
	}
	h.want(403, "GET", step, stranger.Token, nil)

	// Start, with the professional's note under the web's name.
	h.want(403, "PUT", step, cli.Token, map[string]any{"estado": "EN_PROCESO"})
	r := h.want(200, "PUT", step, pro.Token, map[string]any{"estado": "EN_PROCESO", "notas_profesional": "Arranco mañana temprano"}).Map(t)
	if r["id"] != jobID || r["estado"] != "EN_PROCESO" || r["notas_profesional"] != "Arranco mañana temprano" || r["fecha_inicio"] == nil {
		t.Fatalf("start: %v", r)
	}

	// Deliver: our path keeps the SPEC's note rule; the web's page calls it optional, and a
	// note too short is refused with the rule in detail.
	h.want(422, "PUT", "/api/v1/trabajos/"+jobID+"/status", pro.Token, map[string]any{"estado": "COMPLETADO"})
	if e := h.want(422, "PUT", step, pro.Token, map[string]any{"estado": "COMPLETADO", "notas_profesional": "Listo"}).Map(t); !strings.Contains(e["detail"].(string), "entre 10 y 500") {
		t.Fatalf("short note: %v", e)
	}
	r = h.want(200, "PUT", step, pro.Token, map[string]any{"estado": "COMPLETADO"}).Map(t)
	if r["estado"] != "COMPLETADO" || r["fecha_fin"] == nil || r["notas_profesional"] != "Arranco mañana temprano" { // an empty note keeps the earlier one
		t.Fatalf("deliver: %v", r)
	}

	// Approve = release, the same code as finalizar; the bare job comes back.
	h.want(403, "PUT", step, pro.Token, map[string]any{"estado": "APROBADO"})
	r = h.want(200, "PUT", step, cli.Token, map[string]any{"estado": "APROBADO", "notas_cliente": "Excelente trabajo"}).Map(t)
	if r["id"] != jobID || r["estado"] != "APROBADO" || r["estado_escrow"] != "LIBERADO" || r["notas_cliente"] != "Excelente trabajo" || r["trabajo"] != nil {
		t.Fatalf("approve: %v", r)
	}
	h.want(400, "POST", step+"/cancelar", cli.Token, nil)

	// The timeline names someone on every line: the parties, or "Sistema".
	tl := h.getList(step+"/timeline", cli.Token)
	names := map[string]bool{}
	for _, e := range tl {
		n, _ := e["usuario_nombre"].(string)
		if n == "" || e["created_at"] == nil {
			t.Fatalf("timeline line without a name or date: %v", e)
		}
		names[n] = true
	}
	if !names["Sistema"] || !names["Ana Test"] || !names["Juan Test"] {
		t.Fatalf("timeline names: %v", names)
	}
	h.want(403, "GET", step+"/timeline", stranger.Token, nil)

	// A review of the job shows as the professional's rating on his offers.
	h.want(201, "POST", "/api/v1/cliente/trabajo/"+jobID+"/resena", cli.Token, map[string]any{"rating": 4, "texto_resena": "Muy prolijo"})
	offers := h.getList("/api/v1/chat_ofertas/ofertas", cli.Token)
	if len(offers) != 1 || offers[0]["profesional_rating"] != float64(4) || offers[0]["profesional_total_resenas"] != float64(1) {
		t.Fatalf("offer rating: %v", offers)
	}
}

// TestWebJobCancelAnswersBareJob: the web's cancel sends no body and reads the job back
// at once, also when the refund is still in flight (202).
func TestWebJobCancelAnswersBareJob(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")

	jobID, _ := h.paidJob(cli, pro, 3000)
	h.want(403, "POST", "/api/v1/chat_ofertas/trabajos/"+jobID+"/cancelar", stranger.Token, nil)
	r := h.want(200, "POST", "/api/v1/chat_ofertas/trabajos/"+jobID+"/cancelar", pro.Token, nil).Map(t)
	if r["id"] != jobID || r["estado"] != "CANCELADO" || r["estado_escrow"] != "CANCELADO_REEMBOLSADO" || r["trabajo"] != nil || r["mensaje"] != nil {
		t.Fatalf("web cancel: %v", r)
	}

	jobID, _ = h.paidJob(cli, pro, 4000)
	h.pay.setMode("silent")
	r = h.want(202, "POST", "/api/v1/chat_ofertas/trabajos/"+jobID+"/cancelar", cli.Token, nil).Map(t)
	if r["id"] != jobID || r["estado"] != "CANCELADO" || r["trabajo"] != nil {
		t.Fatalf("web cancel, refund in flight: %v", r)
	}
	// Our path keeps its wrapper.
	h.pay.setMode("ok")
	job3, _ := h.paidJob(cli, pro, 5000)
	if r := h.want(200, "POST", "/api/v1/cliente/trabajo/"+job3+"/cancelar", cli.Token, nil).Map(t); r["trabajo"] == nil || r["refund_id"] == nil {
		t.Fatalf("our cancel: %v", r)
	}
}

// TestWebAndAdminJobVocabularies: a disputed job on the web shows the work state it had
// before the dispute with en_disputa, and stays frozen; the admin list speaks escrow
// words in estado with the work state aside; image URLs are absolute everywhere.
func TestWebAndAdminJobVocabularies(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	admin := h.newUser("ADMIN", "Root")

	disputed, _ := h.paidJob(cli, pro, 5000)
	h.want(200, "PUT", "/api/v1/trabajos/"+disputed+"/status", pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(201, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": disputed, "tipo": "CALIDAD_TRABAJO", "descripcion": "Quedó una pérdida en la cañería"})
	if j := h.job(disputed, cli); j["estado"] != "DISPUTADO" || j["en_disputa"] != true {
		t.Fatalf("our path: %v", j)
	}
	w := h.want(200, "GET", "/api/v1/chat_ofertas/trabajos/"+disputed, cli.Token, nil).Map(t)
	if w["estado"] != "EN_PROCESO" || w["en_disputa"] != true || w["estado_escrow"] != "PAGADO_EN_ESCROW" {
		t.Fatalf("web view of a disputed job: %v", w)
	}
	e := h.want(400, "PUT", "/api/v1/chat_ofertas/trabajos/"+disputed, pro.Token, map[string]any{"estado": "COMPLETADO"}).Map(t)
	if e["code"] != "trabajo_en_disputa" || !strings.Contains(e["detail"].(string), "disputa") {
		t.Fatalf("frozen step: %v", e)
	}
	h.want(400, "POST", "/api/v1/chat_ofertas/trabajos/"+disputed+"/cancelar", cli.Token, nil)

	// A delivered job with images: one on the API host, one elsewhere.
	delivered, _ := h.paidJob(cli, pro, 6000)
	h.want(200, "PUT", "/api/v1/trabajos/"+delivered+"/status", pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(200, "PUT", "/api/v1/trabajos/"+delivered+"/status", pro.Token, map[string]any{"estado": "COMPLETADO",
		"nota": "Terminé todo el trabajo", "imagenes": []string{"/api/v1/public/trabajos/a.jpg", "https://cdn.example.com/b.jpg"}})
	imgs := h.want(200, "GET", "/api/v1/chat_ofertas/trabajos/"+delivered, pro.Token, nil).Map(t)["imagenes"].([]any)
	if len(imgs) != 2 || imgs[0] != publicURL+"/api/v1/public/trabajos/a.jpg" || imgs[1] != "https://cdn.example.com/b.jpg" {
		t.Fatalf("images: %v", imgs)
	}

	refunded, _ := h.paidJob(cli, pro, 7000)
	h.want(200, "POST", "/api/v1/cliente/trabajo/"+refunded+"/cancelar", cli.Token, nil)
	oid, _ := h.offer(cli, pro, 8000)
	unpaid := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)

	list := h.getList("/api/v1/chat_ofertas/trabajos", cli.Token)
	if len(list) != 4 {
		t.Fatalf("web list: %v", list)
	}
	known := map[string]bool{"PENDIENTE_PAGO": true, "PAGADO": true, "EN_PROCESO": true, "COMPLETADO": true, "APROBADO": true, "CANCELADO": true}
	for _, j := range list {
		if !known[j["estado"].(string)] {
			t.Fatalf("a state the web's job list does not know: %v", j)
		}
	}

	h.want(403, "GET", "/api/v1/admin/trabajos", cli.Token, nil)
	list = h.getList("/api/v1/admin/trabajos", admin.Token)
	want := map[string][3]string{ // estado, estado_trabajo, estado_escrow
		disputed:  {"PAGADO_EN_ESCROW", "DISPUTADO", "PAGADO_EN_ESCROW"},
		delivered: {"PAGADO_EN_ESCROW", "COMPLETADO", "PAGADO_EN_ESCROW"},
		refunded:  {"CANCELADO", "CANCELADO", "CANCELADO_REEMBOLSADO"},
		unpaid:    {"PENDIENTE_PAGO", "PENDIENTE_PAGO", "PENDIENTE_PAGO"},
	}
	if len(list) != len(want) {
		t.Fatalf("admin list: %v", list)
	}
	for _, j := range list {
		w := want[j["id"].(string)]
		if j["estado"] != w[0] || j["estado_trabajo"] != w[1] || j["estado_escrow"] != w[2] || j["fecha_creacion"] == nil {
			t.Fatalf("admin job %v, want estado/estado_trabajo/estado_escrow %v", j, w)
		}
	}
	// Our own list keeps the work words and no estado_trabajo.
	list = h.getList("/api/v1/trabajos", admin.Token)
	for _, j := range list {
		if _, ok := j["estado_trabajo"]; ok || j["id"] == disputed && j["estado"] != "DISPUTADO" {
			t.Fatalf("our list: %v", j)
		}
	}
}

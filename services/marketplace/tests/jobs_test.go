package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

func TestJobLifecycleReleaseAndReview(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	stranger := h.newUser("CLIENTE", "Eva")
	admin := h.newUser("ADMIN", "Root")
	oid, chat := h.offer(cli, pro, 25000)
	jobID := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)
	status := "/api/v1/trabajos/" + jobID + "/status"

	// Nothing moves before payment.
	h.want(400, "PUT", status, pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil)
	h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/resena", cli.Token, map[string]any{"rating": 5})

	// Payment: the same event delivered twice applies once.
	pay := h.publish("payments", jobID, events.PaymentApprovedV1{TrabajoID: jobID, PaymentID: "mp-123", Status: "approved", MontoCentavos: 2500000})
	publishEnv(t, h.env.NATS.JS, pay, pay.ID.String()+"-redelivered")
	h.publish("payments", jobID, events.EscrowHeldV1{TrabajoID: jobID, PaymentID: "mp-123", MontoCentavos: 2500000})
	h.eventually("job paid", func() bool { return h.job(jobID, cli)["estado_escrow"] == "PAGADO_EN_ESCROW" })
	time.Sleep(300 * time.Millisecond) // let the duplicate and EscrowHeld arrive
	j := h.job(jobID, cli)
	if j["estado"] != "PAGADO" || j["mercadopago_payment_id"] != "mp-123" {
		t.Fatalf("paid job: %v", j)
	}
	payInfos := 0
	for _, m := range h.messages(chat, cli) {
		if m["type"] == "info" && m["text"] == "💳 Pago recibido: $25000.00. El dinero queda en garantía hasta que se apruebe el trabajo." {
			payInfos++
		}
	}
	if payInfos != 1 {
		t.Fatalf("payment info messages %d, want exactly 1", payInfos)
	}

	// Work steps with role checks.
	h.want(403, "PUT", status, cli.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(403, "PUT", status, stranger.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(422, "PUT", status, pro.Token, map[string]any{"estado": "VOLANDO"})
	h.want(400, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo"})
	if r := h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "EN_PROCESO", "nota": "Arranco mañana"}).Map(t); r["estado"] != "EN_PROCESO" || r["fecha_inicio"] == nil {
		t.Fatalf("start: %v", r)
	}
	h.want(400, "PUT", status, pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(422, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "listo"})
	imgs := make([]string, 11)
	for i := range imgs {
		imgs[i] = "https://img.example.com/x.jpg"
	}
	h.want(422, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo", "imagenes": imgs})
	h.want(400, "PUT", status, cli.Token, map[string]any{"estado": "APROBADO"}) // step approval needs delivery
	r := h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo", "imagenes": imgs[:2]}).Map(t)
	if r["estado"] != "COMPLETADO" || r["fecha_fin"] == nil || len(r["imagenes"].([]any)) != 2 || r["fecha_aprobacion_automatica"] == nil {
		t.Fatalf("deliver: %v", r)
	}

	// Release needs the professional's payout account.
	h.want(403, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", pro.Token, nil)
	h.want(403, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", stranger.Token, nil)
	if r := h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil).Map(t); r["code"] != "sin_cuenta_de_pago" {
		t.Fatalf("payout check: %v", r)
	}
	h.publish("professionals", pro.ID, events.ProfessionalProfileUpdatedV1{UsuarioID: pro.ID, EstadoVerificacion: "APROBADO", PayoutAccount: "juan.mp"})
	var fin map[string]any
	h.eventually("payout account replicated", func() bool {
		res := h.do("POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil)
		if res.Status == 200 {
			fin = res.Map(t)
		}
		return res.Status == 200
	})
	tr := fin["trabajo"].(map[string]any)
	if fin["payout_id"] != "payout-"+jobID[:8] || tr["estado_escrow"] != "LIBERADO" || tr["estado"] != "APROBADO" ||
		tr["comision_plataforma"] != float64(5000) || tr["monto_liberado"] != float64(20000) {
		t.Fatalf("finalizar: %v", fin)
	}
	if ev := lastEvent[events.JobCompletedV1](h, events.StreamMarketplace); ev.Motivo != "cliente" || ev.PrecioCentavos != 2500000 {
		t.Fatalf("JobCompleted: %+v", ev)
	}
	h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil)
	h.want(400, "PUT", "/api/v1/trabajos/"+jobID+"/cancel", cli.Token, map[string]any{"motivo": "ya no lo quiero"})

	// Reviews: only the client, once.
	h.want(403, "POST", "/api/v1/resenas", pro.Token, map[string]any{"trabajo_id": jobID, "rating": 5})
	h.want(422, "POST", "/api/v1/resenas", cli.Token, map[string]any{"trabajo_id": jobID, "rating": 6})
	rv := h.want(201, "POST", "/api/v1/cliente/trabajo/"+jobID+"/resena", cli.Token, map[string]any{"rating": 4, "texto_resena": "Muy prolijo"}).Map(t)
	if rv["profesional_rating_promedio"] != float64(4) || rv["profesional_total_resenas"] != float64(1) || rv["resena"].(map[string]any)["rating"] != float64(4) {
		t.Fatalf("review: %v", rv)
	}
	h.want(400, "POST", "/api/v1/resenas", cli.Token, map[string]any{"trabajo_id": jobID, "rating": 5})
	h.waitCount(events.StreamMarketplace, events.SubjReviewPosted, 1)
	if ev := lastEvent[events.ReviewPostedV1](h, events.StreamMarketplace); ev.RatingPromedio != 4 || ev.TotalResenas != 1 || ev.ProfesionalID != pro.ID {
		t.Fatalf("ReviewPosted: %+v", ev)
	}
	// Public list (no token), by user id and by profile id; stats.
	var list []map[string]any
	doAt(t, h.base, "GET", "/api/v1/resenas/professional/"+pro.ID, "", nil, nil).Decode(t, &list)
	if len(list) != 1 || list[0]["nombre_cliente"] != "Ana Test" || list[0]["texto_resena"] != "Muy prolijo" {
		t.Fatalf("reviews: %v", list)
	}
	profileID := h.dir.pros[pro.ID]["id"].(string)
	doAt(t, h.base, "GET", "/api/v1/resenas/professional/"+profileID, "", nil, nil).Decode(t, &list)
	if len(list) != 1 {
		t.Fatalf("reviews by profile id: %v", list)
	}
	st := doAt(t, h.base, "GET", "/api/v1/resenas/profesional/"+pro.ID+"/estadisticas", "", nil, nil).Map(t)
	if st["promedio"] != float64(4) || st["total"] != float64(1) || st["porcentaje_recomendado"] != float64(100) ||
		st["porcentaje_excelente"] != float64(0) || st["distribucion"].(map[string]any)["4"] != float64(1) {
		t.Fatalf("stats: %v", st)
	}

	// Timeline and the info messages of the whole flow.
	var tl []map[string]any
	h.want(200, "GET", "/api/v1/trabajos/"+jobID+"/timeline", cli.Token, nil).Decode(t, &tl)
	if len(tl) < 6 || tl[0]["estado_nuevo"] != "PENDIENTE_PAGO" {
		t.Fatalf("timeline: %v", tl)
	}
	h.want(403, "GET", "/api/v1/trabajos/"+jobID+"/timeline", stranger.Token, nil)
	h.want(200, "GET", "/api/v1/trabajos/"+jobID+"/timeline", admin.Token, nil)
	texts := map[string]bool{}
	for _, m := range h.messages(chat, pro) {
		texts[m["text"].(string)] = true
	}
	for _, want := range []string{"✅ Oferta aceptada: $25000.00. Procesando pago...", "✅ Trabajo finalizado. Fondos liberados al profesional: $20000.00", "⭐ Nueva reseña: 4 estrellas"} {
		if !texts[want] {
			t.Fatalf("missing info message %q in %v", want, texts)
		}
	}

	// Reading paths and the internal API.
	h.want(200, "GET", "/api/v1/cliente/trabajo/"+jobID, cli.Token, nil)
	h.want(403, "GET", "/api/v1/cliente/trabajo/"+jobID, stranger.Token, nil)
	var jobs []map[string]any
	h.want(200, "GET", "/api/v1/professional/trabajos", pro.Token, nil).Decode(t, &jobs)
	if len(jobs) != 1 {
		t.Fatalf("pro jobs: %v", jobs)
	}
	h.want(403, "GET", "/api/v1/admin/trabajos", cli.Token, nil)
	h.want(200, "GET", "/api/v1/admin/trabajos", admin.Token, nil).Decode(t, &jobs)
	if len(jobs) != 1 {
		t.Fatalf("admin jobs: %v", jobs)
	}
	if r := doAt(t, h.base, "GET", "/internal/trabajos/"+jobID, "", nil, map[string]string{"X-Internal-Key": "dev-internal-key"}); r.Status != 200 || r.Map(t)["estado_escrow"] != "LIBERADO" {
		t.Fatalf("internal: %d %s", r.Status, r.Body)
	}
	if r := doAt(t, h.base, "GET", "/internal/trabajos/"+jobID, "", nil, nil); r.Status != 401 {
		t.Fatalf("internal without key: %d", r.Status)
	}
}

func TestCancelBeforeAndAfterPayment(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	admin := h.newUser("ADMIN", "Root")

	// Before payment: CANCELADO at once, nothing to refund.
	oid, _ := h.offer(cli, pro, 1000)
	jobID := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)
	h.want(403, "POST", "/api/v1/cliente/trabajo/"+jobID+"/cancelar", stranger.Token, nil)
	r := h.want(200, "POST", "/api/v1/cliente/trabajo/"+jobID+"/cancelar", cli.Token, nil).Map(t)
	if tr := r["trabajo"].(map[string]any); tr["estado"] != "CANCELADO" || tr["estado_escrow"] != "CANCELADO" || r["refund_id"] != nil {
		t.Fatalf("cancel unpaid: %v", r)
	}
	h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/cancelar", cli.Token, nil)
	h.waitCount(events.StreamMarketplace, events.SubjJobCancelled, 1)
	if ev := lastEvent[events.JobCancelledV1](h, events.StreamMarketplace); ev.Paid {
		t.Fatalf("unpaid cancel published paid=true")
	}

	// After payment: JobCancelled paid → payments refunds → CANCELADO_REEMBOLSADO.
	jobID, chat := h.paidJob(cli, pro, 3000)
	r = h.want(200, "PUT", "/api/v1/trabajos/"+jobID+"/cancel", pro.Token, map[string]any{"motivo": "No puedo ir esta semana"}).Map(t)
	tr := r["trabajo"].(map[string]any)
	if r["refund_id"] != "refund-"+jobID[:8] || tr["estado_escrow"] != "CANCELADO_REEMBOLSADO" || tr["estado"] != "CANCELADO" ||
		tr["monto_liberado"] != float64(0) || r["mensaje"] != "Trabajo cancelado. Reembolso de $3000.00 procesado." {
		t.Fatalf("cancel paid: %v", r)
	}
	if msgs := h.messages(chat, cli); msgs[0]["text"] != "🚫 Trabajo cancelado. Reembolso de $3000.00 procesado." {
		t.Fatalf("refund info: %v", msgs[0])
	}

	// Admin path, and a refund that is slow to come answers 202.
	jobID, _ = h.paidJob(cli, pro, 4000)
	h.want(403, "POST", "/api/v1/admin/trabajo/"+jobID+"/cancelar", cli.Token, nil)
	h.pay.setMode("silent")
	r = h.want(202, "POST", "/api/v1/admin/trabajo/"+jobID+"/cancelar", admin.Token, nil).Map(t)
	if r["trabajo"].(map[string]any)["estado"] != "CANCELADO" {
		t.Fatalf("admin cancel: %v", r)
	}
	h.publish("payments", jobID, events.RefundIssuedV1{RefundID: "late-refund", TrabajoID: jobID, ClienteID: cli.ID, MontoCentavos: 400000})
	h.eventually("late refund recorded", func() bool { return h.job(jobID, cli)["estado_escrow"] == "CANCELADO_REEMBOLSADO" })
}

func TestDisputes(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	admin := h.newUser("ADMIN", "Root")

	// Unpaid jobs cannot be disputed.
	oid, _ := h.offer(cli, pro, 1000)
	unpaid := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)
	h.want(400, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": unpaid, "tipo": "NO_REALIZADO", "descripcion": "No vino nunca a casa"})

	jobID, _ := h.paidJob(cli, pro, 5000)
	body := map[string]any{"trabajo_id": jobID, "tipo": "CALIDAD_TRABAJO", "descripcion": "Quedó una pérdida en la cañería"}
	h.want(403, "POST", "/api/v1/disputas", stranger.Token, body)
	h.want(422, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": jobID, "tipo": "CAPRICHO", "descripcion": "Quedó una pérdida en la cañería"})
	d := h.want(201, "POST", "/api/v1/disputas", cli.Token, body).Map(t)
	if d["estado"] != "ABIERTA" || d["abierta_por"] != cli.ID {
		t.Fatalf("dispute: %v", d)
	}
	if j := h.job(jobID, cli); j["estado"] != "DISPUTADO" {
		t.Fatalf("job after dispute: %v", j)
	}
	// Frozen: no release, no cancel, no second dispute.
	h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil)
	h.want(400, "POST", "/api/v1/cliente/trabajo/"+jobID+"/cancelar", cli.Token, nil)
	h.want(400, "POST", "/api/v1/disputas", pro.Token, body)
	var list []map[string]any
	h.want(200, "GET", "/api/v1/disputas", pro.Token, nil).Decode(t, &list)
	if len(list) != 1 {
		t.Fatalf("pro disputes: %v", list)
	}
	h.want(200, "GET", "/api/v1/disputas", stranger.Token, nil).Decode(t, &list)
	if len(list) != 0 {
		t.Fatalf("stranger disputes: %v", list)
	}
	h.want(200, "GET", "/api/v1/disputas", admin.Token, nil).Decode(t, &list)
	if len(list) != 1 {
		t.Fatalf("admin disputes: %v", list)
	}

	// Resolution: admin only; for the professional → release.
	res := map[string]any{"a_favor": "profesional", "resolucion": "Las fotos muestran el trabajo bien hecho"}
	h.want(403, "POST", "/api/v1/disputas/"+d["id"].(string)+"/resolver", cli.Token, res)
	h.want(422, "POST", "/api/v1/disputas/"+d["id"].(string)+"/resolver", admin.Token, map[string]any{"a_favor": "nadie", "resolucion": "xxxxxxxx"})
	h.want(200, "POST", "/api/v1/disputas/"+d["id"].(string)+"/resolver", admin.Token, res)
	h.want(400, "POST", "/api/v1/disputas/"+d["id"].(string)+"/resolver", admin.Token, res)
	h.eventually("released after dispute", func() bool { return h.job(jobID, cli)["estado_escrow"] == "LIBERADO" })
	if ev := lastEvent[events.DisputeResolvedV1](h, events.StreamMarketplace); ev.AFavor != "profesional" || ev.PrecioCentavos != 500000 {
		t.Fatalf("DisputeResolved: %+v", ev)
	}

	// For the client → refund.
	job2, _ := h.paidJob(cli, pro, 6000)
	d2 := h.want(201, "POST", "/api/v1/disputas", pro.Token, map[string]any{"trabajo_id": job2, "tipo": "OTRO", "descripcion": "El cliente no me deja entrar"}).Map(t)
	h.want(200, "POST", "/api/v1/disputas/"+d2["id"].(string)+"/resolver", admin.Token, map[string]any{"a_favor": "cliente", "resolucion": "Se reembolsa al cliente"})
	h.eventually("refunded after dispute", func() bool {
		j := h.job(job2, cli)
		return j["estado_escrow"] == "CANCELADO_REEMBOLSADO" && j["estado"] == "CANCELADO"
	})
}

// TestAutoApprovalSurvivesRestart: the due time is a column; a new instance started
// after the first one stopped approves the job when it is due.
func TestAutoApprovalSurvivesRestart(t *testing.T) {
	h := start(t, timerSettings)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	jobID, _ := h.paidJob(cli, pro, 5000)
	status := "/api/v1/trabajos/" + jobID + "/status"
	h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo"})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.svc.Stop(ctx)
	base2, m2 := h.serveMarket()
	h.base = base2
	h.clock.Advance(domain.DefaultAutoApproveAfter + time.Second)
	if err := m2.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	h.eventually("automatic approval", func() bool {
		j := h.job(jobID, cli)
		return j["estado"] == "APROBADO" && j["estado_escrow"] == "LIBERADO"
	})
	h.waitCount(events.StreamMarketplace, events.SubjJobCompleted, 1)
	if ev := lastEvent[events.JobCompletedV1](h, events.StreamMarketplace); ev.Motivo != "automatico" {
		t.Fatalf("JobCompleted motivo %q", ev.Motivo)
	}
}

// TestPaymentEventsExactlyOnce: redelivered payments events (same envelope stored
// twice) change the job and post info messages once.
func TestPaymentEventsExactlyOnce(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	jobID, chat := h.paidJob(cli, pro, 5000)
	h.want(200, "PUT", "/api/v1/trabajos/"+jobID+"/status", pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.pay.setMode("silent")
	h.want(202, "POST", "/api/v1/cliente/trabajo/"+jobID+"/finalizar", cli.Token, nil)
	rel := h.publish("payments", jobID, events.EscrowReleasedV1{TrabajoID: jobID, ProfesionalID: pro.ID, PrecioCentavos: 500000,
		ComisionCentavos: 100000, LiberadoCentavos: 400000, TasaComisionBasisPt: 2000, PayoutID: "po-1"})
	publishEnv(t, h.env.NATS.JS, rel, rel.ID.String()+"-dup1")
	publishEnv(t, h.env.NATS.JS, rel, rel.ID.String()+"-dup2")
	// A late refund must not move a released job backwards.
	h.publish("payments", jobID, events.RefundIssuedV1{RefundID: "r-1", TrabajoID: jobID, ClienteID: cli.ID, MontoCentavos: 500000})
	t0 := time.Now()
	h.eventually("released", func() bool { return h.job(jobID, cli)["estado_escrow"] == "LIBERADO" })
	t.Logf("released after %s", time.Since(t0))
	time.Sleep(500 * time.Millisecond)
	j := h.job(jobID, cli)
	if j["estado_escrow"] != "LIBERADO" || j["monto_liberado"] != float64(4000) || j["payout_id"] != "po-1" {
		t.Fatalf("job: %v", j)
	}
	n := 0
	for _, m := range h.messages(chat, cli) {
		if m["text"] == "✅ Trabajo finalizado. Fondos liberados al profesional: $4000.00" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("release info messages %d, want 1", n)
	}
	var entries int
	conn := pgConn(t, h)
	if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM marketplace.trabajo_eventos WHERE trabajo_id = $1 AND descripcion LIKE 'Fondos liberados%'`, jobID).Scan(&entries); err != nil {
		t.Fatal(err)
	}
	if entries != 1 {
		t.Fatalf("release timeline entries %d", entries)
	}
}

func TestHireFixedPriceService(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	svcID := "0b0e0f52-8d3c-4b9a-9f57-1c2d3e4f5a6b"
	h.dir.mu.Lock()
	h.dir.servicios[svcID] = map[string]any{"id": svcID, "profesional_id": h.dir.pros[pro.ID]["id"], "profesional_usuario_id": pro.ID,
		"nombre": "Cambio de cuerito", "descripcion": "Cambio de cuerito de canilla", "precio_fijo": 8500.5, "oficio_id": "x"}
	h.dir.mu.Unlock()
	h.want(403, "POST", "/api/v1/cliente/servicios/"+svcID+"/contratar", pro.Token, nil)
	h.want(404, "POST", "/api/v1/cliente/servicios/6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11/contratar", cli.Token, nil)
	r := h.want(200, "POST", "/api/v1/cliente/servicios/"+svcID+"/contratar", cli.Token, nil).Map(t)
	if r["payment_url"] == nil || r["oferta"].(map[string]any)["precio_final"] != 8500.5 || r["oferta"].(map[string]any)["servicio_id"] != svcID {
		t.Fatalf("hire: %v", r)
	}
	if acc := h.pay.lastAccepted(); acc.ServicioID != svcID || acc.PrecioCentavos != 850050 {
		t.Fatalf("OfferAccepted of a hire: %+v", acc)
	}
	if j := h.job(r["trabajo_id"].(string), cli); j["servicio_id"] != svcID || j["estado"] != "PENDIENTE_PAGO" {
		t.Fatalf("hired job: %v", j)
	}
}

// TestReleaseBeforePaymentAppliesForward: events of one job delivered out of order (the
// release before the payment) end in the right state; the late payment moves nothing back.
func TestReleaseBeforePaymentAppliesForward(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	oid, chat := h.offer(cli, pro, 5000)
	jobID := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)
	h.publish("payments", jobID, events.EscrowReleasedV1{TrabajoID: jobID, ProfesionalID: pro.ID, PrecioCentavos: 500000,
		ComisionCentavos: 100000, LiberadoCentavos: 400000, TasaComisionBasisPt: 2000, PayoutID: "po-1"})
	h.eventually("released", func() bool { return h.job(jobID, cli)["estado_escrow"] == "LIBERADO" })
	h.publish("payments", jobID, events.PaymentApprovedV1{TrabajoID: jobID, PaymentID: "mp-1", Status: "approved", MontoCentavos: 500000})
	h.publish("payments", jobID, events.EscrowHeldV1{TrabajoID: jobID, PaymentID: "mp-1", MontoCentavos: 500000})
	time.Sleep(500 * time.Millisecond)
	if j := h.job(jobID, cli); j["estado_escrow"] != "LIBERADO" || j["estado"] != "APROBADO" {
		t.Fatalf("late payment moved the job back: %v", j)
	}
	for _, m := range h.messages(chat, cli) {
		if m["type"] == "info" && strings.HasPrefix(m["text"].(string), "💳") {
			t.Fatalf("payment info posted after release: %v", m)
		}
	}
}

// TestApprovalConfirmsMissingPayoutWithTheOwner: the professional set a payout account in
// professionals, but its event has not reached this replica yet (it waits on a consumer
// that restarted). The client's approval asks professionals before refusing, so it is
// not turned away with sin_cuenta_de_pago; with no account there either, it still is.
func TestApprovalConfirmsMissingPayoutWithTheOwner(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	jobID := h.deliveredJob(cli, pro)
	finalizar := "/api/v1/cliente/trabajo/" + jobID + "/finalizar"
	if r := h.want(400, "POST", finalizar, cli.Token, nil).Map(t); r["code"] != "sin_cuenta_de_pago" {
		t.Fatalf("no account anywhere: %v", r)
	}
	if j := h.job(jobID, cli); j["estado"] != "COMPLETADO" {
		t.Fatalf("a refused approval moved the job: %v", j)
	}
	h.dir.mu.Lock()
	h.dir.pros[pro.ID]["payout_account"] = "juan.mp"
	h.dir.mu.Unlock()
	fin := h.want(200, "POST", finalizar, cli.Token, nil).Map(t)
	if tr := fin["trabajo"].(map[string]any); tr["estado"] != "APROBADO" || tr["estado_escrow"] != "LIBERADO" {
		t.Fatalf("finalizar with the account only at the owner: %v", fin)
	}
}

// A chargeback and its reversal are recorded in the job's timeline, once each however
// often they are delivered; the job's money state is left to the escrow events.
func TestChargebackAndReversalInTheTimeline(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	jobID, _ := h.paidJob(cli, pro, 5000)
	pay := "mp-" + jobID[:8]
	cb := h.publish("payments", jobID, events.PaymentChargedBackV1{TrabajoID: jobID, PaymentID: pay, Status: "charged_back",
		StatusDetail: "settled", MontoCentavos: 500000})
	rev := h.publish("payments", jobID, events.PaymentChargebackReversedV1{TrabajoID: jobID, PaymentID: pay, Status: "charged_back",
		StatusDetail: "reimbursed", MontoCentavos: 500000, Retenido: true})
	publishEnv(t, h.env.NATS.JS, cb, cb.ID.String()+"-redelivered")
	publishEnv(t, h.env.NATS.JS, rev, rev.ID.String()+"-redelivered")
	conn := pgConn(t, h)
	count := func(desc string) int {
		var n int
		if err := conn.QueryRow(context.Background(), `SELECT count(*) FROM marketplace.trabajo_eventos WHERE trabajo_id = $1 AND descripcion = $2`,
			jobID, desc).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	h.eventually("reversal in the timeline", func() bool {
		return count("El contracargo se resolvió a favor del vendedor: el dinero del pago volvió") > 0
	})
	time.Sleep(300 * time.Millisecond) // let the redeliveries arrive
	if a, b := count("MercadoPago informó un contracargo del pago"), count("El contracargo se resolvió a favor del vendedor: el dinero del pago volvió"); a != 1 || b != 1 {
		t.Fatalf("timeline entries: chargeback %d, reversal %d", a, b)
	}
	if j := h.job(jobID, cli); j["estado_escrow"] != "PAGADO_EN_ESCROW" {
		t.Fatalf("job after the reversal: %v", j)
	}
}

package tests

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

func TestOfferCreationRules(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	unverified := h.newPro("Pedro", "EN_REVISION", "")
	other := h.newUser("CLIENTE", "Eva")
	chat := h.chatBetween(cli, pro)
	otherChat := h.chatBetween(other, pro)
	uChat := h.chatBetween(cli, unverified)
	ok := map[string]any{"cliente_id": cli.ID, "chat_id": chat, "descripcion": "Cambio de cañería completa del baño", "precio_final": 150000.50}
	with := func(k string, v any) map[string]any {
		out := map[string]any{}
		for kk, vv := range ok {
			out[kk] = vv
		}
		out[k] = v
		return out
	}
	h.want(403, "POST", "/api/v1/ofertas", cli.Token, ok) // a client cannot offer
	uOffer := map[string]any{"cliente_id": cli.ID, "chat_id": uChat, "descripcion": "Cambio de cañería completa", "precio_final": 1000}
	h.want(403, "POST", "/api/v1/ofertas", unverified.Token, uOffer)
	h.want(400, "POST", "/api/v1/ofertas", pro.Token, with("cliente_id", pro.ID)) // to self
	h.want(400, "POST", "/api/v1/ofertas", pro.Token, with("chat_id", otherChat)) // chat of another client
	h.want(403, "POST", "/api/v1/ofertas", pro.Token, with("chat_id", uChat))     // not a participant
	h.want(404, "POST", "/api/v1/ofertas", pro.Token, with("chat_id", "6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11"))
	h.want(422, "POST", "/api/v1/ofertas", pro.Token, with("descripcion", "corto"))
	h.want(422, "POST", "/api/v1/ofertas", pro.Token, with("precio_final", 0))
	h.want(422, "POST", "/api/v1/ofertas", pro.Token, with("precio_final", 10000000.01))
	h.want(422, "POST", "/api/v1/ofertas", pro.Token, with("precio_final", 10.001))
	h.want(422, "POST", "/api/v1/ofertas", pro.Token, with("precio_final", "mucho"))
	if n := h.count(events.StreamMarketplace, events.SubjOfferCreated); n != 0 {
		t.Fatalf("refused offers published %d events", n)
	}

	// Both paths create; the offer appears in the chat as an `oferta` message.
	o := h.want(201, "POST", "/api/v1/professional/ofertas", pro.Token, with("precio_final", 10000000)).Map(t)
	if o["estado"] != "OFERTADO" || o["precio_final"] != float64(10000000) || o["expires_at"] == nil || o["profesional_id"] != pro.ID {
		t.Fatalf("offer: %v", o)
	}
	o2 := h.want(201, "POST", "/api/v1/ofertas", pro.Token, ok).Map(t)
	if o2["precio_final"] != 150000.5 {
		t.Fatalf("price %v", o2["precio_final"])
	}
	msgs := h.messages(chat, cli)
	if msgs[0]["type"] != "oferta" || msgs[0]["oferta_id"] != o2["id"] || msgs[0]["precio_final"] != 150000.5 {
		t.Fatalf("offer message: %v", msgs[0])
	}
	h.waitCount(events.StreamMarketplace, events.SubjOfferCreated, 2)
	ev := lastEvent[events.OfferCreatedV1](h, events.StreamMarketplace)
	if ev.PrecioCentavos != 15000050 || ev.ClienteID != cli.ID {
		t.Fatalf("OfferCreated: %+v", ev)
	}

	// Reading.
	var list []map[string]any
	h.want(200, "GET", "/api/v1/cliente/ofertas", cli.Token, nil).Decode(t, &list)
	if len(list) != 2 || list[0]["id"] != o2["id"] {
		t.Fatalf("client offers (newest first): %v", list)
	}
	h.want(200, "GET", "/api/v1/professional/ofertas", pro.Token, nil).Decode(t, &list)
	if len(list) != 2 {
		t.Fatalf("pro offers: %v", list)
	}
	h.want(403, "GET", "/api/v1/professional/ofertas", cli.Token, nil)
	h.want(200, "GET", "/api/v1/ofertas", cli.Token, nil).Decode(t, &list)
	if len(list) != 2 {
		t.Fatalf("mine: %v", list)
	}
	h.want(200, "GET", "/api/v1/ofertas", other.Token, nil).Decode(t, &list)
	if len(list) != 0 {
		t.Fatalf("other sees %v", list)
	}
	h.want(200, "GET", "/api/v1/cliente/ofertas/"+o2["id"].(string), cli.Token, nil)
	h.want(403, "GET", "/api/v1/cliente/ofertas/"+o2["id"].(string), other.Token, nil)
	h.want(404, "GET", "/api/v1/cliente/ofertas/6f1c8c57-3c59-4c42-9a0c-3d6f5f0e2b11", cli.Token, nil)
	h.want(404, "GET", "/api/v1/cliente/ofertas/not-a-uuid", cli.Token, nil)

	// Approved in professionals a moment ago, its event not yet here: the replica's "not
	// verified" is confirmed with the owner, and the offer goes out.
	h.dir.mu.Lock()
	h.dir.pros[unverified.ID]["estado_verificacion"] = "APROBADO"
	h.dir.mu.Unlock()
	h.want(201, "POST", "/api/v1/ofertas", unverified.Token, uOffer)
}

func TestOfferRejectWithdrawAndExpiry(t *testing.T) {
	h := start(t, timerSettings)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	other := h.newUser("CLIENTE", "Eva")

	oid, chat := h.offer(cli, pro, 5000)
	h.want(403, "POST", "/api/v1/cliente/ofertas/"+oid+"/reject", pro.Token, nil)
	h.want(403, "POST", "/api/v1/cliente/ofertas/"+oid+"/reject", other.Token, nil)
	r := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/reject", cli.Token, nil).Map(t)
	if r["estado"] != "RECHAZADO" {
		t.Fatalf("reject: %v", r)
	}
	h.want(400, "POST", "/api/v1/cliente/ofertas/"+oid+"/reject", cli.Token, nil)
	h.want(400, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil)
	h.want(400, "POST", "/api/v1/ofertas/"+oid+"/retirar", pro.Token, nil)
	if msgs := h.messages(chat, cli); msgs[0]["type"] != "info" || msgs[0]["text"] != "❌ La oferta fue rechazada" {
		t.Fatalf("reject info message: %v", msgs[0])
	}

	// Withdraw: only the offer's professional, only while open.
	oid2, _ := h.offer(cli, pro, 5000)
	h.want(403, "POST", "/api/v1/ofertas/"+oid2+"/retirar", cli.Token, nil)
	if r := h.want(200, "DELETE", "/api/v1/ofertas/"+oid2, pro.Token, nil).Map(t); r["estado"] != "RETIRADO" {
		t.Fatalf("withdraw: %v", r)
	}
	h.want(400, "POST", "/api/v1/cliente/ofertas/"+oid2+"/accept", cli.Token, nil)

	// Expiry: once OFFER_TTL has passed, the timer moves an unanswered offer to EXPIRADO.
	oid3, _ := h.offer(cli, pro, 5000)
	h.clock.Advance(domain.DefaultOfferTTL + time.Second)
	if err := h.market.Tick(context.Background()); err != nil {
		t.Fatal(err)
	}
	if o := h.want(200, "GET", "/api/v1/ofertas/"+oid3, cli.Token, nil).Map(t); o["estado"] != "EXPIRADO" {
		t.Fatalf("offer after its expiry: %v", o["estado"])
	}
	h.want(400, "POST", "/api/v1/cliente/ofertas/"+oid3+"/accept", cli.Token, nil)
	h.waitCount(events.StreamMarketplace, events.SubjOfferExpired, 1)
	h.waitCount(events.StreamMarketplace, events.SubjOfferWithdrawn, 1)
	h.waitCount(events.StreamMarketplace, events.SubjOfferRejected, 1)
}

func TestAcceptSagaReply(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	oid, chat := h.offer(cli, pro, 25000)
	h.want(403, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", pro.Token, nil)

	sub, err := h.env.NATS.NC.SubscribeSync(events.RealtimeSubject(pro.ID))
	if err != nil {
		t.Fatal(err)
	}
	r := h.want(200, "PUT", "/api/v1/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)
	jobID := r["trabajo_id"].(string)
	// The professional sees the offer and the job change live.
	seen := map[string]bool{}
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline) && !(seen["oferta"] && seen["trabajo"]); {
		msg, err := sub.NextMsg(time.Until(deadline))
		if err != nil {
			break
		}
		var push struct {
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		_ = json.Unmarshal(msg.Data, &push)
		switch {
		case push.Type == "oferta" && push.Data["id"] == oid && push.Data["estado"] == "ACEPTADO":
			seen["oferta"] = true
		case push.Type == "trabajo" && push.Data["id"] == jobID:
			seen["trabajo"] = true
		}
	}
	if !seen["oferta"] || !seen["trabajo"] {
		t.Fatalf("realtime pushes to the professional: %v", seen)
	}
	if r["payment_url"] != "https://sandbox.mercadopago.test/checkout/"+jobID || r["payment_preference_id"] != "pref-"+jobID[:8] ||
		r["mensaje"] != "Oferta aceptada. Procede al pago para confirmar el trabajo." || r["oferta"].(map[string]any)["estado"] != "ACEPTADO" {
		t.Fatalf("accept: %v", r)
	}
	acc := h.pay.lastAccepted()
	if acc.ClienteEmail != cli.Email || acc.PrecioCentavos != 2500000 || acc.ProfesionalID != pro.ID || acc.OfertaID != oid || acc.ChatID != chat {
		t.Fatalf("OfferAccepted lacks what payments needs: %+v", acc)
	}
	j := h.job(jobID, cli)
	if j["estado"] != "PENDIENTE_PAGO" || j["estado_escrow"] != "PENDIENTE_PAGO" || j["payment_url"] == nil || j["oferta_id"] != oid {
		t.Fatalf("job: %v", j)
	}
	if msgs := h.messages(chat, cli); msgs[0]["text"] != "✅ Oferta aceptada: $25000.00. Procesando pago..." {
		t.Fatalf("accept info message: %v", msgs[0])
	}
	h.want(400, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil)
}

func TestAcceptSagaFailureCompensates(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	oid, chat := h.offer(cli, pro, 25000)
	h.pay.setMode("fail")
	r := h.want(502, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)
	if r["code"] != "checkout_fallido" {
		t.Fatalf("502 body: %v", r)
	}
	// Compensated: the offer is open again, the job cancelled.
	if o := h.want(200, "GET", "/api/v1/ofertas/"+oid, cli.Token, nil).Map(t); o["estado"] != "OFERTADO" {
		t.Fatalf("offer after failure: %v", o)
	}
	var jobs []map[string]any
	h.want(200, "GET", "/api/v1/cliente/trabajos", cli.Token, nil).Decode(t, &jobs)
	if len(jobs) != 1 || jobs[0]["estado"] != "CANCELADO" || jobs[0]["estado_escrow"] != "CANCELADO" {
		t.Fatalf("jobs after failure: %v", jobs)
	}
	if msgs := h.messages(chat, cli); msgs[0]["text"] != "⚠️ No se pudo generar el link de pago. La oferta sigue disponible." {
		t.Fatalf("failure info: %v", msgs[0])
	}
	// The client can try again; this time payments answers.
	h.pay.setMode("ok")
	r = h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)
	if r["payment_url"] == nil {
		t.Fatalf("retry: %v", r)
	}
}

func TestAcceptSagaTimeout(t *testing.T) {
	h := start(t, map[string]string{"SAGA_WAIT": "400ms"})
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	oid, _ := h.offer(cli, pro, 25000)
	h.pay.setMode("silent")
	r := h.want(202, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Map(t)
	jobID, _ := r["trabajo_id"].(string)
	if jobID == "" || r["payment_url"] != nil {
		t.Fatalf("202 body: %v", r)
	}
	// The flow still completes: the late reply is recorded on the job.
	h.eventually("OfferAccepted seen by payments", func() bool { return h.pay.seenCount("OfferAccepted") == 1 })
	h.pay.checkout(h.pay.lastAccepted())
	h.eventually("late payment link", func() bool { return h.job(jobID, cli)["payment_url"] != nil })
}

func TestConcurrentAcceptsExactlyOneWins(t *testing.T) {
	h := start(t, nil)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "")
	oid, _ := h.offer(cli, pro, 25000)
	const n = 8
	statuses := make([]int, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			statuses[i] = h.do("POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil).Status
		}(i)
	}
	wg.Wait()
	won := 0
	for _, s := range statuses {
		switch s {
		case 200:
			won++
		case 400:
		default:
			t.Fatalf("unexpected status %d in %v", s, statuses)
		}
	}
	if won != 1 {
		t.Fatalf("%d accepts won: %v", won, statuses)
	}
	time.Sleep(200 * time.Millisecond)
	h.waitCount(events.StreamMarketplace, events.SubjOfferAccepted, 1)
}

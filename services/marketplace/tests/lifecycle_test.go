package tests

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/services/marketplace"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// The loops run once at start and then only when a test ticks them: these tests move
// the shared clock and call Tick, they never wait for a timer.
var timerSettings = map[string]string{"MARKETPLACE_SCAN_INTERVAL": "1h", "OFFER_TTL": "168h", "AUTO_APPROVE_AFTER": "72h"}

// emitted counts the events of subject in the outbox by aggregate: what the service
// committed, before any publishing.
func emitted(t *testing.T, conn *pgx.Conn, subject string) map[string]int {
	t.Helper()
	rows, err := conn.Query(context.Background(), `SELECT aggregate_id, count(*) FROM marketplace.outbox WHERE subject = $1 GROUP BY 1`, subject)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// tickAll runs every replica's timers three times at once, as loops of replicas that
// happen to wake together would.
func tickAll(t *testing.T, markets ...*marketplace.Market) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, 3*len(markets))
	for _, m := range markets {
		for range 3 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- m.Tick(context.Background())
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// deliveredJob is a paid job its professional started and delivered.
func (h *harness) deliveredJob(cli, pro user) string {
	h.t.Helper()
	jobID, _ := h.paidJob(cli, pro, 5000)
	status := "/api/v1/trabajos/" + jobID + "/status"
	h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "EN_PROCESO"})
	h.want(200, "PUT", status, pro.Token, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo"})
	return jobID
}

// TestTimedTransitionsOnceAcrossReplicas: offer expiry and the automatic approval of a
// delivered job are reached by advancing the clock the two replicas share; ticking both
// at once moves each due row once and emits its event once; nothing moves a minute
// early; an open dispute stops the approval timer and its withdrawal restarts it.
func TestTimedTransitionsOnceAcrossReplicas(t *testing.T) {
	h := start(t, timerSettings)
	_, second := h.serveMarket()
	replicas := []*marketplace.Market{h.market, second}
	conn := pgConn(t, h)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")

	open := map[string]bool{}
	for range 12 {
		id, _ := h.offer(cli, pro, 5000)
		open[id] = true
	}
	rejected, _ := h.offer(cli, pro, 5000)
	h.want(200, "POST", "/api/v1/cliente/ofertas/"+rejected+"/reject", cli.Token, nil)
	approved := h.deliveredJob(cli, pro)
	disputed := h.deliveredJob(cli, pro)
	d := h.want(201, "POST", "/api/v1/disputas", cli.Token, map[string]any{"trabajo_id": disputed, "tipo": "CALIDAD_TRABAJO",
		"descripcion": "El trabajo quedó mal terminado"}).Map(t)

	// elapsed is how far the shared clock has been moved.
	elapsed := time.Duration(0)
	advance := func(d time.Duration) {
		elapsed += d
		h.clock.Advance(d)
	}

	// A minute before the approval is due: nothing moves.
	advance(domain.DefaultAutoApproveAfter - time.Minute)
	tickAll(t, replicas...)
	if n := emitted(t, conn, events.SubjJobCompleted); len(n) != 0 {
		t.Fatalf("approved early: %v", n)
	}

	// Due: the delivered job is approved once (the disputed one is frozen), payments
	// releases it, and more ticks change nothing.
	advance(2 * time.Minute)
	tickAll(t, replicas...)
	tickAll(t, replicas...)
	if n := emitted(t, conn, events.SubjJobCompleted); len(n) != 1 || n[approved] != 1 {
		t.Fatalf("JobCompleted by job %v, want once for %s", n, approved)
	}
	if ev := lastEvent[events.JobCompletedV1](h, events.StreamMarketplace); ev.Motivo != "automatico" || ev.TrabajoID != approved {
		t.Fatalf("JobCompleted %+v", ev)
	}
	h.waitCount(events.StreamMarketplace, events.SubjJobCompleted, 1)
	h.eventually("release", func() bool { return h.job(approved, cli)["estado_escrow"] == "LIBERADO" })
	if j := h.job(disputed, cli); j["estado"] != "DISPUTADO" || j["estado_escrow"] != "PAGADO_EN_ESCROW" {
		t.Fatalf("a disputed job moved: %v", j)
	}
	if n := emitted(t, conn, events.SubjOfferExpired); len(n) != 0 {
		t.Fatalf("offers expired early: %v", n)
	}

	// Withdrawing the dispute resumes COMPLETADO with a fresh timer: due again only a
	// full AUTO_APPROVE_AFTER later.
	h.want(200, "POST", "/api/v1/disputas/"+d["id"].(string)+"/cancelar", cli.Token, nil)
	advance(domain.DefaultAutoApproveAfter - time.Minute)
	tickAll(t, replicas...)
	if n := emitted(t, conn, events.SubjJobCompleted); n[disputed] != 0 {
		t.Fatalf("the resumed job was approved early")
	}
	advance(2 * time.Minute)
	tickAll(t, replicas...)
	if n := emitted(t, conn, events.SubjJobCompleted); len(n) != 2 || n[disputed] != 1 || n[approved] != 1 {
		t.Fatalf("JobCompleted by job %v", n)
	}
	h.waitCount(events.StreamMarketplace, events.SubjJobCompleted, 2)

	// The offers: a minute before OFFER_TTL nothing expires; then every open one expires
	// once, the answered ones stay as they were.
	advance(domain.DefaultOfferTTL - time.Minute - elapsed)
	tickAll(t, replicas...)
	if n := emitted(t, conn, events.SubjOfferExpired); len(n) != 0 {
		t.Fatalf("offers expired early: %v", n)
	}
	advance(2 * time.Minute)
	tickAll(t, replicas...)
	tickAll(t, replicas...)
	n := emitted(t, conn, events.SubjOfferExpired)
	if len(n) != len(open) {
		t.Fatalf("%d offers expired, want %d: %v", len(n), len(open), n)
	}
	for id, c := range n {
		if !open[id] || c != 1 {
			t.Fatalf("offer %s expired %d times (open: %v)", id, c, open[id])
		}
	}
	h.waitCount(events.StreamMarketplace, events.SubjOfferExpired, len(open))
	for id := range open {
		if o := h.want(200, "GET", "/api/v1/ofertas/"+id, cli.Token, nil).Map(t); o["estado"] != "EXPIRADO" {
			t.Fatalf("offer %s: %v", id, o["estado"])
		}
	}
	for id := range open {
		if r := h.want(400, "POST", "/api/v1/cliente/ofertas/"+id+"/accept", cli.Token, nil).Map(t); r["code"] != "oferta_estado_invalido" {
			t.Fatalf("accepting an expired offer: %v", r)
		}
		break
	}
	if o := h.want(200, "GET", "/api/v1/ofertas/"+rejected, cli.Token, nil).Map(t); o["estado"] != "RECHAZADO" {
		t.Fatalf("a rejected offer moved: %v", o["estado"])
	}
}

// state is what a refused move must leave as it was: the row, the outbox and the job
// history.
type state struct {
	row             string
	outbox, history int
}

func snapshot(t *testing.T, conn *pgx.Conn, table, id string) state {
	t.Helper()
	var s state
	err := conn.QueryRow(context.Background(), `SELECT (SELECT to_jsonb(r)::text FROM marketplace.`+table+` r WHERE r.id = $1),
		(SELECT count(*) FROM marketplace.outbox), (SELECT count(*) FROM marketplace.trabajo_eventos)`, id).Scan(&s.row, &s.outbox, &s.history)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestRefusedTransitionsChangeNothing drives a representative set of moves the
// lifecycle table does not allow, in each state an offer and a job go through: each is
// a 4xx with the table's code and a Spanish detail, and the row, the outbox and the
// job's history are unchanged.
func TestRefusedTransitionsChangeNothing(t *testing.T) {
	h := start(t, timerSettings)
	conn := pgConn(t, h)
	cli := h.newUser("CLIENTE", "Ana")
	pro := h.newPro("Juan", "APROBADO", "juan.mp")
	stranger := h.newUser("CLIENTE", "Eva")
	admin := h.newUser("ADMIN", "Root")

	refused := func(status int, code, table, id, method, path string, as user, body any) {
		t.Helper()
		before := snapshot(t, conn, table, id)
		r := h.want(status, method, path, as.Token, body).Map(t)
		if r["code"] != code || r["detail"] == "" {
			t.Errorf("%s %s as %s: %v, want code %s", method, path, as.Nombre, r, code)
		}
		if after := snapshot(t, conn, table, id); after != before {
			t.Errorf("%s %s as %s was refused but changed something:\nbefore %+v\nafter  %+v", method, path, as.Nombre, before, after)
		}
	}
	offerMoves := func(id string) (accept, reject, edit, withdraw string) {
		return "/api/v1/cliente/ofertas/" + id + "/accept", "/api/v1/cliente/ofertas/" + id + "/reject", "/api/v1/ofertas/" + id, "/api/v1/ofertas/" + id + "/retirar"
	}
	edit := map[string]any{"precio_final": 6000}

	// An open offer: the wrong roles.
	oid, _ := h.offer(cli, pro, 5000)
	accept, reject, put, withdraw := offerMoves(oid)
	refused(403, "oferta_ajena", "ofertas", oid, "POST", accept, pro, nil)
	refused(403, "oferta_ajena", "ofertas", oid, "POST", accept, admin, nil)
	refused(403, "oferta_ajena", "ofertas", oid, "POST", reject, stranger, nil)
	refused(403, "oferta_ajena", "ofertas", oid, "PUT", put, cli, edit)
	refused(403, "oferta_ajena", "ofertas", oid, "POST", withdraw, cli, nil)
	// A rejected offer: the right roles, the wrong state.
	h.want(200, "POST", reject, cli.Token, nil)
	refused(400, "oferta_estado_invalido", "ofertas", oid, "POST", accept, cli, nil)
	refused(400, "oferta_estado_invalido", "ofertas", oid, "POST", reject, cli, nil)
	refused(400, "oferta_estado_invalido", "ofertas", oid, "PUT", put, pro, edit)
	refused(400, "oferta_estado_invalido", "ofertas", oid, "POST", withdraw, pro, nil)

	jobMoves := func(id string) (status, finalizar, cancel string) {
		return "/api/v1/trabajos/" + id + "/status", "/api/v1/cliente/trabajo/" + id + "/finalizar", "/api/v1/cliente/trabajo/" + id + "/cancelar"
	}
	dispute := func(id string) map[string]any {
		return map[string]any{"trabajo_id": id, "tipo": "CALIDAD_TRABAJO", "descripcion": "El trabajo quedó mal terminado"}
	}

	// A job waiting for its payment: no work step, no approval, no dispute.
	oid2, _ := h.offer(cli, pro, 5000)
	unpaid := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid2+"/accept", cli.Token, nil).Map(t)["trabajo_id"].(string)
	status, finalizar, cancel := jobMoves(unpaid)
	refused(400, "estado_invalido", "trabajos", unpaid, "PUT", status, pro, map[string]any{"estado": "EN_PROCESO"})
	refused(400, "trabajo_no_pagado", "trabajos", unpaid, "POST", finalizar, cli, nil)
	refused(400, "trabajo_no_pagado", "trabajos", unpaid, "POST", "/api/v1/disputas", cli, dispute(unpaid))
	refused(403, "trabajo_ajeno", "trabajos", unpaid, "POST", cancel, stranger, nil)

	// A paid job: each step only by its role, in its state.
	paid, _ := h.paidJob(cli, pro, 5000)
	status, finalizar, cancel = jobMoves(paid)
	refused(403, "solo_profesional", "trabajos", paid, "PUT", status, cli, map[string]any{"estado": "EN_PROCESO"})
	refused(403, "solo_profesional", "trabajos", paid, "PUT", status, admin, map[string]any{"estado": "EN_PROCESO"})
	refused(403, "solo_cliente", "trabajos", paid, "PUT", status, pro, map[string]any{"estado": "APROBADO"})
	refused(403, "solo_cliente", "trabajos", paid, "POST", finalizar, pro, nil)
	refused(403, "trabajo_ajeno", "trabajos", paid, "POST", cancel, stranger, nil)
	refused(403, "trabajo_ajeno", "trabajos", paid, "POST", "/api/v1/disputas", admin, dispute(paid))
	refused(400, "estado_invalido", "trabajos", paid, "PUT", status, pro, map[string]any{"estado": "COMPLETADO", "nota": "Terminé todo el trabajo"})
	refused(400, "estado_invalido", "trabajos", paid, "PUT", status, cli, map[string]any{"estado": "APROBADO"})

	// A disputed job is frozen.
	h.want(201, "POST", "/api/v1/disputas", cli.Token, dispute(paid))
	refused(400, "trabajo_en_disputa", "trabajos", paid, "PUT", status, pro, map[string]any{"estado": "EN_PROCESO"})
	refused(400, "trabajo_en_disputa", "trabajos", paid, "POST", finalizar, cli, nil)
	refused(400, "trabajo_en_disputa", "trabajos", paid, "POST", cancel, cli, nil)
	refused(400, "disputa_abierta", "trabajos", paid, "POST", "/api/v1/disputas", pro, dispute(paid))

	// A released job is over.
	done, _ := h.paidJob(cli, pro, 5000)
	status, finalizar, cancel = jobMoves(done)
	h.want(200, "POST", finalizar, cli.Token, nil)
	h.eventually("released", func() bool { return h.job(done, cli)["estado_escrow"] == "LIBERADO" })
	refused(400, "trabajo_no_pagado", "trabajos", done, "POST", finalizar, cli, nil)
	refused(400, "estado_invalido", "trabajos", done, "POST", cancel, cli, nil)
	refused(400, "estado_invalido", "trabajos", done, "PUT", status, pro, map[string]any{"estado": "EN_PROCESO"})
	refused(400, "trabajo_no_pagado", "trabajos", done, "POST", "/api/v1/disputas", cli, dispute(done))

	// An offer past its expiry that the loop has not reached yet: the timer guard
	// refuses the client's answer and the professional's edit all the same.
	oid3, _ := h.offer(cli, pro, 5000)
	accept, reject, put, _ = offerMoves(oid3)
	h.clock.Advance(domain.DefaultOfferTTL)
	refused(400, "oferta_expirada", "ofertas", oid3, "POST", accept, cli, nil)
	refused(400, "oferta_expirada", "ofertas", oid3, "POST", reject, cli, nil)
	refused(400, "oferta_expirada", "ofertas", oid3, "PUT", put, pro, edit)
}

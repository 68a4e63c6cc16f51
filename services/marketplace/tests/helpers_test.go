// Package tests drives the marketplace's real composition root over HTTP against a real
// PostgreSQL database and an in-process JetStream server. A test-only responder plays
// payments' part of the sagas over real JetStream until the payments service lands.
package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/marketplace"
)

type user struct {
	ID, Email, Nombre, Apellido, Rol string
	Token                            string
}

// directory is a fake of the owners' internal read APIs (users, professionals), used on
// replica misses.
type directory struct {
	mu        sync.Mutex
	users     map[string]user
	pros      map[string]map[string]any // by user id
	servicios map[string]map[string]any
	calls     atomic.Int64
}

func (d *directory) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d.calls.Add(1)
	d.mu.Lock()
	defer d.mu.Unlock()
	if r.Header.Get(kit.HeaderInternalKey) != kit.DefaultInternalKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	p := r.URL.Path
	var out any
	switch {
	case strings.HasPrefix(p, "/internal/users/"):
		if u, ok := d.users[strings.TrimPrefix(p, "/internal/users/")]; ok {
			out = map[string]any{"id": u.ID, "email": u.Email, "nombre": u.Nombre, "apellido": u.Apellido, "rol": u.Rol, "is_active": true}
		}
	case strings.HasPrefix(p, "/internal/professionals/by-user/"):
		if v, ok := d.pros[strings.TrimPrefix(p, "/internal/professionals/by-user/")]; ok {
			out = v
		}
	case strings.HasPrefix(p, "/internal/servicios/"):
		if v, ok := d.servicios[strings.TrimPrefix(p, "/internal/servicios/")]; ok {
			out = v
		}
	}
	if out == nil {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(out)
}

// publicURL is the gateway's public base URL the tests give the service (absolute image
// and avatar URLs start with it).
const publicURL = "https://api.conectar.test"

type harness struct {
	t      *testing.T
	env    *testkit.Env
	base   string
	svc    *kit.Service
	market *marketplace.Market
	// clock is every instance's Deps.Now: a test moves time forward with Advance and
	// runs the timers with market.Tick instead of sleeping.
	clock *testkit.Clock
	dir   *directory
	dirS  *httptest.Server
	pay   *responder
	extra map[string]string
}

func defaults(extra map[string]string) map[string]string {
	out := map[string]string{"SAGA_WAIT": "3s", "MARKETPLACE_SCAN_INTERVAL": "100ms", "CHAT_WEBHOOK_API_KEY": "test-webhook-key"}
	for k, v := range extra {
		out[k] = v
	}
	return out
}

func start(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	env := testkit.NewEnv(t)
	dir := &directory{users: map[string]user{}, pros: map[string]map[string]any{}, servicios: map[string]map[string]any{}}
	dirS := httptest.NewServer(dir)
	t.Cleanup(dirS.Close)
	h := &harness{t: t, env: env, dir: dir, dirS: dirS, extra: defaults(extra), clock: &testkit.Clock{}}
	h.pay = startResponder(t, env)
	h.base, h.market = h.serveMarket()
	h.svc = h.market.Service()
	return h
}

// serve starts one more marketplace instance on the harness's database and NATS.
func (h *harness) serve() (string, *kit.Service) {
	h.t.Helper()
	base, m := h.serveMarket()
	return base, m.Service()
}

// serveMarket starts one more marketplace instance (a replica: same database, NATS and
// clock) and returns its base URL and its Market, whose Tick runs its timers once.
func (h *harness) serveMarket() (string, *marketplace.Market) {
	h.t.Helper()
	d := h.env.Deps(h.t, marketplace.Name, h.extra)
	d.ServiceURLs = map[string]string{"users": h.dirS.URL, "professionals": h.dirS.URL}
	d.PublicURL = publicURL
	d.Now = h.clock.Now
	m, err := marketplace.Build(context.Background(), d)
	if err != nil {
		h.t.Fatal(err)
	}
	return testkit.Serve(h.t, m.Service()), m
}

// newUser registers a user in the directory (and, with event, through UserRegistered).
func (h *harness) newUser(rol, nombre string) user {
	id := uuid.NewString()
	u := user{ID: id, Email: strings.ToLower(nombre) + "-" + id[:6] + "@example.com", Nombre: nombre, Apellido: "Test", Rol: rol}
	u.Token = h.env.Keys.Token(id, rol, u.Email)
	h.dir.mu.Lock()
	h.dir.users[id] = u
	h.dir.mu.Unlock()
	return u
}

// newPro registers a professional with the given KYC state and payout account.
func (h *harness) newPro(nombre, kyc, payout string) user {
	u := h.newUser("PROFESIONAL", nombre)
	h.dir.mu.Lock()
	h.dir.pros[u.ID] = map[string]any{"id": uuid.NewString(), "usuario_id": u.ID, "estado_verificacion": kyc, "nivel": "BRONCE",
		"tasa_comision_bp": 2000, "payout_account": payout, "is_active": true}
	h.dir.mu.Unlock()
	return u
}

// resp is an answer read whole.
type resp = testkit.Response

func (h *harness) do(method, path, token string, body any) resp {
	h.t.Helper()
	return doAt(h.t, h.base, method, path, token, body, nil)
}

func doAt(t *testing.T, base, method, path, token string, body any, headers map[string]string) resp {
	t.Helper()
	var hdr []string
	for k, v := range headers {
		hdr = append(hdr, k, v)
	}
	return testkit.Send(t, method, base+path, token, "", body, hdr...)
}

// want asserts a status and returns the response.
func (h *harness) want(status int, method, path, token string, body any) resp {
	h.t.Helper()
	r := h.do(method, path, token, body)
	if r.Status != status {
		h.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.Status, status, r.Body)
	}
	return r
}

// publish sends an event of another context to JetStream as its producer would.
func (h *harness) publish(producer, aggregate string, ev events.Event) events.Envelope {
	h.t.Helper()
	return testkit.Publish(h.t, h.env.NATS.JS, producer, aggregate, ev)
}

// publishEnv publishes env with msgID; a different msgID for the same envelope makes
// JetStream store it twice, i.e. a redelivery the inbox must absorb.
func publishEnv(t testing.TB, js jetstream.JetStream, env events.Envelope, msgID string) {
	t.Helper()
	testkit.PublishEnvelope(t, js, env, msgID)
}

// count returns how many events of subject the stream holds.
func (h *harness) count(stream, subject string) int {
	h.t.Helper()
	s, err := h.env.NATS.JS.Stream(context.Background(), stream)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := s.Info(context.Background(), jetstream.WithSubjectFilter(subject))
	if err != nil {
		h.t.Fatal(err)
	}
	return int(info.State.Subjects[subject])
}

// waitCount waits until the stream holds n events of subject (the relay publishes
// right after commit, not inside it).
func (h *harness) waitCount(stream, subject string, n int) {
	h.t.Helper()
	h.eventually(fmt.Sprintf("%d events on %s", n, subject), func() bool { return h.count(stream, subject) >= n })
	if got := h.count(stream, subject); got != n {
		h.t.Fatalf("%d events on %s, want %d", got, subject, n)
	}
}

// lastEvent decodes the last event of subject.
func lastEvent[T events.Event](h *harness, stream string) T {
	h.t.Helper()
	var zero T
	s, err := h.env.NATS.JS.Stream(context.Background(), stream)
	if err != nil {
		h.t.Fatal(err)
	}
	msg, err := s.GetLastMsgForSubject(context.Background(), zero.Subject())
	if err != nil {
		h.t.Fatalf("no %s event: %v", zero.EventType(), err)
	}
	env, err := events.Parse(msg.Data)
	if err != nil {
		h.t.Fatal(err)
	}
	out, err := events.Decode[T](env)
	if err != nil {
		h.t.Fatal(err)
	}
	return out
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, what, cond)
}

// job reads a job as its client.
func (h *harness) job(id string, as user) map[string]any {
	h.t.Helper()
	return h.want(200, "GET", "/api/v1/trabajos/"+id, as.Token, nil).Map(h.t)
}

// chatBetween creates (or returns) the conversation of a client and a professional.
func (h *harness) chatBetween(cli, pro user) string {
	h.t.Helper()
	r := h.do("POST", "/api/v1/chat/conversations", cli.Token, map[string]any{"profesional_id": pro.ID})
	if r.Status != 200 && r.Status != 201 {
		h.t.Fatalf("create chat: %d %s", r.Status, r.Body)
	}
	return r.Map(h.t)["chat_id"].(string)
}

// offer creates an open offer from pro to cli and returns its id.
func (h *harness) offer(cli, pro user, precio float64) (string, string) {
	h.t.Helper()
	chat := h.chatBetween(cli, pro)
	r := h.want(201, "POST", "/api/v1/ofertas", pro.Token, map[string]any{"cliente_id": cli.ID, "chat_id": chat,
		"descripcion": "Cambio de cañería completa del baño", "precio_final": precio})
	return r.Map(h.t)["id"].(string), chat
}

// paidJob goes through offer, accept (responder replies) and payment.
func (h *harness) paidJob(cli, pro user, precio float64) (string, string) {
	h.t.Helper()
	oid, chat := h.offer(cli, pro, precio)
	r := h.want(200, "POST", "/api/v1/cliente/ofertas/"+oid+"/accept", cli.Token, nil)
	jobID := r.Map(h.t)["trabajo_id"].(string)
	h.publish("payments", jobID, events.PaymentApprovedV1{TrabajoID: jobID, PaymentID: "mp-" + jobID[:8], Status: "approved",
		MontoCentavos: int64(precio * 100)})
	h.eventually("job paid", func() bool { return h.job(jobID, cli)["estado"] == "PAGADO" })
	return jobID, chat
}

func (h *harness) messages(chat string, as user) []map[string]any {
	h.t.Helper()
	var out []map[string]any
	h.want(200, "GET", "/api/v1/chat/"+chat+"/messages?limit=100", as.Token, nil).Decode(h.t, &out)
	return out
}

// responder plays payments: it answers OfferAccepted, JobCompleted, JobCancelled and
// DisputeResolved with payments' reply events over real JetStream.
type responder struct {
	t        testing.TB
	js       jetstream.JetStream
	mode     atomic.Value // "ok" | "fail" | "silent"
	mu       sync.Mutex
	accepted []events.OfferAcceptedV1
	seen     map[string]int // event type → count
}

func startResponder(t testing.TB, env *testkit.Env) *responder {
	r := &responder{t: t, js: env.NATS.JS, seen: map[string]int{}}
	r.mode.Store("ok")
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c, err := env.NATS.JS.CreateOrUpdateConsumer(ctx, events.StreamMarketplace, jetstream.ConsumerConfig{
		Durable: "test-payments", AckPolicy: jetstream.AckExplicitPolicy,
		FilterSubjects: []string{events.SubjOfferAccepted, events.SubjJobCompleted, events.SubjJobCancelled, events.SubjDisputeResolved},
	})
	if err != nil {
		t.Fatal(err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		_ = m.Ack()
		env, err := events.Parse(m.Data())
		if err != nil {
			return
		}
		r.handle(env)
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cc.Stop)
	return r
}

func (r *responder) setMode(m string) { r.mode.Store(m) }

func (r *responder) seenCount(typ string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.seen[typ]
}

func (r *responder) reply(agg string, ev events.Event) {
	env, err := events.New("payments", agg, ev, events.Meta{}, time.Now())
	if err != nil {
		r.t.Error(err)
		return
	}
	b, _ := json.Marshal(env)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := r.js.PublishMsg(ctx, &nats.Msg{Subject: env.Subject, Data: b}, jetstream.WithMsgID(env.ID.String())); err != nil {
		r.t.Errorf("responder publish: %v", err)
	}
}

func (r *responder) handle(env events.Envelope) {
	r.mu.Lock()
	r.seen[env.Type]++
	r.mu.Unlock()
	mode := r.mode.Load().(string)
	switch env.Type {
	case "OfferAccepted":
		e, _ := events.Decode[events.OfferAcceptedV1](env)
		r.mu.Lock()
		r.accepted = append(r.accepted, e)
		r.mu.Unlock()
		switch mode {
		case "ok":
			r.checkout(e)
		case "fail":
			r.reply(e.TrabajoID, events.PaymentCheckoutFailedV1{TrabajoID: e.TrabajoID, OfertaID: e.OfertaID, Motivo: "MercadoPago no disponible"})
		}
	case "JobCompleted":
		e, _ := events.Decode[events.JobCompletedV1](env)
		if mode == "ok" {
			r.release(e.TrabajoID, e.ProfesionalID, e.PrecioCentavos)
		}
	case "JobCancelled":
		e, _ := events.Decode[events.JobCancelledV1](env)
		if mode == "ok" && e.Paid {
			r.reply(e.TrabajoID, events.RefundIssuedV1{RefundID: "refund-" + e.TrabajoID[:8], TrabajoID: e.TrabajoID, ClienteID: e.ClienteID, MontoCentavos: e.PrecioCentavos})
		}
	case "DisputeResolved":
		e, _ := events.Decode[events.DisputeResolvedV1](env)
		if mode != "ok" {
			return
		}
		switch e.AFavor {
		case "profesional":
			r.release(e.TrabajoID, e.ProfesionalID, e.PrecioCentavos)
		case "cliente":
			r.reply(e.TrabajoID, events.RefundIssuedV1{RefundID: "refund-" + e.TrabajoID[:8], TrabajoID: e.TrabajoID, ClienteID: e.ClienteID, MontoCentavos: e.PrecioCentavos})
		}
	}
}

func (r *responder) checkout(e events.OfferAcceptedV1) {
	r.reply(e.TrabajoID, events.PaymentCheckoutCreatedV1{TrabajoID: e.TrabajoID, OfertaID: e.OfertaID,
		PreferenceID: "pref-" + e.TrabajoID[:8], PaymentURL: "https://sandbox.mercadopago.test/checkout/" + e.TrabajoID})
}

func (r *responder) release(jobID, proID string, precio int64) {
	com := precio * 2000 / 10000
	r.reply(jobID, events.EscrowReleasedV1{TrabajoID: jobID, ProfesionalID: proID, PrecioCentavos: precio, ComisionCentavos: com,
		LiberadoCentavos: precio - com, TasaComisionBasisPt: 2000, PayoutID: "payout-" + jobID[:8]})
}

func (r *responder) lastAccepted() events.OfferAcceptedV1 {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.accepted) == 0 {
		r.t.Fatal("no OfferAccepted seen")
	}
	return r.accepted[len(r.accepted)-1]
}

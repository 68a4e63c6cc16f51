// Package tests drives the payments service's real composition root over HTTP against a
// real database, in-process JetStream and the MercadoPago simulator.
package tests

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
	payments "github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

const (
	testToken  = "TEST-sim-token"
	testSecret = "whsec-test"
)

type harness struct {
	t      *testing.T
	env    *testkit.Env
	sim    *mpsim.Server
	simURL string
	base   string
	pool   *pgxpool.Pool // the service's role: what check-ledger uses too
	// clock is the Deps.Now of every replica and the simulator's clock: a test moves
	// time forward with Advance (checkout expiry) instead of sleeping.
	clock *testkit.Clock
	app   *payments.App
	// settings and services start further replicas like the first.
	settings map[string]string
	services map[string]string
	// tampered: the test wrote a bad ledger on purpose, so the end-of-test check is off.
	tampered bool

	mu  sync.Mutex
	evs []events.Envelope
}

// newHarness starts the simulator, then the service (on a listener opened first, so the
// preference's notification_url can point at it), and records every payments event.
func newHarness(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	return newHarnessWith(t, extra, nil)
}

// newHarnessWith is newHarness with the base URLs of other services (by name) the
// service may call.
func newHarnessWith(t *testing.T, extra map[string]string, services map[string]string) *harness {
	t.Helper()
	env := testkit.NewEnv(t)
	clock := &testkit.Clock{}
	sim := mpsim.New(mpsim.Config{AccessToken: testToken, WebhookSecret: testSecret, Now: clock.Now,
		RetryDelays: []time.Duration{100 * time.Millisecond, 300 * time.Millisecond}})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	settings := map[string]string{
		"MP_ACCESS_TOKEN": testToken, "MP_BASE_URL": simURL, "MP_WEBHOOK_SECRET": testSecret,
		"MP_NOTIFICATION_URL": base + "/api/v1/webhook/mercadopago", "FRONTEND_URL": "http://front.test",
		"MP_RECONCILE_INTERVAL": "1h", "MP_PAYOUT_RETRY_BASE": "200ms", "MP_WEBHOOK_TOLERANCE": "5m",
		"CHECKOUT_EXPIRY_INTERVAL": "1h",
	}
	for k, v := range extra {
		settings[k] = v
	}
	h := &harness{t: t, env: env, sim: sim, simURL: simURL, base: base, clock: clock, settings: settings, services: services}
	h.app = h.startReplica(ln)
	h.pool = h.app.Service().Deps.Pool
	// Every test ends with a balanced ledger (registered last, so it runs first).
	t.Cleanup(h.assertLedgerBalanced)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	h.recordEvents(ctx)
	return h
}

// startReplica starts one more instance of the service on the harness's database, NATS,
// simulator and clock, serving on ln (nil: a listener of its own).
func (h *harness) startReplica(ln net.Listener) *payments.App {
	h.t.Helper()
	t := h.t
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			t.Fatal(err)
		}
	}
	services := h.services
	d := h.env.Deps(t, payments.Name, h.settings)
	d.Now = h.clock.Now
	if len(services) > 0 {
		urls := map[string]string{}
		for k, v := range d.ServiceURLs {
			urls[k] = v
		}
		for k, v := range services {
			urls[k] = v
		}
		d.ServiceURLs = urls
	}
	app, err := payments.Build(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	svc := app.Service()
	ctx, cancel := context.WithCancel(context.Background())
	if err := svc.Start(ctx); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { _ = svc.Serve(ln) }()
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer scancel()
		svc.Stop(sctx)
		cancel()
	})
	return app
}

func (h *harness) recordEvents(ctx context.Context) {
	c, err := h.env.NATS.JS.OrderedConsumer(ctx, events.StreamPayments, jetstream.OrderedConsumerConfig{})
	if err != nil {
		h.t.Fatal(err)
	}
	cc, err := c.Consume(func(m jetstream.Msg) {
		env, err := events.Parse(m.Data())
		if err == nil {
			h.mu.Lock()
			h.evs = append(h.evs, env)
			h.mu.Unlock()
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(cc.Stop)
}

// events returns the payments events of type typ about job id.
func (h *harness) events(typ, id string) []events.Envelope {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []events.Envelope
	for _, e := range h.evs {
		if e.Type == typ && (id == "" || e.AggregateID == id) {
			out = append(out, e)
		}
	}
	return out
}

func (h *harness) waitEvent(typ, id string) events.Envelope {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, typ+" for "+id, func() bool { return len(h.events(typ, id)) > 0 })
	return h.events(typ, id)[0]
}

func (h *harness) publish(e events.Event, aggregate string) {
	h.t.Helper()
	testkit.Publish(h.t, h.env.NATS.JS, "marketplace", aggregate, e)
}

// accept publishes OfferAccepted for a new job and waits for its checkout.
func (h *harness) accept(precio int64, profesional string) (trabajoID, cliente, paymentURL string) {
	h.t.Helper()
	trabajoID, cliente = uuid.NewString(), uuid.NewString()
	h.publish(events.OfferAcceptedV1{OfertaID: uuid.NewString(), TrabajoID: trabajoID, ChatID: uuid.NewString(),
		ClienteID: cliente, ClienteEmail: "cliente@example.com", ProfesionalID: profesional,
		Descripcion: "Cambio de cañería de la cocina", PrecioCentavos: precio}, trabajoID)
	start := time.Now()
	ev := h.waitEvent("PaymentCheckoutCreated", trabajoID)
	h.t.Logf("checkout created in %s", time.Since(start))
	p, err := events.Decode[events.PaymentCheckoutCreatedV1](ev)
	if err != nil {
		h.t.Fatal(err)
	}
	return trabajoID, cliente, p.PaymentURL
}

// held accepts a job of precio for profesional and pays it at the simulator; it returns
// once the money is held, with the job, its client and the payment.
func (h *harness) held(precio int64, profesional string) (trabajoID, cliente, payment string) {
	h.t.Helper()
	trabajoID, cliente, _ = h.accept(precio, profesional)
	payment = h.simPay(trabajoID, "approved", "")
	h.waitEstado(trabajoID, "PAGADO_EN_ESCROW")
	return trabajoID, cliente, payment
}

func (h *harness) estado(id string) string {
	var s string
	if err := h.pool.QueryRow(context.Background(), "SELECT estado_escrow FROM trabajos WHERE trabajo_id=$1", id).Scan(&s); err != nil {
		h.t.Fatalf("estado of %s: %v", id, err)
	}
	return s
}

func (h *harness) waitEstado(id, want string) {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, "estado "+want, func() bool { return h.estado(id) == want })
}

// waitFor waits until the count query sql finds a row.
func (h *harness) waitFor(what, sql string, args ...any) {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, what, func() bool { return h.count(sql, args...) > 0 })
}

func (h *harness) count(sql string, args ...any) int {
	h.t.Helper()
	return testkit.Count(h.t, h.pool, sql, args...)
}

func (h *harness) assertLedgerBalanced() {
	if h.tampered {
		return
	}
	r, err := payments.CheckLedger(context.Background(), h.pool)
	if err != nil {
		h.t.Errorf("check ledger: %v", err)
		return
	}
	if len(r.Problems) > 0 {
		h.t.Errorf("ledger problems: %v", r.Problems)
	}
}

var noRedirect = &http.Client{Timeout: 10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// payOnCheckoutPage does what a person does: open the init_point, read the form and
// press a button. It returns the redirect location (or the result page body).
func (h *harness) payOnCheckoutPage(paymentURL, decision string) (status int, location string) {
	h.t.Helper()
	resp, err := noRedirect.Get(paymentURL)
	if err != nil {
		h.t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Aprobar pago") || !strings.Contains(string(page), "Servicio Profesional") {
		h.t.Fatalf("checkout page %d: %s", resp.StatusCode, page)
	}
	action := regexp.MustCompile(`<form method="post" action="([^"]+)"`).FindStringSubmatch(string(page))
	pref := regexp.MustCompile(`name="pref_id" value="([^"]+)"`).FindStringSubmatch(string(page))
	if action == nil || pref == nil {
		h.t.Fatalf("no form in checkout page: %s", page)
	}
	u, _ := url.Parse(paymentURL)
	target := u.Scheme + "://" + u.Host + action[1]
	resp, err = noRedirect.PostForm(target, url.Values{"pref_id": {pref[1]}, "decision": {decision}})
	if err != nil {
		h.t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "" {
		return resp.StatusCode, loc
	}
	return resp.StatusCode, string(body)
}

// simCall calls a simulator control endpoint.
func (h *harness) simCall(method, path string, body any, out any) {
	h.t.Helper()
	r := testkit.Client{T: h.t, Base: h.simURL}.JSON(method, path, "", body, out)
	if r.Status >= 300 {
		h.t.Fatalf("sim %s %s: %d %s", method, path, r.Status, r.Body)
	}
}

// simPay pays a job's preference at the simulator (as if from the checkout).
func (h *harness) simPay(trabajoID, status, amount string) string {
	h.t.Helper()
	var pref string
	if err := h.pool.QueryRow(context.Background(), "SELECT preference_id FROM trabajos WHERE trabajo_id=$1", trabajoID).Scan(&pref); err != nil {
		h.t.Fatal(err)
	}
	q := "?status=" + status
	if amount != "" {
		q += "&amount=" + amount
	}
	var out struct {
		PaymentID int64 `json:"payment_id"`
	}
	h.simCall("POST", "/_sim/preferences/"+url.PathEscape(pref)+"/pay"+q, nil, &out)
	return fmt.Sprint(out.PaymentID)
}

// api calls the service.
func (h *harness) api(method, path, token string, out any) int {
	h.t.Helper()
	r := testkit.Client{T: h.t, Base: h.base}.JSON(method, path, token, nil, out)
	if r.Status >= 300 && out != nil {
		h.t.Logf("%s %s → %d %s", method, path, r.Status, r.Body)
	}
	return r.Status
}

// deliveriesDone waits until the simulator has no webhook in flight for payment id
// (every recorded attempt answered) and at least n answered.
func (h *harness) waitDeliveries(paymentID string, n int) {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, fmt.Sprintf("%d webhook deliveries", n), func() bool {
		ok := 0
		for _, d := range h.sim.Deliveries() {
			if fmt.Sprint(d.PaymentID) == paymentID && d.StatusCode == 200 {
				ok++
			}
		}
		return ok >= n
	})
}

// redeliver has the simulator repeat payment pay's notification twice, as MercadoPago
// does, and waits until total deliveries of it were answered and the inbox is drained.
func (h *harness) redeliver(pay string, total int) {
	h.t.Helper()
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook?times=2", nil, nil)
	h.waitDeliveries(pay, total)
	h.quiesce()
}

// quiesce waits until the webhook inbox is drained.
func (h *harness) quiesce() {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, "webhook inbox drained", func() bool {
		return h.count("SELECT count(*) FROM webhook_inbox WHERE processed_at IS NULL") == 0
	})
	time.Sleep(100 * time.Millisecond) // let the outbox relay publish
}

// paymentOf is the payment that funded job id.
func (h *harness) paymentOf(id string) string {
	h.t.Helper()
	var p string
	if err := h.pool.QueryRow(context.Background(), "SELECT payment_id FROM trabajos WHERE trabajo_id=$1", id).Scan(&p); err != nil {
		h.t.Fatal(err)
	}
	return p
}

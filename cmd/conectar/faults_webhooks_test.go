package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// staleMP stands between payments and the simulator and can answer GET
// /v1/payments/{id} with an older status than the payment has. A MercadoPago webhook
// says only "payment X changed" and payments reads the status from the API, so the only
// way notifications can arrive "out of order" is a read that returns a status from
// earlier (or later) in the payment's history than the one payments already applied.
type staleMP struct {
	*httptest.Server
	mu     sync.Mutex
	status map[string]string // payment id → the status its reads report
}

func newStaleMP(t *testing.T, target string) *staleMP {
	t.Helper()
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	m := &staleMP{status: map[string]string{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.ModifyResponse = func(resp *http.Response) error {
		path := resp.Request.URL.Path
		id, ok := strings.CutPrefix(path, "/v1/payments/")
		if resp.Request.Method != http.MethodGet || !ok || strings.Contains(id, "/") || resp.StatusCode != 200 {
			return nil
		}
		m.mu.Lock()
		st := m.status[id]
		m.mu.Unlock()
		if st == "" {
			return nil
		}
		raw, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		var p map[string]any
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		p["status"], p["status_detail"] = st, map[string]string{"pending": "pending_waiting_payment", "approved": "accredited",
			"refunded": "refunded"}[st]
		if st != "refunded" {
			p["transaction_amount_refunded"], p["refunds"] = 0, []any{}
		}
		out, _ := json.Marshal(p)
		resp.Body = io.NopCloser(bytes.NewReader(out))
		resp.ContentLength = int64(len(out))
		resp.Header.Set("Content-Length", strconv.Itoa(len(out)))
		return nil
	}
	m.Server = httptest.NewServer(rp)
	t.Cleanup(m.Close)
	return m
}

// report makes reads of payment id answer status ("" = the truth again).
func (m *staleMP) report(id, status string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if status == "" {
		delete(m.status, id)
	} else {
		m.status[id] = status
	}
}

// simPost calls one of the simulator's control endpoints.
func simPost(t *testing.T, sim, path string, body any) map[string]any {
	t.Helper()
	b, _ := json.Marshal(body)
	resp, err := http.Post(sim+path, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	out := map[string]any{}
	_ = json.NewDecoder(resp.Body).Decode(&out)
	if resp.StatusCode >= 300 {
		t.Fatalf("simulator %s → %d %v", path, resp.StatusCode, out)
	}
	return out
}

// simPay pays preference pref on the simulator with status; it returns the payment id.
func simPay(t *testing.T, sim, pref, status string) string {
	t.Helper()
	id, _ := simPost(t, sim, "/_sim/preferences/"+url.PathEscape(pref)+"/pay?status="+status, nil)["payment_id"].(float64)
	return strconv.FormatInt(int64(id), 10)
}

// deliverWebhooks sends five signed MercadoPago notifications for payment id at once,
// each with its own x-request-id as real redeliveries have, and waits until payments
// has processed every stored one.
func (s *system) deliverWebhooks(t *testing.T, id string) {
	t.Helper()
	secret := s.env["MP_WEBHOOK_SECRET"]
	var wg sync.WaitGroup
	for i := 0; i < 5; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reqID := uuid.NewString()
			body, _ := json.Marshal(map[string]any{"action": "payment.updated", "api_version": "v1", "type": "payment",
				"live_mode": false, "date_created": time.Now().Format(time.RFC3339), "data": map[string]string{"id": id}})
			req, _ := http.NewRequest(http.MethodPost, s.gateway+"/api/v1/webhook/mercadopago?data.id="+id+"&type=payment", bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Request-Id", reqID)
			req.Header.Set("X-Signature", mpsim.Sign(secret, id, reqID, time.Now().UnixMilli()))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Errorf("webhook %s: %v", id, err)
				return
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("webhook %s → %d", id, resp.StatusCode)
			}
		}()
	}
	wg.Wait()
	db := connectDB(t, s.set.DatabaseURL)
	testkit.Eventually(t, 20*time.Second, "webhooks of "+id+" processed", func() bool {
		return countRows(t, db, `SELECT count(*) FROM payments.webhook_inbox WHERE data_id = $1 AND processed_at IS NULL`, id) == 0
	})
}

// TestFaultWebhooksDuplicatedAndOutOfOrder delivers every MercadoPago notification five
// times, and makes the API reads behind them come out of order: approved before pending,
// refunded before approved, and again after the job was released or refunded. Money
// moves once per job and forward only.
func TestFaultWebhooksDuplicatedAndOutOfOrder(t *testing.T) {
	sys := startSystem(t, faultEnv(map[string]string{"RATE_LIMIT_WEBHOOK_PER_WINDOW": "100000"}))
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")
	sim := sys.env["MP_BASE_URL"]
	// Payments reads MercadoPago through the stale proxy: a new payments process is
	// pointed at it, the way a restarted container picks up its configuration.
	stale := newStaleMP(t, sim)
	sys.kill("payments")
	sys.env["MP_BASE_URL"] = stale.URL
	sys.revive("payments")

	a, b, c := sys.newJourney(adminTok, "a"), sys.newJourney(adminTok, "b"), sys.newJourney(adminTok, "c")
	for _, j := range []*journey{a, b, c} {
		j.sim = sim
		if err := j.signup(); err != nil {
			t.Fatal(err)
		}
		if err := j.hire(); err != nil {
			t.Fatal(err)
		}
	}
	db := connectDB(t, sys.set.DatabaseURL)
	ledger := func(j *journey) string {
		rows, err := db.Query(context.Background(), `SELECT tipo FROM payments.ledger_txns WHERE trabajo_id = $1 ORDER BY tipo`, j.jobID)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var kinds []string
		for rows.Next() {
			var k string
			_ = rows.Scan(&k)
			kinds = append(kinds, k)
		}
		return strings.Join(kinds, ",")
	}
	expectJob := func(j *journey, estado, kinds string) {
		t.Helper()
		job, err := j.job()
		if err != nil {
			t.Fatal(err)
		}
		if job["estado_escrow"] != estado || ledger(j) != kinds {
			t.Fatalf("%s: estado_escrow %v ledger [%s], want %s [%s]", j.tag, job["estado_escrow"], ledger(j), estado, kinds)
		}
	}

	// A: approved read before pending. The simulator's own notifications are dropped so
	// only ours arrive, after MercadoPago already holds the final status.
	simPost(t, sim, "/_sim/faults", map[string]int{"drop_next_webhooks": 2})
	pa := simPay(t, sim, a.prefID, "pending")
	simPost(t, sim, "/_sim/payments/"+pa+"/approve", nil)
	sys.deliverWebhooks(t, pa)
	if err := a.waitEscrow("PAGADO_EN_ESCROW"); err != nil {
		t.Fatal(err)
	}
	stale.report(pa, "pending")
	sys.deliverWebhooks(t, pa)
	expectJob(a, "PAGADO_EN_ESCROW", "HOLD")
	if err := a.work(); err != nil {
		t.Fatal(err)
	}
	if err := a.approve(); err != nil {
		t.Fatal(err)
	}
	// After the release: the approval and the stale pending again, five times each.
	stale.report(pa, "")
	sys.deliverWebhooks(t, pa)
	stale.report(pa, "pending")
	sys.deliverWebhooks(t, pa)
	expectJob(a, "LIBERADO", "HOLD,RELEASE")

	// B: refunded read before approved. The first payment was approved and refunded at
	// MercadoPago before we heard of it: nothing is held, and its late approval read
	// changes nothing. The client pays again and the job goes on.
	simPost(t, sim, "/_sim/faults", map[string]int{"drop_next_webhooks": 2})
	pb1 := simPay(t, sim, b.prefID, "approved")
	simPost(t, sim, "/_sim/payments/"+pb1+"/refund", nil)
	sys.deliverWebhooks(t, pb1)
	stale.report(pb1, "approved")
	sys.deliverWebhooks(t, pb1)
	expectJob(b, "PENDIENTE_PAGO", "")
	if _, err := b.pay("approved"); err != nil {
		t.Fatal(err)
	}
	if err := b.waitEscrow("PAGADO_EN_ESCROW"); err != nil {
		t.Fatal(err)
	}
	sys.deliverWebhooks(t, b.paymentID)
	if err := b.work(); err != nil {
		t.Fatal(err)
	}
	if err := b.approve(); err != nil {
		t.Fatal(err)
	}
	sys.deliverWebhooks(t, pb1)
	sys.deliverWebhooks(t, b.paymentID)
	expectJob(b, "LIBERADO", "HOLD,RELEASE")

	// C: held, then refunded from MercadoPago's panel; a stale approval read first, the
	// refund (five times), then stale approved and pending reads after the refund.
	if _, err := c.pay("approved"); err != nil {
		t.Fatal(err)
	}
	if err := c.waitEscrow("PAGADO_EN_ESCROW"); err != nil {
		t.Fatal(err)
	}
	simPost(t, sim, "/_sim/faults", map[string]int{"drop_next_webhooks": 1})
	simPost(t, sim, "/_sim/payments/"+c.paymentID+"/refund", nil)
	stale.report(c.paymentID, "approved")
	sys.deliverWebhooks(t, c.paymentID)
	expectJob(c, "PAGADO_EN_ESCROW", "HOLD")
	stale.report(c.paymentID, "")
	sys.deliverWebhooks(t, c.paymentID)
	if err := c.waitEscrow("CANCELADO_REEMBOLSADO"); err != nil {
		t.Fatal(err)
	}
	for _, st := range []string{"approved", "pending", ""} {
		stale.report(c.paymentID, st)
		sys.deliverWebhooks(t, c.paymentID)
	}
	expectJob(c, "CANCELADO_REEMBOLSADO", "HOLD,REFUND")

	// The recorded status of each payment is its last real one: stale reads never moved it back.
	for id, st := range map[string]string{pa: "approved", pb1: "refunded", b.paymentID: "approved", c.paymentID: "refunded"} {
		if n := countRows(t, db, `SELECT count(*) FROM payments.pagos_mp WHERE payment_id = $1 AND status = $2`, id, st); n != 1 {
			t.Errorf("payment %s is not recorded as %s", id, st)
		}
	}
	if n := countRows(t, db, `SELECT count(*) FROM payments.webhook_inbox WHERE last_error IS NOT NULL`); n != 0 {
		t.Errorf("%d notifications ended with an error", n)
	}
	// Each status change went out once per job, however many notifications told of it.
	want := map[string]map[string]int{
		a.jobID: {"PaymentApproved": 1, "EscrowHeld": 1, "EscrowReleased": 1},
		b.jobID: {"PaymentApproved": 1, "EscrowHeld": 1, "EscrowReleased": 1, "PaymentRefunded": 1},
		c.jobID: {"PaymentApproved": 1, "EscrowHeld": 1, "PaymentRefunded": 1, "RefundIssued": 1},
	}
	got := map[string]map[string]int{a.jobID: {}, b.jobID: {}, c.jobID: {}}
	for _, env := range testkit.StreamEvents(t, sys.in.js, events.StreamPayments, "payments.>", 1, 5*time.Second) {
		if m, ok := got[env.AggregateID]; ok && !strings.HasPrefix(env.Type, "PaymentCheckout") {
			m[env.Type]++
		}
	}
	for id, w := range want {
		if fmt.Sprint(got[id]) != fmt.Sprint(w) {
			t.Errorf("payments events of job %s: %v, want %v", id, got[id], w)
		}
	}
	sys.checkBooks(t, adminTok, []*journey{a, b, c}, func(j *journey) books {
		if j == c {
			return books{ledger: map[string]int{"HOLD": 1, "REFUND": 1}}
		}
		return releasedBooks
	})
	sys.checkGamificationRebuild(t)
	sys.checkSearchRebuild(t, []*journey{a, b, c})
}

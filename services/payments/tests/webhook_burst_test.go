package tests

import (
	"bufio"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// During a burst of deliveries the workers leave the cores to the answers, but for a
// bounded time only: a payment delivered while deliveries keep coming faster than the
// burst rate is still applied before they stop, and /metrics shows both the deferral
// and its bound.
func TestWebhookBurstDefersApplyingBoundedly(t *testing.T) {
	// One delivery per 50 ms window is a burst at this rate.
	h := newHarness(t, map[string]string{"MP_WEBHOOK_WORKERS": "1", "MP_WEBHOOK_BURST_RATE": "20"})
	_, _, streamPay := h.held(40000, uuid.NewString())
	job, _, _ := h.accept(41000, uuid.NewString())
	h.simCall("POST", "/_sim/faults", mpsim.Faults{DropNextWebhooks: 1}, nil)
	pay := h.simPay(job, "approved", "")

	// Redeliveries of a held job's payment every 10 ms for three times the workers'
	// one-second bound: a burst the whole time.
	var streaming atomic.Bool
	streaming.Store(true)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer streaming.Store(false)
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
			resp, err := http.Post(h.simURL+"/_sim/payments/"+streamPay+"/webhook?times=1", "application/json", nil)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		}
	}()
	t.Cleanup(func() { <-done })
	time.Sleep(200 * time.Millisecond)
	h.simCall("POST", "/_sim/payments/"+pay+"/webhook?times=1", nil, nil)

	testkit.Eventually(t, 10*time.Second, "the payment delivered during the burst applied", func() bool {
		return h.estado(job) == "PAGADO_EN_ESCROW"
	})
	if !streaming.Load() {
		t.Fatal("the payment was applied only after the burst ended: the workers deferred to it without bound")
	}
	<-done
	h.quiesce()
	if n := h.count("SELECT count(*) FROM ledger_txns WHERE tipo='HOLD'"); n != 2 {
		t.Fatalf("%d holds, want 2", n)
	}
	for outcome, min := range map[string]float64{"burst_deferred": 1, "burst_bounded": 1} {
		if v := h.metric(`business_outcomes_total{outcome="` + outcome + `",service="payments",what="webhook_worker"}`); v < min {
			t.Fatalf("%s = %v, want ≥ %v", outcome, v, min)
		}
	}
}

// metric reads one series of the service's /metrics (0 when absent).
func (h *harness) metric(series string) float64 {
	h.t.Helper()
	resp, err := http.Get(h.base + "/metrics")
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				h.t.Fatalf("%s: %v", series, err)
			}
			return f
		}
	}
	if err := sc.Err(); err != nil {
		h.t.Fatal(err)
	}
	return 0
}

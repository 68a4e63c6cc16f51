// Command bench measures the MercadoPago webhook path end to end: it creates a throwaway
// database on the DATABASE_URL server, starts an embedded JetStream, the MercadoPago
// simulator and the payments service in-process, creates N jobs through OfferAccepted
// (each gets a real preference at the simulator), pays each one at the simulator with
// its own webhook suppressed, and then fires D signed webhooks per payment (duplicates
// on purpose) from C concurrent senders. Every webhook is authenticated, stored, and
// processed by the workers, which fetch the payment from the simulator and hold the
// escrow. It prints webhooks/s processed, the answer latency, the end-to-end latency
// (received → processed, including the payment fetch) percentiles, and verifies zero
// double holds and a balanced ledger.
//
//	go run ./services/payments/bench [-n 2000] [-d 2] [-c 32] [-workers 8] [-rate 0] [-keep] [-cpuprofile f]
//	go run ./services/payments/bench -n 200 -c 8   # smoke run
//
// Aims: ≥ 1,000 webhooks/s processed end to end, zero double holds.
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/platform/kit"
	payments "github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

const (
	token  = "TEST-bench"
	secret = "bench-secret"

	// aimWebhooksPerSec is the throughput aim (the other aim is zero double holds).
	aimWebhooksPerSec = 1000
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 2000, "jobs (payments)")
	dups := flag.Int("d", 2, "webhooks per payment (duplicates)")
	conc := flag.Int("c", 32, "concurrent webhook senders")
	workers := flag.Int("workers", 8, "webhook workers in the service")
	keep := flag.Bool("keep", false, "keep the database")
	rate := flag.Int("rate", 0, "offered webhooks per second (0: as fast as the senders go)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the webhook phase to this file")
	flag.Parse()
	ctx := context.Background()
	dsn, drop, err := benchkit.DB(ctx, "payments", payments.Name)
	if err != nil {
		return err
	}
	if !*keep {
		defer drop()
	}
	fmt.Printf("database %s\n", dsn)
	fmt.Printf("aims: ≥ %d webhooks/s processed end to end, zero double holds\n", aimWebhooksPerSec)

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ns, stopNATS, err := benchkit.StartNATS(ctx, log)
	if err != nil {
		return err
	}
	defer stopNATS()
	nc, js := ns.NC, ns.JS

	sim := mpsim.New(mpsim.Config{AccessToken: token, WebhookSecret: secret})
	simURL, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return err
	}
	defer sim.Close()

	pool, err := benchkit.Pool(ctx, dsn, payments.Name, int32(*workers+16))
	if err != nil {
		return err
	}
	defer pool.Close()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	svcURL := "http://" + ln.Addr().String()
	settings := map[string]string{"MP_ACCESS_TOKEN": token, "MP_BASE_URL": simURL, "MP_WEBHOOK_SECRET": secret,
		"MP_NOTIFICATION_URL": svcURL + "/api/v1/webhook/mercadopago", "MP_WEBHOOK_WORKERS": strconv.Itoa(*workers),
		"MP_RECONCILE_INTERVAL": "1h"}
	none := authn.StaticKeys(func(string) (ed25519.PublicKey, bool) { return nil, false })
	svc, err := payments.New(ctx, kit.Deps{Log: log, Pool: pool, NC: nc, JS: js, Verifier: &authn.Verifier{Keys: none},
		Env: func(k string) string { return settings[k] }, Now: time.Now})
	if err != nil {
		return err
	}
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if err := svc.Start(sctx); err != nil {
		return err
	}
	go func() { _ = svc.Serve(ln) }()
	defer func() {
		c, cc := context.WithTimeout(context.Background(), 5*time.Second)
		defer cc()
		svc.Stop(c)
	}()

	// Jobs through the real event path, then one approved payment each (webhook suppressed).
	t0 := time.Now()
	jobs := make([]string, *n)
	for i := range jobs {
		jobs[i] = uuid.NewString()
		env, err := events.New("marketplace", jobs[i], events.OfferAcceptedV1{OfertaID: uuid.NewString(), TrabajoID: jobs[i],
			ClienteID: uuid.NewString(), ClienteEmail: "c@example.com", ProfesionalID: uuid.NewString(),
			Descripcion: "Trabajo de prueba", PrecioCentavos: int64(1000 + i)}, events.Meta{}, time.Now())
		if err != nil {
			return err
		}
		b, _ := json.Marshal(env)
		if _, err := js.Publish(ctx, env.Subject, b, jetstream.WithMsgID(env.ID.String())); err != nil {
			return err
		}
	}
	if err := waitFor(5*time.Minute, func() (bool, error) {
		var c int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM trabajos WHERE checkout_estado = 'CREADO'").Scan(&c)
		return c == *n, err
	}); err != nil {
		return fmt.Errorf("checkouts: %w", err)
	}
	fmt.Printf("setup: %d checkouts created through OfferAccepted in %s (%.0f/s)\n", *n, time.Since(t0).Round(time.Millisecond), float64(*n)/time.Since(t0).Seconds())
	rows, err := pool.Query(ctx, "SELECT preference_id FROM trabajos")
	if err != nil {
		return err
	}
	prefs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	sim.SetFaults(mpsim.Faults{DropNextWebhooks: len(prefs)})
	var ids []string
	for _, p := range prefs {
		id, err := sim.Pay(p, "approved", 0)
		if err != nil {
			return err
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}

	// Fire D signed webhooks per payment, shuffled, from C senders.
	var work []string
	for _, id := range ids {
		for range *dups {
			work = append(work, id)
		}
	}
	rand.Shuffle(len(work), func(i, j int) { work[i], work[j] = work[j], work[i] })
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc * 2}}
	// Work is handed out as indexes, paced when -rate is set (latency below saturation).
	jobsCh := make(chan int, 1024)
	go func() {
		defer close(jobsCh)
		var tick *time.Ticker
		perTick := 1
		if *rate > 0 {
			// Ticks of 10ms carry rate/100 webhooks each.
			tick = time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			perTick = max(1, *rate/100)
		}
		for i := 0; i < len(work); {
			if tick != nil {
				<-tick.C
			}
			for k := 0; k < perTick && i < len(work); k++ {
				jobsCh <- i
				i++
			}
		}
	}()
	var failures atomicCounter
	answer := make([]time.Duration, len(work))
	var wg sync.WaitGroup
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	start := time.Now()
	for range *conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobsCh {
				id := work[i]
				reqID := uuid.NewString()
				body := `{"action":"payment.updated","api_version":"v1","type":"payment","data":{"id":"` + id + `"}}`
				req, _ := http.NewRequest("POST", svcURL+"/api/v1/webhook/mercadopago?data.id="+id+"&type=payment", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Request-Id", reqID)
				req.Header.Set("X-Signature", mpsim.Sign(secret, id, reqID, time.Now().UnixMilli()))
				t := time.Now()
				resp, err := client.Do(req)
				answer[i] = time.Since(t)
				if err != nil || resp.StatusCode != 200 {
					failures.add()
				}
				if resp != nil {
					_, _ = io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	wg.Wait()
	sent := time.Since(start)
	if err := waitFor(5*time.Minute, func() (bool, error) {
		var c int
		err := pool.QueryRow(ctx, "SELECT count(*) FROM webhook_inbox WHERE processed_at IS NULL").Scan(&c)
		return c == 0, err
	}); err != nil {
		return fmt.Errorf("processing: %w", err)
	}
	if *cpuprofile != "" {
		pprof.StopCPUProfile()
	}
	var first, last time.Time
	var processed int
	if err := pool.QueryRow(ctx, "SELECT min(received_at), max(processed_at), count(*) FROM webhook_inbox").Scan(&first, &last, &processed); err != nil {
		return err
	}
	rows, err = pool.Query(ctx, "SELECT extract(epoch FROM processed_at - received_at)::float8 FROM webhook_inbox")
	if err != nil {
		return err
	}
	lat, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		return err
	}
	var holds, doubles, held, errs int
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM ledger_txns WHERE tipo='HOLD'").Scan(&holds)
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM (SELECT trabajo_id FROM ledger_txns WHERE tipo='HOLD' GROUP BY trabajo_id HAVING count(*) > 1) d").Scan(&doubles)
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM trabajos WHERE estado_escrow='PAGADO_EN_ESCROW'").Scan(&held)
	_ = pool.QueryRow(ctx, "SELECT count(*) FROM webhook_inbox WHERE last_error IS NOT NULL").Scan(&errs)
	rep, err := payments.CheckLedger(ctx, pool)
	if err != nil {
		return err
	}
	heldEvents, err := countEvents(ctx, js, *n)
	if err != nil {
		return err
	}

	window := last.Sub(first)
	fmt.Printf("webhooks: %d sent (%d per payment, %d senders, %d workers) in %s, %d refused/failed\n", len(work), *dups, *conc, *workers, sent.Round(time.Millisecond), failures.load())
	fmt.Printf("answer latency (signature check + store + 200): p50 %s  p99 %s  max %s\n", pct(answer, 50), pct(answer, 99), pct(answer, 100))
	ds := make([]time.Duration, len(lat))
	for i, s := range lat {
		ds[i] = time.Duration(s * float64(time.Second))
	}
	fmt.Printf("end to end (received → payment fetched from the simulator and applied): p50 %s  p99 %s  max %s\n", pct(ds, 50), pct(ds, 99), pct(ds, 100))
	perSec := float64(processed) / window.Seconds()
	fmt.Printf("throughput: %d webhooks processed end to end in %s = %.0f webhooks/s (aim ≥ %d: %s)\n", processed, window.Round(time.Millisecond),
		perSec, aimWebhooksPerSec, verdict(perSec >= aimWebhooksPerSec))
	fmt.Printf("holds: %d jobs held, %d HOLD transactions, %d EscrowHeld events, %d double holds (aim 0: %s), %d webhooks with errors\n",
		held, holds, heldEvents, doubles, verdict(doubles == 0), errs)
	fmt.Printf("ledger: %d problems\n", len(rep.Problems))
	if doubles != 0 || holds != *n || held != *n || heldEvents != *n || len(rep.Problems) != 0 {
		return fmt.Errorf("FAILED: expected %d holds exactly once and a balanced ledger", *n)
	}
	fmt.Println("OK: zero double holds, ledger balanced")
	return nil
}

// countEvents counts the EscrowHeld events in the stream, waiting for the relay to
// finish publishing (the count stops changing or reaches want).
func countEvents(ctx context.Context, js jetstream.JetStream, want int) (int, error) {
	st, err := js.Stream(ctx, events.StreamPayments)
	if err != nil {
		return 0, err
	}
	deadline := time.Now().Add(30 * time.Second)
	last := -1
	for {
		info, err := st.Info(ctx, jetstream.WithSubjectFilter(events.SubjEscrowHeld))
		if err != nil {
			return 0, err
		}
		n := int(info.State.Subjects[events.SubjEscrowHeld])
		if n >= want || time.Now().After(deadline) || (n == last && n > 0) {
			return n, nil
		}
		last = n
		time.Sleep(500 * time.Millisecond)
	}
}

type atomicCounter struct {
	mu sync.Mutex
	n  int
}

func (c *atomicCounter) add() { c.mu.Lock(); c.n++; c.mu.Unlock() }
func (c *atomicCounter) load() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// pct is the p-th percentile of ds, rounded for printing.
func pct(ds []time.Duration, p float64) time.Duration {
	return benchkit.PercentileDur(ds, p).Round(10 * time.Microsecond)
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "MISSED"
}

func waitFor(d time.Duration, cond func() (bool, error)) error {
	deadline := time.Now().Add(d)
	for {
		ok, err := cond()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s", d)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Command bench measures the MercadoPago webhook path end to end: it creates a throwaway
// database on the DATABASE_URL server, starts an embedded JetStream, the MercadoPago
// simulator and the payments service in-process, creates 2×N jobs through OfferAccepted
// (each gets a real preference at the simulator), pays each one at the simulator with
// its own webhook suppressed, and then fires D signed webhooks per payment (duplicates on
// purpose, shuffled) from C concurrent senders, in two phases of N payments each, after a
// warm-up of one webhook per sender (C more payments; its first answers are shown apart):
//
//   - saturation: the senders go as fast as the service answers (capacity, and the answer
//     latency at that load);
//   - paced: the same number of webhooks offered at -rate per second (the answer latency
//     and received → applied latency below saturation).
//
// Every webhook is authenticated, stored, and processed by the workers, which fetch the
// payment from the simulator (through package mp, i.e. sdk-go) and hold the escrow.
// Before the phases, two raw baselines are measured in the same run: the simulator's own
// GET /v1/payments/{id} rate through the same client at C concurrency (a webhook cannot
// be applied faster than its payment can be read), and a bare INSERT+commit on the same
// database from C connections (what storing each delivery alone costs). It prints one
// table (figure, value, raw baseline, ratio, aim, verdict; -json writes it too), and
// exits non-zero on a double hold, a missing hold or an unbalanced ledger.
//
//	go run ./services/payments/bench [-n 2000] [-d 2] [-c 32] [-workers 2] [-rate 1000] [-json f] [-keep]
//	                                 [-cpuprofile f] [-blockprofile f] [-mutexprofile f]
//	go run ./services/payments/bench -quick   # small n, for the combined quick run
//
// Aims (issue #13): ≥ 1,000 webhooks/s processed end to end (judged at saturation),
// answer p99 ≤ 20 ms (judged at saturation and at 1,000/s offered), zero double holds,
// ledger balanced.
package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/platform/kit"
	payments "github.com/conectarpro/conectar/services/payments"
	"github.com/conectarpro/conectar/services/payments/mp"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

const (
	token  = "TEST-bench"
	secret = "bench-secret"

	// Aims of issue #13.
	aimWebhooksPerSec = 1000
	aimAnswerP99      = 20 * time.Millisecond
	aimPacedRate      = 1000 // the paced answer p99 aim is stated at this offered rate

	// simGetCall is how the simulator counts GET /v1/payments/{id} (GET /_sim/calls).
	simGetCall = "GET GET /v1/payments/{id}"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type options struct {
	n, dups, conc, workers, rate    int
	keep                            bool
	jsonPath                        string
	cpuprofile, blockprof, mutexprf string
}

func run() error {
	var o options
	flag.IntVar(&o.n, "n", 2000, "payments per phase (2×n jobs in all)")
	flag.IntVar(&o.dups, "d", 2, "webhooks per payment (duplicates)")
	flag.IntVar(&o.conc, "c", 32, "concurrent webhook senders")
	flag.IntVar(&o.workers, "workers", payments.DefaultWebhookWorkers, "webhook workers in the service (MP_WEBHOOK_WORKERS; default the service's own)")
	flag.IntVar(&o.rate, "rate", aimPacedRate, "offered webhooks per second in the paced phase (0: no paced phase)")
	flag.BoolVar(&o.keep, "keep", false, "keep the database")
	flag.StringVar(&o.jsonPath, "json", "", "also write the table as JSON to this file")
	flag.StringVar(&o.cpuprofile, "cpuprofile", "", "write a CPU profile of the webhook phases to this file")
	flag.StringVar(&o.blockprof, "blockprofile", "", "write a block profile of the webhook phases to this file")
	flag.StringVar(&o.mutexprf, "mutexprofile", "", "write a mutex profile of the webhook phases to this file")
	quick := flag.Bool("quick", false, "small run (n=300) for the combined quick run")
	flag.Parse()
	if *quick {
		o.n = 300
	}
	if o.n < 1 || o.dups < 1 || o.conc < 1 || o.workers < 1 || o.rate < 0 {
		return errors.New("-n, -d, -c and -workers must be positive, -rate not negative")
	}
	return bench(context.Background(), o)
}

// stack is everything the phases talk to.
type stack struct {
	pool   *pgxpool.Pool
	sim    *mpsim.Server
	simURL string
	svcURL string
	client *http.Client
}

func bench(ctx context.Context, o options) error {
	dsn, drop, err := benchkit.DB(ctx, "payments", payments.Name)
	if err != nil {
		return err
	}
	if !o.keep {
		defer drop()
	}
	fmt.Printf("database %s\n", dsn)

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

	pool, err := benchkit.Pool(ctx, dsn, payments.Name, int32(o.workers+16))
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
		"MP_NOTIFICATION_URL": svcURL + "/api/v1/webhook/mercadopago", "MP_WEBHOOK_WORKERS": strconv.Itoa(o.workers),
		"MP_RECONCILE_INTERVAL": "1h"}
	none := authn.StaticKeys(func(string) (ed25519.PublicKey, bool) { return nil, false })
	svc, err := payments.New(ctx, kit.Deps{Log: log, Pool: pool, NC: nc, JS: js, Verifier: &authn.Verifier{Keys: none},
		Env: func(k string) string { return settings[k] }})
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
	st := &stack{pool: pool, sim: sim, simURL: simURL, svcURL: svcURL,
		client: &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: o.conc * 2}}}

	// Jobs through the real event path, then one approved payment each (webhook suppressed).
	// Each sender's first webhook also opens its connection to the service, and the
	// service's first rows open pool connections and prepare statements: 30–45 ms on this
	// machine, paid once per connection, and with 32 senders those 32 answers alone are
	// nearly the saturation phase's p99. A warm-up of one webhook per sender, for
	// payments of its own, pays that first and is shown apart; the aims are about the
	// steady path.
	total := 2*o.n + o.conc
	if o.rate == 0 {
		total = o.n + o.conc
	}
	ids, err := setup(ctx, st, js, total)
	if err != nil {
		return err
	}
	warmIDs, satIDs, pacedIDs := ids[:o.conc], ids[o.conc:o.conc+o.n], ids[o.conc+o.n:]

	// Raw baselines, in the same run and before the phases so they do not overlap them.
	getRate, err := rawGetRate(ctx, simURL, satIDs, o.conc)
	if err != nil {
		return fmt.Errorf("raw GET: %w", err)
	}
	rawIns, err := rawInsert(ctx, dsn, o.conc, o.n*o.dups)
	if err != nil {
		return fmt.Errorf("raw INSERT: %w", err)
	}

	warm, err := phase(ctx, st, warmIDs, 1, o.conc, 0)
	if err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	stopProfiles, err := startProfiles(o)
	if err != nil {
		return err
	}
	sat, err := phase(ctx, st, satIDs, o.dups, o.conc, 0)
	if err != nil {
		stopProfiles()
		return fmt.Errorf("saturation phase: %w", err)
	}
	var paced *result
	if o.rate > 0 {
		// The saturation phase's events are still being relayed; the paced phase starts
		// once they are out, so it measures its own load only.
		if err := waitFor(time.Minute, func() (bool, error) {
			var c int
			err := pool.QueryRow(ctx, "SELECT count(*) FROM outbox WHERE published_at IS NULL").Scan(&c)
			return c == 0, err
		}); err != nil {
			stopProfiles()
			return fmt.Errorf("outbox after the saturation phase: %w", err)
		}
		paced, err = phase(ctx, st, pacedIDs, o.dups, o.conc, o.rate)
		if err != nil {
			stopProfiles()
			return fmt.Errorf("paced phase: %w", err)
		}
	}
	stopProfiles()

	var holds, doubles, held, errs int
	for q, dst := range map[string]*int{
		"SELECT count(*) FROM ledger_txns WHERE tipo='HOLD'":                                                                    &holds,
		"SELECT count(*) FROM (SELECT trabajo_id FROM ledger_txns WHERE tipo='HOLD' GROUP BY trabajo_id HAVING count(*) > 1) d": &doubles,
		"SELECT count(*) FROM trabajos WHERE estado_escrow='PAGADO_EN_ESCROW'":                                                  &held,
		"SELECT count(*) FROM webhook_inbox WHERE last_error IS NOT NULL":                                                       &errs,
	} {
		if err := pool.QueryRow(ctx, q).Scan(dst); err != nil {
			return fmt.Errorf("check: %w", err)
		}
	}
	rep, err := payments.CheckLedger(ctx, pool)
	if err != nil {
		return err
	}
	heldEvents, err := countEvents(ctx, js, total)
	if err != nil {
		return err
	}

	table := &benchkit.Table{Title: fmt.Sprintf("MercadoPago webhooks benchmark (%s; n=%d payments per phase, %d webhooks each, %d senders, %d workers)",
		time.Now().UTC().Format(time.RFC3339), o.n, o.dups, o.conc, o.workers)}
	perSec := func(v float64) string { return fmt.Sprintf("%.0f/s", v) }
	table.Add(benchkit.Row{Figure: "webhooks processed end to end, saturation (raw: simulator GET /v1/payments/{id} at the same concurrency)",
		Value: perSec(sat.processedPerSec), Raw: perSec(getRate), Ratio: ratio(sat.processedPerSec, getRate),
		Aim: fmt.Sprintf("≥ %d/s", aimWebhooksPerSec), Verdict: benchkit.Verdict(sat.processedPerSec >= aimWebhooksPerSec)})
	table.Add(benchkit.Row{Figure: fmt.Sprintf("answer p99, saturation (offered: as fast as %d senders go, rate below) (raw: bare INSERT+commit p99, %d conns)",
		o.conc, o.conc),
		Value: ms(sat.answer(99)), Raw: ms(rawIns.p99), Ratio: ratio(float64(sat.answer(99)), float64(rawIns.p99)),
		Aim: "≤ " + ms(aimAnswerP99), Verdict: benchkit.Verdict(sat.answer(99) <= aimAnswerP99)})
	if paced != nil {
		judged := o.rate == aimPacedRate
		verdict := "not judged at this rate"
		if judged {
			verdict = benchkit.Verdict(paced.answer(99) <= aimAnswerP99)
		}
		table.Add(benchkit.Row{Figure: fmt.Sprintf("answer p99 at %d/s offered (raw: bare INSERT+commit p99, %d conns)", o.rate, o.conc),
			Value: ms(paced.answer(99)), Raw: ms(rawIns.p99), Ratio: ratio(float64(paced.answer(99)), float64(rawIns.p99)),
			Aim: "≤ " + ms(aimAnswerP99), Verdict: verdict})
	}
	table.Add(benchkit.Row{Figure: "  (shown) offered rate at saturation (webhooks sent / time the senders took)", Value: perSec(sat.offeredPerSec)})
	table.Add(benchkit.Row{Figure: "  (shown) answer p50 / max, saturation", Value: ms(sat.answer(50)) + " / " + ms(sat.answer(100))})
	table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) warm-up, one webhook per sender on new connections: answer p50 / max (%d webhooks)", len(warm.answers)),
		Value: ms(warm.answer(50)) + " / " + ms(warm.answer(100))})
	table.Add(benchkit.Row{Figure: "  (shown) received → applied p50 / p99, saturation burst", Value: ms(sat.e2e(50)) + " / " + ms(sat.e2e(99))})
	if paced != nil {
		table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) answer p50 / max at %d/s offered", o.rate), Value: ms(paced.answer(50)) + " / " + ms(paced.answer(100))})
		table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) received → applied p50 / p99 at %d/s offered", o.rate), Value: ms(paced.e2e(50)) + " / " + ms(paced.e2e(99))})
		table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) webhooks processed end to end at %d/s offered", o.rate), Value: perSec(paced.processedPerSec)})
	}
	table.Add(benchkit.Row{Figure: "  (shown) CPU per webhook, saturation: this process (senders, service, simulator, NATS) / PostgreSQL backends", Value: sat.cpuPer()})
	if paced != nil {
		table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) CPU per webhook at %d/s offered: this process / PostgreSQL backends", o.rate), Value: paced.cpuPer()})
	}
	table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) payment reads per payment at the simulator, saturation (%d webhooks each)", o.dups),
		Value: fmt.Sprintf("%.2f", float64(sat.gets)/float64(o.n))})
	table.Add(benchkit.Row{Figure: fmt.Sprintf("  (shown) raw bare INSERT+commit, %d conns: rate; p50", o.conc), Value: perSec(rawIns.perSec) + "; " + ms(rawIns.p50)})
	failed := sat.failures
	if paced != nil {
		failed += paced.failures
	}
	table.Add(benchkit.Row{Figure: "webhooks refused or failed (answer not 200)", Value: strconv.Itoa(failed), Aim: "0", Verdict: benchkit.Verdict(failed == 0)})
	table.Add(benchkit.Row{Figure: fmt.Sprintf("double holds (%d jobs held, %d HOLD txns, %d EscrowHeld events, %d webhooks with errors)", held, holds, heldEvents, errs),
		Value: strconv.Itoa(doubles), Aim: "0", Verdict: benchkit.Verdict(doubles == 0)})
	table.Add(benchkit.Row{Figure: "ledger problems", Value: strconv.Itoa(len(rep.Problems)), Aim: "0", Verdict: benchkit.Verdict(len(rep.Problems) == 0)})
	fmt.Println()
	if err := table.Print(os.Stdout); err != nil {
		return err
	}
	if o.jsonPath != "" {
		if err := table.WriteJSON(o.jsonPath); err != nil {
			return err
		}
	}
	if doubles != 0 || holds != total || held != total || heldEvents != total || len(rep.Problems) != 0 {
		return fmt.Errorf("FAILED: expected %d holds exactly once and a balanced ledger", total)
	}
	fmt.Println("OK: zero double holds, ledger balanced")
	return nil
}

// setup creates total jobs through OfferAccepted and pays each one at the simulator with
// its webhook suppressed; it returns the payment ids.
func setup(ctx context.Context, st *stack, js jetstream.JetStream, total int) ([]string, error) {
	t0 := time.Now()
	for i := range total {
		job := uuid.NewString()
		env, err := events.New("marketplace", job, events.OfferAcceptedV1{OfertaID: uuid.NewString(), TrabajoID: job,
			ClienteID: uuid.NewString(), ClienteEmail: "c@example.com", ProfesionalID: uuid.NewString(),
			Descripcion: "Trabajo de prueba", PrecioCentavos: int64(1000 + i)}, events.Meta{}, time.Now())
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(env)
		if err != nil {
			return nil, err
		}
		if _, err := js.Publish(ctx, env.Subject, b, jetstream.WithMsgID(env.ID.String())); err != nil {
			return nil, fmt.Errorf("publish OfferAccepted: %w", err)
		}
	}
	if err := waitFor(5*time.Minute, func() (bool, error) {
		var c int
		err := st.pool.QueryRow(ctx, "SELECT count(*) FROM trabajos WHERE checkout_estado = 'CREADO'").Scan(&c)
		return c == total, err
	}); err != nil {
		return nil, fmt.Errorf("checkouts: %w", err)
	}
	fmt.Printf("setup: %d checkouts created through OfferAccepted in %s\n", total, time.Since(t0).Round(time.Millisecond))
	rows, err := st.pool.Query(ctx, "SELECT preference_id FROM trabajos")
	if err != nil {
		return nil, err
	}
	prefs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	st.sim.SetFaults(mpsim.Faults{DropNextWebhooks: len(prefs)})
	ids := make([]string, 0, len(prefs))
	for _, p := range prefs {
		id, err := st.sim.Pay(p, "approved", 0)
		if err != nil {
			return nil, fmt.Errorf("pay %s: %w", p, err)
		}
		ids = append(ids, strconv.FormatInt(id, 10))
	}
	return ids, nil
}

// result is one phase's figures.
type result struct {
	answers         []time.Duration // per webhook, as the sender saw it
	e2es            []time.Duration // received → applied, per stored webhook
	failures        int
	offeredPerSec   float64 // webhooks sent / time the senders took
	processedPerSec float64 // webhooks processed / (last applied − first received)
	gets            int     // payment reads the simulator served during the phase
	cpu             cpuUse  // CPU spent during the phase
	webhooks        int
}

// cpuPer is the phase's CPU per webhook: this process, PostgreSQL's backends.
func (r *result) cpuPer() string {
	per := func(d time.Duration) string {
		return fmt.Sprintf("%.0f µs", float64(d.Microseconds())/float64(r.webhooks))
	}
	return per(r.cpu.self) + " / " + per(r.cpu.pg)
}

func (r *result) answer(p float64) time.Duration { return pct(r.answers, p) }
func (r *result) e2e(p float64) time.Duration    { return pct(r.e2es, p) }

// phase fires dups signed webhooks per payment of ids (shuffled) from conc senders,
// paced at rate per second (0: as fast as they go), and waits until all are processed.
func phase(ctx context.Context, st *stack, ids []string, dups, conc, rate int) (*result, error) {
	var fromID int64
	if err := st.pool.QueryRow(ctx, "SELECT COALESCE(max(id), 0) FROM webhook_inbox").Scan(&fromID); err != nil {
		return nil, err
	}
	getsBefore, err := simGets(ctx, st)
	if err != nil {
		return nil, err
	}
	cpu0, err := readCPU(ctx, st.pool)
	if err != nil {
		return nil, err
	}
	var work []string
	for _, id := range ids {
		for range dups {
			work = append(work, id)
		}
	}
	rand.Shuffle(len(work), func(i, j int) { work[i], work[j] = work[j], work[i] })
	// Work is handed out as indexes; ticks of 10ms carry rate/100 webhooks each.
	jobsCh := make(chan int, 1024)
	go func() {
		defer close(jobsCh)
		var tick *time.Ticker
		perTick := len(work)
		if rate > 0 {
			tick = time.NewTicker(10 * time.Millisecond)
			defer tick.Stop()
			perTick = max(1, rate/100)
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
	var failures atomic.Int64
	res := &result{answers: make([]time.Duration, len(work))}
	var wg sync.WaitGroup
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobsCh {
				d, ok := send(st, work[i])
				res.answers[i] = d
				if !ok {
					failures.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.offeredPerSec = float64(len(work)) / time.Since(start).Seconds()
	res.failures = int(failures.Load())
	if err := waitFor(5*time.Minute, func() (bool, error) {
		var c int
		err := st.pool.QueryRow(ctx, "SELECT count(*) FROM webhook_inbox WHERE id > $1 AND processed_at IS NULL", fromID).Scan(&c)
		return c == 0, err
	}); err != nil {
		return nil, fmt.Errorf("processing: %w", err)
	}
	var first, last time.Time
	var processed int
	if err := st.pool.QueryRow(ctx, "SELECT min(received_at), max(processed_at), count(*) FROM webhook_inbox WHERE id > $1", fromID).
		Scan(&first, &last, &processed); err != nil {
		return nil, err
	}
	res.processedPerSec = float64(processed) / last.Sub(first).Seconds()
	rows, err := st.pool.Query(ctx, "SELECT extract(epoch FROM processed_at - received_at)::float8 FROM webhook_inbox WHERE id > $1", fromID)
	if err != nil {
		return nil, err
	}
	lat, err := pgx.CollectRows(rows, pgx.RowTo[float64])
	if err != nil {
		return nil, err
	}
	for _, s := range lat {
		res.e2es = append(res.e2es, time.Duration(s*float64(time.Second)))
	}
	cpu1, err := readCPU(ctx, st.pool)
	if err != nil {
		return nil, err
	}
	res.cpu, res.webhooks = cpu1.since(cpu0), len(work)
	getsAfter, err := simGets(ctx, st)
	if err != nil {
		return nil, err
	}
	res.gets = getsAfter - getsBefore
	return res, nil
}

// cpuUse is CPU time: this process (senders, service, simulator, NATS) and the
// PostgreSQL backends of the bench database. Unlike wall-clock figures it moves little
// when other programs load the machine, so it compares builds run at different times.
type cpuUse struct {
	self, pg time.Duration
	backends benchkit.PGCPU
}

func (c cpuUse) since(before cpuUse) cpuUse {
	return cpuUse{self: c.self - before.self, pg: c.backends.Since(before.backends)}
}

// readCPU reads this process's CPU time and that of every backend connected to the
// bench database.
func readCPU(ctx context.Context, pool *pgxpool.Pool) (cpuUse, error) {
	b, err := benchkit.ReadPGCPU(ctx, pool)
	if err != nil {
		return cpuUse{}, err
	}
	return cpuUse{self: benchkit.ProcessCPU(), backends: b}, nil
}

// send posts one signed webhook for payment id and returns how long the answer took.
func send(st *stack, id string) (time.Duration, bool) {
	reqID := uuid.NewString()
	body := `{"action":"payment.updated","api_version":"v1","type":"payment","data":{"id":"` + id + `"}}`
	req, err := http.NewRequest("POST", st.svcURL+"/api/v1/webhook/mercadopago?data.id="+id+"&type=payment", strings.NewReader(body))
	if err != nil {
		return 0, false
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Request-Id", reqID)
	req.Header.Set("X-Signature", mpsim.Sign(secret, id, reqID, time.Now().UnixMilli()))
	t := time.Now()
	resp, err := st.client.Do(req)
	d := time.Since(t)
	if err != nil {
		return d, false
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return d, resp.StatusCode == http.StatusOK
}

// simGets is how many payment reads the simulator has served.
func simGets(ctx context.Context, st *stack) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", st.simURL+"/_sim/calls", nil)
	if err != nil {
		return 0, err
	}
	resp, err := st.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("simulator calls: %w", err)
	}
	defer resp.Body.Close()
	var calls map[string]int
	if err := json.NewDecoder(resp.Body).Decode(&calls); err != nil {
		return 0, fmt.Errorf("simulator calls: %w", err)
	}
	return calls[simGetCall], nil
}

// rawGetRate reads every payment of ids once from the simulator, conc at a time, through
// the same client the service uses, and returns the reads per second.
func rawGetRate(ctx context.Context, simURL string, ids []string, conc int) (float64, error) {
	c, err := mp.New(mp.Config{AccessToken: token, BaseURL: simURL})
	if err != nil {
		return 0, err
	}
	elapsed, err := spread(len(ids), conc, func(i int) error {
		_, err := c.GetPayment(ctx, ids[i])
		return err
	})
	if err != nil {
		return 0, err
	}
	return float64(len(ids)) / elapsed.Seconds(), nil
}

// rawResult is the bare INSERT+commit baseline.
type rawResult struct {
	perSec   float64
	p50, p99 time.Duration
}

// rawInsert commits n single-row INSERTs (the shape of webhook_inbox) from conc
// connections of their own, as fast as they go.
func rawInsert(ctx context.Context, dsn string, conc, n int) (rawResult, error) {
	pool, err := benchkit.Pool(ctx, dsn, payments.Name, int32(conc))
	if err != nil {
		return rawResult{}, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, `CREATE TABLE bench_raw_insert (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
		request_id text NOT NULL, topic text NOT NULL, data_id text NOT NULL, action text NOT NULL,
		received_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return rawResult{}, fmt.Errorf("create raw table: %w", err)
	}
	defer pool.Exec(context.WithoutCancel(ctx), "DROP TABLE bench_raw_insert") //nolint:errcheck
	lat := make([]time.Duration, n)
	elapsed, err := spread(n, conc, func(i int) error {
		t := time.Now()
		if _, err := pool.Exec(ctx, `INSERT INTO bench_raw_insert (request_id, topic, data_id, action) VALUES ($1,$2,$3,$4)`,
			uuid.NewString(), "payment", strconv.Itoa(i), "payment.updated"); err != nil {
			return err
		}
		lat[i] = time.Since(t)
		return nil
	})
	if err != nil {
		return rawResult{}, err
	}
	return rawResult{perSec: float64(n) / elapsed.Seconds(), p50: pct(lat, 50), p99: pct(lat, 99)}, nil
}

// spread runs fn(0) … fn(n-1) from conc goroutines, each taking the next index, and
// returns how long all took; the first failure stops its goroutine and is returned.
func spread(n, conc int, fn func(i int) error) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, conc)
	start := time.Now()
	for range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errc <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(errc)
	return elapsed, <-errc
}

// startProfiles starts the profiles asked for; the returned function writes them.
func startProfiles(o options) (func(), error) {
	var stops []func()
	if o.cpuprofile != "" {
		f, err := os.Create(o.cpuprofile)
		if err != nil {
			return nil, err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return nil, err
		}
		stops = append(stops, func() { pprof.StopCPUProfile(); f.Close() })
	}
	write := func(name, path string) func() {
		return func() {
			f, err := os.Create(path)
			if err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
				return
			}
			defer f.Close()
			if err := pprof.Lookup(name).WriteTo(f, 0); err != nil {
				fmt.Fprintln(os.Stderr, "bench:", err)
			}
		}
	}
	if o.blockprof != "" {
		runtime.SetBlockProfileRate(int(time.Microsecond))
		stops = append(stops, write("block", o.blockprof))
	}
	if o.mutexprf != "" {
		runtime.SetMutexProfileFraction(5)
		stops = append(stops, write("mutex", o.mutexprf))
	}
	return func() {
		for _, s := range stops {
			s()
		}
	}, nil
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

// pct is the p-th percentile of ds.
func pct(ds []time.Duration, p float64) time.Duration { return benchkit.PercentileDur(ds, p) }

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

func ratio(v, base float64) string {
	if base <= 0 {
		return ""
	}
	return fmt.Sprintf("%.2f×", v/base)
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

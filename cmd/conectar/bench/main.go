// Command bench is the whole-system load benchmark (issues #13 "Memory" and #14
// "Load"). It builds the conectar binary, starts `conectar dev` as one child process (
// embedded NATS, MercadoPago simulator, mail catcher, every service and the gateway) on
// a throwaway database next to DATABASE_URL, and drives it only through the gateway the
// way the web frontend does, with U simulated users for S seconds. Then it lets the
// system settle and checks that nothing was lost or applied twice, and prints one table:
// journeys per minute, per-step latency, requests per second, 5xx answers, the books,
// and the system's resident memory idle and under load.
//
//	go run ./cmd/conectar/bench [-users 200] [-seconds 60] [-think 1s] [-json load.json] [-keep]
//	go run ./cmd/conectar/bench -quick      # 20 users, 10 s, no think time
//
// Before the timer: the system starts and idles 10 s (the idle memory), `conectar seed`
// has put -seed approved professionals in the search index, and each user's own
// professional is onboarded through the gateway (register with a trade, sign in,
// location, trades, KYC upload and submit, the admin's approval, payout account).
// Inside the measured window each user loops journeys, each one a new client: register,
// sign in, /users/me, both search shapes, a conversation with three messages, the
// professional's offer, the acceptance (→ MercadoPago preference), payment at the
// simulator through its HTTP API (which sends the signed webhook), held in escrow,
// start and completion, the client's approval, released. Users start spread over a
// -ramp (20 s) before the window opens, wait for each answer and pause -think (1 s, a
// quick person reading a page) after each action. Without think time (-think 0) 200
// users are 200 requests always in flight, most of them sign-ups and sign-ins queued on
// argon2id, which measures a denial of service rather than a marketplace. With -signup
// first (the default) a user's client signs up and in at its first journey and hires
// again in that session (the frontend keeps its token for ACCESS_TOKEN_TTL, 8 h): each
// of the U users registers once, as the users do. With -signup every each
// journey is a new client and pays two argon2id hashes; with -signup once the clients
// sign up before the window, next to their professionals. Journeys
// running when time is up finish (bounded by -drain) but only steps started inside the
// window are in the percentiles, and only journeys finished inside it count per minute.
// A waiting user re-reads the job after 10 ms, 20 ms, … up to every -poll (100 ms), so
// "pay → held" and "approve → released" include that much polling delay.
//
// The child runs with production settings (auth's argon2id defaults, pools of
// DB_MAX_CONNS=16 per service: 96 PostgreSQL connections of the shared 400) except the
// gateway's webhook limit per address, raised because every simulated webhook comes
// from 127.0.0.1, as MercadoPago's come from a handful of addresses. ARGON2_* in the
// environment are passed on.
//
// Any 5xx, transport error, failed journey, lost or doubled money movement, dead
// letter or unbalanced ledger fails the run (exit status 1, after the table).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/benchkit"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// Aims. Memory (issue #13): idle, the system as it starts (six services, gateway, NATS
// with JetStream, simulator) should fit a small container; under load the ceiling is
// 1 GiB, which leaves a 2 GiB machine room for PostgreSQL's own share: the argon2id
// semaphore alone may hold 4 hashes' memory (ARGON2_MEMORY_KIB each) while users sign
// up and in.
const (
	aimIdleRSS = 256 << 20
	aimLoadRSS = 1 << 30
)

// onboardConc is how many professionals sign up at once before the window.
const onboardConc = 16

type options struct {
	users, seconds, seed, dbConns int
	bin, signup                   string
	keep                          bool
	think, ramp, poll, drain      time.Duration
	settle                        time.Duration
}

func run() error {
	var o options
	// -json and -quick as every benchmark program has them (the runner passes them);
	// -quick is 20 users for 10 s over 1,000 seeded professionals unless those are set.
	bf := benchkit.RegisterFlags(flag.CommandLine)
	flag.IntVar(&o.users, "users", 200, "concurrent simulated users")
	flag.IntVar(&o.seconds, "seconds", 60, "length of the measured window")
	flag.BoolVar(&o.keep, "keep", false, "keep the database, the data folder and the logs")
	flag.StringVar(&o.bin, "bin", "", "the conectar binary to run (default: go build it)")
	flag.IntVar(&o.seed, "seed", 10000, "approved professionals put in the search index first (conectar seed)")
	flag.IntVar(&o.dbConns, "db-conns", 16, "DB_MAX_CONNS of the child: pool size per service (six services)")
	flag.DurationVar(&o.think, "think", time.Second, "a user's pause between two actions (0: none, saturation)")
	flag.DurationVar(&o.ramp, "ramp", 20*time.Second, "users start spread over this unmeasured warm-up before the window")
	flag.StringVar(&o.signup, "signup", signupFirst, "first: each user's client signs up at its first journey and keeps its session; every: each journey is a new client who signs up and in; once: the clients sign up before the window")
	flag.DurationVar(&o.poll, "poll", 100*time.Millisecond, "the longest pause between two reads of a job a user waits on (the first is 10 ms, each next twice as long)")
	flag.DurationVar(&o.drain, "drain", 90*time.Second, "how long journeys running at the end may take to finish")
	flag.DurationVar(&o.settle, "settle", 3*time.Minute, "how long to wait for events in flight before checking the books")
	flag.Parse()
	if bf.Quick {
		set := map[string]bool{}
		flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["users"] {
			o.users = 20
		}
		if !set["seconds"] {
			o.seconds = 10
		}
		if !set["seed"] {
			o.seed = 1000
		}
		if !set["ramp"] {
			o.ramp = 2 * time.Second
		}
		if !set["think"] { // else no journey fits in 10 s
			o.think = 0
		}
	}
	if o.users < 1 || o.seconds < 1 {
		return errors.New("-users and -seconds must be positive")
	}
	if o.signup != signupFirst && o.signup != signupEvery && o.signup != signupOnce {
		return fmt.Errorf("-signup %q: first, every or once", o.signup)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()

	dir, err := os.MkdirTemp("", "conectar-load-")
	if err != nil {
		return fmt.Errorf("temp dir: %w", err)
	}
	if !o.keep {
		defer os.RemoveAll(dir)
	}
	bin := o.bin
	if bin == "" {
		fmt.Fprintln(os.Stderr, "building conectar…")
		if bin, err = buildBinary(ctx, dir); err != nil {
			return err
		}
	}
	dsn, drop, err := benchkit.DB(ctx, "load")
	if err != nil {
		return err
	}
	if o.keep {
		fmt.Fprintf(os.Stderr, "database kept: %s\nfiles kept: %s\n", dsn, dir)
	} else {
		defer drop()
	}
	if o.seed > 0 {
		fmt.Fprintf(os.Stderr, "seeding %d professionals…\n", o.seed)
		if out, err := runTool(ctx, bin, map[string]string{"DATABASE_URL": dsn}, "seed", "--professionals", fmt.Sprint(o.seed)); err != nil {
			return fmt.Errorf("%w\n%s", err, out)
		}
	}

	fmt.Fprintln(os.Stderr, "starting conectar dev…")
	sys, err := startSystem(ctx, bin, dir, dsn, map[string]string{
		"DB_MAX_CONNS":                  fmt.Sprint(o.dbConns),
		"RATE_LIMIT_WEBHOOK_PER_WINDOW": "1000000",
	})
	if err != nil {
		return err
	}
	defer sys.stop()
	fmt.Fprintf(os.Stderr, "healthy (pid %d, log %s); idling 10 s…\n", sys.pid(), sys.log)
	select {
	case <-time.After(10 * time.Second):
	case <-ctx.Done():
		return ctx.Err()
	}
	idle, err := readMem(sys.pid())
	if err != nil {
		return err
	}

	rec := newRecorder()
	// net/http rather than benchkit.Client: the frontend's calls include the login form
	// and multipart uploads. A client and its professional each keep a connection, as
	// two browsers would.
	tr := &http.Transport{MaxIdleConns: o.users * 4, MaxIdleConnsPerHost: o.users * 4, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	tag := make([]byte, 4)
	_, _ = rand.Read(tag)
	f := &fleet{c: &client{base: sys.gateway, hc: hc, rec: rec},
		sim: sys.sim, tag: hex.EncodeToString(tag), poll: o.poll, think: o.think,
		signup: o.signup}
	if f.adminTok, err = f.c.login(ctx, adminEmail, adminPassword); err != nil {
		return fmt.Errorf("admin: %w", err)
	}
	if f.oficios, err = f.oficioIDs(ctx); err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "onboarding %d professionals…\n", o.users)
	users := make([]*user, o.users)
	onboardStart := time.Now()
	onboard := make([]time.Duration, o.users)
	errs := make([]error, o.users)
	// Professionals sign up a few at a time: a burst of hundreds of simultaneous
	// sign-ups is what the window measures (its clients), not what setup is for.
	slots := make(chan struct{}, onboardConc)
	var wg sync.WaitGroup
	for i := range users {
		users[i] = f.newUser(i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			t := time.Now()
			errs[i] = users[i].onboard(ctx)
			onboard[i] = time.Since(t)
		}()
	}
	wg.Wait()
	var failedOnboard []error
	for _, err := range errs {
		if err != nil {
			failedOnboard = append(failedOnboard, err)
		}
	}
	if len(failedOnboard) > 0 {
		return fmt.Errorf("onboarding: %d of %d professionals failed; the first: %w (answers: %s)",
			len(failedOnboard), o.users, failedOnboard[0], rec.statusLine())
	}
	onboardAll := time.Since(onboardStart)
	if err := waitHireable(ctx, dsn, users); err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "ramping up %d users over %s, then measuring %d s…\n", o.users, o.ramp, o.seconds)
	start := time.Now().Add(o.ramp)
	end := start.Add(time.Duration(o.seconds) * time.Second)
	rec.open(start, end)
	mem := sampleMemory(sys.pid(), start, end)
	jctx, jcancel := context.WithDeadline(ctx, end.Add(o.drain))
	defer jcancel()
	var inWindow, late, failed, cut atomic.Int64
	var errMu sync.Mutex
	var journeyErrs []string
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Users arrive spread over the ramp, so the window measures a running
			// system rather than every user's first sign-up in the same instant.
			select {
			case <-time.After(o.ramp * time.Duration(i) / time.Duration(len(users))):
			case <-jctx.Done():
				return
			}
			for n := 0; time.Now().Before(end) && jctx.Err() == nil; n++ {
				err := u.journey(jctx, n)
				switch {
				case err != nil && jctx.Err() != nil:
					cut.Add(1)
				case err != nil:
					failed.Add(1)
					errMu.Lock()
					if len(journeyErrs) < 20 {
						journeyErrs = append(journeyErrs, fmt.Sprintf("user %d journey %d: %v", u.i, n, err))
					}
					errMu.Unlock()
					// A failing system is not hammered in a tight loop.
					time.Sleep(time.Second)
				case time.Now().Before(start): // warm-up
				case time.Now().Before(end):
					inWindow.Add(1)
				default:
					late.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	finished := time.Now()
	memMedian, memPeak, memN := mem.stop()
	afterLoad, err := readMem(sys.pid())
	if err != nil {
		return err
	}

	fmt.Fprintf(os.Stderr, "settling and checking the books…\n")
	f.mu.Lock()
	jobs := append([]*jobRec(nil), f.jobs...)
	f.mu.Unlock()
	b, err := checkBooks(ctx, bin, dsn, sys, jobs, o.settle)
	if err != nil {
		return err
	}

	// The table.
	window := time.Duration(o.seconds) * time.Second
	t := &benchkit.Table{Title: fmt.Sprintf("Whole-system load benchmark (%s): %d users, %d s, think %s, sign-up %s, through the gateway of `conectar dev`",
		time.Now().UTC().Format(time.RFC3339), o.users, o.seconds, o.think, o.signup)}
	t.Add(benchkit.Row{Figure: "journeys finished in the window (per minute)",
		Value: fmt.Sprintf("%d (%.0f/min)", inWindow.Load(), float64(inWindow.Load())/window.Minutes())})
	t.Add(benchkit.Row{Figure: "  (shown) journeys finished after the window / cut by -drain",
		Value: fmt.Sprintf("%d / %d (drain took %s)", late.Load(), cut.Load(), finished.Sub(end).Round(time.Second))})
	t.Add(benchkit.Row{Figure: "failed journeys", Value: fmt.Sprint(failed.Load()), Aim: "0", Verdict: benchkit.Verdict(failed.Load() == 0)})
	t.Add(benchkit.Row{Figure: "requests/s (sent in the window, through the gateway and to the simulator)",
		Value: fmt.Sprintf("%.0f", float64(rec.inWindow.Load())/window.Seconds())})
	hashed := len(rec.samples(stRegister)) + len(rec.samples(stLogin))
	// With -signup first the clients sign up as they arrive (the ramp), so their steps
	// are counted wherever they fall; the other steps only inside the window.
	t.Add(benchkit.Row{Figure: "  (shown) client sign-ups + sign-ins answered (argon2id each; with -signup first during the ramp)",
		Value: fmt.Sprint(hashed)})
	for _, s := range []string{stRegister, stLogin, stSearchG, stSearchP, stChat, stOffer, stAccept, stHeld, stReleased, stJourney} {
		d := rec.samples(s)
		if len(d) == 0 {
			t.Add(benchkit.Row{Figure: s + " p50 / p99", Value: "no sample"})
			continue
		}
		t.Add(benchkit.Row{Figure: s + " p50 / p99", Value: fmt.Sprintf("%s / %s (n=%d)",
			ms(benchkit.PercentileDur(d, 50)), ms(benchkit.PercentileDur(d, 99)), len(d))})
	}
	t.Add(benchkit.Row{Figure: "  (shown) onboarding before the window (a professional; with -signup once its client too): p50 / p99, all",
		Value: fmt.Sprintf("%s / %s, %s", ms(benchkit.PercentileDur(onboard, 50)), ms(benchkit.PercentileDur(onboard, 99)), onboardAll.Round(time.Millisecond))})
	t.Add(benchkit.Row{Figure: "answers by status (whole run)", Value: rec.statusLine()})
	t.Add(benchkit.Row{Figure: "5xx answers", Value: fmt.Sprint(rec.n5xx), Aim: "0", Verdict: benchkit.Verdict(rec.n5xx == 0)})
	t.Add(benchkit.Row{Figure: "transport errors (refused, reset, timed out)", Value: fmt.Sprint(rec.nErr), Aim: "0", Verdict: benchkit.Verdict(rec.nErr == 0)})
	settled := "settled"
	if !b.settled {
		settled = "NOT settled after " + o.settle.String() + ": " + b.residue
	}
	t.Add(benchkit.Row{Figure: "events, outboxes and webhooks after the run", Value: settled, Aim: "settled", Verdict: benchkit.Verdict(b.settled)})
	t.Add(benchkit.Row{Figure: "lost or doubled (offer→job, HOLD, RELEASE, replicas)",
		Value: fmt.Sprintf("%d of %d jobs", b.lost(), len(jobs)), Aim: "0", Verdict: benchkit.Verdict(b.lost() == 0)})
	ledger := "balances"
	if !b.ledgerOK {
		ledger = "DOES NOT BALANCE"
	}
	t.Add(benchkit.Row{Figure: "conectar payments check-ledger", Value: ledger, Aim: "balances", Verdict: benchkit.Verdict(b.ledgerOK)})
	t.Add(benchkit.Row{Figure: "dead letters", Value: fmt.Sprint(b.deadLetters), Aim: "0", Verdict: benchkit.Verdict(b.deadLetters == 0)})
	t.Add(benchkit.Row{Figure: "RSS idle (start + 10 s)", Value: mib(idle.rss), Aim: "≤ " + mib(aimIdleRSS), Verdict: benchkit.Verdict(idle.rss <= aimIdleRSS)})
	t.Add(benchkit.Row{Figure: "RSS under load: median / peak of 1 s samples", Value: fmt.Sprintf("%s / %s (n=%d)", mib(memMedian), mib(memPeak), memN),
		Aim: "peak ≤ " + mib(aimLoadRSS), Verdict: benchkit.Verdict(memN > 0 && memPeak <= aimLoadRSS)})
	t.Add(benchkit.Row{Figure: "  (shown) VmHWM at the end; RSS after the drain; processes",
		Value: fmt.Sprintf("%s; %s; %d", mib(afterLoad.hwm), mib(afterLoad.rss), afterLoad.procs)})
	if err := bf.Emit(os.Stdout, t); err != nil {
		return err
	}

	var problems []string
	if rec.n5xx > 0 {
		problems = append(problems, fmt.Sprintf("%d 5xx answers:\n  %s", rec.n5xx, strings.Join(rec.fivexx, "\n  ")))
	}
	if rec.nErr > 0 {
		problems = append(problems, fmt.Sprintf("%d transport errors:\n  %s", rec.nErr, strings.Join(rec.errs, "\n  ")))
	}
	if failed.Load() > 0 || cut.Load() > 0 {
		problems = append(problems, fmt.Sprintf("%d journeys failed, %d cut at the end:\n  %s", failed.Load(), cut.Load(), strings.Join(journeyErrs, "\n  ")))
	}
	if !b.settled || b.lost() > 0 {
		problems = append(problems, fmt.Sprintf("books: %s", strings.Join(b.details, "\n  ")))
	}
	if !b.ledgerOK {
		problems = append(problems, "ledger:\n"+b.ledgerOut)
	}
	if b.deadLetters > 0 {
		problems = append(problems, "dead letters:\n"+b.deadLetterOut)
	}
	if len(problems) > 0 {
		fmt.Fprintf(os.Stderr, "\n%s\n(system log: %s)\n", strings.Join(problems, "\n"), sys.log)
		if !o.keep {
			fmt.Fprintln(os.Stderr, "(run with -keep to keep the log and the database)")
		}
		return errors.New("the run failed")
	}
	return nil
}

// waitHireable waits until the marketplace's replica has every user's professional
// approved with a payout account (the KYC and profile events have arrived), so the
// window does not start with offers refused for a replica still catching up.
func waitHireable(ctx context.Context, dsn string, users []*user) error {
	db, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return fmt.Errorf("hireable: connect: %w", err)
	}
	defer db.Close(context.WithoutCancel(ctx))
	ids := make([]string, len(users))
	for i, u := range users {
		ids[i] = u.proID
	}
	deadline := time.Now().Add(waitLimit)
	for {
		var n int
		if err := db.QueryRow(ctx, `SELECT count(*) FROM marketplace.profesionales WHERE usuario_id::text = ANY($1)
			AND estado_verificacion = 'APROBADO' AND payout_account <> ''`, ids).Scan(&n); err != nil {
			return fmt.Errorf("hireable: %w", err)
		}
		if n == len(users) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("only %d of %d professionals hireable in marketplace after %s", n, len(users), waitLimit)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }

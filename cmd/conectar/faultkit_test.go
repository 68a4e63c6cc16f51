package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/benchkit"
	"github.com/conectarpro/conectar/platform/testkit"
)

// The fault kit drives hire-and-pay journeys through the gateway while something breaks
// underneath, and then checks the books. Unlike s.call it never fails the test from
// inside a request: journeys run in goroutines (where t.Fatal is not allowed), and while
// a fault lasts a 5xx or a refused connection is the expected answer, so the client
// retries it the way the frontend would, for a bounded time.

// faultRetry bounds how long one request is retried through a fault. It covers a
// JetStream AckWait (30 s): a message a SIGKILLed consumer had fetched comes back only
// after it.
const faultRetry = 75 * time.Second

// settle bounds the wait for what follows a journey asynchronously (XP, notifications,
// emails): past a JetStream AckWait (30 s), after which a message a SIGKILLed consumer
// had fetched is delivered again, plus its backoff.
const settle = 60 * time.Second

// faultEnv is the extra environment of every fault test's system: small pools, because
// several systems (other tests' too) share one PostgreSQL and its max_connections.
func faultEnv(extra map[string]string) map[string]string {
	env := map[string]string{"DB_MAX_CONNS": "6"}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

type fclient struct {
	base string
	hc   *http.Client
	// retried counts answers that were retried (5xx or transport errors), for the log.
	retried atomic.Int64
	mu      sync.Mutex
	seen    map[string]int // retried answers by "METHOD path-prefix → status code"
}

func (s *system) fclient() *fclient {
	// Through the contract like every system test's exchange: what a fault makes the
	// services answer (503s, retried requests) must be documented too.
	hc := &http.Client{Timeout: 20 * time.Second}
	if s.contract != nil {
		hc.Transport = s.contract
	}
	return &fclient{base: s.gateway, hc: hc}
}

// once sends one request and decodes a JSON object (a list lands under "items").
func (c *fclient) once(method, path, token, contentType string, body []byte) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	u := path
	if !strings.HasPrefix(u, "http") {
		u = c.base + path
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, benchkit.DecodeAnswer(raw), nil
}

// send retries transport errors and 5xx answers until faultRetry has passed.
func (c *fclient) send(method, path, token, contentType string, body []byte) (int, map[string]any, error) {
	deadline := time.Now().Add(faultRetry)
	for {
		st, out, err := c.once(method, path, token, contentType, body)
		if err == nil && st < 500 {
			return st, out, nil
		}
		if time.Now().After(deadline) {
			if err == nil {
				err = fmt.Errorf("%s %s → %d %v", method, path, st, out)
			}
			return st, out, fmt.Errorf("gave up after %s: %w", faultRetry, err)
		}
		c.retried.Add(1)
		c.note(method, path, st, out, err)
		time.Sleep(250 * time.Millisecond)
	}
}

// note remembers what kind of answer was retried, for the test log.
func (c *fclient) note(method, path string, st int, out map[string]any, err error) {
	if i := strings.Index(strings.TrimPrefix(path, "/api/v1/"), "/"); i > 0 {
		path = path[:len("/api/v1/")+i]
	}
	k := fmt.Sprintf("%s %s → %d %v", method, path, st, out["code"])
	if err != nil {
		k = fmt.Sprintf("%s %s → transport error", method, path)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seen == nil {
		c.seen = map[string]int{}
	}
	if c.seen[k] == 0 && os.Getenv("FAULT_VERBOSE") != "" {
		fmt.Fprintf(os.Stderr, "retried: %s %s → %d %v %v\n", method, path, st, out, err)
	}
	c.seen[k]++
}

func (c *fclient) json(method, path, token string, body any) (int, map[string]any, error) {
	if body == nil {
		return c.send(method, path, token, "", nil)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	return c.send(method, path, token, "application/json", b)
}

// want calls and insists on one status.
func (c *fclient) want(status int, method, path, token string, body any) (map[string]any, error) {
	st, out, err := c.json(method, path, token, body)
	if err != nil {
		return out, err
	}
	if st != status {
		return out, fmt.Errorf("%s %s → %d %v (want %d)", method, path, st, out, status)
	}
	return out, nil
}

func (c *fclient) login(email, password string) (string, error) {
	form := url.Values{"username": {email}, "password": {password}}
	st, out, err := c.send(http.MethodPost, "/api/v1/auth/login", "", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return "", err
	}
	tok, _ := out["access_token"].(string)
	if st != 200 || tok == "" {
		return "", fmt.Errorf("login %s → %d %v", email, st, out)
	}
	return tok, nil
}

// register creates the account (a retry after a lost answer finds it created, so any
// answer is fine when the login then works) and returns its token and user id.
func (c *fclient) register(email, nombre, rol string) (string, string, error) {
	if _, _, err := c.json(http.MethodPost, "/api/v1/auth/register", "", map[string]any{
		"email": email, "password": "password-123", "nombre": nombre, "apellido": "Prueba", "rol": rol}); err != nil {
		return "", "", err
	}
	var tok string
	var err error
	// The account may still be on its way to the users service: wait for /users/me.
	deadline := time.Now().Add(faultRetry)
	for {
		if tok, err = c.login(email, "password-123"); err == nil {
			st, me, e := c.json(http.MethodGet, "/api/v1/users/me", tok, nil)
			if id, _ := me["id"].(string); e == nil && st == 200 && id != "" {
				return tok, id, nil
			}
			err = fmt.Errorf("/users/me → %d %v %v", st, me, e)
		}
		if time.Now().After(deadline) {
			return "", "", fmt.Errorf("register %s: %w", email, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

func (c *fclient) upload(path, token, field, name, contentType string, data []byte) (int, map[string]any, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreatePart(map[string][]string{
		"Content-Disposition": {fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name)},
		"Content-Type":        {contentType},
	})
	if err != nil {
		return 0, nil, err
	}
	_, _ = part.Write(data)
	_ = w.Close()
	return c.send(http.MethodPost, path, token, w.FormDataContentType(), buf.Bytes())
}

// journey is one client hiring one professional (each journey its own pair, so the
// expected amounts and XP stay those of a BRONCE professional's first job).
type journey struct {
	c        *fclient
	sim      string // the MercadoPago simulator's base URL
	adminTok string
	tag      string
	precio   float64

	proEmail, proTok, proID, profileID string
	cliEmail, cliTok, cliID            string
	ofertaID, jobID, prefID, paymentID string

	// onStage, when set, hears each stage the journey reaches (faults hook in there).
	onStage func(stage string)
}

func (s *system) newJourney(adminTok, tag string) *journey {
	return &journey{c: s.fclient(), sim: s.env["MP_BASE_URL"], adminTok: adminTok, tag: tag, precio: 10000,
		proEmail: "pro-" + tag + "@conectar.test", cliEmail: "cli-" + tag + "@conectar.test"}
}

func (j *journey) stage(name string) {
	if j.onStage != nil {
		j.onStage(name)
	}
}

// signup registers both parties and gets the professional verified with a payout account.
func (j *journey) signup() error {
	var err error
	if j.proTok, j.proID, err = j.c.register(j.proEmail, "Pro "+j.tag, "PROFESIONAL"); err != nil {
		return err
	}
	j.stage("registered")
	if j.cliTok, j.cliID, err = j.c.register(j.cliEmail, "Cli "+j.tag, "CLIENTE"); err != nil {
		return err
	}
	deadline := time.Now().Add(faultRetry)
	for j.profileID == "" {
		st, me, err := j.c.json(http.MethodGet, "/api/v1/professional/me", j.proTok, nil)
		if err != nil {
			return err
		}
		if j.profileID, _ = me["id"].(string); j.profileID == "" {
			if time.Now().After(deadline) {
				return fmt.Errorf("professional/me → %d %v", st, me)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	if st, b, err := j.c.upload("/api/v1/professional/kyc/upload", j.proTok, "files", "dni.pdf", "application/pdf",
		[]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")); err != nil || st >= 300 {
		return fmt.Errorf("kyc upload → %d %v %v", st, b, err)
	}
	// A retried submit or approval answers 4xx once the first one went through; what
	// counts is the verified profile below.
	if _, _, err := j.c.json(http.MethodPost, "/api/v1/professional/kyc/submit", j.proTok, nil); err != nil {
		return err
	}
	if _, _, err := j.c.json(http.MethodPost, "/api/v1/admin/kyc/approve/"+j.profileID, j.adminTok, nil); err != nil {
		return err
	}
	if _, err := j.c.want(200, http.MethodPut, "/api/v1/professional/payout-info", j.proTok, map[string]any{"payout_account": "cuenta." + j.tag}); err != nil {
		return err
	}
	j.stage("verified")
	return nil
}

// hire: a conversation, an offer, its acceptance, and the checkout link.
func (j *journey) hire() error {
	chat, err := j.c.want(201, http.MethodPost, "/api/v1/chat/conversations", j.cliTok, map[string]any{"profesional_id": j.proID})
	if err != nil {
		if chat, err = j.c.want(200, http.MethodPost, "/api/v1/chat/conversations", j.cliTok, map[string]any{"profesional_id": j.proID}); err != nil {
			return err
		}
	}
	// The offer needs the professional verified; marketplace confirms its replica's "not
	// yet" with professionals, which may be the service down right now: retry until it
	// answers.
	var oferta map[string]any
	deadline := time.Now().Add(faultRetry)
	for {
		st, o, err := j.c.json(http.MethodPost, "/api/v1/professional/ofertas", j.proTok, map[string]any{
			"cliente_id": j.cliID, "chat_id": chat["chat_id"], "descripcion": "Trabajo de prueba " + j.tag, "precio_final": j.precio})
		if err != nil {
			return err
		}
		if st == 201 {
			oferta = o
			break
		}
		if st == 422 || time.Now().After(deadline) {
			return fmt.Errorf("offer → %d %v", st, o)
		}
		time.Sleep(250 * time.Millisecond)
	}
	j.ofertaID, _ = oferta["id"].(string)
	st, acc, err := j.c.json(http.MethodPost, "/api/v1/cliente/ofertas/"+j.ofertaID+"/accept", j.cliTok, nil)
	if err != nil {
		return err
	}
	j.jobID, _ = acc["trabajo_id"].(string)
	if j.jobID == "" {
		// A retried accept after a lost answer is refused (already accepted): find the
		// job through the client's list.
		if j.jobID, err = j.jobOfOffer(); err != nil {
			return fmt.Errorf("accept → %d %v: %w", st, acc, err)
		}
	}
	j.stage("accepted")
	// 200 carries the link; 202 (the checkout saga is late) means poll the job for it.
	var link string
	err = j.waitJob(func(job map[string]any) bool { link, _ = job["payment_url"].(string); return link != "" }, "payment_url")
	if err != nil {
		return err
	}
	u, err := url.Parse(link)
	if err != nil {
		return err
	}
	j.prefID = u.Query().Get("pref_id")
	return nil
}

func (j *journey) jobOfOffer() (string, error) {
	deadline := time.Now().Add(faultRetry)
	for {
		_, list, err := j.c.json(http.MethodGet, "/api/v1/cliente/trabajos", j.cliTok, nil)
		if err != nil {
			return "", err
		}
		for _, it := range append(listOf(list["items"]), listOf(list["trabajos"])...) {
			if m, _ := it.(map[string]any); m != nil && m["oferta_id"] == j.ofertaID {
				id, _ := m["id"].(string)
				return id, nil
			}
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("no job for offer %s in %v", j.ofertaID, list)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// job reads the job as its client.
func (j *journey) job() (map[string]any, error) {
	return j.c.want(200, http.MethodGet, "/api/v1/trabajos/"+j.jobID, j.cliTok, nil)
}

// waitJob polls the job until cond holds (bounded).
func (j *journey) waitJob(cond func(map[string]any) bool, what string) error {
	deadline := time.Now().Add(faultRetry)
	var last map[string]any
	for {
		job, err := j.job()
		if err == nil && cond(job) {
			return nil
		}
		if err != nil {
			last = map[string]any{"error": err.Error()}
		} else {
			last = job
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("job %s: timed out waiting for %s; last %v", j.jobID, what, last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (j *journey) waitEscrow(estado string) error {
	return j.waitJob(func(job map[string]any) bool { return job["estado_escrow"] == estado }, "estado_escrow "+estado)
}

// pay approves the preference on the simulator, which sends the signed webhook.
func (j *journey) pay(status string) (string, error) {
	c := &http.Client{Timeout: 10 * time.Second}
	resp, err := c.Post(j.sim+"/_sim/preferences/"+url.PathEscape(j.prefID)+"/pay?status="+status, "application/json", nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		PaymentID int64 `json:"payment_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || resp.StatusCode != 201 {
		return "", fmt.Errorf("simulator pay %s → %d %v", j.prefID, resp.StatusCode, err)
	}
	j.paymentID = fmt.Sprint(out.PaymentID)
	return j.paymentID, nil
}

// work: the professional starts and delivers. A step retried after a lost answer is
// refused as a repeated transition; the job's state says whether it went through.
func (j *journey) work() error {
	for _, step := range []struct {
		body  map[string]any
		after []string
	}{
		{map[string]any{"estado": "EN_PROCESO"}, []string{"EN_PROCESO", "COMPLETADO", "APROBADO"}},
		{map[string]any{"estado": "COMPLETADO", "nota": "Trabajo terminado y probado " + j.tag}, []string{"COMPLETADO", "APROBADO"}},
	} {
		st, b, err := j.c.json(http.MethodPut, "/api/v1/trabajos/"+j.jobID+"/status", j.proTok, step.body)
		if err != nil {
			return err
		}
		if st != 200 {
			job, err := j.job()
			if err != nil || !contains(step.after, fmt.Sprint(job["estado"])) {
				return fmt.Errorf("status %v → %d %v (job %v)", step.body, st, b, job["estado"])
			}
		}
	}
	j.stage("delivered")
	return nil
}

// approve: the client approves and the escrow is released (now or, after a 202, soon).
func (j *journey) approve() error {
	st, b, err := j.c.json(http.MethodPost, "/api/v1/cliente/trabajo/"+j.jobID+"/finalizar", j.cliTok, nil)
	if err != nil {
		return err
	}
	if st != 200 && st != 202 {
		job, err := j.job()
		if err != nil || (job["estado"] != "APROBADO" && job["estado_escrow"] != "LIBERADO") {
			return fmt.Errorf("finalizar → %d %v", st, b)
		}
	}
	if err := j.waitEscrow("LIBERADO"); err != nil {
		return err
	}
	j.stage("released")
	return nil
}

// run is the whole journey, stage by stage.
func (j *journey) run() error {
	if err := j.signup(); err != nil {
		return fmt.Errorf("%s signup: %w", j.tag, err)
	}
	if err := j.hire(); err != nil {
		return fmt.Errorf("%s hire: %w", j.tag, err)
	}
	if _, err := j.pay("approved"); err != nil {
		return fmt.Errorf("%s pay: %w", j.tag, err)
	}
	j.stage("paid")
	if err := j.waitEscrow("PAGADO_EN_ESCROW"); err != nil {
		return fmt.Errorf("%s held: %w", j.tag, err)
	}
	j.stage("held")
	if err := j.work(); err != nil {
		return fmt.Errorf("%s work: %w", j.tag, err)
	}
	if err := j.approve(); err != nil {
		return fmt.Errorf("%s approve: %w", j.tag, err)
	}
	return nil
}

// runJourneys runs n journeys at once and reports each one that did not complete.
func (s *system) runJourneys(t *testing.T, adminTok, prefix string, n int, onStage func(j *journey, stage string)) []*journey {
	t.Helper()
	js := make([]*journey, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range js {
		j := s.newJourney(adminTok, fmt.Sprintf("%s%02d", prefix, i))
		if onStage != nil {
			j.onStage = func(stage string) { onStage(j, stage) }
		}
		js[i] = j
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = j.run()
		}()
	}
	wg.Wait()
	var retried int64
	seen := map[string]int{}
	for i, err := range errs {
		retried += js[i].c.retried.Load()
		for k, v := range js[i].c.seen {
			seen[k] += v
		}
		if err != nil {
			t.Errorf("journey did not complete: %v", err)
		}
	}
	t.Logf("%d journeys, %d requests retried through the fault: %v", n, retried, seen)
	for i, err := range errs {
		if err != nil && js[i].jobID != "" {
			s.diagnose(t, js[i])
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return js
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// books are what one journey must have left behind.
type books struct {
	ledger   map[string]int // ledger transactions by kind
	released bool           // XP, the credited balance and pago_acreditado follow a release
}

var releasedBooks = books{ledger: map[string]int{"HOLD": 1, "RELEASE": 1}, released: true}

// checkBooks verifies, after the fault: one job per accepted offer, the ledger's
// transactions per job, XP once, one in-app notification and one email per event, each
// professional's balance, the ledger check, and an empty DLQ.
func (s *system) checkBooks(t *testing.T, adminTok string, js []*journey, want func(*journey) books) {
	t.Helper()
	db := connectDB(t, s.set.DatabaseURL)
	ctx := context.Background()
	c := s.fclient()
	// Events still in flight (emails, XP) settle first: wait for the last ones to land.
	for _, j := range js {
		w := want(j)
		if n := countRows(t, db, `SELECT count(*) FROM marketplace.trabajos WHERE oferta_id = $1`, j.ofertaID); n != 1 {
			t.Errorf("%s: %d jobs for the accepted offer", j.tag, n)
		}
		got := map[string]int{}
		rows, err := db.Query(ctx, `SELECT tipo, count(*) FROM payments.ledger_txns WHERE trabajo_id = $1 GROUP BY tipo`, j.jobID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var k string
			var n int
			if err := rows.Scan(&k, &n); err != nil {
				t.Fatal(err)
			}
			got[k] = n
		}
		rows.Close()
		if fmt.Sprint(got) != fmt.Sprint(w.ledger) {
			t.Errorf("%s: ledger transactions %v, want %v", j.tag, got, w.ledger)
		}
		xp := 0
		if w.released {
			xp = 1
		}
		testkit.Eventually(t, settle, j.tag+" XP settled", func() bool {
			return countRows(t, db, `SELECT count(*) FROM notifications.xp_awards WHERE usuario_id = $1 AND motivo = 'trabajo_completado'`, j.proID) == xp
		})
		var puntos, sum, trabajos int
		if err := db.QueryRow(ctx, `SELECT p.puntos_experiencia, p.trabajos_completados,
			(SELECT coalesce(sum(puntos), 0) FROM notifications.xp_awards a WHERE a.usuario_id = p.usuario_id)
			FROM notifications.gamification_profiles p WHERE p.usuario_id = $1`, j.proID).Scan(&puntos, &trabajos, &sum); err != nil {
			t.Errorf("%s: gamification profile: %v", j.tag, err)
		} else if puntos != sum || trabajos != xp || puntos != 100*xp {
			t.Errorf("%s: XP %d (awards sum %d), trabajos_completados %d; want %d XP once", j.tag, puntos, sum, trabajos, 100*xp)
		}
		// One in-app notification and one email per event that concerns money.
		notices := map[string]int{"pago_aprobado": 1}
		proNotices := map[string]int{"oferta_aceptada": 1, "pago_confirmado": 1}
		if w.released {
			proNotices["pago_acreditado"] = 1
		}
		s.checkNotices(t, db, j.tag+" client", j.cliID, j.cliEmail, notices)
		s.checkNotices(t, db, j.tag+" professional", j.proID, j.proEmail, proNotices)

		_, bal, err := c.json(http.MethodGet, "/api/v1/pagos/balance", j.proTok, nil)
		wantBal := 0.0
		if w.released {
			wantBal = j.precio * 0.8 // BRONCE: 20 % commission
		}
		if err != nil || bal["disponible"] != wantBal {
			t.Errorf("%s: balance %v %v, want disponible %v", j.tag, bal, err, wantBal)
		}
	}
	st, check, err := c.json(http.MethodGet, "/api/v1/escrow/ledger/check", adminTok, nil)
	if err != nil || st != 200 || len(listOf(check["problemas"])) != 0 || check["transacciones"] == 0.0 {
		t.Errorf("ledger check → %d %v %v", st, check, err)
	}
	if n := s.deadLetters(t); n != 0 {
		var out bytes.Buffer
		_ = dlq(ctx, s.in.js, []string{"list"}, &out)
		t.Errorf("%d dead letters:\n%s", n, out.String())
	}
}

// checkNotices: each evento in want has exactly that many in-app notifications for the
// user, and as many emails with its title reached the user's address.
func (s *system) checkNotices(t *testing.T, db *pgx.Conn, who, userID, email string, want map[string]int) {
	t.Helper()
	for evento, n := range want {
		var titulo string
		testkit.Eventually(t, settle, fmt.Sprintf("%s: %s notification", who, evento), func() bool {
			return db.QueryRow(context.Background(), `SELECT titulo FROM notifications.notifications
				WHERE user_id = $1 AND data->>'evento' = $2 LIMIT 1`, userID, evento).Scan(&titulo) == nil
		})
		if got := countRows(t, db, `SELECT count(*) FROM notifications.notifications WHERE user_id = $1 AND data->>'evento' = $2`,
			userID, evento); got != n {
			t.Errorf("%s: %d in-app %q notifications, want %d", who, got, evento, n)
		}
		var got int
		testkit.Eventually(t, settle, fmt.Sprintf("%s: %q email", who, titulo), func() bool {
			got = s.mails(t, email, titulo)
			return got >= n
		})
		if got != n {
			t.Errorf("%s: %d emails %q, want %d", who, got, titulo, n)
		}
	}
}

// mails counts the caught emails to addr with subject.
func (s *system) mails(t *testing.T, addr, subject string) int {
	t.Helper()
	resp, err := http.Get(strings.TrimRight(s.env["SMTP_WEB_URL"], "/") + "/api/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var msgs []struct {
		To        []string `json:"to"`
		Subject   string   `json:"subject"`
		MessageID string   `json:"message_id"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&msgs); err != nil {
		t.Fatal(err)
	}
	// The sender sends at least once: a crash (or a lost connection) between the SMTP
	// relay's acceptance and the commit that marks the row sent sends it again, with
	// the same Message-ID, which mail systems treat as one message. So emails are
	// counted by Message-ID; copies are logged.
	ids := map[string]int{}
	for _, m := range msgs {
		if m.Subject == subject && contains(m.To, addr) {
			ids[m.MessageID]++
		}
	}
	for id, n := range ids {
		if n > 1 || id == "" {
			t.Logf("email %q to %s: %d copies of Message-ID %q", subject, addr, n, id)
		}
	}
	return len(ids)
}

// deadLetters counts the messages in the DLQ stream.
func (s *system) deadLetters(t *testing.T) uint64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st, err := s.in.js.Stream(ctx, events.StreamDLQ)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return info.State.Msgs
}

// gamificationSnapshot is the gamification state rebuildable from events: profiles
// (counters, XP, level), XP awards and medals, without timestamps.
func gamificationSnapshot(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	return dumpRows(t, db, []string{
		`SELECT usuario_id::text, puntos_experiencia::text, nivel, trabajos_completados::text, resenas_5_estrellas::text,
			total_resenas::text, rating_promedio::text, kyc_verificado::text FROM notifications.gamification_profiles ORDER BY 1`,
		`SELECT usuario_id::text, puntos::text, motivo, referencia, event_id::text FROM notifications.xp_awards ORDER BY 1, 3, 4`,
		`SELECT usuario_id::text, codigo FROM notifications.user_medals ORDER BY 1, 2`,
	})
}

// checkGamificationRebuild throws gamification's state away and rebuilds it with
// `events rebuild` of its three handlers: the result must equal what the live consumers
// built through the fault.
func (s *system) checkGamificationRebuild(t *testing.T) {
	t.Helper()
	db := connectDB(t, s.set.DatabaseURL)
	// The live state is compared once the live consumers have applied everything.
	gamify := map[string]string{"notifications-gamify-professionals": events.StreamProfessionals,
		"notifications-gamify-payments": events.StreamPayments, "notifications-gamify-marketplace": events.StreamMarketplace}
	testkit.Eventually(t, settle, "gamification consumers caught up", func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		for name, stream := range gamify {
			if !testkit.CaughtUp(ctx, s.in.js, stream, name) {
				return false
			}
		}
		return true
	})
	live := gamificationSnapshot(t, db)
	if strings.Count(live, "\n") < 4 {
		t.Fatalf("no gamification state to rebuild:\n%s", live)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	outboxBefore := countRows(t, db, `SELECT count(*) FROM notifications.outbox`)
	if _, err := db.Exec(ctx, `DELETE FROM notifications.user_medals; DELETE FROM notifications.xp_awards; DELETE FROM notifications.gamification_profiles`); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"notifications-gamify-professionals", "notifications-gamify-payments", "notifications-gamify-marketplace"} {
		s.rebuild(ctx, t, h)
	}
	// The medals and XP were announced when they were earned; a rebuild that announced
	// them again would notify and email every professional a second time.
	if n := countRows(t, db, `SELECT count(*) FROM notifications.outbox`) - outboxBefore; n != 0 {
		t.Errorf("the rebuild published %d gamification events again", n)
	}
	if got := gamificationSnapshot(t, db); got != live {
		t.Errorf("gamification rebuilt from the events differs from the live state:\n got:\n%s\nlive:\n%s", got, live)
	}
}

// rebuild runs `conectar events rebuild --handler h` and fails the test if it fails.
func (s *system) rebuild(ctx context.Context, t *testing.T, h string) {
	t.Helper()
	var out bytes.Buffer
	err := replay(ctx, s.set, s.getenv, true, []string{"--handler", h}, &out)
	// The PostgreSQL server is shared with other tests: a rebuild refused a
	// connection (max_connections) before it started is tried again, briefly.
	for i := 0; err != nil && i < 10 && strings.Contains(err.Error(), "ping database"); i++ {
		time.Sleep(time.Second)
		out.Reset()
		err = replay(ctx, s.set, s.getenv, true, []string{"--handler", h}, &out)
	}
	if err != nil {
		t.Fatalf("rebuild %s: %v\n%s", h, err, out.String())
	}
}

// searchSnapshot is the state professionals keeps from other contexts' events (what
// professionals.vaciar_replicas empties): the replicas, the event-fed columns of the
// profiles and the search rows, in a fixed order. perfil_at is left out: the
// read-your-writes path (a professional reading their profile before UserRegistered
// arrived) stamps the account's creation time, a hair off the event's time, and the
// names under it are the same.
func searchSnapshot(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	return dumpRows(t, db, []string{
		`SELECT usuario_id::text, email, nombre, apellido, avatar_url, is_active, activo_at, nivel, tasa_comision_bp, nivel_at,
			puntos_experiencia FROM professionals.usuarios ORDER BY 1`,
		`SELECT id::text, email, nombre, apellido, avatar_url, is_active, nivel, tasa_comision_bp, puntos_experiencia,
			rating_promedio::text, total_resenas FROM professionals.profesionales ORDER BY 1`,
		`SELECT id::text, profesional_ref::text, rating, texto_resena, nombre_cliente, fecha_creacion, cliente_id::text,
			trabajo_id::text, trabajo_descripcion FROM professionals.resenas ORDER BY 1`,
		`SELECT usuario_id::text, medalla, nombre, fecha_creacion FROM professionals.medallas ORDER BY 1, 2`,
		`SELECT trabajo_id::text, profesional_ref::text, fecha FROM professionals.trabajos_completados ORDER BY 1`,
		`SELECT profesional_id::text, oficio_id::text, oficio_nombre, oficios, nombre, apellido, avatar_url, texto,
			ST_AsText(base_location), radio_cobertura_km, acepta_instant, tarifa_por_hora, rating_promedio::text, total_resenas,
			nivel, nivel_rank, puntos_experiencia FROM professionals.busqueda ORDER BY 1, 2`,
	})
}

// dumpRows runs each query and writes its rows as text, one per line, times in UTC, a
// "--" line after each query: a snapshot two states can be compared by.
func dumpRows(t *testing.T, db *pgx.Conn, queries []string) string {
	t.Helper()
	var b strings.Builder
	for _, q := range queries {
		rows, err := db.Query(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			vals, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			for i, v := range vals {
				if at, ok := v.(time.Time); ok {
					vals[i] = at.UTC().Format(time.RFC3339Nano)
				}
			}
			fmt.Fprintln(&b, vals...)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		b.WriteString("--\n")
	}
	return b.String()
}

// searchAnswers asks the gateway both search shapes (several filters and orders) and
// returns the answers as they came: status and body, one per line.
func (s *system) searchAnswers(t *testing.T, oficioID string) string {
	t.Helper()
	c := s.fclient()
	var b strings.Builder
	ask := func(method, path string, body any) {
		var raw []byte
		if body != nil {
			raw, _ = json.Marshal(body)
		}
		req, err := http.NewRequest(method, c.base+path, bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := c.hc.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		got, _ := io.ReadAll(resp.Body)
		fmt.Fprintf(&b, "%s %s %d %s %s\n", method, path, resp.StatusCode, resp.Header.Get("X-Total-Count"), got)
	}
	const lat, lng = -34.60, -58.40
	ask(http.MethodPost, "/api/v1/search", map[string]any{"limit": 100})
	ask(http.MethodPost, "/api/v1/search", map[string]any{"latitude": lat, "longitude": lng, "radio_km": 50, "ordenar_por": "distancia", "limit": 100})
	ask(http.MethodPost, "/api/v1/search", map[string]any{"q": "prueba", "ordenar_por": "nivel", "limit": 100})
	ask(http.MethodPost, "/api/v1/search", map[string]any{"oficio_id": oficioID, "rating_minimo": 1, "limit": 100})
	for _, sort := range []string{"rating", "nivel", "distancia"} {
		ask(http.MethodGet, fmt.Sprintf("/api/v1/search/professionals?oficio_id=%s&lat=%v&lng=%v&sort_by=%s&limit=100", oficioID, lat, lng, sort), nil)
	}
	return b.String()
}

// quiesce waits until nothing is in flight: every outbox published and every durable
// consumer with nothing pending, twice in a row (a handler that just acked may have
// appended to an outbox the first look had already read).
func (s *system) quiesce(t *testing.T, db *pgx.Conn) {
	t.Helper()
	quiet := func() bool {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		idle := func() bool {
			for _, st := range events.Streams() {
				if st.Name == events.StreamDLQ {
					continue
				}
				stream, err := s.in.js.Stream(ctx, st.Name)
				if err != nil {
					return false
				}
				l := stream.ListConsumers(ctx)
				for info := range l.Info() {
					if info.NumPending != 0 || info.NumAckPending != 0 {
						return false
					}
				}
				if l.Err() != nil {
					return false
				}
			}
			return true
		}
		if !idle() {
			return false
		}
		for _, schema := range []string{"auth", "users", "professionals", "marketplace", "payments", "notifications"} {
			if countRows(t, db, `SELECT count(*) FROM `+schema+`.outbox WHERE published_at IS NULL`) != 0 {
				return false
			}
		}
		return idle()
	}
	testkit.Eventually(t, settle, "every event applied", func() bool {
		if !quiet() {
			return false
		}
		time.Sleep(500 * time.Millisecond)
		return quiet()
	})
}

// varySearchState gives the professionals of the journeys what search shows and sorts
// by, through the public API: a place, a coverage radius and a trade each; reviews from
// their clients (one then edited, one deleted); a new name and avatar for the first; a
// ban for the second. Each reaches professionals' read model through another context's
// events, which is what the rebuild has to reproduce.
func (s *system) varySearchState(t *testing.T, js []*journey, oficioID string) {
	t.Helper()
	c := s.fclient()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	var renamed, banned *journey
	for i, j := range js {
		proTok, err := c.login(j.proEmail, "password-123")
		must(err)
		_, err = c.want(200, http.MethodPut, "/api/v1/professional/profile", proTok, map[string]any{
			"latitude": -34.60 + 0.01*float64(i%7), "longitude": -58.40 - 0.01*float64(i%5), "radio_cobertura_km": 5 + i,
			"oficio_ids": []string{oficioID}})
		must(err)
		cliTok, err := c.login(j.cliEmail, "password-123")
		must(err)
		st, rev, err := c.json(http.MethodPost, "/api/v1/resenas", cliTok, map[string]any{
			"trabajo_id": j.jobID, "rating": 1 + i%5, "texto_resena": "Reseña de " + j.tag})
		must(err)
		if st != 201 {
			// A job that was not released cannot be reviewed (a refunded one, say).
			t.Logf("%s: no review (%d %v)", j.tag, st, rev["code"])
			continue
		}
		resena, _ := rev["resena"].(map[string]any)
		id, _ := resena["id"].(string)
		switch i % 3 {
		case 1:
			_, err = c.want(200, http.MethodPut, "/api/v1/resenas/"+id, cliTok, map[string]any{"rating": 5, "texto_resena": "Mejor de lo que dije"})
		case 2:
			st, _, err = c.json(http.MethodDelete, "/api/v1/resenas/"+id, cliTok, nil)
			if err == nil && st >= 300 {
				err = fmt.Errorf("delete review %s → %d", id, st)
			}
		}
		must(err)
		switch {
		case renamed == nil:
			renamed = j
			_, err = c.want(200, http.MethodPut, "/api/v1/users/me", proTok, map[string]any{"nombre": "Renombrado"})
			must(err)
			if st, b, err := c.upload("/api/v1/users/me/avatar", proTok, "file", "a.png", "image/png", pngBytes); err != nil || st != 200 {
				t.Fatalf("avatar → %d %v %v", st, b, err)
			}
		case banned == nil:
			banned = j
		}
	}
	if renamed == nil {
		t.Fatal("no journey could be reviewed: nothing for search to rank")
	}
	if banned != nil {
		adminTok, err := c.login(s.env["ADMIN_EMAIL"], s.env["ADMIN_PASSWORD"])
		must(err)
		_, err = c.want(200, http.MethodPost, "/api/v1/admin/users/"+banned.proID+"/ban", adminTok, nil)
		must(err)
	}
}

// checkSearchRebuild does for professionals' search read model what
// checkGamificationRebuild does for gamification, by the operator procedure of
// docs/events.md: professionals.vaciar_replicas() empties what other contexts' events
// fed, `events rebuild` of the five professionals-* handlers applies the streams again,
// and the state and the gateway's search answers (both shapes, same results in the same
// order) must equal the live ones, with nothing published again.
func (s *system) checkSearchRebuild(t *testing.T, js []*journey) {
	t.Helper()
	db := connectDB(t, s.set.DatabaseURL)
	var oficioID string
	if err := db.QueryRow(context.Background(), `SELECT id::text FROM professionals.oficios WHERE nombre = 'Plomería'`).Scan(&oficioID); err != nil {
		t.Fatal(err)
	}
	s.varySearchState(t, js, oficioID)
	s.quiesce(t, db)
	live, liveAnswers := searchSnapshot(t, db), s.searchAnswers(t, oficioID)
	for _, want := range []string{"Renombrado", `"avatar_url":"http`, `"cantidad_resenas":1`} {
		if !strings.Contains(liveAnswers, want) {
			t.Fatalf("the live search answers lack %s: the check would compare nothing\n%s", want, liveAnswers)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	outboxBefore := countRows(t, db, `SELECT count(*) FROM professionals.outbox`)
	if _, err := db.Exec(ctx, `SELECT professionals.vaciar_replicas()`); err != nil {
		t.Fatal(err)
	}
	if searchSnapshot(t, db) == live || s.searchAnswers(t, oficioID) == liveAnswers {
		t.Fatal("vaciar_replicas left the search read model as it was")
	}
	// identity first, as the procedure says: it puts every professional back in search.
	for _, h := range []string{"professionals-identity", "professionals-users", "professionals-reviews",
		"professionals-jobs", "professionals-engagement"} {
		s.rebuild(ctx, t, h)
	}
	// A ban, a rating or a level change is announced as ProfessionalProfileUpdated when
	// it happens; a rebuild that announced them again would send other contexts stale
	// copies of profiles as news.
	if n := countRows(t, db, `SELECT count(*) FROM professionals.outbox`) - outboxBefore; n != 0 {
		t.Errorf("the rebuild published %d professionals events again", n)
	}
	if got := searchSnapshot(t, db); got != live {
		t.Errorf("professionals' read model rebuilt from the events differs from the live state:\n got:\n%s\nlive:\n%s", got, live)
	}
	if got := s.searchAnswers(t, oficioID); got != liveAnswers {
		t.Errorf("search answers after the rebuild differ:\n got:\n%s\nlive:\n%s", got, liveAnswers)
	}
}

// diagnose logs where a stuck journey's job is: the events its services wrote and
// published, what the consumers claimed, and the durable consumers' counters.
func (s *system) diagnose(t *testing.T, j *journey) {
	t.Helper()
	db := connectDB(t, s.set.DatabaseURL)
	ctx := context.Background()
	dump := func(title, q string, args ...any) {
		rows, err := db.Query(ctx, q, args...)
		if err != nil {
			t.Logf("%s: %v", title, err)
			return
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			vals, _ := rows.Values()
			fmt.Fprintln(&b, vals...)
		}
		t.Logf("%s %s:\n%s", j.tag, title, b.String())
	}
	for _, schema := range []string{"marketplace", "payments", "notifications"} {
		dump(schema+" outbox", `SELECT id, event_id, subject, published_at FROM `+schema+`.outbox WHERE aggregate_id = $1 OR payload::text LIKE '%'||$1||'%' ORDER BY id`, j.jobID)
	}
	dump("payments job", `SELECT estado_escrow, payment_id, liberacion_pendiente, congelado, alerta FROM payments.trabajos WHERE trabajo_id = $1`, j.jobID)
	dump("payments webhooks", `SELECT id, data_id, attempts, received_at, processed_at, next_attempt_at, last_error FROM payments.webhook_inbox ORDER BY id`)
	if resp, err := http.Get(j.sim + "/_sim/webhooks"); err == nil {
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if j.paymentID != "" {
			t.Logf("simulator deliveries mention the payment %d times", strings.Count(string(raw), j.paymentID))
		}
	}
	dump("payments inbox", `SELECT consumer, count(*) FROM payments.inbox GROUP BY 1 ORDER BY 1`)
	var out bytes.Buffer
	_ = listConsumers(ctx, s.in.js, "", &out)
	t.Logf("consumers:\n%s", out.String())
	out.Reset()
	_ = dlq(ctx, s.in.js, []string{"list"}, &out)
	t.Logf("dead letters:\n%s", out.String())
}

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/conectarpro/conectar/services/professionals"
)

const (
	adminEmail    = "admin@bench.test"
	adminPassword = "admin-bench-password-1"
	password      = "password-123"
	// waitLimit bounds every wait for something asynchronous (a replica, the webhook,
	// a saga): past it the journey fails, which the report counts.
	waitLimit = 60 * time.Second
)

// When a user's client signs up (-signup).
const (
	signupFirst = "first"
	signupEvery = "every"
	signupOnce  = "once"
)

// Step names, as the table prints them.
const (
	stRegister = "register (client)"
	stLogin    = "login (client)"
	stSearchG  = "search GET /search/professionals"
	stSearchP  = "search POST /search"
	stChat     = "chat send"
	stOffer    = "offer"
	stAccept   = "accept → payment link"
	stHeld     = "pay → held in escrow"
	stReleased = "approve → released"
	stJourney  = "whole journey"
)

// jobRec is what a journey left behind, for the books check.
type jobRec struct {
	ofertaID, jobID string
	paid            bool // the simulator approved the payment
	approved        bool // finalizar was accepted (200 or 202)
	released        bool // the client saw LIBERADO
}

// fleet is what the simulated users share.
type fleet struct {
	c        *client
	sim      string
	adminTok string
	oficios  []string
	tag      string // this run's, so addresses never collide with a kept database
	poll     time.Duration
	think    time.Duration
	// signup says when a user's client signs up: "every" journey is a new client
	// (sign-up and sign-in); with "first" the client signs up at its first journey and
	// keeps its session, as the frontend keeps its token for ACCESS_TOKEN_TTL (8 h);
	// with "once" it signs up before the window.
	signup string

	mu   sync.Mutex
	jobs []*jobRec
}

func (f *fleet) keep(j *jobRec) {
	f.mu.Lock()
	f.jobs = append(f.jobs, j)
	f.mu.Unlock()
}

// user is one simulated person hiring again and again through its own professional.
type user struct {
	f        *fleet
	i        int
	rnd      *rand.Rand
	lat, lng float64
	oficio   string

	proEmail, proTok, proID string
	// The client of the last journey: with -signup once it hires again in its session.
	cliTok, cliID string
}

// pause is the user's think time between two actions.
func (u *user) pause(ctx context.Context) {
	if u.f.think <= 0 {
		return
	}
	select {
	case <-ctx.Done():
	case <-time.After(u.f.think):
	}
}

// until polls check until it says done, for at most waitLimit: first after 10 ms, then
// twice as long each time up to f.poll, so a short wait is measured to within a few
// milliseconds and a long one costs few requests.
func (f *fleet) until(ctx context.Context, what string, check func() (bool, error)) error {
	deadline := time.Now().Add(waitLimit)
	every := min(10*time.Millisecond, f.poll)
	for {
		ok, err := check()
		if err != nil {
			return err
		}
		if ok {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %s waiting for %s", waitLimit, what)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s: %w", what, ctx.Err())
		case <-time.After(every):
		}
		every = min(2*every, f.poll)
	}
}

// register creates an account, signs in and waits until the users service has the
// profile (the frontend loads /users/me right after signing in).
func (f *fleet) register(ctx context.Context, email, nombre, rol, oficio string, record bool) (tok, id string, err error) {
	body := map[string]any{"email": email, "password": password, "nombre": nombre, "apellido": "Carga", "rol": rol}
	if oficio != "" {
		body["oficio_id"] = oficio
	}
	t := time.Now()
	reg, err := f.c.want(ctx, http.MethodPost, "/api/v1/auth/register", "", body, 201)
	if err != nil {
		return "", "", err
	}
	if record {
		f.c.rec.signup(stRegister, t)
	}
	if id = reg.str("id"); id == "" {
		return "", "", fmt.Errorf("register %s: no id in %v", email, reg)
	}
	t = time.Now()
	if tok, err = f.c.login(ctx, email, password); err != nil {
		return "", "", err
	}
	if record {
		f.c.rec.signup(stLogin, t)
	}
	err = f.until(ctx, "/users/me of "+email, func() (bool, error) {
		st, _, err := f.c.json(ctx, http.MethodGet, "/api/v1/users/me", tok, nil)
		return st == 200, err
	})
	return tok, id, err
}

// onboard makes the user's professional findable and hireable, the way the frontend's
// onboarding pages do: register with a trade, base location and trades, KYC documents
// and submission, the admin's approval, the payout account.
func (u *user) onboard(ctx context.Context) error {
	f := u.f
	u.proEmail = fmt.Sprintf("pro-%s-%04d@bench.test", f.tag, u.i)
	var err error
	if u.proTok, u.proID, err = f.register(ctx, u.proEmail, fmt.Sprintf("Pro %d", u.i), "PROFESIONAL", u.oficio, false); err != nil {
		return err
	}
	var profileID string
	if err := f.until(ctx, "professional profile", func() (bool, error) {
		st, me, err := f.c.json(ctx, http.MethodGet, "/api/v1/professional/me", u.proTok, nil)
		profileID = me.str("id")
		return st == 200 && profileID != "", err
	}); err != nil {
		return err
	}
	if _, err := f.c.want(ctx, http.MethodPut, "/api/v1/professional/profile/location", u.proTok,
		map[string]any{"latitude": u.lat, "longitude": u.lng}, 200); err != nil {
		return err
	}
	if _, err := f.c.want(ctx, http.MethodPut, "/api/v1/professional/profile/oficios", u.proTok,
		map[string]any{"oficio_ids": []string{u.oficio}}, 200); err != nil {
		return err
	}
	if st, b, err := f.c.upload(ctx, "/api/v1/professional/kyc/upload", u.proTok, "files", "dni.pdf", "application/pdf",
		[]byte("%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")); err != nil || st >= 300 {
		return fmt.Errorf("kyc upload → %d %v %w", st, b, err)
	}
	if _, err := f.c.want(ctx, http.MethodPost, "/api/v1/professional/kyc/submit", u.proTok, nil, 200, 201); err != nil {
		return err
	}
	if _, err := f.c.want(ctx, http.MethodPost, "/api/v1/admin/kyc/approve/"+profileID, f.adminTok, nil, 200, 201); err != nil {
		return err
	}
	if _, err = f.c.want(ctx, http.MethodPut, "/api/v1/professional/payout-info", u.proTok,
		map[string]any{"payout_account": fmt.Sprintf("bench.%s.%d", f.tag[:4], u.i)}, 200); err != nil {
		return err
	}
	if f.signup == signupOnce {
		// A returning customer: signed up before, its session still open.
		u.cliTok, u.cliID, err = f.register(ctx, fmt.Sprintf("cli-%s-%04d@bench.test", f.tag, u.i), fmt.Sprintf("Cliente %d", u.i), "CLIENTE", "", false)
	}
	return err
}

// journey is one client hiring the user's professional, from sign-up to the release.
func (u *user) journey(ctx context.Context, n int) error {
	f, rec := u.f, u.f.c.rec
	t0 := time.Now()
	cliTok, cliID := u.cliTok, u.cliID
	if cliTok == "" || f.signup == signupEvery {
		var err error
		cliTok, cliID, err = f.register(ctx, fmt.Sprintf("cli-%s-%04d-%d@bench.test", f.tag, u.i, n), fmt.Sprintf("Cliente %d", u.i), "CLIENTE", "", true)
		if err != nil {
			return fmt.Errorf("client sign-up: %w", err)
		}
		u.cliTok, u.cliID = cliTok, cliID
		u.pause(ctx)
	}

	// Both search shapes, from a point near the professional, with its trade.
	lat, lng := u.lat+(u.rnd.Float64()-0.5)*0.02, u.lng+(u.rnd.Float64()-0.5)*0.02
	q := url.Values{"oficio_id": {u.oficio}, "lat": {ftoa(lat)}, "lng": {ftoa(lng)}, "sort_by": {"rating"}, "limit": {"20"}}
	t := time.Now()
	if _, err := f.c.want(ctx, http.MethodGet, "/api/v1/search/professionals?"+q.Encode(), cliTok, nil, 200); err != nil {
		return err
	}
	rec.step(stSearchG, t)
	t = time.Now()
	if _, err := f.c.want(ctx, http.MethodPost, "/api/v1/search", cliTok, map[string]any{"oficio_id": u.oficio,
		"latitude": lat, "longitude": lng, "radio_km": 10, "ordenar_por": "distancia", "limit": 20}, 200); err != nil {
		return err
	}
	rec.step(stSearchP, t)
	u.pause(ctx)

	chat, err := f.c.want(ctx, http.MethodPost, "/api/v1/chat/conversations", cliTok, map[string]any{"profesional_id": u.proID}, 200, 201)
	if err != nil {
		return err
	}
	chatID := chat.str("chat_id")
	for _, m := range []struct{ tok, text string }{
		{cliTok, "Hola, necesito arreglar una pérdida en la cocina."},
		{u.proTok, "Hola, puedo pasar el martes a la tarde."},
		{cliTok, "Perfecto, mandame la oferta así la acepto."},
	} {
		t = time.Now()
		if _, err := f.c.want(ctx, http.MethodPost, "/api/v1/chat/"+chatID+"/messages", m.tok, map[string]any{"text": m.text}, 200, 201); err != nil {
			return err
		}
		rec.step(stChat, t)
		u.pause(ctx)
	}

	t = time.Now()
	oferta, err := f.c.want(ctx, http.MethodPost, "/api/v1/professional/ofertas", u.proTok, map[string]any{
		"cliente_id": cliID, "chat_id": chatID, "descripcion": "Reparación de pérdida en la cocina", "precio_final": 10000 + float64(u.rnd.IntN(90000))}, 201)
	if err != nil {
		return err
	}
	rec.step(stOffer, t)
	job := &jobRec{ofertaID: oferta.str("id")}
	u.pause(ctx)

	t = time.Now()
	acc, err := f.c.want(ctx, http.MethodPost, "/api/v1/cliente/ofertas/"+job.ofertaID+"/accept", cliTok, nil, 200, 202)
	if err != nil {
		return err
	}
	if job.jobID = acc.str("trabajo_id"); job.jobID == "" {
		return fmt.Errorf("accept: no trabajo_id in %v", acc)
	}
	f.keep(job)
	link := acc.str("payment_url")
	if link == "" { // 202: the checkout saga is late; the frontend polls the job
		if err := f.until(ctx, "payment link", func() (bool, error) {
			j, err := f.c.want(ctx, http.MethodGet, "/api/v1/trabajos/"+job.jobID, cliTok, nil, 200)
			link = j.str("payment_url")
			return link != "", err
		}); err != nil {
			return err
		}
	}
	rec.step(stAccept, t)
	pu, err := url.Parse(link)
	if err != nil {
		return fmt.Errorf("payment link %q: %w", link, err)
	}
	u.pause(ctx)

	// Pay at the simulator through its control API (as a buyer approving the
	// checkout); it then sends the signed webhook to the gateway.
	t = time.Now()
	st, paid, err := f.c.do(ctx, http.MethodPost, f.sim+"/_sim/preferences/"+url.PathEscape(pu.Query().Get("pref_id"))+"/pay?status=approved", "", "application/json", nil)
	if err != nil {
		return err
	}
	if st != 201 {
		return fmt.Errorf("simulator pay → %d %v", st, paid)
	}
	job.paid = true
	if err := u.waitEscrow(ctx, cliTok, job.jobID, "PAGADO_EN_ESCROW"); err != nil {
		return err
	}
	rec.step(stHeld, t)
	u.pause(ctx)

	for _, body := range []map[string]any{{"estado": "EN_PROCESO"}, {"estado": "COMPLETADO", "nota": "Pérdida reparada y probada"}} {
		if _, err := f.c.want(ctx, http.MethodPut, "/api/v1/trabajos/"+job.jobID+"/status", u.proTok, body, 200); err != nil {
			return err
		}
		u.pause(ctx)
	}

	t = time.Now()
	fin, err := f.c.want(ctx, http.MethodPost, "/api/v1/cliente/trabajo/"+job.jobID+"/finalizar", cliTok, nil, 200, 202)
	if err != nil {
		return err
	}
	job.approved = true
	if tr, _ := fin["trabajo"].(map[string]any); tr == nil || tr["estado_escrow"] != "LIBERADO" {
		if err := u.waitEscrow(ctx, cliTok, job.jobID, "LIBERADO"); err != nil {
			return err
		}
	}
	job.released = true
	rec.step(stReleased, t)
	rec.step(stJourney, t0)
	return nil
}

// waitEscrow polls the job as its client until its escrow reaches estado.
func (u *user) waitEscrow(ctx context.Context, tok, jobID, estado string) error {
	return u.f.until(ctx, "escrow "+estado+" of job "+jobID, func() (bool, error) {
		j, err := u.f.c.want(ctx, http.MethodGet, "/api/v1/trabajos/"+jobID, tok, nil, 200)
		return j.str("estado_escrow") == estado, err
	})
}

// oficioIDs reads the trade catalogue as the registration form does.
func (f *fleet) oficioIDs(ctx context.Context) ([]string, error) {
	list, err := f.c.want(ctx, http.MethodGet, "/api/v1/public/oficios", "", nil, 200)
	if err != nil {
		return nil, err
	}
	var ids []string
	items, _ := list["items"].([]any)
	for _, it := range items {
		if m, _ := it.(map[string]any); m != nil {
			if id, _ := m["id"].(string); id != "" {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return nil, errors.New("no trades in /public/oficios")
	}
	return ids, nil
}

// newUser places user i's professional at a random point of Greater Buenos Aires, the
// area `conectar seed` fills.
func (f *fleet) newUser(i int) *user {
	r := rand.New(rand.NewPCG(uint64(i), 0x10ad))
	return &user{f: f, i: i, rnd: r, oficio: f.oficios[i%len(f.oficios)],
		lat: professionals.SeedMinLat + r.Float64()*(professionals.SeedMaxLat-professionals.SeedMinLat),
		lng: professionals.SeedMinLng + r.Float64()*(professionals.SeedMaxLng-professionals.SeedMinLng)}
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

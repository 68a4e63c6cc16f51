// Package mpsim is a local MercadoPago simulator. It serves the same HTTP paths the real
// API serves for what ConectarProfesionales uses (Checkout Pro preferences, payments,
// payment search, refunds and a Money Out transfer), a real HTML checkout page where a
// person approves or rejects the payment, and signed webhooks to the preference's
// notification_url, with duplicates, drops and retries on demand through control
// endpoints under /_sim/. Payments come back with masked card fields ("***") exactly like
// the real API, so the client's decoding fix is exercised.
//
// Money-out path: POST /v1/transaction-intents/process (MercadoPago "Money Out" /
// Payouts API). The simulator accepts the documented body shape reduced to what we send:
//
//	{"external_reference": "...", "transaction": {"from": {"accounts": [{"amount": 850.00}]},
//	  "to": {"accounts": [{"amount": 850.00, "alias": "cvu-or-alias", "type": "mercadopago"}]},
//	  "total_amount": 850.00}}
//
// and answers {"id": "...", "status": "approved", "external_reference": "...", ...}.
//
// Control endpoints (tests, demos; no token needed):
//
//	POST /_sim/preferences/{id}/pay?status=approved|rejected|pending|in_process&amount=N  pay a preference
//	POST /_sim/payments/{id}/approve|reject|refund|chargeback|reimburse|mediate|cancel  change a payment (webhook sent)
//	POST /_sim/payments/{id}/webhook?times=N                                             redeliver N webhooks
//	POST /_sim/faults {"drop_next_webhooks":1,"fail_next_preferences":3,"fail_next_payouts":1,
//	                   "fail_next_refunds":1,"fail_next_payment_gets":1,"fail_next_searches":1,
//	                   "refuse_next_payouts":1}                                                  inject failures (500s, drops, 400s)
//	GET  /_sim/webhooks | /_sim/payouts | /_sim/preferences?external_reference= | /_sim/calls
package mpsim

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a simulator.
type Config struct {
	// AccessToken is the bearer token API calls must carry; empty accepts any token.
	AccessToken string
	// WebhookSecret signs the webhooks (x-signature v1).
	WebhookSecret string
	// PublicURL is the base of init_point links; empty means the listening address.
	PublicURL string
	// CollectorID is the simulated seller (user_id in webhooks, collector_id in payments).
	CollectorID int64
	// RetryDelays are the waits between webhook delivery attempts after a failure.
	RetryDelays []time.Duration
	Log         *slog.Logger
	Now         func() time.Time
	// Client delivers webhooks.
	Client *http.Client
}

// Payment is a simulated payment.
type Payment struct {
	ID                int64
	PreferenceID      string
	ExternalReference string
	Status            string
	StatusDetail      string
	Amount            float64
	Refunded          float64
	Currency          string
	Description       string
	PayerEmail        string
	NotificationURL   string
	Created           time.Time
	Updated           time.Time
	Approved          time.Time
	Refunds           []Refund
}

// Refund is a simulated refund.
type Refund struct {
	ID      int64
	Amount  float64
	Created time.Time
}

// Preference is a simulated Checkout Pro preference.
type Preference struct {
	ID                  string         `json:"id"`
	Items               []item         `json:"items"`
	Payer               map[string]any `json:"payer"`
	BackURLs            backURLs       `json:"back_urls"`
	NotificationURL     string         `json:"notification_url"`
	ExternalReference   string         `json:"external_reference"`
	AutoReturn          string         `json:"auto_return"`
	StatementDescriptor string         `json:"statement_descriptor"`
	// Expires with ExpirationDateFrom/To bound when the link may be paid. Recorded and
	// echoed as MercadoPago does; the checkout page still takes a payment past the end,
	// because a payment started in time (a cash ticket) can be approved later and our
	// service must cope with that.
	Expires            bool       `json:"expires"`
	ExpirationDateFrom *time.Time `json:"expiration_date_from"`
	ExpirationDateTo   *time.Time `json:"expiration_date_to"`
	Created            time.Time  `json:"-"`
}

type item struct {
	ID          string  `json:"id,omitempty"`
	Title       string  `json:"title"`
	Description string  `json:"description,omitempty"`
	CurrencyID  string  `json:"currency_id"`
	UnitPrice   float64 `json:"unit_price"`
	Quantity    int     `json:"quantity"`
}

type backURLs struct {
	Success string `json:"success"`
	Pending string `json:"pending"`
	Failure string `json:"failure"`
}

// Payout is a simulated money-out transfer.
type Payout struct {
	ID                string    `json:"id"`
	ExternalReference string    `json:"external_reference"`
	Amount            float64   `json:"amount"`
	Destination       string    `json:"destination"`
	Status            string    `json:"status"`
	Created           time.Time `json:"created_date"`
}

// Delivery records one webhook attempt (for tests and the control API).
type Delivery struct {
	PaymentID  int64     `json:"payment_id"`
	URL        string    `json:"url"`
	RequestID  string    `json:"request_id"`
	Action     string    `json:"action"`
	Attempt    int       `json:"attempt"`
	StatusCode int       `json:"status_code"`
	Error      string    `json:"error,omitempty"`
	Dropped    bool      `json:"dropped,omitempty"`
	At         time.Time `json:"at"`
}

type idemEntry struct {
	status int
	body   []byte
}

// Faults are injected failures, each consumed once per call.
type Faults struct {
	DropNextWebhooks   int `json:"drop_next_webhooks"`
	FailNextPreference int `json:"fail_next_preferences"`
	FailNextPayouts    int `json:"fail_next_payouts"`
	// RefuseNextPayouts answers 400 invalid destination, as MercadoPago does for an
	// account that does not exist: nothing is transferred.
	RefuseNextPayouts  int `json:"refuse_next_payouts"`
	FailNextRefunds    int `json:"fail_next_refunds"`
	FailNextPaymentGet int `json:"fail_next_payment_gets"`
	FailNextSearches   int `json:"fail_next_searches"`
}

// Server is the simulator.
type Server struct {
	cfg Config

	mu         sync.Mutex
	base       string
	prefs      map[string]*Preference
	payments   map[int64]*Payment
	payouts    map[string]*Payout
	idem       map[string]idemEntry
	deliveries []Delivery
	faults     Faults
	nextID     int64
	calls      map[string]int

	wg     sync.WaitGroup
	ctx    context.Context
	cancel context.CancelFunc
	srv    *http.Server
}

// New returns a simulator; call Start or mount Handler.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 22 * time.Second}
	}
	if cfg.CollectorID == 0 {
		cfg.CollectorID = 1234567890
	}
	if cfg.RetryDelays == nil {
		cfg.RetryDelays = []time.Duration{200 * time.Millisecond, time.Second, 5 * time.Second, 30 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, base: strings.TrimRight(cfg.PublicURL, "/"),
		prefs: map[string]*Preference{}, payments: map[int64]*Payment{}, payouts: map[string]*Payout{},
		idem: map[string]idemEntry{}, calls: map[string]int{},
		// Ids grow from a time-based start so a restarted simulator never reuses an id a
		// database may still remember.
		nextID: cfg.Now().UnixMilli() % 1_000_000_000_000,
		ctx:    ctx, cancel: cancel}
}

// Start listens on addr ("127.0.0.1:0" for a free port) and returns the base URL.
func (s *Server) Start(addr string) (string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", fmt.Errorf("mpsim: listen %s: %w", addr, err)
	}
	u := "http://" + ln.Addr().String()
	s.mu.Lock()
	if s.base == "" {
		s.base = u
	}
	s.mu.Unlock()
	s.srv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return u, nil
}

// Close stops the server and pending deliveries.
func (s *Server) Close() {
	s.cancel()
	if s.srv != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.srv.Shutdown(ctx)
	}
	s.wg.Wait()
}

// SetBaseURL sets the base of init_point links (when mounted behind another server).
func (s *Server) SetBaseURL(u string) {
	s.mu.Lock()
	s.base = strings.TrimRight(u, "/")
	s.mu.Unlock()
}

// Handler serves the API, the checkout page and the control endpoints.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /checkout/preferences", s.api(s.createPreference))
	mux.HandleFunc("GET /checkout/preferences/{id}", s.api(s.getPreference))
	mux.HandleFunc("GET /v1/payments/search", s.api(s.searchPayments))
	mux.HandleFunc("GET /v1/payments/{id}", s.api(s.getPayment))
	mux.HandleFunc("POST /v1/payments/{id}/refunds", s.api(s.createRefund))
	mux.HandleFunc("GET /v1/payments/{id}/refunds", s.api(s.listRefunds))
	mux.HandleFunc("POST /v1/transaction-intents/process", s.api(s.createPayout))
	mux.HandleFunc("GET /v1/transaction-intents/{id}", s.api(s.getPayout))

	mux.HandleFunc("GET /checkout/v1/redirect", s.checkoutPage)
	mux.HandleFunc("POST /checkout/v1/pay", s.checkoutPay)

	mux.HandleFunc("POST /_sim/preferences/{id}/pay", s.simPay)
	mux.HandleFunc("POST /_sim/payments/{id}/{action}", s.simAction)
	mux.HandleFunc("POST /_sim/faults", s.simFaults)
	mux.HandleFunc("GET /_sim/webhooks", s.simDeliveries)
	mux.HandleFunc("GET /_sim/payouts", s.simPayouts)
	mux.HandleFunc("GET /_sim/preferences", s.simPreferences)
	mux.HandleFunc("GET /_sim/calls", s.simCalls)
	mux.HandleFunc("GET /_sim/health", func(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, map[string]string{"status": "ok"}) })
	return mux
}

// --- API plumbing -------------------------------------------------------------------

type apiFunc func(r *http.Request, body []byte) (int, any)

// api checks the token, honours X-Idempotency-Key for POSTs (same key and path → the
// stored answer) and writes JSON.
func (s *Server) api(fn apiFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.cfg.AccessToken != "" && r.Header.Get("Authorization") != "Bearer "+s.cfg.AccessToken {
			writeJSON(w, http.StatusUnauthorized, mpError(401, "unauthorized", "invalid access token"))
			return
		}
		var body bytes.Buffer
		if r.Body != nil {
			if _, err := body.ReadFrom(http.MaxBytesReader(w, r.Body, 1<<20)); err != nil {
				writeJSON(w, http.StatusBadRequest, mpError(400, "bad_request", "body too large or unreadable"))
				return
			}
		}
		key := ""
		if r.Method == http.MethodPost {
			if k := r.Header.Get("X-Idempotency-Key"); k != "" {
				key = r.URL.Path + "|" + k
				s.mu.Lock()
				e, ok := s.idem[key]
				s.mu.Unlock()
				if ok {
					w.Header().Set("Content-Type", "application/json")
					w.Header().Set("X-Idempotency-Replayed", "true")
					w.WriteHeader(e.status)
					_, _ = w.Write(e.body)
					return
				}
			}
		}
		s.mu.Lock()
		s.calls[r.Method+" "+r.Pattern]++
		s.mu.Unlock()
		status, out := fn(r, body.Bytes())
		b, _ := json.Marshal(out)
		// Only successful answers are remembered: a failed call may be retried with the
		// same key, as MercadoPago allows.
		if key != "" && status < 300 {
			s.mu.Lock()
			s.idem[key] = idemEntry{status, b}
			s.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(b)
	}
}

func mpError(status int, code, msg string) map[string]any {
	return map[string]any{"message": msg, "error": code, "status": status, "cause": []any{}}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func newID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// mpTime renders times like the API does (millis, Buenos Aires offset).
func mpTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.In(time.FixedZone("", -3*3600)).Format("2006-01-02T15:04:05.000-07:00")
}

// --- preferences --------------------------------------------------------------------

func (s *Server) createPreference(r *http.Request, body []byte) (int, any) {
	var p Preference
	if err := json.Unmarshal(body, &p); err != nil {
		return 400, mpError(400, "bad_request", "invalid JSON: "+err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.FailNextPreference > 0 {
		s.faults.FailNextPreference--
		return 500, mpError(500, "internal_error", "simulated failure")
	}
	if len(p.Items) == 0 {
		return 400, mpError(400, "invalid_items", "items needed")
	}
	for _, it := range p.Items {
		if it.UnitPrice <= 0 || it.Quantity <= 0 {
			return 400, mpError(400, "invalid_items", "unit_price and quantity must be positive")
		}
	}
	if p.AutoReturn != "" && p.BackURLs.Success == "" {
		return 400, mpError(400, "invalid_auto_return", "auto_return invalid. back_url.success must be defined")
	}
	p.ID = fmt.Sprintf("%d-%s", s.cfg.CollectorID, newID())
	p.Created = s.cfg.Now()
	s.prefs[p.ID] = &p
	return 201, s.prefJSON(&p)
}

func (s *Server) prefJSON(p *Preference) map[string]any {
	link := s.base + "/checkout/v1/redirect?pref_id=" + url.QueryEscape(p.ID)
	return map[string]any{
		"id": p.ID, "items": p.Items, "payer": p.Payer, "back_urls": p.BackURLs,
		"notification_url": p.NotificationURL, "external_reference": p.ExternalReference,
		"auto_return": p.AutoReturn, "statement_descriptor": p.StatementDescriptor,
		"init_point": link, "sandbox_init_point": link + "&sandbox=true",
		"collector_id": s.cfg.CollectorID, "client_id": "sim", "operation_type": "regular_payment",
		"date_created": mpTime(p.Created),
		"expires":      p.Expires, "expiration_date_from": mpTimePtr(p.ExpirationDateFrom), "expiration_date_to": mpTimePtr(p.ExpirationDateTo),
	}
}

func mpTimePtr(t *time.Time) any {
	if t == nil {
		return nil
	}
	return mpTime(*t)
}

func (s *Server) getPreference(r *http.Request, _ []byte) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.prefs[r.PathValue("id")]
	if !ok {
		return 404, mpError(404, "not_found", "preference not found")
	}
	return 200, s.prefJSON(p)
}

func (p *Preference) total() float64 {
	var t float64
	for _, it := range p.Items {
		t += it.UnitPrice * float64(it.Quantity)
	}
	return math.Round(t*100) / 100
}

// --- payments -----------------------------------------------------------------------

func (s *Server) paymentJSON(p *Payment) map[string]any {
	return map[string]any{
		"id": p.ID, "status": p.Status, "status_detail": p.StatusDetail,
		"external_reference": p.ExternalReference, "transaction_amount": p.Amount,
		"transaction_amount_refunded": p.Refunded, "currency_id": p.Currency,
		"description": p.Description, "collector_id": s.cfg.CollectorID, "live_mode": false,
		"payment_method_id": "visa", "payment_type_id": "credit_card", "installments": 1,
		"operation_type": "regular_payment", "statement_descriptor": "CONECTAR_PRO",
		"date_created": mpTime(p.Created), "date_last_updated": mpTime(p.Updated),
		"date_approved":      mpTime(p.Approved),
		"money_release_date": mpTime(p.Created.Add(14 * 24 * time.Hour)),
		"payer":              map[string]any{"email": p.PayerEmail, "identification": map[string]any{"type": "DNI", "number": "***"}},
		"metadata":           map[string]any{"preference_id": p.PreferenceID},
		"order":              map[string]any{"type": "mercadopago", "id": strconv.FormatInt(p.ID/7, 10)},
		"transaction_details": map[string]any{"net_received_amount": math.Round(p.Amount*0.95*100) / 100,
			"total_paid_amount": p.Amount, "installment_amount": p.Amount},
		// Masked like the real API since 2026: the month and year are strings "***",
		// which sdk-go v1.8.0 cannot decode into its int fields.
		"card": map[string]any{
			"id": "9000000001", "first_six_digits": "450995", "last_four_digits": "3704",
			"expiration_month": "***", "expiration_year": "***",
			"cardholder":   map[string]any{"name": "APRO", "identification": map[string]any{"type": "DNI", "number": "***"}},
			"date_created": mpTime(p.Created), "date_last_updated": mpTime(p.Created),
		},
		"refunds":     s.refundsJSON(p),
		"fee_details": []any{map[string]any{"type": "mercadopago_fee", "amount": math.Round(p.Amount*0.05*100) / 100, "fee_payer": "collector"}},
	}
}

func (s *Server) refundsJSON(p *Payment) []any {
	out := make([]any, 0, len(p.Refunds))
	for _, rf := range p.Refunds {
		out = append(out, map[string]any{"id": rf.ID, "payment_id": p.ID, "amount": rf.Amount, "status": "approved",
			"refund_mode": "standard", "source": map[string]any{"id": strconv.FormatInt(s.cfg.CollectorID, 10), "name": "sim", "type": "collector"},
			"date_created": mpTime(rf.Created)})
	}
	return out
}

func pathInt(r *http.Request, name string) (int64, bool) {
	v, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return v, err == nil && v > 0
}

func (s *Server) getPayment(r *http.Request, _ []byte) (int, any) {
	id, ok := pathInt(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.FailNextPaymentGet > 0 {
		s.faults.FailNextPaymentGet--
		return 500, mpError(500, "internal_error", "simulated failure")
	}
	p, found := s.payments[id]
	if !ok || !found {
		return 404, mpError(404, "not_found", "Payment not found")
	}
	return 200, s.paymentJSON(p)
}

func (s *Server) searchPayments(r *http.Request, _ []byte) (int, any) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	if limit <= 0 || limit > 1000 {
		limit = 30
	}
	ref := q.Get("external_reference")
	status := q.Get("status")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.FailNextSearches > 0 {
		s.faults.FailNextSearches--
		return 500, mpError(500, "internal_error", "simulated failure")
	}
	var all []*Payment
	for _, p := range s.payments {
		if (ref == "" || p.ExternalReference == ref) && (status == "" || p.Status == status) {
			all = append(all, p)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].ID < all[j].ID })
	res := []any{}
	for i := offset; i < len(all) && i < offset+limit; i++ {
		res = append(res, s.paymentJSON(all[i]))
	}
	return 200, map[string]any{"paging": map[string]any{"total": len(all), "limit": limit, "offset": offset}, "results": res}
}

func (s *Server) createRefund(r *http.Request, body []byte) (int, any) {
	id, _ := pathInt(r, "id")
	var req struct {
		Amount *float64 `json:"amount"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &req); err != nil {
			return 400, mpError(400, "bad_request", "invalid JSON")
		}
	}
	s.mu.Lock()
	if s.faults.FailNextRefunds > 0 {
		s.faults.FailNextRefunds--
		s.mu.Unlock()
		return 500, mpError(500, "internal_error", "simulated failure")
	}
	p, ok := s.payments[id]
	if !ok {
		s.mu.Unlock()
		return 404, mpError(404, "not_found", "Payment not found")
	}
	if p.Status != "approved" {
		s.mu.Unlock()
		return 400, mpError(400, "invalid_status", "Payment status must be approved to refund, is "+p.Status)
	}
	left := math.Round((p.Amount-p.Refunded)*100) / 100
	amt := left
	if req.Amount != nil {
		amt = *req.Amount
	}
	if amt <= 0 || amt > left+0.001 {
		s.mu.Unlock()
		return 400, mpError(400, "invalid_amount", "invalid refund amount")
	}
	now := s.cfg.Now()
	s.nextID++
	rf := Refund{ID: s.nextID, Amount: amt, Created: now}
	p.Refunds = append(p.Refunds, rf)
	p.Refunded = math.Round((p.Refunded+amt)*100) / 100
	p.Updated = now
	if p.Refunded >= p.Amount-0.001 {
		p.Status, p.StatusDetail = "refunded", "refunded"
	} else {
		p.StatusDetail = "partially_refunded"
	}
	out := map[string]any{"id": rf.ID, "payment_id": p.ID, "amount": amt, "status": "approved", "refund_mode": "standard",
		"date_created": mpTime(now), "source": map[string]any{"id": strconv.FormatInt(s.cfg.CollectorID, 10), "name": "sim", "type": "collector"}}
	s.mu.Unlock()
	s.notify(p.ID, "payment.updated", 1)
	return 201, out
}

func (s *Server) listRefunds(r *http.Request, _ []byte) (int, any) {
	id, _ := pathInt(r, "id")
	s.mu.Lock()
	defer s.mu.Unlock()
	p, ok := s.payments[id]
	if !ok {
		return 404, mpError(404, "not_found", "Payment not found")
	}
	return 200, s.refundsJSON(p)
}

// --- payouts ------------------------------------------------------------------------

type payoutRequest struct {
	ExternalReference string `json:"external_reference"`
	Transaction       struct {
		From struct {
			Accounts []struct {
				Amount float64 `json:"amount"`
			} `json:"accounts"`
		} `json:"from"`
		To struct {
			Accounts []struct {
				Amount float64 `json:"amount"`
				Alias  string  `json:"alias"`
				Type   string  `json:"type"`
			} `json:"accounts"`
		} `json:"to"`
		TotalAmount float64 `json:"total_amount"`
	} `json:"transaction"`
}

func (s *Server) createPayout(r *http.Request, body []byte) (int, any) {
	var req payoutRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return 400, mpError(400, "bad_request", "invalid JSON")
	}
	if len(req.Transaction.To.Accounts) != 1 || req.Transaction.To.Accounts[0].Alias == "" ||
		req.Transaction.TotalAmount <= 0 || math.Abs(req.Transaction.To.Accounts[0].Amount-req.Transaction.TotalAmount) > 0.001 {
		return 400, mpError(400, "invalid_transaction", "one destination account with alias and amount = total_amount is required")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.faults.FailNextPayouts > 0 {
		s.faults.FailNextPayouts--
		return 500, mpError(500, "internal_error", "simulated failure")
	}
	if s.faults.RefuseNextPayouts > 0 {
		s.faults.RefuseNextPayouts--
		return 400, mpError(400, "invalid_destination", "the destination account does not exist")
	}
	po := &Payout{ID: newID(), ExternalReference: req.ExternalReference, Amount: req.Transaction.TotalAmount,
		Destination: req.Transaction.To.Accounts[0].Alias, Status: "approved", Created: s.cfg.Now()}
	s.payouts[po.ID] = po
	return 201, payoutJSON(po)
}

func payoutJSON(po *Payout) map[string]any {
	return map[string]any{"id": po.ID, "status": po.Status, "external_reference": po.ExternalReference,
		"created_date": mpTime(po.Created), "last_updated_date": mpTime(po.Created),
		"transaction": map[string]any{"total_amount": po.Amount,
			"to": map[string]any{"accounts": []any{map[string]any{"amount": po.Amount, "alias": po.Destination, "status_details": []any{}}}}}}
}

func (s *Server) getPayout(r *http.Request, _ []byte) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	po, ok := s.payouts[r.PathValue("id")]
	if !ok {
		return 404, mpError(404, "not_found", "transaction intent not found")
	}
	return 200, payoutJSON(po)
}

// --- payments created by the checkout page or the control API ------------------------

// Pay creates a payment for preference prefID with status ("approved", "rejected",
// "pending", "in_process"); amount 0 means the preference's total. It sends the webhook.
func (s *Server) Pay(prefID, status string, amount float64) (int64, error) {
	s.mu.Lock()
	p, ok := s.prefs[prefID]
	if !ok {
		s.mu.Unlock()
		return 0, fmt.Errorf("preference %q not found", prefID)
	}
	now := s.cfg.Now()
	if amount <= 0 {
		amount = p.total()
	}
	cur := "ARS"
	if len(p.Items) > 0 && p.Items[0].CurrencyID != "" {
		cur = p.Items[0].CurrencyID
	}
	s.nextID++
	pay := &Payment{ID: s.nextID, PreferenceID: p.ID, ExternalReference: p.ExternalReference, Amount: amount,
		Currency: cur, NotificationURL: p.NotificationURL, Created: now, Updated: now}
	if len(p.Items) > 0 {
		pay.Description = p.Items[0].Title
	}
	if e, ok := p.Payer["email"].(string); ok {
		pay.PayerEmail = e
	}
	if err := setStatus(pay, status, now); err != nil {
		s.mu.Unlock()
		return 0, err
	}
	s.payments[pay.ID] = pay
	s.mu.Unlock()
	s.notify(pay.ID, "payment.created", 1)
	return pay.ID, nil
}

func setStatus(p *Payment, status string, now time.Time) error {
	switch status {
	case "approved":
		p.Status, p.StatusDetail, p.Approved = "approved", "accredited", now
	case "rejected":
		p.Status, p.StatusDetail = "rejected", "cc_rejected_insufficient_amount"
	case "pending":
		p.Status, p.StatusDetail = "pending", "pending_waiting_payment"
	case "in_process":
		p.Status, p.StatusDetail = "in_process", "pending_review_manual"
	case "cancelled":
		p.Status, p.StatusDetail = "cancelled", "by_collector"
	case "charged_back":
		p.Status, p.StatusDetail = "charged_back", "settled"
	case "in_mediation":
		// A claim is open; MercadoPago answers it with approved again (decided for the
		// seller) or refunded.
		p.Status, p.StatusDetail = "in_mediation", ""
	case "charged_back/reimbursed":
		// The card dispute decided for the seller: the status stays, the detail changes.
		p.Status, p.StatusDetail = "charged_back", "reimbursed"
	case "refunded":
		p.Status, p.StatusDetail, p.Refunded = "refunded", "by_admin", p.Amount
	default:
		return fmt.Errorf("unknown status %q", status)
	}
	p.Updated = now
	return nil
}

// SetStatus moves payment id to status and sends a payment.updated webhook.
func (s *Server) SetStatus(id int64, status string) error {
	s.mu.Lock()
	p, ok := s.payments[id]
	if !ok {
		s.mu.Unlock()
		return fmt.Errorf("payment %d not found", id)
	}
	if err := setStatus(p, status, s.cfg.Now()); err != nil {
		s.mu.Unlock()
		return err
	}
	s.mu.Unlock()
	s.notify(id, "payment.updated", 1)
	return nil
}

// --- webhooks -----------------------------------------------------------------------

// Sign returns the x-signature header MercadoPago sends: HMAC-SHA256 (hex) of
// "id:<data.id>;request-id:<x-request-id>;ts:<ts>;" keyed with the webhook secret.
func Sign(secret, dataID, requestID string, ts int64) string {
	manifest := "id:" + dataID + ";request-id:" + requestID + ";ts:" + strconv.FormatInt(ts, 10) + ";"
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(manifest))
	return "ts=" + strconv.FormatInt(ts, 10) + ",v1=" + hex.EncodeToString(m.Sum(nil))
}

// notify sends times webhooks for payment id (each with its own x-request-id), in the
// background, retrying failed deliveries.
func (s *Server) notify(id int64, action string, times int) {
	s.mu.Lock()
	p, ok := s.payments[id]
	if !ok || p.NotificationURL == "" {
		s.mu.Unlock()
		return
	}
	target := p.NotificationURL
	s.mu.Unlock()
	for i := 0; i < times; i++ {
		s.mu.Lock()
		drop := s.faults.DropNextWebhooks > 0
		if drop {
			s.faults.DropNextWebhooks--
			s.deliveries = append(s.deliveries, Delivery{PaymentID: id, URL: target, Action: action, Dropped: true, At: s.cfg.Now()})
		}
		s.mu.Unlock()
		if drop {
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.deliver(id, target, action)
		}()
	}
}

func (s *Server) deliver(id int64, target, action string) {
	u, err := url.Parse(target)
	if err != nil {
		s.cfg.Log.Warn("mpsim: bad notification_url", "url", target, "err", err)
		return
	}
	q := u.Query()
	dataID := strconv.FormatInt(id, 10)
	q.Set("data.id", dataID)
	q.Set("type", "payment")
	u.RawQuery = q.Encode()
	reqID := newID()
	for attempt := 0; ; attempt++ {
		now := s.cfg.Now()
		body, _ := json.Marshal(map[string]any{
			"id": now.UnixNano() % 1e12, "live_mode": false, "type": "payment", "date_created": mpTime(now),
			"user_id": s.cfg.CollectorID, "api_version": "v1", "action": action, "data": map[string]string{"id": dataID},
		})
		req, err := http.NewRequestWithContext(s.ctx, http.MethodPost, u.String(), bytes.NewReader(body))
		if err != nil {
			return
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("User-Agent", "restclient-node/mpsim")
		req.Header.Set("X-Request-Id", reqID)
		req.Header.Set("X-Retry", strconv.Itoa(attempt))
		req.Header.Set("X-Socket-Timeout", "22000")
		req.Header.Set("X-Signature", Sign(s.cfg.WebhookSecret, dataID, reqID, now.UnixMilli()))
		d := Delivery{PaymentID: id, URL: u.String(), RequestID: reqID, Action: action, Attempt: attempt, At: now}
		resp, err := s.cfg.Client.Do(req)
		if err != nil {
			d.Error = err.Error()
		} else {
			d.StatusCode = resp.StatusCode
			resp.Body.Close()
		}
		s.mu.Lock()
		s.deliveries = append(s.deliveries, d)
		s.mu.Unlock()
		if err == nil && (resp.StatusCode == 200 || resp.StatusCode == 201) {
			return
		}
		if attempt >= len(s.cfg.RetryDelays) {
			s.cfg.Log.Warn("mpsim: webhook given up", "payment", id, "attempts", attempt+1)
			return
		}
		select {
		case <-s.ctx.Done():
			return
		case <-time.After(s.cfg.RetryDelays[attempt]):
		}
	}
}

// Deliveries returns the webhook log.
func (s *Server) Deliveries() []Delivery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Delivery(nil), s.deliveries...)
}

// Payouts returns every payout made.
func (s *Server) Payouts() []Payout {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payout, 0, len(s.payouts))
	for _, p := range s.payouts {
		out = append(out, *p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Created.Before(out[j].Created) })
	return out
}

// SetFaults adds injected failures.
func (s *Server) SetFaults(f Faults) {
	s.mu.Lock()
	s.faults.DropNextWebhooks += f.DropNextWebhooks
	s.faults.FailNextPreference += f.FailNextPreference
	s.faults.FailNextPayouts += f.FailNextPayouts
	s.faults.RefuseNextPayouts += f.RefuseNextPayouts
	s.faults.FailNextRefunds += f.FailNextRefunds
	s.faults.FailNextPaymentGet += f.FailNextPaymentGet
	s.faults.FailNextSearches += f.FailNextSearches
	s.mu.Unlock()
}

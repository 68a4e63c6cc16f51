// Package mp is the MercadoPago adapter: Checkout Pro preferences, payments, search and
// refunds through sdk-go v1.8.0, and the Money Out transfer (not in the SDK) over plain
// HTTP. sdk-go v1.8.0 hard-codes https://api.mercadopago.com, sends a random
// X-Idempotency-Key per call and fails to decode payments whose card fields are masked as
// "***"; the requester in this package fixes all three by wrapping the SDK's HTTP client:
// it rewrites the base URL (simulator), sets a stable idempotency key carried in the
// context, replaces masked values with null before the SDK decodes them, and retries
// transport errors and 5xx answers a bounded number of times.
package mp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mercadopago/sdk-go/pkg/config"
	"github.com/mercadopago/sdk-go/pkg/mperror"
	"github.com/mercadopago/sdk-go/pkg/payment"
	"github.com/mercadopago/sdk-go/pkg/preference"
	"github.com/mercadopago/sdk-go/pkg/refund"
)

// Config configures the client.
type Config struct {
	AccessToken string
	// BaseURL replaces https://api.mercadopago.com (the simulator); empty keeps it.
	BaseURL string
	// Attempts per call (transport errors and 5xx are retried); default 3.
	Attempts int
	// Backoff between attempts; default 150ms, doubled each time.
	Backoff time.Duration
	// Timeout of one attempt; default 5s.
	Timeout time.Duration
}

// Client talks to MercadoPago.
type Client struct {
	pref  preference.Client
	pay   payment.Client
	ref   refund.Client
	req   *requester
	base  string
	token string
}

// New builds a client.
func New(c Config) (*Client, error) {
	if c.AccessToken == "" {
		return nil, errors.New("mp: access token required")
	}
	if c.Attempts <= 0 {
		c.Attempts = 3
	}
	if c.Backoff <= 0 {
		c.Backoff = 150 * time.Millisecond
	}
	if c.Timeout <= 0 {
		c.Timeout = 5 * time.Second
	}
	rq := &requester{c: &http.Client{Timeout: c.Timeout, Transport: &http.Transport{
		MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 90 * time.Second}},
		attempts: c.Attempts, backoff: c.Backoff}
	base := "https://api.mercadopago.com"
	if c.BaseURL != "" {
		u, err := url.Parse(strings.TrimRight(c.BaseURL, "/"))
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("mp: bad base URL %q", c.BaseURL)
		}
		rq.target = u
		base = u.String()
	}
	cfg, err := config.New(c.AccessToken, config.WithHTTPClient(rq))
	if err != nil {
		return nil, fmt.Errorf("mp: config: %w", err)
	}
	return &Client{pref: preference.NewClient(cfg), pay: payment.NewClient(cfg), ref: refund.NewClient(cfg),
		req: rq, base: base, token: c.AccessToken}, nil
}

type idemKey struct{}

// WithIdempotencyKey makes every POST made with ctx carry key as X-Idempotency-Key, so a
// retried call (ours or the requester's) never creates a second preference, refund or
// payout.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, idemKey{}, key)
}

// Error classifies a failed call: Permanent for 4xx answers (retrying cannot help).
type Error struct {
	Status    int
	Permanent bool
	Err       error
}

func (e *Error) Error() string { return e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

// IsPermanent tells whether err is a 4xx answer.
func IsPermanent(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Permanent
}

// IsNotFound tells whether err is a 404 answer.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

func classify(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *mperror.ResponseError
	if errors.As(err, &re) {
		return &Error{Status: re.StatusCode, Permanent: re.StatusCode >= 400 && re.StatusCode < 500,
			Err: fmt.Errorf("mp %s: status %d: %s", op, re.StatusCode, truncate(re.Message, 300))}
	}
	return &Error{Err: fmt.Errorf("mp %s: %w", op, err)}
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n] + "…"
	}
	return s
}

// Centavos ↔ the API's decimal numbers, only at this boundary.
func toAmount(c int64) float64   { return float64(c) / 100 }
func fromAmount(f float64) int64 { return int64(math.Round(f * 100)) }

// PreferenceInput is what a Checkout Pro preference needs.
type PreferenceInput struct {
	TrabajoID       string
	Descripcion     string
	PrecioCentavos  int64
	PayerEmail      string
	SuccessURL      string
	FailureURL      string
	PendingURL      string
	NotificationURL string
	// CreatedAt and ExpiresAt bound when the link can be paid (expires,
	// expiration_date_from/to); a zero ExpiresAt makes a link that never expires.
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Preference is a created preference.
type Preference struct {
	ID               string
	InitPoint        string
	SandboxInitPoint string
	// ExpiresAt is the expiration_date_to MercadoPago recorded (zero: none).
	ExpiresAt time.Time
}

// CreatePreference creates the job's checkout (idempotency key derived from the job).
func (c *Client) CreatePreference(ctx context.Context, in PreferenceInput) (Preference, error) {
	desc := in.Descripcion
	if r := []rune(desc); len(r) > 255 {
		desc = string(r[:255])
	}
	req := preference.Request{
		Items: []preference.ItemRequest{{ID: in.TrabajoID, Title: "Servicio Profesional", Description: desc,
			CurrencyID: "ARS", UnitPrice: toAmount(in.PrecioCentavos), Quantity: 1, CategoryID: "services"}},
		BackURLs:            &preference.BackURLsRequest{Success: in.SuccessURL, Failure: in.FailureURL, Pending: in.PendingURL},
		NotificationURL:     in.NotificationURL,
		ExternalReference:   in.TrabajoID,
		AutoReturn:          "approved",
		StatementDescriptor: "CONECTAR_PRO",
		Metadata:            map[string]any{"trabajo_id": in.TrabajoID},
	}
	if in.PayerEmail != "" {
		req.Payer = &preference.PayerRequest{Email: in.PayerEmail}
	}
	if !in.ExpiresAt.IsZero() {
		to := in.ExpiresAt
		req.Expires, req.ExpirationDateTo = true, &to
		if !in.CreatedAt.IsZero() {
			from := in.CreatedAt
			req.ExpirationDateFrom = &from
		}
	}
	ctx = WithIdempotencyKey(ctx, "pref-"+in.TrabajoID)
	res, err := c.pref.Create(ctx, req)
	if err != nil {
		return Preference{}, classify("create preference", err)
	}
	return Preference{ID: res.ID, InitPoint: res.InitPoint, SandboxInitPoint: res.SandboxInitPoint, ExpiresAt: res.ExpirationDateTo}, nil
}

// Payment is what we read of a payment.
type Payment struct {
	ID                string
	Status            string
	StatusDetail      string
	ExternalReference string
	AmountCentavos    int64
	RefundedCentavos  int64
	Currency          string
	DateLastUpdated   time.Time
}

func fromSDK(r *payment.Response) Payment {
	return Payment{ID: strconv.Itoa(r.ID), Status: r.Status, StatusDetail: r.StatusDetail,
		ExternalReference: r.ExternalReference, AmountCentavos: fromAmount(r.TransactionAmount),
		RefundedCentavos: fromAmount(r.TransactionAmountRefunded), Currency: r.CurrencyID, DateLastUpdated: r.DateLastUpdated}
}

// GetPayment reads a payment by id (a decimal string, as webhooks carry it).
func (c *Client) GetPayment(ctx context.Context, id string) (Payment, error) {
	n, err := strconv.Atoi(id)
	if err != nil || n <= 0 {
		return Payment{}, &Error{Status: 400, Permanent: true, Err: fmt.Errorf("mp get payment: bad id %q", id)}
	}
	res, err := c.pay.Get(ctx, n)
	if err != nil {
		return Payment{}, classify("get payment "+id, err)
	}
	return fromSDK(res), nil
}

// SearchByExternalReference lists the payments of a job.
func (c *Client) SearchByExternalReference(ctx context.Context, ref string) ([]Payment, error) {
	res, err := c.pay.Search(ctx, payment.SearchRequest{Limit: 50, Filters: map[string]string{
		"external_reference": ref, "sort": "date_created", "criteria": "desc"}})
	if err != nil {
		return nil, classify("search payments "+ref, err)
	}
	out := make([]Payment, 0, len(res.Results))
	for i := range res.Results {
		out = append(out, fromSDK(&res.Results[i]))
	}
	return out, nil
}

// Refund refunds a payment in full with a stable idempotency key.
func (c *Client) Refund(ctx context.Context, paymentID, key string) (string, error) {
	n, err := strconv.Atoi(paymentID)
	if err != nil || n <= 0 {
		return "", &Error{Status: 400, Permanent: true, Err: fmt.Errorf("mp refund: bad payment id %q", paymentID)}
	}
	res, err := c.ref.Create(WithIdempotencyKey(ctx, key), n)
	if err != nil {
		return "", classify("refund "+paymentID, err)
	}
	return strconv.Itoa(res.ID), nil
}

// PayoutInput is a Money Out transfer to a professional.
type PayoutInput struct {
	Key            string // idempotency key, derived from the withdrawal (or, earlier, the job)
	Reference      string // external_reference
	Destination    string // CVU, CBU or Mercado Pago alias
	AmountCentavos int64
}

// Payout sends money out with POST /v1/transaction-intents/process (not in sdk-go).
func (c *Client) Payout(ctx context.Context, in PayoutInput) (string, error) {
	amt := toAmount(in.AmountCentavos)
	body := map[string]any{
		"external_reference":   in.Reference,
		"point_of_interaction": map[string]any{"type": "PSP_TRANSFER"},
		"transaction": map[string]any{
			"from":         map[string]any{"accounts": []any{map[string]any{"amount": amt}}},
			"to":           map[string]any{"accounts": []any{map[string]any{"amount": amt, "alias": in.Destination, "type": "mercadopago"}}},
			"total_amount": amt,
		},
	}
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(WithIdempotencyKey(ctx, in.Key), http.MethodPost,
		"https://api.mercadopago.com/v1/transaction-intents/process", bytes.NewReader(b))
	if err != nil {
		return "", fmt.Errorf("mp payout: %w", err)
	}
	req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil }
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.req.Do(req)
	if err != nil {
		return "", &Error{Err: fmt.Errorf("mp payout: %w", err)}
	}
	defer resp.Body.Close()
	rb, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode > 299 {
		return "", &Error{Status: resp.StatusCode, Permanent: resp.StatusCode < 500,
			Err: fmt.Errorf("mp payout: status %d: %s", resp.StatusCode, truncate(string(rb), 300))}
	}
	var out struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(rb, &out); err != nil || out.ID == "" {
		return "", &Error{Err: fmt.Errorf("mp payout: bad answer %q", truncate(string(rb), 200))}
	}
	if out.Status == "rejected" || out.Status == "failed" {
		return "", &Error{Permanent: true, Err: fmt.Errorf("mp payout: transfer %s %s", out.ID, out.Status)}
	}
	return out.ID, nil
}

// requester implements sdk-go's requester.Requester.
type requester struct {
	c        *http.Client
	target   *url.URL
	attempts int
	backoff  time.Duration
}

// Do rewrites the base URL, sets the stable idempotency key, retries transport errors and
// 5xx (same request, same key), and neutralises masked values in the answer.
func (r *requester) Do(req *http.Request) (*http.Response, error) {
	if r.target != nil {
		req.URL.Scheme, req.URL.Host, req.Host = r.target.Scheme, r.target.Host, r.target.Host
	}
	if k, ok := req.Context().Value(idemKey{}).(string); ok && k != "" && req.Method != http.MethodGet {
		req.Header.Set("X-Idempotency-Key", k)
	}
	wait := r.backoff
	var resp *http.Response
	var err error
	for attempt := 1; ; attempt++ {
		if attempt > 1 && req.GetBody != nil {
			body, gerr := req.GetBody()
			if gerr != nil {
				return nil, fmt.Errorf("rewind body: %w", gerr)
			}
			req.Body = body
		}
		resp, err = r.c.Do(req)
		retry := err != nil || resp.StatusCode >= 500 && resp.StatusCode != http.StatusNotImplemented
		if !retry || attempt >= r.attempts || req.Context().Err() != nil {
			break
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
		wait *= 2
	}
	if err != nil || resp.Body == nil {
		return resp, err
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("read answer: %w", err)
	}
	b = Sanitize(b)
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(b)), int64(len(b))
	return resp, nil
}

// Sanitize replaces masked values ("***", as MercadoPago sends card expiration fields
// since 2026) with null, which sdk-go decodes into zero values instead of failing.
func Sanitize(b []byte) []byte {
	if !bytes.Contains(b, []byte(`"***"`)) {
		return b
	}
	return bytes.ReplaceAll(b, []byte(`"***"`), []byte(`null`))
}

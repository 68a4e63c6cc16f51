package mp_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mercadopago/sdk-go/pkg/config"
	"github.com/mercadopago/sdk-go/pkg/payment"

	"github.com/conectarpro/conectar/services/payments/mp"
	"github.com/conectarpro/conectar/services/payments/mpsim"
)

type rewrite struct{ target *url.URL }

func (r rewrite) RoundTrip(req *http.Request) (*http.Response, error) {
	req = req.Clone(req.Context())
	req.URL.Scheme, req.URL.Host, req.Host = r.target.Scheme, r.target.Host, r.target.Host
	return http.DefaultTransport.RoundTrip(req)
}

func setup(t *testing.T) (*mpsim.Server, string, *mp.Client) {
	sim := mpsim.New(mpsim.Config{AccessToken: "tok", WebhookSecret: "s"})
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(sim.Close)
	c, err := mp.New(mp.Config{AccessToken: "tok", BaseURL: u, Backoff: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return sim, u, c
}

// The simulator masks card fields like the real API; plain sdk-go v1.8.0 fails on them,
// our requester does not.
func TestMaskedCardDecoding(t *testing.T) {
	sim, u, c := setup(t)
	ctx := context.Background()
	pref, err := c.CreatePreference(ctx, mp.PreferenceInput{TrabajoID: "job-1", Descripcion: "x", PrecioCentavos: 123456, PayerEmail: "a@b.c",
		SuccessURL: "http://f/s", FailureURL: "http://f/f", PendingURL: "http://f/p"})
	if err != nil {
		t.Fatal(err)
	}
	id, err := sim.Pay(pref.ID, "approved", 0)
	if err != nil {
		t.Fatal(err)
	}
	target, _ := url.Parse(u)
	cfg, _ := config.New("tok", config.WithHTTPClient(&http.Client{Transport: rewrite{target}}))
	if _, err := payment.NewClient(cfg).Get(ctx, int(id)); err == nil || !strings.Contains(err.Error(), "cannot unmarshal") {
		t.Fatalf("plain SDK decoded a masked payment (err %v): the simulator no longer masks", err)
	}
	p, err := c.GetPayment(ctx, strconv.FormatInt(id, 10))
	if err != nil {
		t.Fatal(err)
	}
	if p.Status != "approved" || p.ExternalReference != "job-1" || p.AmountCentavos != 123456 || p.Currency != "ARS" {
		t.Fatalf("payment %+v", p)
	}
	if _, err := c.GetPayment(ctx, "999"); !mp.IsNotFound(err) || !mp.IsPermanent(err) {
		t.Fatalf("missing payment: %v", err)
	}
	list, err := c.SearchByExternalReference(ctx, "job-1")
	if err != nil || len(list) != 1 || list[0].ID != strconv.FormatInt(id, 10) {
		t.Fatalf("search %+v %v", list, err)
	}
}

// The same idempotency key never creates a second preference, refund or payout; 5xx
// answers are retried within the attempt budget.
func TestIdempotencyAndRetries(t *testing.T) {
	sim, _, c := setup(t)
	ctx := context.Background()
	in := mp.PreferenceInput{TrabajoID: "job-2", Descripcion: "x", PrecioCentavos: 1000, SuccessURL: "http://f/s"}
	sim.SetFaults(mpsim.Faults{FailNextPreference: 2})
	p1, err := c.CreatePreference(ctx, in)
	if err != nil {
		t.Fatalf("retried preference: %v", err)
	}
	p2, err := c.CreatePreference(ctx, in)
	if err != nil || p2.ID != p1.ID {
		t.Fatalf("second preference %v %v (want %s)", p2, err, p1.ID)
	}
	sim.SetFaults(mpsim.Faults{FailNextPreference: 3})
	if _, err := c.CreatePreference(ctx, mp.PreferenceInput{TrabajoID: "job-3", PrecioCentavos: 1000, SuccessURL: "http://f/s"}); err == nil || mp.IsPermanent(err) {
		t.Fatalf("3 failures should exhaust 3 attempts with a transient error: %v", err)
	}
	id, _ := sim.Pay(p1.ID, "approved", 0)
	pid := strconv.FormatInt(id, 10)
	r1, err := c.Refund(ctx, pid, "refund-job-2")
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Refund(ctx, pid, "refund-job-2")
	if err != nil || r2 != r1 {
		t.Fatalf("second refund %q %v (want %q)", r2, err, r1)
	}
	if _, err := c.Refund(ctx, pid, "another-key"); !mp.IsPermanent(err) {
		t.Fatalf("refund of a refunded payment: %v", err)
	}
	in2 := mp.PayoutInput{Key: "payout-job-2", Reference: "payout-job-2", Destination: "alias.x", AmountCentavos: 800}
	sim.SetFaults(mpsim.Faults{FailNextPayouts: 1})
	o1, err := c.Payout(ctx, in2)
	if err != nil {
		t.Fatal(err)
	}
	o2, err := c.Payout(ctx, in2)
	if err != nil || o1 != o2 || len(sim.Payouts()) != 1 {
		t.Fatalf("payout twice: %q %q %v, %d payouts", o1, o2, err, len(sim.Payouts()))
	}
}

// A preference made with a deadline carries expires and expiration_date_from/to to
// MercadoPago, which records them; without one it carries none.
func TestPreferenceExpiration(t *testing.T) {
	_, u, c := setup(t)
	ctx := context.Background()
	created := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
	due := created.Add(72 * time.Hour)
	p, err := c.CreatePreference(ctx, mp.PreferenceInput{TrabajoID: "job-exp", PrecioCentavos: 1000, SuccessURL: "http://f/s",
		CreatedAt: created, ExpiresAt: due})
	if err != nil {
		t.Fatal(err)
	}
	if !p.ExpiresAt.Equal(due) {
		t.Fatalf("expires at %v, want %v", p.ExpiresAt, due)
	}
	var stored []struct {
		Expires bool       `json:"expires"`
		From    *time.Time `json:"expiration_date_from"`
		To      *time.Time `json:"expiration_date_to"`
	}
	getJSON(t, u+"/_sim/preferences?external_reference=job-exp", &stored)
	if len(stored) != 1 || !stored[0].Expires || stored[0].From == nil || !stored[0].From.Equal(created) || stored[0].To == nil || !stored[0].To.Equal(due) {
		t.Fatalf("simulator recorded %+v", stored)
	}
	open, err := c.CreatePreference(ctx, mp.PreferenceInput{TrabajoID: "job-open", PrecioCentavos: 1000, SuccessURL: "http://f/s"})
	if err != nil || !open.ExpiresAt.IsZero() {
		t.Fatalf("a preference without deadline: %+v %v", open, err)
	}
}

func getJSON(t *testing.T, url string, out any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}

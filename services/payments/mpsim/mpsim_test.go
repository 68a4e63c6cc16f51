package mpsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSignKnownVector(t *testing.T) {
	got := Sign("s3cr3t", "123456", "bb56a2f1-6aae-46ac-982e-9dcd3581d08e", 1742505638683)
	want := "ts=1742505638683,v1=13ee5ba403ca5af998533d5ec25b75708482d4f158f870461ef3f0dc1b69e49d"
	if got != want {
		t.Fatalf("Sign = %s", got)
	}
}

// A webhook has MercadoPago's shape: query data.id & type (keeping the URL's own query),
// signed headers, and the documented body.
func TestWebhookShape(t *testing.T) {
	got := make(chan *http.Request, 4)
	bodies := make(chan []byte, 4)
	fail := 1
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- r
		bodies <- b
		if fail > 0 { // the first attempt fails: the simulator retries
			fail--
			w.WriteHeader(500)
			return
		}
		w.WriteHeader(200)
	}))
	defer hook.Close()
	sim := New(Config{AccessToken: "tok", WebhookSecret: "sec", RetryDelays: []time.Duration{10 * time.Millisecond}})
	base, err := sim.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer sim.Close()
	body := `{"items":[{"title":"Servicio Profesional","unit_price":1500.5,"quantity":1,"currency_id":"ARS"}],
		"external_reference":"job-9","notification_url":"` + hook.URL + `/wh?source_news=webhooks","back_urls":{"success":"http://f/s"},"auto_return":"approved"}`
	req, _ := http.NewRequest("POST", base+"/checkout/preferences", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer tok")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var pref map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&pref)
	resp.Body.Close()
	if resp.StatusCode != 201 || !strings.HasPrefix(pref["init_point"].(string), base+"/checkout/v1/redirect?pref_id=") {
		t.Fatalf("preference %d %v", resp.StatusCode, pref)
	}
	id, err := sim.Pay(pref["id"].(string), "approved", 0)
	if err != nil {
		t.Fatal(err)
	}
	for attempt := 0; attempt < 2; attempt++ {
		r, b := <-got, <-bodies
		q := r.URL.Query()
		if q.Get("data.id") != strconv.FormatInt(id, 10) || q.Get("type") != "payment" || q.Get("source_news") != "webhooks" || r.URL.Path != "/wh" {
			t.Fatalf("query %s", r.URL)
		}
		ts := strings.TrimPrefix(strings.Split(r.Header.Get("X-Signature"), ",")[0], "ts=")
		n, _ := strconv.ParseInt(ts, 10, 64)
		if r.Header.Get("X-Signature") != Sign("sec", q.Get("data.id"), r.Header.Get("X-Request-Id"), n) || r.Header.Get("X-Retry") != strconv.Itoa(attempt) {
			t.Fatalf("headers %v", r.Header)
		}
		var wb struct {
			Type, Action string
			Data         struct{ ID string }
		}
		if err := json.Unmarshal(b, &wb); err != nil || wb.Type != "payment" || wb.Action != "payment.created" || wb.Data.ID != q.Get("data.id") {
			t.Fatalf("body %s", b)
		}
	}
	// The payment itself: masked card, amount, reference.
	req, _ = http.NewRequest("GET", base+"/v1/payments/"+strconv.FormatInt(id, 10), nil)
	req.Header.Set("Authorization", "Bearer tok")
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	pb, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(pb, []byte(`"expiration_month":"***"`)) || !bytes.Contains(pb, []byte(`"transaction_amount":1500.5`)) ||
		!bytes.Contains(pb, []byte(`"external_reference":"job-9"`)) {
		t.Fatalf("payment %s", pb)
	}
}

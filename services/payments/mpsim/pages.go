package mpsim

import (
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"sort"
	"strconv"
)

var checkoutTmpl = template.Must(template.New("checkout").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Mercado Pago (simulador) – Pagar</title>
<style>body{font-family:sans-serif;max-width:32rem;margin:3rem auto;color:#333}
.card{border:1px solid #ddd;border-radius:8px;padding:1.5rem}.total{font-size:1.6rem;font-weight:bold}
button{font-size:1rem;padding:.6rem 1.2rem;margin-right:.5rem;border:0;border-radius:6px;cursor:pointer}
.ok{background:#009ee3;color:#fff}.ko{background:#eee}</style></head>
<body><div class="card">
<h1>Mercado Pago <small>(simulador)</small></h1>
{{range .Pref.Items}}<p><strong>{{.Title}}</strong><br>{{.Description}}</p>{{end}}
<p class="total">{{.Currency}} {{.Total}}</p>
<p>Referencia: <code>{{.Pref.ExternalReference}}</code></p>
<form method="post" action="/checkout/v1/pay">
<input type="hidden" name="pref_id" value="{{.Pref.ID}}">
<p>Tarjeta de prueba: VISA •••• 3704 (APRO)</p>
<button class="ok" type="submit" name="decision" value="approved">Aprobar pago</button>
<button class="ko" type="submit" name="decision" value="rejected">Rechazar pago</button>
</form></div></body></html>`))

var resultTmpl = template.Must(template.New("result").Parse(`<!doctype html>
<html lang="es"><head><meta charset="utf-8"><title>Mercado Pago (simulador)</title></head>
<body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">
<h1>{{if eq .Status "approved"}}¡Listo! Tu pago fue aprobado{{else}}Tu pago fue rechazado{{end}}</h1>
<p>Pago n.º {{.PaymentID}}</p>
{{if .Back}}<p><a id="volver" href="{{.Back}}">Volver al sitio</a></p>{{end}}
</body></html>`))

// checkoutPage is the init_point: a person sees the item and approves or rejects.
func (s *Server) checkoutPage(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	p, ok := s.prefs[r.URL.Query().Get("pref_id")]
	var view struct {
		Pref     Preference
		Total    string
		Currency string
	}
	if ok {
		view.Pref = *p
		view.Total = strconv.FormatFloat(p.total(), 'f', 2, 64)
		view.Currency = "ARS"
		if len(p.Items) > 0 && p.Items[0].CurrencyID != "" {
			view.Currency = p.Items[0].CurrencyID
		}
	}
	s.mu.Unlock()
	if !ok {
		http.Error(w, "Preferencia inexistente", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = checkoutTmpl.Execute(w, view)
}

// checkoutPay receives the form: it creates the payment, sends the webhook and returns
// to the site like Checkout Pro does (automatic redirect on approval with auto_return).
func (s *Server) checkoutPay(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "formulario inválido", http.StatusBadRequest)
		return
	}
	prefID, decision := r.PostForm.Get("pref_id"), r.PostForm.Get("decision")
	if decision != "approved" && decision != "rejected" {
		http.Error(w, "decisión inválida", http.StatusBadRequest)
		return
	}
	id, err := s.Pay(prefID, decision, 0)
	if err != nil {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	s.mu.Lock()
	p := *s.prefs[prefID]
	s.mu.Unlock()
	back := p.BackURLs.Failure
	if decision == "approved" {
		back = p.BackURLs.Success
	}
	if back != "" {
		u, err := url.Parse(back)
		if err == nil {
			q := u.Query()
			q.Set("collection_id", strconv.FormatInt(id, 10))
			q.Set("collection_status", decision)
			q.Set("payment_id", strconv.FormatInt(id, 10))
			q.Set("status", decision)
			q.Set("external_reference", p.ExternalReference)
			q.Set("payment_type", "credit_card")
			q.Set("preference_id", p.ID)
			q.Set("site_id", "MLA")
			u.RawQuery = q.Encode()
			back = u.String()
		}
	}
	if decision == "approved" && p.AutoReturn != "" && back != "" {
		http.Redirect(w, r, back, http.StatusFound)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_ = resultTmpl.Execute(w, map[string]any{"Status": decision, "PaymentID": id, "Back": back})
}

// --- control endpoints (tests, demos) ------------------------------------------------

// simPay: POST /_sim/preferences/{id}/pay?status=approved&amount=123.45
func (s *Server) simPay(w http.ResponseWriter, r *http.Request) {
	status := r.URL.Query().Get("status")
	if status == "" {
		status = "approved"
	}
	var amount float64
	if a := r.URL.Query().Get("amount"); a != "" {
		v, err := strconv.ParseFloat(a, 64)
		if err != nil {
			writeJSON(w, 400, mpError(400, "bad_request", "amount"))
			return
		}
		amount = v
	}
	id, err := s.Pay(r.PathValue("id"), status, amount)
	if err != nil {
		writeJSON(w, 404, mpError(404, "not_found", err.Error()))
		return
	}
	writeJSON(w, 201, map[string]any{"payment_id": id, "status": status})
}

// simAction: POST /_sim/payments/{id}/{approve|reject|refund|chargeback|reimburse|mediate|cancel|webhook}
// webhook takes ?times=N (redeliver N times).
func (s *Server) simAction(w http.ResponseWriter, r *http.Request) {
	id, ok := pathInt(r, "id")
	if !ok {
		writeJSON(w, 400, mpError(400, "bad_request", "id"))
		return
	}
	var err error
	switch a := r.PathValue("action"); a {
	case "approve":
		err = s.SetStatus(id, "approved")
	case "reject":
		err = s.SetStatus(id, "rejected")
	case "refund":
		err = s.SetStatus(id, "refunded")
	case "chargeback":
		err = s.SetStatus(id, "charged_back")
	case "reimburse":
		err = s.SetStatus(id, "charged_back/reimbursed")
	case "mediate":
		err = s.SetStatus(id, "in_mediation")
	case "cancel":
		err = s.SetStatus(id, "cancelled")
	case "webhook":
		times, _ := strconv.Atoi(r.URL.Query().Get("times"))
		if times <= 0 {
			times = 1
		}
		s.mu.Lock()
		_, found := s.payments[id]
		s.mu.Unlock()
		if !found {
			err = fmt.Errorf("payment %d not found", id)
			break
		}
		s.notify(id, "payment.updated", times)
	default:
		writeJSON(w, 400, mpError(400, "bad_request", "unknown action "+a))
		return
	}
	if err != nil {
		writeJSON(w, 404, mpError(404, "not_found", err.Error()))
		return
	}
	s.mu.Lock()
	out := s.paymentJSON(s.payments[id])
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

// simFaults: POST /_sim/faults {"drop_next_webhooks":1,"fail_next_preferences":3,...}
func (s *Server) simFaults(w http.ResponseWriter, r *http.Request) {
	var f Faults
	if err := json.NewDecoder(r.Body).Decode(&f); err != nil {
		writeJSON(w, 400, mpError(400, "bad_request", "invalid JSON"))
		return
	}
	s.SetFaults(f)
	s.mu.Lock()
	cur := s.faults
	s.mu.Unlock()
	writeJSON(w, 200, cur)
}

func (s *Server) simDeliveries(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, 200, s.Deliveries())
}

func (s *Server) simPayouts(w http.ResponseWriter, _ *http.Request) { writeJSON(w, 200, s.Payouts()) }

func (s *Server) simPreferences(w http.ResponseWriter, r *http.Request) {
	ref := r.URL.Query().Get("external_reference")
	s.mu.Lock()
	out := []map[string]any{}
	for _, p := range s.prefs {
		if ref == "" || p.ExternalReference == ref {
			out = append(out, s.prefJSON(p))
		}
	}
	s.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return fmt.Sprint(out[i]["id"]) < fmt.Sprint(out[j]["id"]) })
	writeJSON(w, 200, out)
}

func (s *Server) simCalls(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make(map[string]int, len(s.calls))
	for k, v := range s.calls {
		out[k] = v
	}
	s.mu.Unlock()
	writeJSON(w, 200, out)
}

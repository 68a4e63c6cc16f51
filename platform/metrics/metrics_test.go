package metrics_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/logx"
	"github.com/conectarpro/conectar/platform/metrics"
)

// series returns "method route status" of every observed request.
func series(t *testing.T, r *metrics.Registry) []string {
	t.Helper()
	fams, err := r.Reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out []string
	for _, f := range fams {
		if f.GetName() != "http_request_duration_seconds" {
			continue
		}
		for _, m := range f.GetMetric() {
			l := map[string]string{}
			for _, p := range m.GetLabel() {
				l[p.GetName()] = p.GetValue()
			}
			out = append(out, l["method"]+" "+l["route"]+" "+l["status"])
		}
	}
	sort.Strings(out)
	return out
}

func TestMiddlewareLabelsRequestsByTemplateAndAnsweredStatus(t *testing.T) {
	reg := metrics.New("test")
	app := httpx.NewApp(httpx.Config{Name: "test", Logger: logx.Discard(), Metrics: reg})
	app.Get("/items/:id", func(c *fiber.Ctx) error { return c.SendString(c.Params("id")) })
	app.Delete("/items/:id", func(c *fiber.Ctx) error { return apperr.NotFound("not_found", "no") })
	app.Post("/boom", func(c *fiber.Ctx) error { return errors.New("broken") })
	app.Put("/panic", func(c *fiber.Ctx) error { panic("oops") })
	app.All("/proxy/*", func(c *fiber.Ctx) error {
		metrics.SetRoute(c, "/proxy/{table entry}")
		return c.SendStatus(fiber.StatusAccepted)
	})
	app.Use(httpx.NotFound)

	for _, rq := range []struct{ method, path string }{
		{"GET", "/items/1"}, {"GET", "/items/2"}, {"GET", "/items/0b7a4a3e-2c1d-4f7e-9b1a-2b3c4d5e6f70"},
		{"DELETE", "/items/9"}, {"POST", "/boom"}, {"PUT", "/panic"}, {"PATCH", "/proxy/a/b"},
		{"GET", "/nowhere/42"},
	} {
		resp, err := app.Test(httptest.NewRequest(rq.method, rq.path, nil))
		if err != nil {
			t.Fatalf("%s %s: %v", rq.method, rq.path, err)
		}
		resp.Body.Close()
	}
	got := strings.Join(series(t, reg), "\n")
	want := strings.Join([]string{
		"DELETE /items/:id 404", // the apperr's status, as the client got it
		"GET /items/:id 200",    // three ids, one series
		"GET unmatched 404",
		"PATCH /proxy/{table entry} 202", // the handler's own template
		"POST /boom 500",
		"PUT /panic 500",
	}, "\n")
	if got != want {
		t.Errorf("series:\n%s\nwant:\n%s", got, want)
	}
}

func TestMethodLabelIsBounded(t *testing.T) {
	for in, want := range map[string]string{"GET": "GET", "POST": "POST", "PATCH": "PATCH", "POS": "OTHER", "BREW": "OTHER", "": "OTHER"} {
		if got := metrics.MethodLabel(in); got != want {
			t.Errorf("MethodLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestOutcomesAndGaugeFuncsAreExportedBeforeAnyEvent(t *testing.T) {
	reg := metrics.New("test")
	count := reg.Outcomes("webhook", "stored", "refused")
	reg.GaugeFunc("escrow_test", "test gauge", func(context.Context) (float64, error) { return 42, nil })
	reg.GaugeFunc("broken_test", "a failing read leaves a gap, not a failed scrape",
		func(context.Context) (float64, error) { return 0, errors.New("db down") })
	reg.GaugeVecFunc("by_state_test", "test", "state", []string{"A", "B"},
		func(context.Context) (map[string]float64, error) { return map[string]float64{"B": 2, "C": 3}, nil })
	count("refused")

	fams, err := reg.Reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	got := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			key := f.GetName()
			for _, l := range m.GetLabel() {
				if l.GetName() != "service" {
					key += " " + l.GetValue()
				}
			}
			switch {
			case m.GetCounter() != nil:
				got[key] = m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				got[key] = m.GetGauge().GetValue()
			}
		}
	}
	for key, want := range map[string]float64{
		"business_outcomes_total stored webhook": 0, "business_outcomes_total refused webhook": 1, // labels in name order: outcome, what
		"escrow_test": 42, "by_state_test A": 0, "by_state_test B": 2, "by_state_test C": 3,
	} {
		if v, ok := got[key]; !ok || v != want {
			t.Errorf("%s = %v (exported %v), want %v", key, v, ok, want)
		}
	}
	if _, ok := got["broken_test"]; ok {
		t.Error("a failed read exported a value")
	}
}

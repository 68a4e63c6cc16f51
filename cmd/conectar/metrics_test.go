package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/conectarpro/conectar/platform/testkit"
)

// TestMetricsAfterMixedTraffic drives concurrent traffic of every method and outcome
// (2xx, 4xx, and 5xx from a stopped service) through the gateway, with raw ids in the
// paths, then scrapes the gateway's and every service's /metrics. Run under -race it
// also catches request buffers shared across goroutines. Before Fiber apps were made
// immutable the method label aliased the pooled request buffer: a series registered as
// "POST" later read "POS…" and /metrics answered 500 with duplicate series.
func TestMetricsAfterMixedTraffic(t *testing.T) {
	sys := startSystem(t, nil)
	token, _, _ := sys.register("metrics@conectar.test", "Metricas", "CLIENTE", nil)

	type req struct {
		method, path, token, body string
	}
	const badToken = "not.a.token" // refused at the edge (gateway_edge_rejections_total)
	id := func() string { return uuid.NewString() }
	mix := func() []req {
		return []req{
			{http.MethodGet, "/api/v1/users/me", token, ""},
			{http.MethodGet, "/api/v1/users/me", "", ""},              // 401 from the service
			{http.MethodGet, "/api/v1/ofertas/" + id(), badToken, ""}, // 401 at the edge
			{http.MethodHead, "/health", "", ""},
			{http.MethodGet, "/api/v1/public/professional/" + id(), "", ""},        // 404 with an id
			{http.MethodGet, "/api/v1/trabajos/" + id(), token, ""},                // 404 with an id
			{http.MethodGet, "/api/v1/ofertas/" + id(), token, ""},                 // 404 with an id
			{http.MethodPost, "/api/v1/auth/register", "", `{"email":"x"}`},        // 422
			{http.MethodPost, "/api/v1/ofertas/" + id() + "/rechazar", token, ""},  // 4xx with an id
			{http.MethodPut, "/api/v1/users/me", token, `{"nombre":"Metricas"}`},   // 2xx
			{http.MethodPatch, "/api/v1/users/me", token, `{"nombre":"Métricas"}`}, // 2xx or 405
			{http.MethodDelete, "/api/v1/servicios/" + id(), token, ""},            // 4xx with an id
			{http.MethodOptions, "/api/v1/users/me", "", ""},                       // preflight
			{http.MethodGet, "/api/v1/no-such-route/" + id(), "", ""},              // 404 unmatched
			{http.MethodGet, "/api/v1/notifications?limit=5", token, ""},
			{http.MethodDelete, "/api/v1/notifications/" + id(), token, ""}, // 404 with an id
			{http.MethodGet, "/api/v1/gamification/user/" + id(), "", ""},   // a template with :id
			// Unsigned: refused (401), counted as a webhook outcome; also keys the
			// gateway's webhook rate limiter by client address.
			{http.MethodPost, "/api/v1/webhook/mercadopago?type=payment&data.id=" + id(), "", `{"type":"payment"}`},
		}
	}
	do := func(r req) (int, error) {
		var body io.Reader
		if r.body != "" {
			body = strings.NewReader(r.body)
		}
		hr, err := http.NewRequest(r.method, sys.gateway+r.path, body)
		if err != nil {
			return 0, err
		}
		if r.body != "" {
			hr.Header.Set("Content-Type", "application/json")
		}
		if r.token != "" {
			hr.Header.Set("Authorization", "Bearer "+r.token)
		}
		if r.method == http.MethodOptions {
			hr.Header.Set("Origin", "http://localhost:3000")
			hr.Header.Set("Access-Control-Request-Method", http.MethodPost)
		}
		resp, err := http.DefaultClient.Do(hr)
		if err != nil {
			return 0, err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	var mu sync.Mutex
	classes := map[int]int{}
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for round := 0; round < 6; round++ {
				for _, r := range mix() {
					st, err := do(r)
					if err != nil {
						t.Errorf("%s %s: %v", r.method, r.path, err)
						return
					}
					mu.Lock()
					classes[st/100]++
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()

	// 5xx: a stopped service answers 503 through the gateway; then it comes back.
	sys.kill("notifications")
	for i := 0; i < 3; i++ {
		st, err := do(req{http.MethodGet, "/api/v1/notifications?limit=1", token, ""})
		if err != nil {
			t.Fatal(err)
		}
		classes[st/100]++
	}
	sys.revive("notifications")
	// The revived service starts a fresh registry: give it traffic to measure.
	testkit.Eventually(t, 15*time.Second, "notifications answers again", func() bool {
		st, err := do(req{http.MethodGet, "/api/v1/notifications?limit=1", token, ""})
		return err == nil && st == http.StatusOK
	})

	for _, c := range []int{2, 4, 5} {
		if classes[c] == 0 {
			t.Errorf("no %dxx answer in the mix (%v): the test would not cover it", c, classes)
		}
	}

	exported := map[string]bool{}
	targets := map[string]int{"gateway": sys.set.Ports["gateway"]}
	for _, n := range serviceNames() {
		targets[n] = sys.set.Ports[n]
	}
	var gwMethods map[string]bool
	for name, port := range targets {
		fams := scrape(t, fmt.Sprintf("http://%s:%d/metrics", sys.set.Host, port))
		for n, f := range fams {
			exported[n] = true
			if f.GetType() == dto.MetricType_HISTOGRAM {
				exported[n+"_bucket"], exported[n+"_sum"], exported[n+"_count"] = true, true, true
			}
		}
		if name == "payments" {
			if v := counterValue(fams, "business_outcomes_total", map[string]string{"what": "webhook", "outcome": "refused"}); v < 1 {
				t.Errorf("payments: refused webhooks counted %v", v)
			}
		}
		methods := checkHTTPLabels(t, name, fams)
		if name == "gateway" {
			gwMethods = methods
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete, http.MethodOptions} {
		if !gwMethods[m] {
			t.Errorf("gateway: no series for method %s (have %v)", m, gwMethods)
		}
	}

	// Every series the provisioned Grafana dashboard queries is one the system exports.
	for _, name := range dashboardSeries(t, filepath.Join("..", "..", "deploy", "grafana", "dashboards")) {
		if !exported[name] {
			t.Errorf("the dashboard queries %s, which no component exports", name)
		}
	}
}

// counterValue is the value of the counter series of family name carrying labels.
func counterValue(fams map[string]*dto.MetricFamily, name string, labels map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		have := map[string]string{}
		for _, l := range m.GetLabel() {
			have[l.GetName()] = l.GetValue()
		}
		for k, v := range labels {
			if have[k] != v {
				continue next
			}
		}
		return m.GetCounter().GetValue()
	}
	return -1
}

// scrape fetches one /metrics and parses it; a 500 (duplicate series) fails the test.
func scrape(t *testing.T, url string) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scrape %s: %v", url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("scrape %s → %d: %s", url, resp.StatusCode, raw)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(raw)))
	if err != nil {
		t.Fatalf("parse %s: %v", url, err)
	}
	return fams
}

var (
	knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true,
		"DELETE": true, "OPTIONS": true, "CONNECT": true, "TRACE": true, "OTHER": true}
	uuidLike = regexp.MustCompile(`[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-`)
	numeric  = regexp.MustCompile(`/[0-9]+(/|$)`)
)

// checkHTTPLabels asserts whole method names and route labels that are templates, and
// returns the methods seen.
func checkHTTPLabels(t *testing.T, component string, fams map[string]*dto.MetricFamily) map[string]bool {
	t.Helper()
	f, ok := fams["http_request_duration_seconds"]
	if !ok {
		t.Errorf("%s: no http_request_duration_seconds", component)
		return nil
	}
	methods, routes := map[string]bool{}, map[string]bool{}
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		if labels["service"] != component {
			t.Errorf("%s: series with service=%q", component, labels["service"])
		}
		if !knownMethods[labels["method"]] {
			t.Errorf("%s: method label %q is not a whole method name", component, labels["method"])
		}
		methods[labels["method"]] = true
		r := labels["route"]
		routes[r] = true
		if r != "unmatched" && !strings.HasPrefix(r, "/") {
			t.Errorf("%s: route label %q is not a template", component, r)
		}
		if uuidLike.MatchString(r) || numeric.MatchString(r) {
			t.Errorf("%s: route label %q holds a raw id", component, r)
		}
		if len(labels["status"]) != 3 {
			t.Errorf("%s: status label %q", component, labels["status"])
		}
	}
	// Bounded: the route templates, not one per request (8 workers × 6 rounds of fresh ids).
	if len(routes) > 40 {
		all := make([]string, 0, len(routes))
		for r := range routes {
			all = append(all, r)
		}
		sort.Strings(all)
		t.Errorf("%s: %d distinct route labels: %v", component, len(routes), all)
	}
	return methods
}

// dashboardSeries returns the metric names the dashboards under dir query.
func dashboardSeries(t *testing.T, dir string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no dashboards under %s (%v)", dir, err)
	}
	names := map[string]bool{}
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		var exprs []string
		collectExprs(doc, &exprs)
		if len(exprs) == 0 {
			t.Fatalf("%s: no queries", file)
		}
		for _, e := range exprs {
			for _, n := range promQLMetricNames(e) {
				names[n] = true
			}
		}
	}
	out := make([]string, 0, len(names))
	for n := range names {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// collectExprs gathers every "expr" (panel targets) and "query" (template variables) of
// a dashboard.
func collectExprs(v any, out *[]string) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && (k == "expr" || k == "definition") {
				*out = append(*out, s)
				continue
			}
			collectExprs(val, out)
		}
	case []any:
		for _, e := range x {
			collectExprs(e, out)
		}
	}
}

var (
	promStrings    = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
	promMatchers   = regexp.MustCompile(`\{[^}]*\}`)
	promRanges     = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping   = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promVars       = regexp.MustCompile(`\$\{?[A-Za-z_]+\}?`)
	promIdentifier = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*\s*\(?`)
	promKeywords   = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "and": true,
		"or": true, "unless": true, "bool": true, "offset": true, "group_left": true, "group_right": true, "inf": true, "nan": true}
)

// promQLMetricNames extracts the metric names of a PromQL expression (or a Grafana
// label_values(metric, label) definition): identifiers that are not functions,
// keywords, label names or template variables.
func promQLMetricNames(expr string) []string {
	e := promStrings.ReplaceAllString(expr, " ")
	e = promMatchers.ReplaceAllString(e, " ")
	e = promRanges.ReplaceAllString(e, " ")
	e = promGrouping.ReplaceAllString(e, " ")
	e = promVars.ReplaceAllString(e, " ")
	if strings.HasPrefix(strings.TrimSpace(e), "label_values(") {
		inner := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(e), "label_values("), ")")
		metric, _, _ := strings.Cut(inner, ",")
		return []string{strings.TrimSpace(metric)}
	}
	var out []string
	for _, tok := range promIdentifier.FindAllString(e, -1) {
		if strings.HasSuffix(tok, "(") || promKeywords[strings.ToLower(strings.TrimSpace(tok))] {
			continue
		}
		out = append(out, strings.TrimSpace(tok))
	}
	return out
}

// TestPromQLMetricNames pins the extraction the dashboard check relies on.
func TestPromQLMetricNames(t *testing.T) {
	got := promQLMetricNames(`histogram_quantile(0.95, sum by (service, route, le) (rate(http_request_duration_seconds_bucket{service=~"$service"}[$__rate_interval]))) / ignoring(status) max(escrow_held_centavos) / 100`)
	want := []string{"http_request_duration_seconds_bucket", "escrow_held_centavos"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v", got, want)
	}
	if got := promQLMetricNames(`label_values(http_request_duration_seconds_count, service)`); len(got) != 1 || got[0] != "http_request_duration_seconds_count" {
		t.Fatalf("label_values: %v", got)
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/conectarpro/conectar/gateway"
	"github.com/conectarpro/conectar/platform/benchkit"
)

// reporter is where the contract reports a mismatch: the test (*testing.T), or a
// recorder in the test that shows the contract can fail.
type reporter interface {
	Helper()
	Errorf(format string, args ...any)
}

// contract checks exchanges with the gateway against its /docs/openapi.json, with
// kin-openapi's openapi3filter: it is an http.RoundTripper, so any client of the system
// tests can go through it (contract.client(), or contract.call like system.call).
//
// What fails (reported to the test):
//   - a request to a path of a documented service that the document does not describe
//     (a route of a service without a document yet, listed in x-undocumented-prefixes,
//     passes unchecked);
//   - an answer whose status the operation does not list, whose JSON body does not match
//     the schema of that status (an undocumented field: the schemas are strict), or
//     whose error code is not among the operation's codes;
//   - a request the document calls invalid that the server nevertheless accepted (2xx):
//     a refused one (4xx) is what the system tests send on purpose to see refusals.
type contract struct {
	rep    reporter
	doc    *openapi3.T
	router routers.Router
	routes *gateway.Router
	// undocumented are the services whose routes the document lists by prefix only.
	undocumented map[string]bool
	// host is the gateway's: requests to other hosts (a service's internal API, the
	// MercadoPago simulator) pass unchecked, so the contract can be any client's transport.
	host string
	next http.RoundTripper

	mu   sync.Mutex
	seen map[string]bool // "METHOD /path/{template}" of the operations exercised
}

// loadContract reads the gateway's document, checks it is valid OpenAPI 3.1 and returns
// a contract reporting to rep.
func loadContract(t *testing.T, rep reporter, gatewayURL string) *contract {
	t.Helper()
	resp, err := http.Get(gatewayURL + "/docs/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/docs/openapi.json → %d %s", resp.StatusCode, raw)
	}
	doc, err := openapi3.NewLoader().LoadFromData(raw)
	if err != nil {
		t.Fatalf("load the document: %v", err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Fatalf("openapi %q, want 3.1", doc.OpenAPI)
	}
	// Validate applies the 3.1 rules (JSON Schema 2020-12 keywords, type arrays) from
	// the document's own version.
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI 3.1: %v", err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("route the document: %v", err)
	}
	routes, err := gateway.NewRouter(gateway.Routes())
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(gatewayURL)
	if err != nil {
		t.Fatal(err)
	}
	c := &contract{rep: rep, doc: doc, router: router, routes: routes, undocumented: map[string]bool{}, host: u.Host,
		next: http.DefaultTransport, seen: map[string]bool{}}
	var listed []struct {
		Service string `json:"service"`
	}
	if x, ok := doc.Extensions["x-undocumented-prefixes"]; ok {
		b, _ := json.Marshal(x)
		if err := json.Unmarshal(b, &listed); err != nil {
			t.Fatalf("x-undocumented-prefixes: %v", err)
		}
	}
	for _, l := range listed {
		c.undocumented[l.Service] = true
	}
	return c
}

// client is an HTTP client whose every exchange is checked.
func (c *contract) client() *http.Client { return &http.Client{Transport: c} }

// RoundTrip sends req and checks the exchange.
func (c *contract) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil {
		var err error
		if reqBody, err = io.ReadAll(req.Body); err != nil {
			return nil, err
		}
		req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
	}
	resp, err := c.next.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	c.check(req, reqBody, resp, respBody)
	return resp, nil
}

func (c *contract) check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) {
	c.rep.Helper()
	if req.Method == http.MethodHead || req.Method == http.MethodOptions || req.URL.Host != c.host {
		return
	}
	ctx := context.Background()
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	where := fmt.Sprintf("%s %s → %d", req.Method, req.URL.Path, resp.StatusCode)
	route, params, err := c.router.FindRoute(vreq)
	if err != nil {
		if c.excused(req.URL.Path) {
			return
		}
		c.rep.Errorf("contract: %s: not in the document (%v)", where, err)
		return
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(ctx, in); err != nil && resp.StatusCode < 400 {
		c.rep.Errorf("contract: %s: accepted a request the document calls invalid: %v", where, err)
	}
	opts := &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/json" {
		// Files and pages: the status and the media type are checked, not the bytes.
		opts.ExcludeResponseBody = true
	}
	out := &openapi3filter.ResponseValidationInput{RequestValidationInput: in, Status: resp.StatusCode,
		Header: resp.Header, Options: opts}
	out.SetBodyBytes(respBody)
	if err := openapi3filter.ValidateResponse(ctx, out); err != nil {
		c.rep.Errorf("contract: %s: the answer does not match the document: %v\n%s", where, err, clip(respBody))
	}
	c.mu.Lock()
	c.seen[req.Method+" "+route.Path] = true
	c.mu.Unlock()
}

// excused reports whether path belongs to a service without a document yet, as the
// gateway routes it (most specific prefix wins, so /admin/users is auth's even though
// the /admin fallback is not documented).
func (c *contract) excused(path string) bool {
	rest, ok := strings.CutPrefix(path, gateway.APIPrefix)
	if !ok {
		return false
	}
	rt, ok := c.routes.Match(rest)
	return ok && c.undocumented[rt.Service]
}

// unexercised lists the operations of services that were not called through the
// contract.
func (c *contract) unexercised(services ...string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for path, item := range c.doc.Paths.Map() {
		for method, op := range item.Operations() {
			svc, _ := op.Extensions["x-service"].(string)
			for _, s := range services {
				if svc == s && !c.seen[method+" "+path] {
					out = append(out, method+" "+path)
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

// call is system.call through the contract: JSON in, JSON out.
func (c *contract) call(gatewayURL, method, path, token string, body any) (int, map[string]any) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, gatewayURL+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	return c.do(req, token)
}

// form posts an application/x-www-form-urlencoded body.
func (c *contract) form(gatewayURL, path string, values url.Values) (int, map[string]any) {
	req, _ := http.NewRequest(http.MethodPost, gatewayURL+path, strings.NewReader(values.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req, "")
}

// multipart posts fields and at most one file (field file) as multipart/form-data.
func (c *contract) multipart(gatewayURL, path, token string, fields map[string]string, file []byte) (int, map[string]any) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != nil {
		h := map[string][]string{"Content-Disposition": {`form-data; name="file"; filename="f.png"`}, "Content-Type": {"image/png"}}
		part, _ := w.CreatePart(h)
		_, _ = part.Write(file)
	}
	_ = w.Close()
	req, _ := http.NewRequest(http.MethodPost, gatewayURL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return c.do(req, token)
}

func (c *contract) do(req *http.Request, token string) (int, map[string]any) {
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.client().Do(req)
	if err != nil {
		c.rep.Errorf("%s %s: %v", req.Method, req.URL.Path, err)
		return 0, nil
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, benchkit.DecodeAnswer(raw)
}

func clip(b []byte) string {
	if len(b) > 600 {
		return string(b[:600]) + "…"
	}
	return string(b)
}

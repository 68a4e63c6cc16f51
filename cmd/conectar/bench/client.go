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
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/conectarpro/conectar/platform/benchkit"
)

// recorder counts every answer by status and keeps each step's latencies. Steps are
// recorded only when they started inside the measured window; answers are counted
// always, since a 5xx fails the run wherever it happens.
type recorder struct {
	mu       sync.Mutex
	status   map[int]int
	fivexx   []string // the first 5xx answers, for the report
	n5xx     int
	nErr     int // transport errors (refused, reset, timed out)
	errs     []string
	steps    map[string][]time.Duration
	inWindow atomic.Int64 // requests sent inside the window
	// window is open while measuring: [start, end) in UnixNano; 0 when not set.
	start, end atomic.Int64
}

func newRecorder() *recorder {
	return &recorder{status: map[int]int{}, steps: map[string][]time.Duration{}}
}

func (r *recorder) open(start, end time.Time) {
	r.start.Store(start.UnixNano())
	r.end.Store(end.UnixNano())
}

// measured reports whether t falls inside the window.
func (r *recorder) measured(t time.Time) bool {
	s, e := r.start.Load(), r.end.Load()
	return s != 0 && t.UnixNano() >= s && t.UnixNano() < e
}

func (r *recorder) answer(method, u string, st int, body []byte, sent time.Time, err error) {
	if r.measured(sent) {
		r.inWindow.Add(1)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.nErr++
		if len(r.errs) < 20 {
			r.errs = append(r.errs, fmt.Sprintf("%s %s: %v", method, u, err))
		}
		return
	}
	r.status[st]++
	if st >= 500 {
		r.n5xx++
		if len(r.fivexx) < 50 {
			r.fivexx = append(r.fivexx, fmt.Sprintf("%s %s → %d %.300s", method, u, st, body))
		}
	}
}

// step records one step's latency when it started inside the window.
func (r *recorder) step(name string, started time.Time) {
	if !r.measured(started) {
		return
	}
	d := time.Since(started)
	r.mu.Lock()
	r.steps[name] = append(r.steps[name], d)
	r.mu.Unlock()
}

// signup records a client's sign-up or sign-in step wherever it falls: with -signup
// first users sign up as they arrive, which is the ramp before the window, and what a
// newcomer waits for there is the figure.
func (r *recorder) signup(name string, started time.Time) {
	d := time.Since(started)
	r.mu.Lock()
	r.steps[name] = append(r.steps[name], d)
	r.mu.Unlock()
}

func (r *recorder) samples(name string) []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.steps[name]...)
}

// statusLine is the answers by status, e.g. "200: 1234, 201: 567".
func (r *recorder) statusLine() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	codes := make([]int, 0, len(r.status))
	for c := range r.status {
		codes = append(codes, c)
	}
	sort.Ints(codes)
	parts := make([]string, len(codes))
	for i, c := range codes {
		parts[i] = fmt.Sprintf("%d: %d", c, r.status[c])
	}
	return strings.Join(parts, ", ")
}

// client speaks to the gateway the way the web frontend does (JSON bodies, the OAuth2
// password form to sign in, multipart uploads, a bearer token), and to the simulator.
type client struct {
	base string
	hc   *http.Client
	rec  *recorder
}

// reply is a decoded answer: a JSON object, or a list under "items".
type reply map[string]any

func (r reply) str(k string) string { s, _ := r[k].(string); return s }

func (c *client) do(ctx context.Context, method, path, token, contentType string, body []byte) (int, reply, error) {
	u := path
	if !strings.HasPrefix(u, "http") {
		u = c.base + path
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("request %s %s: %w", method, path, err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	sent := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() == nil { // the bench's own stop is not the system's error
			c.rec.answer(method, templ(path), 0, nil, sent, err)
		}
		return 0, nil, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		c.rec.answer(method, templ(path), 0, nil, sent, err)
		return 0, nil, fmt.Errorf("%s %s: read answer: %w", method, path, err)
	}
	c.rec.answer(method, templ(path), resp.StatusCode, raw, sent, nil)
	out := reply(benchkit.DecodeAnswer(raw))
	if resp.StatusCode >= 500 {
		return resp.StatusCode, out, fmt.Errorf("%s %s → %d %.300s", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, nil
}

func (c *client) json(ctx context.Context, method, path, token string, body any) (int, reply, error) {
	if body == nil {
		return c.do(ctx, method, path, token, "", nil)
	}
	b, err := json.Marshal(body)
	if err != nil {
		return 0, nil, fmt.Errorf("encode %s body: %w", path, err)
	}
	return c.do(ctx, method, path, token, "application/json", b)
}

// want calls and insists on one of the statuses.
func (c *client) want(ctx context.Context, method, path, token string, body any, statuses ...int) (reply, error) {
	st, out, err := c.json(ctx, method, path, token, body)
	if err != nil {
		return out, err
	}
	for _, s := range statuses {
		if st == s {
			return out, nil
		}
	}
	return out, fmt.Errorf("%s %s → %d %v (want %v)", method, path, st, out, statuses)
}

// login signs in with the form the frontend posts.
func (c *client) login(ctx context.Context, email, password string) (string, error) {
	form := url.Values{"username": {email}, "password": {password}}
	st, out, err := c.do(ctx, http.MethodPost, "/api/v1/auth/login", "", "application/x-www-form-urlencoded", []byte(form.Encode()))
	if err != nil {
		return "", err
	}
	tok := out.str("access_token")
	if st != 200 || tok == "" {
		return "", fmt.Errorf("login %s → %d %v", email, st, out)
	}
	return tok, nil
}

func (c *client) upload(ctx context.Context, path, token, field, name, contentType string, data []byte) (int, reply, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	part, err := w.CreatePart(map[string][]string{
		"Content-Disposition": {fmt.Sprintf(`form-data; name=%q; filename=%q`, field, name)},
		"Content-Type":        {contentType},
	})
	if err != nil {
		return 0, nil, fmt.Errorf("multipart: %w", err)
	}
	_, _ = part.Write(data)
	if err := w.Close(); err != nil {
		return 0, nil, fmt.Errorf("multipart: %w", err)
	}
	return c.do(ctx, http.MethodPost, path, token, w.FormDataContentType(), buf.Bytes())
}

// templ shortens a path to its route for the report: ids become {id}, queries go.
func templ(p string) string {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	parts := strings.Split(p, "/")
	for i, s := range parts {
		if len(s) >= 16 && strings.Count(s, "-") >= 2 || len(s) >= 20 {
			parts[i] = "{id}"
		}
	}
	return strings.Join(parts, "/")
}

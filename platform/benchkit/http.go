package benchkit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/valyala/fasthttp"
)

// Client is the benchmarks' HTTP client. It is fasthttp's, not net/http's: the load
// generator shares the cores with what it measures, and net/http hands every request
// to a writer and a reader goroutine per connection — two more wake-ups per request,
// each a wait for a core when PostgreSQL keeps both busy, which showed up as a
// slower service next to its own SQL run directly. fasthttp does the exchange on the
// caller's goroutine and allocates little.
type Client struct {
	c       *fasthttp.Client
	timeout time.Duration
}

// HTTPClient is a keep-alive client for conc concurrent callers: every caller keeps its
// connection, so a run measures requests, not TCP handshakes.
func HTTPClient(conc int, timeout time.Duration) *Client {
	return &Client{timeout: timeout, c: &fasthttp.Client{
		MaxConnsPerHost:          conc * 2,
		MaxIdleConnDuration:      time.Minute,
		NoDefaultUserAgentHeader: true,
		DisablePathNormalizing:   true,
		ReadBufferSize:           16 << 10,
	}}
}

// do sends one request and hands the status and answer body to got; the body is only
// valid during got (fasthttp reuses it).
func (c *Client) do(ctx context.Context, method, url, token string, body any, got func(int, []byte) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(url)
	req.Header.SetMethod(method)
	if body != nil {
		raw, ok := body.([]byte)
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return fmt.Errorf("encode %s %s: %w", method, url, err)
			}
		}
		req.SetBodyRaw(raw)
		req.Header.SetContentType("application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	timeout := c.timeout
	if dl, ok := ctx.Deadline(); ok && time.Until(dl) < timeout {
		timeout = time.Until(dl)
	}
	if err := c.c.DoTimeout(req, resp, timeout); err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
	}
	return got(resp.StatusCode(), resp.Body())
}

// Call sends one request: body (if not nil) as JSON (or as is when it is a []byte),
// token (if not "") as a bearer token. It returns the status and the whole answer body.
func Call(ctx context.Context, c *Client, method, url, token string, body any) (int, []byte, error) {
	var st int
	var out []byte
	err := c.do(ctx, method, url, token, body, func(status int, b []byte) error {
		st, out = status, append([]byte(nil), b...)
		return nil
	})
	return st, out, err
}

// Expect is Call that also fails unless the status is want, and decodes the answer
// into out when out is not nil.
func Expect(ctx context.Context, c *Client, want int, method, url, token string, body, out any) error {
	return c.do(ctx, method, url, token, body, func(st int, raw []byte) error {
		if st != want {
			return fmt.Errorf("%s %s: status %d, want %d: %.200s", method, url, st, want, raw)
		}
		if out != nil {
			if err := json.Unmarshal(raw, out); err != nil {
				return fmt.Errorf("%s %s: decode answer: %w", method, url, err)
			}
		}
		return nil
	})
}

// DecodeAnswer reads a JSON answer for a caller that walks it by key: an object as
// itself, a list under "items", anything else (empty, text, broken JSON) as an empty
// map, so the caller's checks on the keys report what is missing.
func DecodeAnswer(raw []byte) map[string]any {
	out := map[string]any{}
	if len(raw) > 0 && raw[0] == '{' {
		_ = json.Unmarshal(raw, &out)
	} else if len(raw) > 0 && raw[0] == '[' {
		var list []any
		_ = json.Unmarshal(raw, &list)
		out["items"] = list
	}
	return out
}

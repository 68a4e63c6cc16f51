package benchkit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// HTTPClient is a keep-alive client sized for conc concurrent callers: every caller
// keeps its connection, so a run measures requests, not TCP handshakes.
func HTTPClient(conc int, timeout time.Duration) *http.Client {
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		MaxIdleConns: conc * 4, MaxIdleConnsPerHost: conc * 2, IdleConnTimeout: time.Minute,
	}}
}

// Call sends one request: body (if not nil) as JSON, token (if not "") as a bearer
// token. It returns the status and the whole answer body.
func Call(ctx context.Context, c *http.Client, method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader = http.NoBody
	if body != nil {
		raw, ok := body.([]byte)
		if !ok {
			var err error
			if raw, err = json.Marshal(body); err != nil {
				return 0, nil, fmt.Errorf("encode %s %s: %w", method, url, err)
			}
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, fmt.Errorf("%s %s: %w", method, url, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := c.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return res.StatusCode, nil, fmt.Errorf("%s %s: read answer: %w", method, url, err)
	}
	return res.StatusCode, raw, nil
}

// Expect is Call that also fails unless the status is want, and decodes the answer
// into out when out is not nil.
func Expect(ctx context.Context, c *http.Client, want int, method, url, token string, body, out any) error {
	st, raw, err := Call(ctx, c, method, url, token, body)
	if err != nil {
		return err
	}
	if st != want {
		return fmt.Errorf("%s %s: status %d, want %d: %.200s", method, url, st, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: decode answer: %w", method, url, err)
		}
	}
	return nil
}

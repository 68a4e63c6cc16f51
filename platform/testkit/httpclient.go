package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
)

// Response is a service's answer, read whole so tests can look at it more than once.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Decode unmarshals the body into out, failing t when it does not fit.
func (r Response) Decode(t testing.TB, out any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, out); err != nil {
		t.Fatalf("body does not decode into %T (status %d): %v: %.300s", out, r.Status, err, r.Body)
	}
}

// Map is the body as a JSON object.
func (r Response) Map(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	r.Decode(t, &m)
	return m
}

// List is the body as a JSON array.
func (r Response) List(t testing.TB) []any {
	t.Helper()
	var l []any
	r.Decode(t, &l)
	return l
}

// Expect fails t unless the answer has status; what names the step in the message.
func (r Response) Expect(t testing.TB, status int, what string) Response {
	t.Helper()
	if r.Status != status {
		t.Fatalf("%s: status %d, want %d: %.300s", what, r.Status, status, r.Body)
	}
	return r
}

// ExpectError checks status and the SPEC error shape (a JSON object with a non-empty
// detail and code), and returns the object.
func (r Response) ExpectError(t testing.TB, status int, what string) map[string]any {
	t.Helper()
	r.Expect(t, status, what)
	m := r.Map(t)
	if d, _ := m["detail"].(string); d == "" {
		t.Fatalf("%s: error without detail: %s", what, r.Body)
	}
	if c, _ := m["code"].(string); c == "" {
		t.Fatalf("%s: error without code: %s", what, r.Body)
	}
	return m
}

// Send sends one request to url and reads the whole answer. token, when not empty, goes
// as a bearer token. body nil sends none; a string, []byte or io.Reader is sent as it is
// with Content-Type ct (none when ct is empty); any other value is sent as JSON, with ct
// or else application/json. hdr are extra header name, value pairs.
func Send(t testing.TB, method, url, token, ct string, body any, hdr ...string) Response {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	case io.Reader:
		rd = b
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			t.Fatalf("%s %s: encode body: %v", method, url, err)
		}
		rd = bytes.NewReader(raw)
		if ct == "" {
			ct = "application/json"
		}
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return Exchange(t, req)
}

// Exchange sends a prepared request and reads the whole answer.
func Exchange(t testing.TB, req *http.Request) Response {
	t.Helper()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: read answer: %v", req.Method, req.URL, err)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: raw}
}

// Client calls one service: paths are relative to Base.
type Client struct {
	T    testing.TB
	Base string
	// RawType is the Content-Type of string and []byte bodies (none when empty); other
	// bodies go as JSON.
	RawType string
}

// Do sends method Base+path as Send does, with RawType for raw bodies.
func (c Client) Do(method, path, token string, body any, hdr ...string) Response {
	c.T.Helper()
	ct := ""
	switch body.(type) {
	case string, []byte, io.Reader:
		ct = c.RawType
	}
	return Send(c.T, method, c.Base+path, token, ct, body, hdr...)
}

// JSON sends the request and, when the answer is 2xx and out is not nil, decodes it into
// out. The caller checks the status.
func (c Client) JSON(method, path, token string, body, out any) Response {
	c.T.Helper()
	r := c.Do(method, path, token, body)
	if out != nil && r.Status/100 == 2 {
		r.Decode(c.T, out)
	}
	return r
}

// Part is one file of a multipart form.
type Part struct {
	Field, Name string
	Data        []byte
}

// MultipartBody encodes parts as multipart/form-data and returns its Content-Type (with
// the boundary) and bytes.
func MultipartBody(t testing.TB, parts ...Part) (contentType string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		fw, err := w.CreateFormFile(p.Field, p.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := fw.Write(p.Data); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w.FormDataContentType(), buf.Bytes()
}

// Multipart sends parts as a multipart/form-data body.
func (c Client) Multipart(method, path, token string, parts ...Part) Response {
	c.T.Helper()
	ct, body := MultipartBody(c.T, parts...)
	return Send(c.T, method, c.Base+path, token, ct, body)
}

// Package httpxtest sends requests to a service's Fiber app in tests and checks the
// answer against the contract every service keeps: never a 5xx, and every refusal in the
// shared error shape.
package httpxtest

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/platform/httpx"
)

// Call runs req through app and returns the status and body; it fails t on a 5xx or on
// a refusal without the error shape.
//
// A request whose line and headers do not fit the server's read buffer is refused by
// fasthttp before any handler runs; app.Test then returns the read error instead of the
// answer it wrote, so Call reports 431 with no body. httpx's tests send such a request
// over a real socket and check that answer's shape.
func Call(t testing.TB, app *fiber.App, req *http.Request) (int, []byte) {
	t.Helper()
	resp, err := app.Test(req, -1)
	if errors.As(err, new(*fasthttp.ErrSmallBuffer)) {
		return http.StatusRequestHeaderFieldsTooLarge, nil
	}
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	raw, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	if resp.StatusCode >= 500 {
		t.Fatalf("%s %s: %d %s", req.Method, req.URL, resp.StatusCode, raw)
	}
	if resp.StatusCode >= 300 {
		var eb httpx.ErrorBody
		if json.Unmarshal(raw, &eb) != nil || eb.Code == "" {
			t.Fatalf("%s %s: %d without the error shape: %s", req.Method, req.URL, resp.StatusCode, raw)
		}
	}
	return resp.StatusCode, raw
}

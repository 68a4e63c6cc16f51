package trace_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/trace"
)

// The traceparent outlives the request (in the context handed to the outbox, consumers
// and goroutines): it must not be a view of the request's header buffer, which the next
// request reuses. The app here is deliberately not Immutable.
func TestTraceparentOutlivesTheRequest(t *testing.T) {
	app := fiber.New()
	app.Use(trace.Middleware())
	var kept []context.Context
	app.Get("/", func(c *fiber.Ctx) error {
		kept = append(kept, c.UserContext())
		return nil
	})
	var sent []string
	for i := 0; i < 50; i++ {
		tp := fmt.Sprintf("00-%032x-%016x-01", i+1, i+1)
		sent = append(sent, tp)
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set(trace.Header, tp)
		resp, err := app.Test(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	for i, ctx := range kept {
		if got := trace.From(ctx); got != sent[i] {
			t.Fatalf("request %d: kept traceparent %q, sent %q", i, got, sent[i])
		}
	}
}

func TestMiddlewareStartsATraceForAMalformedHeader(t *testing.T) {
	app := fiber.New()
	app.Use(trace.Middleware())
	var got string
	app.Get("/", func(c *fiber.Ctx) error { got = trace.From(c.UserContext()); return nil })
	req := httptest.NewRequest("GET", "/", nil)
	req.Header.Set(trace.Header, "not-a-traceparent")
	resp, err := app.Test(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got == "not-a-traceparent" || len(trace.ID(got)) != 32 || resp.Header.Get(trace.Header) != got {
		t.Fatalf("traceparent %q, echoed %q", got, resp.Header.Get(trace.Header))
	}
}

package trace_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"regexp"
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

// Valid accepts exactly what the W3C version-00 grammar (as a regexp) accepts.
func FuzzValid(f *testing.F) {
	grammar := regexp.MustCompile(`^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$`)
	for _, s := range []string{trace.New(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4BF92F3577B34DA6A3CE929D0E0E4736-00F067AA0BA902B7-01", "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"00-4bf92f3577b34da6a3ce929d0e0e4736_00f067aa0ba902b7-01", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := trace.Valid(s), grammar.MatchString(s); got != want {
			t.Fatalf("Valid(%q) = %v; the grammar says %v", s, got, want)
		}
	})
}

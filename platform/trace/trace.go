// Package trace carries W3C trace context (the traceparent header) from an HTTP request
// into the events it causes and from a consumed event into the events its handler
// publishes, so one trace id follows a flow across services and NATS.
package trace

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"strings"

	"github.com/gofiber/fiber/v2"
)

// Header is the W3C trace context header.
const Header = "traceparent"

type ctxKey struct{}

// Valid reports whether tp is a version-00 traceparent: "00-" 32 lowercase hex digits
// "-" 16 "-" 2. Checked by hand: it runs on every request at the gateway and again in
// the service, and a regexp match cost more than the rest of this middleware.
func Valid(tp string) bool {
	if len(tp) != 55 || tp[:3] != "00-" || tp[35] != '-' || tp[52] != '-' {
		return false
	}
	for i := 3; i < 55; i++ {
		if i == 35 || i == 52 {
			continue
		}
		if c := tp[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// New returns a fresh traceparent. Its ids are drawn from math/rand/v2's generator
// (ChaCha8, seeded by the runtime, per thread): a trace id must be unique, not secret,
// and crypto/rand was half of this middleware's CPU on every request the gateway starts
// a trace for (BenchmarkHop).
func New() string {
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], rand.Uint64())
	binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
	binary.LittleEndian.PutUint64(b[16:], rand.Uint64())
	return "00-" + hex.EncodeToString(b[:16]) + "-" + hex.EncodeToString(b[16:]) + "-01"
}

// With stores traceparent in ctx.
func With(ctx context.Context, traceparent string) context.Context {
	return context.WithValue(ctx, ctxKey{}, traceparent)
}

// From returns the traceparent stored in ctx, or "".
func From(ctx context.Context) string {
	s, _ := ctx.Value(ctxKey{}).(string)
	return s
}

// ID returns the trace id part of a traceparent, for logs.
func ID(traceparent string) string {
	if len(traceparent) < 35 {
		return ""
	}
	return traceparent[3:35]
}

// Middleware reads (or starts) the request's trace, stores it in the user context and
// echoes it, so handlers pass it on through ctx.
func Middleware() fiber.Handler {
	return func(c *fiber.Ctx) error {
		// A copy: the traceparent lives on in the context, in the events the request
		// writes and in goroutines it starts, after Fiber reuses the header buffer.
		tp := strings.Clone(c.Get(Header))
		if !Valid(tp) {
			tp = New()
			c.Request().Header.Set(Header, tp)
		}
		c.SetUserContext(With(c.UserContext(), tp))
		c.Set(Header, tp)
		return c.Next()
	}
}

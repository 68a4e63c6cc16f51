package gateway

import (
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// FuzzCleanPath sends any request target through the gateway's path handling. The
// gateway matches routes, exempts token checks and applies the webhook rate limit on the
// normalized path, and forwards that same path, so the properties are:
//   - the normalized path is clean (rooted, no empty, "." or ".." segment) and
//     normalizing it again changes nothing;
//   - the path the upstream service parses from the forwarded request target is the
//     path the gateway matched (no second decoding can turn "%2e%2e" into "..");
//   - every path the router sends to a webhook route is counted by the webhook limiter,
//     so no spelling ("/WEBHOOK/./mercadopago", "%2F", a Kelvin sign) dodges it.
func FuzzCleanPath(f *testing.F) {
	for _, s := range []string{
		"/api/v1/webhook/mercadopago?data.id=123&type=payment",
		"/api/v1/WEBHOOK/./mercadopago", "/api/v1/webhook//mercadopago", "/api/v1/x/../webhook/mercadopago",
		"/api/v1/webhook%2Fmercadopago", "/api/v1/%77ebhook/mercadopago", "/api/v1/webhoo%4B/chat",
		"/api/v1/webhook/mercadopago/", "/api/v1/%2e%2e/api/v1/webhook/chat", "/api/v1/webhook/%252e%252e/x",
		"/api/v1/webhoo\u212a/mercadopago", "/api/v1/auth/login", "/api/v1/auth/.well-known/jwks.json",
		"/api/v1/admin/trabajo/7d3f1a52/simular-pago", "/../../etc/passwd", "//api//v1//users/me",
		"http://evil.example/api/v1/webhook/chat", "*", "", "/api/v1", "/api/v1/", "/api/v1?x=/webhook",
		"/api/v1/webhook/chat#frag", "/api/v1/%00/webhook", "/api/v1/webhook%2fchat%3Fx=1",
	} {
		f.Add(s)
	}
	router, err := NewRouter(Routes())
	if err != nil {
		f.Fatal(err)
	}
	app := fiber.New()
	f.Fuzz(func(t *testing.T, target string) {
		fctx := &fasthttp.RequestCtx{}
		fctx.Request.SetRequestURI(target)
		c := app.AcquireCtx(fctx)
		defer app.ReleaseCtx(c)
		clean := cleanPath(c)

		if !strings.HasPrefix(clean, "/") {
			t.Fatalf("%q normalized to %q, not rooted", target, clean)
		}
		segs := strings.Split(clean[1:], "/")
		for i, seg := range segs {
			// Only the last segment may be empty: a trailing slash.
			if seg == "." || seg == ".." || (seg == "" && i < len(segs)-1) {
				t.Fatalf("%q normalized to %q, which keeps a %q segment", target, clean, seg)
			}
		}

		// What the upstream sees: the gateway forwards RequestURI() as is, the service
		// parses and normalizes it with the same library.
		fwd := string(fctx.Request.URI().RequestURI())
		var up fasthttp.URI
		if err := up.Parse(nil, []byte(fwd)); err != nil {
			t.Fatalf("forwarded target %q does not parse: %v", fwd, err)
		}
		if got := string(up.Path()); got != clean {
			t.Fatalf("%q: gateway matched %q but the service gets %q (forwarded %q)", target, clean, got, fwd)
		}

		// The proxy's own test for "under /api/v1", then the router on the rest.
		if !underAny(strings.ToLower(clean), []string{APIPrefix}) {
			return
		}
		rt, ok := router.Match(clean[len(APIPrefix):])
		if ok && strings.HasPrefix(strings.ToLower(rt.Prefix), "/webhook") && !underAny(apiPath(clean), webhookLimited) {
			t.Fatalf("%q routes to %s (%s) but escapes the webhook limit (apiPath %q)", target, rt.Prefix, rt.Service, apiPath(clean))
		}
	})
}

// FuzzProtocolToken reads the token a browser puts in Sec-WebSocket-Protocol ("bearer,
// <token>"). What comes out is one trimmed list entry, never a comma-joined pair; a
// token written after "bearer" (in any case, with any spacing, after other
// subprotocols) is found as written.
func FuzzProtocolToken(f *testing.F) {
	for _, s := range []string{"bearer, eyJhbGciOiJFZERTQSJ9.e30.c2ln", "chat.v1, Bearer ,tok", "bearer", "bearer,", ",,bearer,,x", "x, y", ""} {
		f.Add(s, "eyJhbGciOiJFZERTQSJ9.e30.c2ln")
	}
	f.Fuzz(func(t *testing.T, header, tok string) {
		got := protocolToken(header)
		if strings.Contains(got, ",") || got != strings.TrimSpace(got) {
			t.Fatalf("protocolToken(%q) = %q", header, got)
		}
		if got != "" && !strings.Contains(header, got) {
			t.Fatalf("protocolToken(%q) = %q, not in the header", header, got)
		}
		if strings.Contains(tok, ",") || strings.TrimSpace(tok) == "" {
			return
		}
		for _, h := range []string{"bearer, " + tok, "chat.v1, BEARER ," + tok + ", other"} {
			if got := protocolToken(h); got != strings.TrimSpace(tok) {
				t.Fatalf("protocolToken(%q) = %q, want %q", h, got, strings.TrimSpace(tok))
			}
		}
	})
}

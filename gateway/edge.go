package gateway

import (
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/utils"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// tokenExemptRoutes are paths where an Authorization header is not the request's
// credential (login, refresh, password reset, key discovery, webhooks): a stale token a
// browser still attaches there must not block the very call that replaces it. The
// services behind them decide on their own.
func tokenExemptRoutes() []Route {
	const why = "edge token check skipped"
	return []Route{
		{Prefix: "/auth/login", Service: why},
		{Prefix: "/auth/register", Service: why},
		{Prefix: "/auth/refresh", Service: why},
		{Prefix: "/auth/forgot-password", Service: why},
		{Prefix: "/auth/reset-password", Service: why},
		{Prefix: "/auth/validate-token", Service: why},
		{Prefix: "/auth/.well-known", Service: why},
		{Prefix: "/webhook", Service: why},
	}
}

// webhookLimited are the rate-limited paths (after /api/v1). Logins are not limited
// here: auth throttles them with one policy that counts failures per account and per
// address (a request count at the edge would refuse the 11th colleague behind one NAT
// and would stack a second limit with other numbers on top of auth's).
var webhookLimited = []string{"/webhook"}

// cleanPath is the request's normalized path: dot segments resolved, duplicate slashes
// removed, %xx decoded. Routing and rate limits both use it, so "/webhook/./x" cannot
// dodge the webhook limit while still reaching the webhook handler.
func cleanPath(c *fiber.Ctx) string { return string(c.Request().URI().Path()) }

// cleanPathView is cleanPath without the copy, for a check or a lookup that keeps
// nothing of it: it changes when the request's buffers are reused.
func cleanPathView(c *fiber.Ctx) string { return utils.UnsafeString(c.Request().URI().Path()) }

// apiPath returns the lower-cased path after /api/v1, or "" when path is not under it.
func apiPath(path string) string {
	if len(path) <= len(APIPrefix) || !strings.EqualFold(path[:len(APIPrefix)], APIPrefix) || path[len(APIPrefix)] != '/' {
		return ""
	}
	return strings.ToLower(strings.TrimRight(path[len(APIPrefix):], "/"))
}

// underAny reports whether p equals one of prefixes or lies below one of them.
func underAny(p string, prefixes []string) bool {
	for _, pre := range prefixes {
		if p == pre || strings.HasPrefix(p, pre+"/") {
			return true
		}
	}
	return false
}

// clientIP is the caller's address: the configured header when a trusted proxy sits in
// front of the gateway (its first entry), the TCP peer otherwise. Trusting a header
// anyone can send would let a client pick its own rate-limit bucket.
func (g *Gateway) clientIP(c *fiber.Ctx) string {
	if h := g.cfg.ClientIPHeader; h != "" {
		if v := strings.TrimSpace(strings.Split(c.Get(h), ",")[0]); v != "" {
			return v
		}
	}
	return c.Context().RemoteIP().String()
}

// rateLimiters returns the webhook limiter (an in-memory fixed window per address): a
// flood of forged webhooks is refused before payments spends a signature check on it.
func (g *Gateway) rateLimiters() []fiber.Handler {
	reached := func(c *fiber.Ctx) error {
		g.metrics.edgeRejections.WithLabelValues("rate_limited").Inc()
		return apperr.New(apperr.KindRateLimited, "rate_limited", "Demasiadas solicitudes, intentá más tarde")
	}
	webhook := limiter.New(limiter.Config{
		Next:         func(c *fiber.Ctx) bool { return !underAny(apiPath(cleanPathView(c)), webhookLimited) },
		Max:          g.cfg.WebhookLimit,
		Expiration:   g.cfg.RateWindow,
		KeyGenerator: func(c *fiber.Ctx) string { return "webhook|" + g.clientIP(c) },
		LimitReached: reached,
	})
	return []fiber.Handler{webhook}
}

// corsMiddleware answers preflights and decorates answers for the configured origins.
// Credentials are allowed unless the origin list is the "*" wildcard, which browsers
// refuse to combine with credentials.
func (g *Gateway) corsMiddleware() (h fiber.Handler, err error) {
	origins := strings.Join(g.cfg.CORSOrigins, ",")
	defer func() {
		// fiber's CORS panics on a malformed origin; settings validation should have
		// caught it, this keeps a bad value an error and not a crash.
		if r := recover(); r != nil {
			h, err = nil, fmt.Errorf("cors: %v", r)
		}
	}()
	return cors.New(cors.Config{
		AllowOrigins:     origins,
		AllowMethods:     "GET,POST,PUT,PATCH,DELETE,HEAD,OPTIONS",
		AllowCredentials: origins != "*",
		ExposeHeaders:    "X-Request-Id,X-Total-Count,X-Page,X-Page-Size,Retry-After",
		MaxAge:           600,
	}), nil
}

// edgeAuth verifies a bearer token when one is present: a bad, expired or banned token
// stops here with 401, before any service spends work on it. Requests without a token
// go on; the services decide what is public.
func (g *Gateway) edgeAuth(c *fiber.Ctx, path string) error {
	// A view: Verify clones a token it remembers, and nothing else keeps it past here.
	tok := authn.BearerTokenView(c)
	if tok == "" {
		return nil
	}
	if _, exempt := g.exempt.Match(path); exempt {
		return nil
	}
	// The verifier remembers tokens it checked: a client's next requests skip the
	// signature check, never the ban list.
	if _, err := g.deps.Verifier.Verify(c.UserContext(), tok); err != nil {
		reason := "invalid_token"
		if e, ok := apperr.As(err); ok {
			reason = e.Code
		}
		g.metrics.edgeRejections.WithLabelValues(reason).Inc()
		return err
	}
	return nil
}

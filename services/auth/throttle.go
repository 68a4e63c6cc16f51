package auth

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
)

// limiter counts attempts per key in fixed windows. It lives in the process: with
// several auth instances each enforces its share (the gateway adds its own limit).
type limiter struct {
	limit  int
	window time.Duration
	now    func() time.Time

	mu      sync.Mutex
	windows map[string]*window
}

type window struct {
	start time.Time
	count int
}

func newLimiter(limit int, w time.Duration, now func() time.Time) *limiter {
	return &limiter{limit: limit, window: w, now: now, windows: map[string]*window{}}
}

func (l *limiter) get(key string) *window {
	now := l.now()
	w, ok := l.windows[key]
	if !ok || now.Sub(w.start) >= l.window {
		w = &window{start: now}
		l.windows[key] = w
	}
	return w
}

// Hit counts an attempt and reports whether it is within the limit.
func (l *limiter) Hit(key string) bool {
	if l.limit <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	w := l.get(key)
	w.count++
	return w.count <= l.limit
}

// Blocked reports whether key already used its attempts, without counting one.
func (l *limiter) Blocked(key string) bool {
	if l.limit <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.get(key).count >= l.limit
}

// Reset forgets key (a successful login clears its failures).
func (l *limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.windows, key)
}

// sweep drops finished windows so the map does not grow without bound.
func (l *limiter) sweep() {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for k, w := range l.windows {
		if now.Sub(w.start) >= l.window {
			delete(l.windows, k)
		}
	}
}

// sweepLoop runs sweep every minute until ctx ends.
func sweepLoop(ctx context.Context, ls ...*limiter) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, l := range ls {
				l.sweep()
			}
		}
	}
}

var errTooMany = apperr.New(apperr.KindRateLimited, "too_many_attempts",
	"Demasiados intentos. Esperá unos minutos antes de volver a intentar.")

// clientIP is the caller's address. Behind the gateway (a loopback or private peer) it
// is the gateway's X-Real-Ip (the client address it computed, honouring its trusted
// proxy setting), else the last X-Forwarded-For hop, the one the gateway appended. A
// direct public caller cannot choose its own key by sending the headers.
func clientIP(c *fiber.Ctx) string {
	peer := c.Context().RemoteIP()
	if peer != nil && (peer.IsLoopback() || peer.IsPrivate()) {
		if ip := net.ParseIP(strings.TrimSpace(c.Get("X-Real-Ip"))); ip != nil {
			return ip.String()
		}
		if xff := c.Get(fiber.HeaderXForwardedFor); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	if peer == nil {
		return c.IP()
	}
	return peer.String()
}

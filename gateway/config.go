package gateway

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/conectarpro/conectar/platform/config"
)

// settings are the gateway's tunables, read from the environment (every one has a
// development default; see loadSettings for the names).
type settings struct {
	UpstreamTimeout time.Duration // whole request to a service, normal requests
	UploadTimeout   time.Duration // whole request when the body is large (uploads)
	MaxBody         int           // bytes accepted per request (multipart with several files)
	MaxConnsPerHost int

	BreakerFailures int           // consecutive transport failures that open a breaker
	BreakerOpen     time.Duration // how long an open breaker refuses before probing

	HealthTimeout time.Duration

	WebhookLimit   int // per IP, per RateWindow (logins are throttled by auth)
	RateWindow     time.Duration
	ClientIPHeader string // "" means the TCP peer address

	CORSOrigins []string

	WSAuthTimeout time.Duration
	WSPing        time.Duration
	WSBanCheck    time.Duration
	WSSendBuffer  int
}

func loadSettings(get config.Getenv) (settings, error) {
	if get == nil {
		get = func(string) string { return "" }
	}
	r := config.NewReader(get)
	s := settings{
		UpstreamTimeout: r.Duration("GATEWAY_UPSTREAM_TIMEOUT", 15*time.Second),
		UploadTimeout:   r.Duration("GATEWAY_UPLOAD_TIMEOUT", 2*time.Minute),
		MaxBody:         r.Int("GATEWAY_MAX_BODY_MB", 55) << 20,
		MaxConnsPerHost: r.Int("GATEWAY_MAX_CONNS_PER_SERVICE", 1024),
		BreakerFailures: r.Int("GATEWAY_BREAKER_FAILURES", 5),
		BreakerOpen:     r.Duration("GATEWAY_BREAKER_OPEN", 10*time.Second),
		HealthTimeout:   r.Duration("GATEWAY_HEALTH_TIMEOUT", 3*time.Second),
		WebhookLimit:    r.Int("RATE_LIMIT_WEBHOOK_PER_WINDOW", 300),
		RateWindow:      r.Duration("RATE_LIMIT_WINDOW", time.Minute),
		ClientIPHeader:  r.String("GATEWAY_CLIENT_IP_HEADER", ""),
		CORSOrigins:     r.List("CORS_ORIGINS", []string{"http://localhost:3000"}),
		WSAuthTimeout:   r.Duration("GATEWAY_WS_AUTH_TIMEOUT", 5*time.Second),
		WSPing:          r.Duration("GATEWAY_WS_PING_INTERVAL", 25*time.Second),
		WSBanCheck:      r.Duration("GATEWAY_WS_BAN_CHECK", 2*time.Second),
		WSSendBuffer:    r.Int("GATEWAY_WS_SEND_BUFFER", 256),
	}
	r.Check(s.UpstreamTimeout <= 0, "GATEWAY_UPSTREAM_TIMEOUT must be positive")
	r.Check(s.UploadTimeout < s.UpstreamTimeout, "GATEWAY_UPLOAD_TIMEOUT must be at least GATEWAY_UPSTREAM_TIMEOUT")
	r.Check(s.MaxBody <= 0, "GATEWAY_MAX_BODY_MB must be positive")
	r.Check(s.MaxConnsPerHost <= 0, "GATEWAY_MAX_CONNS_PER_SERVICE must be positive")
	r.Check(s.BreakerFailures <= 0, "GATEWAY_BREAKER_FAILURES must be positive")
	r.Check(s.BreakerOpen <= 0, "GATEWAY_BREAKER_OPEN must be positive")
	r.Check(s.HealthTimeout <= 0, "GATEWAY_HEALTH_TIMEOUT must be positive")
	r.Check(s.WebhookLimit <= 0, "RATE_LIMIT_WEBHOOK_PER_WINDOW must be positive")
	r.Check(s.RateWindow < time.Second, "RATE_LIMIT_WINDOW must be at least 1s")
	r.Check(s.WSAuthTimeout <= 0 || s.WSPing <= 0 || s.WSBanCheck <= 0, "GATEWAY_WS_* durations must be positive")
	r.Check(s.WSSendBuffer <= 0, "GATEWAY_WS_SEND_BUFFER must be positive")
	for _, o := range s.CORSOrigins {
		r.Check(!validOrigin(o), "CORS_ORIGINS: %q is not an origin (scheme://host[:port] or *)", o)
		r.Check(o == "*" && len(s.CORSOrigins) > 1, "CORS_ORIGINS: * must stand alone")
	}
	return s, r.Err()
}

// validOrigin accepts "*" or scheme://host[:port] (optionally with a "*." subdomain
// wildcard), which is what fiber's CORS middleware accepts without panicking.
func validOrigin(o string) bool {
	if o == "*" {
		return true
	}
	u, err := url.Parse(strings.Replace(o, "://*.", "://", 1))
	if err != nil {
		return false
	}
	return (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && (u.Path == "" || u.Path == "/") &&
		u.RawQuery == "" && u.Fragment == "" && u.User == nil
}

// serviceBase parses a service base URL into the address a fasthttp HostClient dials
// and whether it speaks TLS.
func serviceBase(raw string) (addr string, tls bool, base string, err error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil {
		return "", false, "", fmt.Errorf("parse %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", false, "", fmt.Errorf("%q: want http(s)://host[:port]", raw)
	}
	if u.Path != "" {
		return "", false, "", fmt.Errorf("%q: base URLs carry no path (services serve full /api/v1 paths)", raw)
	}
	addr = u.Host
	if u.Port() == "" {
		if u.Scheme == "https" {
			addr += ":443"
		} else {
			addr += ":80"
		}
	}
	return addr, u.Scheme == "https", u.Scheme + "://" + u.Host, nil
}

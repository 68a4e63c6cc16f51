package gateway

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/sony/gobreaker/v2"
	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/inmem"
	"github.com/conectarpro/conectar/platform/trace"
)

// upstream is one service behind the gateway: a pooled keep-alive client and a circuit
// breaker that fails fast while the service is down, so a dead service costs its callers
// nothing and leaves the other services' capacity alone.
type upstream struct {
	name string
	base string
	// network is the keep-alive connection pool to the service; client is what requests
	// go through: network itself, or a transport that calls a service of the same process
	// in process and falls back to network.
	network *fasthttp.HostClient
	client  inmem.Doer
	breaker *gobreaker.CircuitBreaker[struct{}]

	duration  *prometheus.HistogramVec
	observers [numOutcomes]atomic.Pointer[prometheus.Observer]
}

// Errors a client sees when a service cannot answer. Every breaker-open and transport
// failure answers the same body so clients handle one shape.
func errUnavailable(cause error) error {
	return apperr.Unavailable("service_unavailable", "Servicio no disponible", cause)
}

func errUpstreamTimeout(cause error) error {
	return apperr.Unavailable("upstream_timeout", "El servicio no respondió a tiempo", cause)
}

var errBodyTooLarge = apperr.New(apperr.KindTooLarge, "body_too_large", "El cuerpo de la solicitud es demasiado grande")

// clientSideError marks failures caused by the caller (a body over the limit, a client
// that hung up mid-upload): they must not count against the service's breaker.
type clientSideError struct{ err error }

func (e *clientSideError) Error() string { return "client side: " + e.err.Error() }
func (e *clientSideError) Unwrap() error { return e.err }

func newUpstream(name, rawURL string, transport func(string, inmem.Doer) inmem.Doer, s settings, m *gwMetrics) (*upstream, error) {
	addr, tls, base, err := serviceBase(rawURL)
	if err != nil {
		return nil, err
	}
	u := &upstream{name: name, base: base, duration: m.upstreamDuration}
	u.network = &fasthttp.HostClient{
		Addr:                   addr,
		IsTLS:                  tls,
		Name:                   "conectar-gateway",
		MaxConns:               s.MaxConnsPerHost,
		MaxIdleConnDuration:    30 * time.Second,
		MaxResponseBodySize:    64 << 20,
		DisablePathNormalizing: true, // the gateway already normalized the path it matched
		// One retry on a stale keep-alive connection for idempotent requests; streamed
		// bodies are never retried by fasthttp.
		MaxIdemponentCallAttempts: 2,
		// Services answer full bodies; header sizes above 8 KiB only come from tokens + cookies.
		ReadBufferSize:  16 << 10,
		WriteBufferSize: 16 << 10,
	}
	u.client = u.network
	if transport != nil {
		u.client = transport(name, u.network)
	}
	u.breaker = gobreaker.NewCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        name,
		MaxRequests: 1,
		Timeout:     s.BreakerOpen,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= uint32(s.BreakerFailures) },
		IsExcluded: func(err error) bool {
			if err == nil {
				return false // before the target: errors.As's would be allocated on every call
			}
			var ce *clientSideError
			return errors.As(err, &ce)
		},
		OnStateChange: func(name string, from, to gobreaker.State) {
			m.breakerChanges.WithLabelValues(name, to.String()).Inc()
		},
	})
	return u, nil
}

// limitedReader reads the client's body for the upstream, refusing more than max bytes
// and remembering whether the failure was the client's.
type limitedReader struct {
	r       io.Reader
	left    int64
	tooBig  bool
	readErr error
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.left <= 0 {
		// Probe one byte: a body of exactly max bytes is fine.
		var one [1]byte
		n, err := l.r.Read(one[:])
		if n > 0 {
			l.tooBig = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	if err != nil && err != io.EOF {
		l.readErr = err
	}
	return n, err
}

// maxWholeBody is the largest request body the gateway reads whole before forwarding;
// longer ones (uploads) and bodies of unknown length are streamed to the service. It is
// below every service's own body limit, which a call in process does not pass through.
const maxWholeBody = 1 << 20

// hopHeaders are per-connection headers never forwarded (RFC 9110 §7.6.1), plus the
// internal key: only services send it to each other, a client must never smuggle it in.
var hopHeaders = []string{
	fiber.HeaderConnection, fiber.HeaderKeepAlive, fiber.HeaderProxyAuthorization, "Proxy-Connection",
	fiber.HeaderTE, fiber.HeaderTrailer, fiber.HeaderUpgrade, "X-Internal-Key",
	// The gateway's server already answered "100 Continue"; the client here sends the
	// body at once, so the service must not be asked to wait for it.
	fiber.HeaderExpect,
}

// forward sends the request in c to u and writes u's answer into c. The body is streamed
// from the client to the service (never buffered whole), so large multipart uploads cost
// the gateway a small buffer, not their size.
func (g *Gateway) forward(c *fiber.Ctx, u *upstream) error {
	in := c.Request()
	cl := in.Header.ContentLength()
	if cl > g.cfg.MaxBody {
		return errBodyTooLarge
	}

	// A service of this process lends the request its handler will read, so it is built
	// once, in place, instead of here and again in the handler's context.
	var out *fasthttp.Request
	var loan inmem.Loan
	if l, ok := u.client.(inmem.Lender); ok {
		loan = l.Lend()
		defer loan.Release()
		out = loan.Request
	} else {
		out = fasthttp.AcquireRequest()
		defer fasthttp.ReleaseRequest(out)
	}
	in.Header.CopyTo(&out.Header)
	// Joined on the stack: the URI is copied into out, and a string concatenation would
	// allocate twice on every request.
	var uri [256]byte
	out.SetRequestURIBytes(append(append(uri[:0], u.base...), in.URI().RequestURI()...))
	// One look over the client's headers: clients almost never send a hop header, and
	// each Del normalizes its key and scans every header.
	if hasHopHeader(&in.Header) {
		for _, h := range hopHeaders {
			out.Header.Del(h)
		}
	}
	// Behind a trusted proxy (ClientIPHeader set) its X-Forwarded-Host/Proto stand;
	// otherwise the gateway is the first hop and states them itself.
	trusted := g.cfg.ClientIPHeader != ""
	if !trusted || len(in.Header.Peek(fiber.HeaderXForwardedHost)) == 0 {
		out.Header.SetCanonical(keyXForwardedHost, in.Header.Host())
	}
	if !trusted || len(in.Header.Peek(fiber.HeaderXForwardedProto)) == 0 {
		// The connection's scheme, not fiber's Protocol: that believes a client's own
		// X-Forwarded-Proto, which only a trusted proxy may state.
		proto := "http"
		if c.Context().IsTLS() {
			proto = "https"
		}
		out.Header.SetCanonical(keyXForwardedProto, []byte(proto))
	}
	// On the stack: the address is copied into both headers.
	var ipBuf [64]byte
	var ip []byte
	prior := ""
	if trusted {
		ip = append(ipBuf[:0], g.clientIP(c)...)
		prior = string(in.Header.Peek(fiber.HeaderXForwardedFor))
	} else {
		ip = appendIP(ipBuf[:0], c.Context().RemoteIP())
	}
	if prior != "" {
		// Only a trusted proxy's chain is kept; otherwise the peer address starts it.
		out.Header.Set(fiber.HeaderXForwardedFor, prior+", "+c.Context().RemoteIP().String())
	} else {
		out.Header.SetCanonical(keyXForwardedFor, ip)
	}
	out.Header.SetCanonical(keyXRealIP, ip)
	if len(in.Header.Peek(trace.Header)) == 0 {
		out.Header.Set(trace.Header, trace.New())
	}

	timeout := g.cfg.UpstreamTimeout
	var body *limitedReader
	if cl != 0 && !in.Header.IsGet() && !in.Header.IsHead() {
		upload := cl < 0 || cl > maxWholeBody
		stream := c.Context().RequestBodyStream()
		switch {
		case stream == nil && loan.Request != nil:
			// A copy: a handler that outlives its timeout still reads it, after this
			// connection's next request has reused in's buffer.
			out.SetBody(in.Body())
		case stream == nil:
			out.SetBodyRaw(in.Body())
		case upload:
			body = &limitedReader{r: stream, left: int64(g.cfg.MaxBody)}
			out.SetBodyStream(body, cl)
		default:
			// A small body is read whole first: the service gets it in one write, and a
			// service of this process is called in process, which needs it in memory.
			if _, err := io.CopyN(out.BodyWriter(), stream, int64(cl)); err != nil {
				return apperr.Invalid("body_read_failed", "No se pudo leer el cuerpo de la solicitud")
			}
		}
		if upload || strings.HasPrefix(string(in.Header.ContentType()), fiber.MIMEMultipartForm) {
			timeout = g.cfg.UploadTimeout
		}
	}

	// The CORS and request-id headers already on the response would be wiped by the
	// client's response reset: keep them and put them back after.
	var buf [512]byte
	var spans [8][4]int
	saved := saveOwn(&c.Response().Header, buf[:0], spans[:0])

	resp := c.Response()
	start := time.Now()
	_, err := u.breaker.Execute(func() (struct{}, error) {
		var err error
		if loan.Request != nil {
			err = loan.DoTimeout(resp, timeout)
		} else {
			err = u.client.DoTimeout(out, resp, timeout)
		}
		if err != nil && body != nil && (body.tooBig || body.readErr != nil) {
			return struct{}{}, &clientSideError{err: err}
		}
		return struct{}{}, err
	})
	u.observe(resp.StatusCode(), err, time.Since(start))
	if err != nil {
		resp.Reset()
		saved.restore(resp)
		var ce *clientSideError
		switch {
		case errors.As(err, &ce) && body != nil && body.tooBig:
			return errBodyTooLarge
		case errors.As(err, &ce):
			return apperr.Invalid("body_read_failed", "No se pudo leer el cuerpo de la solicitud")
		case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
			return errUnavailable(err)
		case isTimeout(err):
			return errUpstreamTimeout(err)
		default:
			return errUnavailable(err)
		}
	}
	// The gateway owns CORS and the connection to its client. Services rarely send
	// CORS or hop headers, so one look over the answer's headers usually finds nothing
	// to delete, and the slice is only allocated when a service sends one.
	var drop []string
	for k := range resp.Header.All() {
		if (len(k) > len(corsPrefix) && bytes.EqualFold(k[:len(corsPrefix)], corsPrefix)) || oneOf(k, hopResponseHeaders) {
			drop = append(drop, string(k))
		}
	}
	for _, h := range drop {
		resp.Header.Del(h)
	}
	if !in.Header.ConnectionClose() {
		resp.Header.ResetConnectionClose()
	}
	saved.restore(resp)
	return nil
}

// ownHeaders are the gateway's own response headers (CORS, X-Request-Id), kept while
// the upstream's answer replaces the response and put back after. They are few and
// short: the caller's stack holds them rather than a pooled response.
type ownHeaders struct {
	buf   []byte
	spans [][4]int // key and value bounds in buf
}

// saveOwn appends h's headers, but those the upstream decides, to buf and spans. Not a
// method: appending through a pointer would move the caller's buffers to the heap.
func saveOwn(h *fasthttp.ResponseHeader, buf []byte, spans [][4]int) ownHeaders {
	for k, v := range h.All() {
		if oneOf(k, upstreamOwned) {
			continue
		}
		start := len(buf)
		buf = append(append(buf, k...), v...)
		spans = append(spans, [4]int{start, start + len(k), start + len(k), len(buf)})
	}
	return ownHeaders{buf: buf, spans: spans}
}

func (o ownHeaders) restore(resp *fasthttp.Response) {
	for _, s := range o.spans {
		// The keys come out of a header that stored them normalized (or, when
		// normalizing is off, as the gateway set them): no need to normalize again.
		resp.Header.SetCanonical(o.buf[s[0]:s[1]], o.buf[s[2]:s[3]])
	}
}

// appendIP appends ip as its String method writes it, without the allocation.
func appendIP(dst []byte, ip net.IP) []byte {
	if ip4 := ip.To4(); ip4 != nil {
		return netip.AddrFrom4([4]byte(ip4)).AppendTo(dst)
	}
	if len(ip) == net.IPv6len {
		return netip.AddrFrom16([16]byte(ip)).AppendTo(dst)
	}
	return append(dst, ip.String()...)
}

// hasHopHeader reports whether h carries a hop-by-hop header.
func hasHopHeader(h *fasthttp.RequestHeader) bool {
	for k := range h.All() {
		if oneOf(k, hopHeaders) {
			return true
		}
	}
	return false
}

// oneOf reports whether the header name k is one of names, case-insensitively.
func oneOf[S string | []byte](k []byte, names []S) bool {
	for _, n := range names {
		if len(k) == len(n) && bytes.EqualFold(k, []byte(n)) {
			return true
		}
	}
	return false
}

var (
	keyXForwardedHost  = []byte(fiber.HeaderXForwardedHost)
	keyXForwardedProto = []byte(fiber.HeaderXForwardedProto)
	keyXForwardedFor   = []byte(fiber.HeaderXForwardedFor)
	keyXRealIP         = []byte("X-Real-Ip")
)

// upstreamOwned are the response headers the service's answer decides, never put back
// from what the gateway had set before forwarding.
var upstreamOwned = [][]byte{[]byte("Content-Type"), []byte("Content-Length"), []byte("Server"), []byte("Date"), []byte("Set-Cookie")}

// corsPrefix starts the CORS headers a service's answer must not carry past the gateway.
var corsPrefix = []byte("access-control-")

// hopResponseHeaders are per-connection response headers never passed to the client.
var hopResponseHeaders = []string{fiber.HeaderKeepAlive, fiber.HeaderTrailer, fiber.HeaderUpgrade, "Proxy-Connection"}

func isTimeout(err error) bool {
	if errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// gwMetrics are the gateway's own series on top of the shared HTTP histogram.
type gwMetrics struct {
	upstreamDuration *prometheus.HistogramVec
	breakerChanges   *prometheus.CounterVec
	edgeRejections   *prometheus.CounterVec
	wsConnections    prometheus.Gauge
	wsPushes         prometheus.Counter
}

func newGWMetrics(reg prometheus.Registerer) *gwMetrics {
	m := &gwMetrics{
		upstreamDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "gateway_upstream_duration_seconds", Help: "Time to get a service's answer, by service and outcome.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 15},
		}, []string{"upstream", "outcome"}),
		breakerChanges: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_breaker_transitions_total", Help: "Circuit breaker state changes, by service and new state.",
		}, []string{"upstream", "to"}),
		edgeRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_edge_rejections_total", Help: "Requests refused at the edge, by reason.",
		}, []string{"reason"}),
		wsConnections: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_ws_connections", Help: "Open authenticated WebSocket connections.",
		}),
		wsPushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "gateway_ws_pushes_total", Help: "Realtime pushes written to WebSocket connections.",
		}),
	}
	reg.MustRegister(m.upstreamDuration, m.breakerChanges, m.edgeRejections, m.wsConnections, m.wsPushes)
	// Exported at zero from the start, so a dashboard's rate() sees the series before the
	// first rejection.
	for _, reason := range []string{"rate_limited", "invalid_token", "user_banned"} {
		m.edgeRejections.WithLabelValues(reason)
	}
	return m
}

// registerBreakerGauges exposes each breaker's state (0 closed, 1 half-open, 2 open),
// read at scrape time so an open breaker that timed out shows as half-open.
func registerBreakerGauges(reg prometheus.Registerer, ups map[string]*upstream) {
	for name, u := range ups {
		cb := u.breaker
		reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "gateway_breaker_state", Help: "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
			ConstLabels: prometheus.Labels{"upstream": name},
		}, func() float64 { return float64(cb.State()) }))
	}
}

// Outcomes of a call to a service, the outcome label of gateway_upstream_duration_seconds.
const (
	outcomeOK = iota
	outcome4xx
	outcome5xx
	outcomeError
	outcomeTimeout
	outcomeBreakerOpen
	numOutcomes
)

var outcomeLabels = [numOutcomes]string{"ok", "4xx", "5xx", "error", "timeout", "breaker_open"}

func outcomeOf(status int, err error) int {
	switch {
	case errors.Is(err, gobreaker.ErrOpenState), errors.Is(err, gobreaker.ErrTooManyRequests):
		return outcomeBreakerOpen
	case err != nil && isTimeout(err):
		return outcomeTimeout
	case err != nil:
		return outcomeError
	case status >= 500:
		return outcome5xx
	case status >= 400:
		return outcome4xx
	default:
		return outcomeOK
	}
}

// observe records how long u took to answer. Each outcome's series is looked up once
// and kept: a label lookup hashes both values on every call.
func (u *upstream) observe(status int, err error, d time.Duration) {
	i := outcomeOf(status, err)
	o := u.observers[i].Load()
	if o == nil {
		// Made on first use, as WithLabelValues does: a series shows up with its first
		// observation, not before.
		h := u.duration.WithLabelValues(u.name, outcomeLabels[i])
		o = &h
		u.observers[i].Store(o)
	}
	(*o).Observe(d.Seconds())
}

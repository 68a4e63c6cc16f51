package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	fws "github.com/fasthttp/websocket"
	"github.com/gofiber/contrib/websocket"
	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// WebSocket close codes beyond RFC 6455's, in the 4000 range applications own. They
// mirror the HTTP statuses a client already knows.
const (
	CloseUnauthorized = 4401 // missing or bad token
	CloseBanned       = 4403 // the user was banned (now or while connected)
	CloseAuthTimeout  = 4408 // no auth message in time
)

const wsClaimsKey = "gateway.ws.claims"

// The WebSocket's own messages (JSON text frames). They are named types, not maps, so
// the merged OpenAPI document describes them from the same types the hub encodes and
// decodes (gateway/docs.go); the pushes' data types belong to their services
// (realtime.Kinds).

// WSAuthMessage is the client's first message when it authenticates in-band.
type WSAuthMessage struct {
	Type  string `json:"type" jsonschema:"enum=auth"`
	Token string `json:"token" jsonschema:"description=the access token"`
}

// WSPingMessage is a client's application-level ping, for clients that cannot see
// protocol pings; the server answers WSPongMessage.
type WSPingMessage struct {
	Type string `json:"type" jsonschema:"enum=ping"`
}

// WSPongMessage answers WSPingMessage.
type WSPongMessage struct {
	Type string `json:"type" jsonschema:"enum=pong"`
}

// WSConnectedMessage is the server's first message: authenticated, and pushes for the
// user will arrive from now on.
type WSConnectedMessage struct {
	Type string      `json:"type" jsonschema:"enum=connected"`
	Data WSConnected `json:"data"`
}

// WSConnected is WSConnectedMessage's data.
type WSConnected struct {
	UserID string `json:"user_id"`
}

// wsCloseReasons are the close frames' codes and reasons: the WebSocket's errors (no
// error message is sent as data).
var wsCloseReasons = []struct {
	Code    int
	Reasons string
}{
	{CloseUnauthorized, "auth_required (first message not a valid auth message), invalid_token, or the token error's code"},
	{CloseBanned, "user_banned: at connection or while connected"},
	{CloseAuthTimeout, "auth_timeout: no auth message in time"},
	{websocket.CloseTryAgainLater, "realtime_unavailable (the server could not subscribe), slow_consumer (the client reads too slowly)"},
	{websocket.CloseGoingAway, "server_shutdown"},
}

// hub keeps the open, authenticated WebSocket connections so bans and shutdown can reach
// them. Each connection has its own core NATS subscription on rt.user.<id>: NATS does
// the fan-out to a user's several connections, the hub only tracks them.
type hub struct {
	g *Gateway

	mu      sync.Mutex
	conns   map[*wsConn]struct{}
	closing bool
	active  sync.WaitGroup
}

// wsConn is one authenticated connection.
type wsConn struct {
	ws     *fws.Conn
	userID string
	send   chan []byte
	done   chan struct{}
	once   sync.Once
}

// close sends a close frame once and makes both loops end: the writer on done, the
// reader on the short read deadline (or the client's answering close frame).
func (w *wsConn) close(code int, reason string) {
	w.once.Do(func() {
		_ = w.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
		close(w.done)
		_ = w.ws.SetReadDeadline(time.Now().Add(time.Second))
	})
}

func (w *wsConn) closed() bool {
	select {
	case <-w.done:
		return true
	default:
		return false
	}
}

func newHub(g *Gateway) *hub { return &hub{g: g, conns: map[*wsConn]struct{}{}} }

// protocolToken finds the token in "Sec-WebSocket-Protocol: bearer, <token>", the one
// header browsers let a page set on a WebSocket handshake.
func protocolToken(h string) string {
	parts := strings.Split(h, ",")
	for i := 0; i+1 < len(parts); i++ {
		if strings.EqualFold(strings.TrimSpace(parts[i]), "bearer") {
			return strings.TrimSpace(parts[i+1])
		}
	}
	return ""
}

// upgrade authenticates the handshake when it carries a token (query, subprotocol or
// Authorization header): a bad or banned token is refused with 401 JSON before any
// upgrade. Without a token the connection opens and must authenticate by message.
func (h *hub) upgrade(c *fiber.Ctx) error {
	if !websocket.IsWebSocketUpgrade(c) {
		return fiber.ErrUpgradeRequired
	}
	h.mu.Lock()
	closing := h.closing
	h.mu.Unlock()
	if h.g.deps.NC == nil || closing {
		return apperr.Unavailable("realtime_unavailable", "Tiempo real no disponible", nil)
	}
	tok := c.Query("token")
	if tok == "" {
		tok = protocolToken(c.Get(fiber.HeaderSecWebSocketProtocol))
	}
	if tok == "" {
		tok = authn.BearerToken(c)
	}
	if tok != "" {
		claims, err := h.g.deps.Verifier.Verify(c.UserContext(), tok)
		if err != nil {
			if e, ok := apperr.As(err); ok {
				h.g.metrics.edgeRejections.WithLabelValues("ws_" + e.Code).Inc()
			}
			return err
		}
		c.Locals(wsClaimsKey, claims)
	}
	return c.Next()
}

// enter registers a handler run unless the hub is shutting down.
func (h *hub) enter() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		return false
	}
	h.active.Add(1)
	return true
}

// handle runs one connection until either side closes it.
func (h *hub) handle(c *websocket.Conn) {
	ws := c.Conn
	if !h.enter() {
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseGoingAway, "server_shutdown"), time.Now().Add(time.Second))
		return
	}
	defer h.active.Done()
	log := h.g.deps.Log

	claims, ok := c.Locals(wsClaimsKey).(authn.Claims)
	if !ok {
		var code int
		var reason string
		claims, code, reason = h.authByMessage(ws)
		if code != 0 {
			_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
			return
		}
	}
	conn := &wsConn{ws: ws, userID: claims.UserID(), send: make(chan []byte, h.g.cfg.WSSendBuffer), done: make(chan struct{})}

	sub, err := h.g.deps.NC.Subscribe(events.RealtimeSubject(conn.userID), func(m *nats.Msg) {
		select {
		case conn.send <- m.Data:
		default:
			// A client that cannot keep up is dropped rather than buffered without bound;
			// it reconnects and re-reads state over HTTP.
			go conn.close(websocket.CloseTryAgainLater, "slow_consumer")
		}
	})
	if err == nil {
		// The subscription must reach the server before "connected" tells the client
		// that pushes will arrive.
		err = h.g.deps.NC.FlushTimeout(5 * time.Second)
	}
	if err != nil {
		log.Warn("ws subscribe failed", "user_id", conn.userID, "err", err)
		_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseTryAgainLater, "realtime_unavailable"), time.Now().Add(time.Second))
		if sub != nil {
			_ = sub.Unsubscribe()
		}
		return
	}
	defer func() { _ = sub.Unsubscribe() }()

	hello, _ := json.Marshal(WSConnectedMessage{Type: "connected", Data: WSConnected{UserID: conn.userID}})
	_ = ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
	if err := ws.WriteMessage(websocket.TextMessage, hello); err != nil {
		return
	}

	h.add(conn)
	defer h.remove(conn)
	writerDone := make(chan struct{})
	go func() {
		defer close(writerDone)
		h.writeLoop(conn)
	}()
	h.readLoop(conn)
	conn.close(websocket.CloseNormalClosure, "")
	<-writerDone
}

// authByMessage waits for {"type":"auth","token":"…"} as the first message. It returns
// a close code and reason when authentication fails.
func (h *hub) authByMessage(ws *fws.Conn) (authn.Claims, int, string) {
	_ = ws.SetReadDeadline(time.Now().Add(h.g.cfg.WSAuthTimeout))
	ws.SetReadLimit(16 << 10)
	_, data, err := ws.ReadMessage()
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return authn.Claims{}, CloseAuthTimeout, "auth_timeout"
		}
		return authn.Claims{}, websocket.CloseNormalClosure, ""
	}
	var msg WSAuthMessage
	if json.Unmarshal(data, &msg) != nil || msg.Type != "auth" || msg.Token == "" {
		return authn.Claims{}, CloseUnauthorized, "auth_required"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	claims, err := h.g.deps.Verifier.Verify(ctx, msg.Token)
	if err != nil {
		code := "invalid_token"
		if e, ok := apperr.As(err); ok {
			code = e.Code
		}
		h.g.metrics.edgeRejections.WithLabelValues("ws_" + code).Inc()
		if code == "user_banned" {
			return authn.Claims{}, CloseBanned, code
		}
		return authn.Claims{}, CloseUnauthorized, code
	}
	return claims, 0, ""
}

// writeLoop is the connection's only data writer: pushes and pings.
func (h *hub) writeLoop(c *wsConn) {
	ping := time.NewTicker(h.g.cfg.WSPing)
	defer ping.Stop()
	for {
		select {
		case <-c.done:
			return
		case msg := <-c.send:
			if h.banned(c.userID) {
				c.close(CloseBanned, "user_banned")
				return
			}
			_ = c.ws.SetWriteDeadline(time.Now().Add(10 * time.Second))
			if err := c.ws.WriteMessage(websocket.TextMessage, msg); err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
			h.g.metrics.wsPushes.Inc()
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(5*time.Second)); err != nil {
				c.close(websocket.CloseAbnormalClosure, "")
				return
			}
		}
	}
}

// readLoop consumes client frames: pongs keep the connection alive, {"type":"ping"}
// is answered with {"type":"pong"} for clients that cannot see protocol pings.
func (h *hub) readLoop(c *wsConn) {
	idle := 2*h.g.cfg.WSPing + 5*time.Second
	c.ws.SetReadLimit(16 << 10)
	_ = c.ws.SetReadDeadline(time.Now().Add(idle))
	c.ws.SetPongHandler(func(string) error {
		if c.closed() {
			return nil
		}
		return c.ws.SetReadDeadline(time.Now().Add(idle))
	})
	pong, _ := json.Marshal(WSPongMessage{Type: "pong"})
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		if c.closed() {
			continue
		}
		_ = c.ws.SetReadDeadline(time.Now().Add(idle))
		var msg WSPingMessage
		if json.Unmarshal(data, &msg) == nil && msg.Type == "ping" {
			select {
			case c.send <- pong:
			default:
			}
		}
	}
}

func (h *hub) banned(userID string) bool {
	b := h.g.deps.Verifier.Bans
	return b != nil && b.IsBanned(userID)
}

func (h *hub) add(c *wsConn) {
	h.mu.Lock()
	h.conns[c] = struct{}{}
	h.mu.Unlock()
	h.g.metrics.wsConnections.Inc()
}

func (h *hub) remove(c *wsConn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.g.metrics.wsConnections.Dec()
}

func (h *hub) snapshot() []*wsConn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*wsConn, 0, len(h.conns))
	for c := range h.conns {
		out = append(out, c)
	}
	return out
}

// watchBans closes the connections of users banned while connected. The ban list is an
// in-memory mirror of the KV bucket, so a sweep is a map lookup per connection.
func (h *hub) watchBans(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, c := range h.snapshot() {
				if h.banned(c.userID) {
					c.close(CloseBanned, "user_banned")
				}
			}
		}
	}
}

// shutdown refuses new connections, closes the open ones with 1001 and waits for their
// handlers to end (or ctx).
func (h *hub) shutdown(ctx context.Context, log *slog.Logger) {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	for _, c := range h.snapshot() {
		c.close(websocket.CloseGoingAway, "server_shutdown")
	}
	done := make(chan struct{})
	go func() {
		h.active.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		log.Warn("websocket hub: shutdown timed out with connections open")
	}
}

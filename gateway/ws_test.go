package gateway_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/conectarpro/conectar/platform/natsx"
)

func (s *stack) wsURL(query string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/api/v1/ws" + query
}

// readJSON reads one text message within d.
func readJSON(t *testing.T, c *websocket.Conn, d time.Duration) (map[string]any, error) {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, data, err := c.ReadMessage()
	if err != nil {
		return nil, err
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("non-JSON message %q", data)
	}
	return m, nil
}

// mustConnected reads the hello message and checks its user id.
func mustConnected(t *testing.T, c *websocket.Conn, uid string) {
	t.Helper()
	m, err := readJSON(t, c, 5*time.Second)
	if err != nil {
		t.Fatalf("no connected message: %v", err)
	}
	data, _ := m["data"].(map[string]any)
	if m["type"] != "connected" || data["user_id"] != uid {
		t.Fatalf("hello %v", m)
	}
}

// closeCode reads until the server closes and returns its close code.
func closeCode(t *testing.T, c *websocket.Conn, d time.Duration) int {
	t.Helper()
	_ = c.SetReadDeadline(time.Now().Add(d))
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		t.Fatalf("connection ended without a close frame: %v", err)
	}
}

func TestWebSocketForwardsOnlyOwnPushes(t *testing.T) {
	s := newStack(t, nil)
	const ana, beto = "a1111111-1111-4111-8111-111111111111", "b2222222-2222-4222-8222-222222222222"

	// Query token; a second connection for the same user via subprotocol.
	c1, _, err := websocket.DefaultDialer.Dial(s.wsURL("?token="+s.Keys.Token(ana, "CLIENTE", "ana@x.com")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c1.Close()
	mustConnected(t, c1, ana)
	d := *websocket.DefaultDialer
	d.Subprotocols = []string{"bearer", s.Keys.Token(ana, "CLIENTE", "ana@x.com")}
	c2, resp, err := d.Dial(s.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if got := resp.Header.Get("Sec-WebSocket-Protocol"); got != "bearer" || c2.Subprotocol() != "bearer" {
		t.Errorf("selected subprotocol %q", got)
	}
	mustConnected(t, c2, ana)
	// Beto authenticates with a first message.
	c3, _, err := websocket.DefaultDialer.Dial(s.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c3.Close()
	if err := c3.WriteJSON(map[string]string{"type": "auth", "token": s.Keys.Token(beto, "PROFESIONAL", "beto@x.com")}); err != nil {
		t.Fatal(err)
	}
	mustConnected(t, c3, beto)

	nc := s.NATS.NC
	if err := nc.Publish("rt.user."+beto, []byte(`{"type":"message","data":{"text":"para beto"}}`)); err != nil {
		t.Fatal(err)
	}
	if err := nc.Publish("rt.user."+ana, []byte(`{"type":"oferta","data":{"id":"o1"}}`)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*websocket.Conn{c1, c2} {
		m, err := readJSON(t, c, 2*time.Second)
		if err != nil {
			t.Fatalf("ana's push: %v", err)
		}
		if m["type"] != "oferta" { // Beto's push, published first, must never arrive here
			t.Errorf("ana received %v", m)
		}
	}
	m, err := readJSON(t, c3, 2*time.Second)
	if err != nil || m["type"] != "message" {
		t.Errorf("beto received %v, %v", m, err)
	}
	if _, err := readJSON(t, c3, 200*time.Millisecond); err == nil {
		t.Errorf("beto received a second message (ana's)")
	}

	// Application-level ping.
	if err := c1.WriteJSON(map[string]string{"type": "ping"}); err != nil {
		t.Fatal(err)
	}
	if m, err := readJSON(t, c1, 2*time.Second); err != nil || m["type"] != "pong" {
		t.Errorf("ping answer %v %v", m, err)
	}
}

func TestWebSocketAuthFailures(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_WS_AUTH_TIMEOUT": "300ms"})
	// Bad token at the handshake: plain 401, no upgrade.
	_, resp, err := websocket.DefaultDialer.Dial(s.wsURL("?token=garbage"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("bad query token: err %v resp %v", err, resp)
	}
	// No auth message in time.
	c, _, err := websocket.DefaultDialer.Dial(s.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, c, 3*time.Second); code != 4408 {
		t.Errorf("auth timeout close code %d", code)
	}
	c.Close()
	// Bad auth message.
	c, _, err = websocket.DefaultDialer.Dial(s.wsURL(""), nil)
	if err != nil {
		t.Fatal(err)
	}
	_ = c.WriteJSON(map[string]string{"type": "auth", "token": "garbage"})
	if code := closeCode(t, c, 3*time.Second); code != 4401 {
		t.Errorf("bad auth message close code %d", code)
	}
	c.Close()
	// Not a WebSocket request.
	if r := s.do(http.MethodGet, "/api/v1/ws", nil, nil, nil); r.StatusCode != http.StatusUpgradeRequired {
		t.Errorf("plain GET /api/v1/ws: %d", r.StatusCode)
	}
}

func TestWebSocketClosesOnBanAndShutdown(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_WS_BAN_CHECK": "100ms"})
	const carla, dani = "c3333333-3333-4333-8333-333333333333", "d4444444-4444-4444-8444-444444444444"
	cc, _, err := websocket.DefaultDialer.Dial(s.wsURL("?token="+s.Keys.Token(carla, "CLIENTE", "c@x.com")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cc.Close()
	mustConnected(t, cc, carla)
	cd, _, err := websocket.DefaultDialer.Dial(s.wsURL("?token="+s.Keys.Token(dani, "CLIENTE", "d@x.com")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cd.Close()
	mustConnected(t, cd, dani)

	if err := natsx.SetBanned(context.Background(), s.KV, carla, true); err != nil {
		t.Fatal(err)
	}
	if code := closeCode(t, cc, 5*time.Second); code != 4403 {
		t.Errorf("ban close code %d", code)
	}
	// A banned user cannot reconnect.
	if _, resp, err := websocket.DefaultDialer.Dial(s.wsURL("?token="+s.Keys.Token(carla, "CLIENTE", "c@x.com")), nil); err == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("banned reconnect: %v %v", err, resp)
	}
	// Dani is unaffected until shutdown, which closes with 1001.
	if err := s.NATS.NC.Publish("rt.user."+dani, []byte(`{"type":"x"}`)); err != nil {
		t.Fatal(err)
	}
	if m, err := readJSON(t, cd, 2*time.Second); err != nil || m["type"] != "x" {
		t.Fatalf("dani push: %v %v", m, err)
	}
	done := make(chan struct{})
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.GW.Stop(ctx)
		close(done)
	}()
	if code := closeCode(t, cd, 5*time.Second); code != websocket.CloseGoingAway {
		t.Errorf("shutdown close code %d", code)
	}
	select {
	case <-done:
	case <-time.After(6 * time.Second):
		t.Errorf("Stop did not return")
	}
}

func TestWebSocketKeepalivePings(t *testing.T) {
	s := newStack(t, map[string]string{"GATEWAY_WS_PING_INTERVAL": "50ms"})
	const uid = "e5555555-5555-4555-8555-555555555555"
	c, _, err := websocket.DefaultDialer.Dial(s.wsURL("?token="+s.Keys.Token(uid, "CLIENTE", "e@x.com")), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	mustConnected(t, c, uid)
	pings := 0
	c.SetPingHandler(func(data string) error {
		pings++
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(time.Second))
	})
	_ = c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
	_, _, err = c.ReadMessage() // returns on the deadline; pings are handled meanwhile
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("read ended with %v", err)
	}
	if pings < 3 {
		t.Errorf("%d pings in 400ms at a 50ms interval", pings)
	}
}

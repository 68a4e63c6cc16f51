package inmem_test

import (
	"net"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/platform/inmem"
)

// serve answers every request with body on ln until ln closes.
func serve(t *testing.T, ln net.Listener, body string) *fasthttp.Server {
	t.Helper()
	srv := &fasthttp.Server{Handler: func(c *fasthttp.RequestCtx) {
		// The peer a service sees must be loopback on both paths (auth trusts forwarding
		// headers only from a local peer).
		if !c.RemoteIP().IsLoopback() {
			c.Error("peer "+c.RemoteIP().String(), fasthttp.StatusForbidden)
			return
		}
		c.SetBodyString(body)
	}}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Shutdown() })
	return srv
}

func get(t *testing.T, c *fasthttp.HostClient) (string, error) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://" + c.Addr + "/")
	if err := c.Do(req, resp); err != nil {
		return "", err
	}
	if resp.StatusCode() != fasthttp.StatusOK {
		t.Fatalf("%d %s", resp.StatusCode(), resp.Body())
	}
	return string(resp.Body()), nil
}

// A dialer reaches the in-memory listener while its component listens in the process,
// TCP otherwise, and follows a component that stops and listens anew.
func TestDialer(t *testing.T) {
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve(t, tcp, "tcp")
	sb := inmem.New()
	// MaxConnDuration 1ns: every request dials, so each answer shows where a dial went.
	client := &fasthttp.HostClient{Addr: tcp.Addr().String(), Dial: sb.Dialer("users"), MaxConnDuration: 1}

	if got, err := get(t, client); err != nil || got != "tcp" {
		t.Fatalf("nothing listens in memory: %q %v; want tcp", got, err)
	}
	first := serve(t, sb.Listen("users"), "memory 1")
	if got, err := get(t, client); err != nil || got != "memory 1" {
		t.Fatalf("listening in memory: %q %v; want memory 1", got, err)
	}
	if err := first.Shutdown(); err != nil {
		t.Fatal(err)
	}
	if got, err := get(t, client); err != nil || got != "tcp" {
		t.Fatalf("in-memory server stopped: %q %v; want tcp", got, err)
	}
	serve(t, sb.Listen("users"), "memory 2")
	if got, err := get(t, client); err != nil || got != "memory 2" {
		t.Fatalf("listening again: %q %v; want memory 2", got, err)
	}
	other := &fasthttp.HostClient{Addr: tcp.Addr().String(), Dial: sb.Dialer("payments"), MaxConnDuration: 1}
	if got, err := get(t, other); err != nil || got != "tcp" {
		t.Fatalf("another name: %q %v; want tcp", got, err)
	}
}

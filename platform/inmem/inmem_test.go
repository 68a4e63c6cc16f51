package inmem_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/conectarpro/conectar/platform/inmem"
)

// network stands in for the HTTP client a transport falls back to.
type network struct{ calls atomic.Int64 }

func (n *network) DoTimeout(req *fasthttp.Request, resp *fasthttp.Response, _ time.Duration) error {
	n.calls.Add(1)
	resp.SetStatusCode(fasthttp.StatusOK)
	resp.SetBodyString("network")
	return nil
}

func do(t *testing.T, d inmem.Doer, body string) (int, string, error) {
	t.Helper()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://users/api/v1/users/me?x=1")
	req.Header.Set("X-Probe", "probe")
	if body != "" {
		req.Header.SetMethod(fasthttp.MethodPost)
		req.SetBodyString(body)
	}
	err := d.DoTimeout(req, resp, time.Second)
	return resp.StatusCode(), string(resp.Body()), err
}

// echo answers what reached it: the peer, the path, a header, the body, and whether a
// value an earlier call left on its context is still there.
func echo(name string) fasthttp.RequestHandler {
	return func(c *fasthttp.RequestCtx) {
		if c.UserValue("seen") != nil {
			c.Error("a user value of an earlier call leaked", fasthttp.StatusInternalServerError)
			return
		}
		c.SetUserValue("seen", true)
		if !c.RemoteIP().IsLoopback() {
			c.Error("peer "+c.RemoteIP().String(), fasthttp.StatusForbidden)
			return
		}
		c.Response.Header.Set("X-Total-Count", "7")
		c.SetStatusCode(fasthttp.StatusCreated)
		c.SetBodyString(name + " " + string(c.Path()) + " " + string(c.QueryArgs().Peek("x")) + " " +
			string(c.Request.Header.Peek("X-Probe")) + " " + string(c.PostBody()))
	}
}

// A transport calls the handler while its component serves in the process, the network
// otherwise, and follows a component that stops and is handed in anew.
func TestTransport(t *testing.T) {
	sb := inmem.New()
	net := &network{}
	users := sb.Transport("users", net)

	if _, got, err := do(t, users, ""); err != nil || got != "network" {
		t.Fatalf("nothing handed in: %q %v; want the network", got, err)
	}
	withdraw := sb.Handle("users", echo("first"))
	for i := range 3 { // the call contexts are reused: nothing of one call reaches the next
		status, got, err := do(t, users, "")
		if err != nil || status != fasthttp.StatusCreated || got != "first /api/v1/users/me 1 probe " {
			t.Fatalf("call %d in process: %d %q %v", i, status, got, err)
		}
	}
	if _, got, err := do(t, users, `{"a":1}`); err != nil || got != `first /api/v1/users/me 1 probe {"a":1}` {
		t.Fatalf("with a body in memory: %q %v", got, err)
	}
	if _, got, err := do(t, sb.Transport("payments", net), ""); err != nil || got != "network" {
		t.Fatalf("another name: %q %v; want the network", got, err)
	}
	withdraw(context.Background())
	if _, got, err := do(t, users, ""); err != nil || got != "network" {
		t.Fatalf("after withdraw: %q %v; want the network", got, err)
	}
	defer sb.Handle("users", echo("second"))(context.Background())
	if _, got, err := do(t, users, ""); err != nil || !strings.HasPrefix(got, "second ") {
		t.Fatalf("handed in again: %q %v", got, err)
	}
	if n := net.calls.Load(); n != 3 {
		t.Fatalf("network calls %d, want 3", n)
	}
}

// A streamed body (an upload) goes over the network: a handler called in process needs
// the whole request in memory.
func TestStreamedBodyUsesNetwork(t *testing.T) {
	sb := inmem.New()
	net := &network{}
	defer sb.Handle("users", echo("memory"))(context.Background())
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI("http://users/upload")
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetBodyStream(strings.NewReader("big file"), -1)
	if err := sb.Transport("users", net).DoTimeout(req, resp, time.Second); err != nil || string(resp.Body()) != "network" {
		t.Fatalf("%q %v; want the network", resp.Body(), err)
	}
}

// A handler's streamed answer reaches the caller whole, as over the network, whether its
// length is known or not.
func TestStreamedAnswer(t *testing.T) {
	sb := inmem.New()
	body := strings.Repeat("a line of a long export\n", 4096)
	defer sb.Handle("users", func(c *fasthttp.RequestCtx) {
		size := -1
		if string(c.Path()) == "/sized" {
			size = len(body)
		}
		c.SetContentType("text/csv")
		c.SetBodyStream(strings.NewReader(body), size)
	})(context.Background())
	for _, path := range []string{"/sized", "/chunked"} {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		req.SetRequestURI("http://users" + path)
		if err := sb.Transport("users", &network{}).DoTimeout(req, resp, time.Second); err != nil {
			t.Fatal(err)
		}
		if got := string(resp.Body()); got != body || string(resp.Header.ContentType()) != "text/csv" {
			t.Fatalf("%s: %d bytes of %d, type %q", path, len(got), len(body), resp.Header.ContentType())
		}
		fasthttp.ReleaseRequest(req)
		fasthttp.ReleaseResponse(resp)
	}
}

// A handler slower than the timeout costs its caller the timeout, as over the network;
// it finishes on its own, and withdraw waits for it.
func TestTimeout(t *testing.T) {
	sb := inmem.New()
	release, finished := make(chan struct{}), make(chan struct{})
	withdraw := sb.Handle("users", func(c *fasthttp.RequestCtx) {
		<-release
		c.SetBodyString("late")
		close(finished)
	})
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	req.SetRequestURI("http://users/slow")
	start := time.Now()
	err := sb.Transport("users", &network{}).DoTimeout(req, resp, 50*time.Millisecond)
	if err != inmem.ErrTimeout || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s; want a timeout", err, time.Since(start))
	}
	if len(resp.Body()) != 0 {
		t.Fatalf("a timed-out call wrote %q", resp.Body())
	}
	fasthttp.ReleaseRequest(req)
	fasthttp.ReleaseResponse(resp)

	// withdraw waits for the call still running, up to its context.
	short, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	withdraw(short)
	select {
	case <-finished:
		t.Fatal("the handler finished before it was released")
	default:
	}
	done := make(chan struct{})
	go func() { withdraw(context.Background()); close(done) }()
	select {
	case <-done:
		t.Fatal("withdraw returned while a call was in flight")
	case <-time.After(20 * time.Millisecond):
	}
	close(release)
	<-finished
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("withdraw did not return after the call finished")
	}
}

// A lent request reaches the handler as filled, in process or over the network; one
// given back unsent, or sent, cannot be sent again.
func TestLoan(t *testing.T) {
	sb := inmem.New()
	net := &network{}
	users := sb.Transport("users", net).(inmem.Lender)
	send := func(body string) (string, error) {
		loan := users.Lend()
		defer loan.Release()
		loan.Request.SetRequestURI("http://users/api/v1/users/me?x=1")
		loan.Request.Header.Set("X-Probe", "probe")
		if body != "" {
			loan.Request.Header.SetMethod(fasthttp.MethodPost)
			loan.Request.SetBodyString(body)
		}
		resp := fasthttp.AcquireResponse()
		defer fasthttp.ReleaseResponse(resp)
		err := loan.DoTimeout(resp, time.Second)
		if again := loan.DoTimeout(resp, time.Second); again == nil {
			t.Fatal("a loan was sent twice")
		}
		return string(resp.Body()), err
	}
	if got, err := send(""); err != nil || got != "network" {
		t.Fatalf("nothing handed in: %q %v; want the network", got, err)
	}
	defer sb.Handle("users", echo("lent"))(context.Background())
	for i := range 3 { // the requests are reused: nothing of one loan reaches the next
		body := ""
		if i == 1 {
			body = `{"a":1}`
		}
		if got, err := send(body); err != nil || got != "lent /api/v1/users/me 1 probe "+body {
			t.Fatalf("loan %d in process: %q %v", i, got, err)
		}
	}
	unsent := users.Lend()
	unsent.Request.Header.Set("X-Probe", "left over")
	unsent.Release()
	unsent.Release()
	if got, err := send(""); err != nil || got != "lent /api/v1/users/me 1 probe " {
		t.Fatalf("after a loan given back unsent: %q %v", got, err)
	}

	// A streamed body goes over the network.
	loan := users.Lend()
	loan.Request.SetRequestURI("http://users/upload")
	loan.Request.Header.SetMethod(fasthttp.MethodPost)
	loan.Request.SetBodyStream(strings.NewReader("big file"), -1)
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	if err := loan.DoTimeout(resp, time.Second); err != nil || string(resp.Body()) != "network" {
		t.Fatalf("streamed: %q %v; want the network", resp.Body(), err)
	}
	loan.Release()
	if n := net.calls.Load(); n != 2 {
		t.Fatalf("network calls %d, want 2", n)
	}
}

// A handler slower than a loan's timeout costs its caller the timeout; the request it
// reads stays its own until it returns.
func TestLoanTimeout(t *testing.T) {
	sb := inmem.New()
	release, finished := make(chan struct{}), make(chan string)
	defer sb.Handle("users", func(c *fasthttp.RequestCtx) {
		<-release
		finished <- string(c.Request.Header.Peek("X-Probe"))
	})(context.Background())
	users := sb.Transport("users", &network{}).(inmem.Lender)
	loan := users.Lend()
	loan.Request.SetRequestURI("http://users/slow")
	loan.Request.Header.Set("X-Probe", "mine")
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseResponse(resp)
	start := time.Now()
	if err := loan.DoTimeout(resp, 50*time.Millisecond); err != inmem.ErrTimeout || time.Since(start) > 5*time.Second {
		t.Fatalf("err %v after %s; want a timeout", err, time.Since(start))
	}
	loan.Release()
	// Later loans must not be handed the request the handler still reads.
	for range 3 {
		l := users.Lend()
		l.Request.Header.Set("X-Probe", "other")
		l.Release()
	}
	close(release)
	if got := <-finished; got != "mine" {
		t.Fatalf("the timed-out handler read %q", got)
	}
}

package inmem

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

type noNetwork struct{}

func (noNetwork) DoTimeout(*fasthttp.Request, *fasthttp.Response, time.Duration) error {
	panic("called the network")
}

// A worker that served no call between two sweeps ends; one that did stays, and calls
// after the sweeps are served.
func TestIdleWorkersEnd(t *testing.T) {
	sb := New()
	defer sb.Handle("users", func(c *fasthttp.RequestCtx) { c.SetBodyString("ok") })(context.Background())
	users := sb.Transport("users", noNetwork{})
	call := func() {
		t.Helper()
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		req.SetRequestURI("http://users/x")
		if err := users.DoTimeout(req, resp, time.Second); err != nil || string(resp.Body()) != "ok" {
			t.Fatalf("%q %v", resp.Body(), err)
		}
	}
	idle := func() int {
		// The worker puts itself back after signalling its caller.
		deadline := time.Now().Add(5 * time.Second)
		for {
			sb.workers.mu.Lock()
			n, swept := len(sb.workers.idle), sb.workers.swept
			sb.workers.mu.Unlock()
			if n > 0 || time.Now().After(deadline) {
				if n > 0 && !swept {
					t.Fatal("an idle worker and no sweep due")
				}
				return n
			}
			time.Sleep(time.Millisecond)
		}
	}
	call()
	if n := idle(); n != 1 {
		t.Fatalf("%d idle workers, want 1", n)
	}
	sb.workers.reap() // served since the last sweep: stays
	if n := idle(); n != 1 {
		t.Fatalf("after one sweep: %d idle workers, want 1", n)
	}
	sb.workers.reap()
	sb.workers.mu.Lock()
	n, swept := len(sb.workers.idle), sb.workers.swept
	sb.workers.mu.Unlock()
	if n != 0 || swept {
		t.Fatalf("after two sweeps: %d idle workers, sweep due %v; want none", n, swept)
	}
	call()
	if n := idle(); n != 1 {
		t.Fatalf("after a new call: %d idle workers, want 1", n)
	}
}

// copyResponse answers what CopyTo would, whatever held the body (a streamed body, which
// CopyTo drops, is handed over: TestStreamedAnswer).
func TestCopyResponseIsCopyTo(t *testing.T) {
	for name, fill := range map[string]func(*fasthttp.Response){
		"raw": func(r *fasthttp.Response) {
			r.SetStatusCode(fasthttp.StatusCreated)
			r.Header.SetContentType("application/json")
			r.Header.Set("X-Total-Count", "7")
			r.Header.SetCookie(cookie("a", "1"))
			r.Header.SetCookie(cookie("b", "2"))
			r.SetBodyRaw([]byte(`{"raw":true}`))
		},
		"buffer": func(r *fasthttp.Response) { r.SetBodyString("buffered") },
		"empty":  func(r *fasthttp.Response) { r.SetStatusCode(fasthttp.StatusNoContent) },
		"head": func(r *fasthttp.Response) {
			r.SkipBody = true
			r.Header.SetContentLength(42)
		},
	} {
		src, got, want := fasthttp.AcquireResponse(), fasthttp.AcquireResponse(), fasthttp.AcquireResponse()
		fill(src)
		// What the gateway's response held before: it must not survive either.
		got.SetBodyString("stale")
		got.Header.Set("X-Stale", "1")
		want.SetBodyString("stale")
		want.Header.Set("X-Stale", "1")
		copyResponse(src, got)
		src.CopyTo(want)
		if got.String() != want.String() || got.SkipBody != want.SkipBody {
			t.Errorf("%s: copied\n%s\nCopyTo gives\n%s", name, got, want)
		}
		// The copy owns its body.
		src.Reset()
		if got.String() != want.String() {
			t.Errorf("%s: the copy changed with its source", name)
		}
	}
}

func cookie(k, v string) *fasthttp.Cookie {
	c := fasthttp.AcquireCookie()
	c.SetKey(k)
	c.SetValue(v)
	return c
}

// Calls in flight together each get their own answer or their own timeout, and leave
// the deadline list either way.
func TestDeadlinesOfManyCalls(t *testing.T) {
	sb := New()
	release := make(chan struct{})
	defer sb.Handle("users", func(c *fasthttp.RequestCtx) {
		if string(c.Path()) == "/slow" {
			<-release
		}
		c.SetBody(c.Path())
	})(context.Background())
	users := sb.Transport("users", noNetwork{})
	errs := make(chan error, 40)
	for i := range 40 {
		path := "/fast"
		if i%2 == 0 {
			path = "/slow"
		}
		go func() {
			req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
			req.SetRequestURI("http://users" + path)
			start := time.Now()
			err := users.DoTimeout(req, resp, 100*time.Millisecond)
			switch {
			case path == "/slow" && err != ErrTimeout:
				errs <- fmt.Errorf("slow call: %v, %q", err, resp.Body())
			case path == "/slow" && time.Since(start) > 2*time.Second:
				errs <- fmt.Errorf("slow call timed out after %s", time.Since(start))
			case path == "/fast" && (err != nil || string(resp.Body()) != "/fast"):
				errs <- fmt.Errorf("fast call: %v, %q", err, resp.Body())
			default:
				errs <- nil
			}
		}()
	}
	for range 40 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	close(release)
	sb.deadlines.mu.Lock()
	n := len(sb.deadlines.calls)
	sb.deadlines.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d calls left on the deadline list", n)
	}
}

// Package inmem lets the gateway call the services of its own process without a network
// hop. `conectar serve all` runs the gateway and every service in one process; a request
// the gateway forwards is handed to the service's HTTP handler (its Fiber app: routing,
// middleware, error handler, the code a separate process runs) as a fasthttp request
// context, instead of being written to a socket, parsed by the service's server, answered,
// written back and parsed again. On a small machine that round trip cost more than the
// gateway's own work (issue #13: about 20 µs of CPU and two goroutine hand-offs per
// request even over an in-memory pipe).
//
// Requests whose body is streamed (uploads) still go over the network: a handler called
// in process needs the whole request in memory, and an upload must not be.
package inmem

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// Doer sends a request and reads its answer; *fasthttp.HostClient is one.
type Doer interface {
	DoTimeout(req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error
}

// Switchboard holds the handler of each component that serves in this process. It
// outlives the components: a service stopped and built again (a restart in the system
// tests) is handed in anew under the same name, and callers follow.
type Switchboard struct {
	mu       sync.RWMutex
	handlers map[string]*handler

	calls     sync.Pool // *call
	workers   workers
	deadlines deadlines
}

type handler struct {
	serve    fasthttp.RequestHandler
	inflight sync.WaitGroup
}

// New returns an empty switchboard.
func New() *Switchboard {
	s := &Switchboard{handlers: map[string]*handler{}}
	s.calls.New = func() any { return &call{done: make(chan struct{}, 1)} }
	s.deadlines.tick = time.AfterFunc(time.Hour, s.deadlines.sweep)
	s.deadlines.tick.Stop()
	s.workers.sweep = time.AfterFunc(time.Hour, s.workers.reap)
	s.workers.sweep.Stop()
	return s
}

// Handle makes h the handler for name's calls until withdraw is called. withdraw sends
// callers back to the network and waits, until ctx ends, for the calls h is still
// answering, so a service stops only after its in-process callers are answered.
func (s *Switchboard) Handle(name string, h fasthttp.RequestHandler) (withdraw func(ctx context.Context)) {
	e := &handler{serve: h}
	s.mu.Lock()
	s.handlers[name] = e
	s.mu.Unlock()
	var once sync.Once
	return func(ctx context.Context) {
		once.Do(func() {
			s.mu.Lock()
			if s.handlers[name] == e {
				delete(s.handlers, name)
			}
			s.mu.Unlock()
		})
		done := make(chan struct{})
		go func() { e.inflight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
	}
}

// acquire returns name's handler with one more call in flight, or nil.
func (s *Switchboard) acquire(name string) *handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.handlers[name]
	if e != nil {
		// Under the read lock: withdraw removes the handler under the write lock before it
		// waits, so no call is added to a group already being waited on.
		e.inflight.Add(1)
	}
	return e
}

// Transport returns name's Doer: the in-process handler while name has one and the
// request's body is in memory, network otherwise.
func (s *Switchboard) Transport(name string, network Doer) Doer {
	return &transport{sb: s, name: name, network: network}
}

type transport struct {
	sb      *Switchboard
	name    string
	network Doer
}

// ErrTimeout is what a call answers when the handler took longer than its timeout; it
// is fasthttp's, so callers treat both paths alike.
var ErrTimeout = fasthttp.ErrTimeout

func (t *transport) DoTimeout(req *fasthttp.Request, resp *fasthttp.Response, timeout time.Duration) error {
	if req.IsBodyStream() {
		return t.network.DoTimeout(req, resp, timeout)
	}
	l := t.Lend()
	req.CopyTo(l.Request)
	return l.DoTimeout(resp, timeout)
}

// Lend returns a request to fill in place and send with the loan's DoTimeout: a request
// built elsewhere would be copied into the handler's context, which cost more than
// anything else the transport does (issue #13).
func (t *transport) Lend() Loan {
	call := t.sb.calls.Get().(*call)
	return Loan{Request: &call.ctx.Request, t: t, call: call}
}

// Lender is a Doer that lends the request it sends; the transports of a Switchboard are
// Lenders.
type Lender interface {
	Doer
	Lend() Loan
}

// Loan is a request lent by a transport. Fill Request, then either send it with
// DoTimeout, once, which gives it back, or give it back unsent with Release. Request
// must not be touched after either: a handler may still be reading it after a timeout,
// and the next loan may already be filling it. A Loan is a value so that a Release
// deferred by its holder sees only its own copy.
type Loan struct {
	Request *fasthttp.Request
	t       *transport
	call    *call // nil once sent or given back
}

// DoTimeout sends Request as the transport's DoTimeout would.
func (l *Loan) DoTimeout(resp *fasthttp.Response, timeout time.Duration) error {
	call, t := l.call, l.t
	if call == nil {
		return errLoanUsed
	}
	l.call = nil
	if !call.ctx.Request.IsBodyStream() {
		if e := t.sb.acquire(t.name); e != nil {
			return t.call(call, e, resp, timeout)
		}
	}
	err := t.network.DoTimeout(&call.ctx.Request, resp, timeout)
	t.sb.giveBack(call)
	return err
}

var errLoanUsed = errors.New("inmem: a loan was sent or given back already")

// Release gives back a request that was not sent; after DoTimeout it does nothing.
func (l *Loan) Release() {
	if call := l.call; call != nil {
		l.call = nil
		l.t.sb.giveBack(call)
	}
}

func (s *Switchboard) giveBack(call *call) {
	call.ctx.Request.Reset()
	s.calls.Put(call)
}

// call runs call.ctx.Request through e's handler and copies its answer into resp.
func (t *transport) call(call *call, e *handler, resp *fasthttp.Response, timeout time.Duration) error {
	sb := t.sb
	call.ctx.Init2(peerConn{}, discard{}, false)
	call.h = e
	call.state.Store(callRunning)
	// Init2 read the clock: the deadline costs no second reading.
	call.deadline = call.ctx.ConnTime().Add(timeout)
	sb.deadlines.add(call)
	// The handler runs on a worker goroutine so that a slow one costs its caller no more
	// than the timeout, as over the network: the caller answers, the handler finishes
	// on its own and its context is dropped rather than reused. Whichever of the handler
	// and the deadline sweep comes first signals done, so the caller waits on one channel.
	sb.workers.run(call)
	<-call.done
	if call.state.Load() == callTimedOut {
		return ErrTimeout
	}
	sb.deadlines.remove(call)
	if !copyResponse(&call.ctx.Response, resp) {
		// resp reads the handler's stream: its context stays with it and is dropped
		// afterwards, as after a timeout, rather than reset and reused.
		return nil
	}
	call.ctx.ResetUserValues()
	call.ctx.Request.Reset()
	call.ctx.Response.Reset()
	sb.calls.Put(call)
	return nil
}

// copyResponse is src.CopyTo(dst) but for the body, which goes into dst's pooled
// buffer: CopyTo appends a raw body (Fiber's JSON answers are raw) to a new slice on
// every call. A streamed body is handed over unread (CopyTo would drop it, and reading it
// here could outlast the timeout): dst then reads src's stream, so copyResponse reports
// that src must not be reset or reused.
func copyResponse(src, dst *fasthttp.Response) (reusable bool) {
	dst.Reset()
	src.Header.CopyTo(&dst.Header)
	dst.SkipBody = src.SkipBody
	if src.IsBodyStream() {
		dst.SetBodyStream(src.BodyStream(), src.Header.ContentLength())
		return false
	}
	dst.SetBody(src.Body())
	return true
}

// call is one in-process request: the handler, its context, and the signal that the
// handler finished or the timeout passed, whichever came first (state says which).
type call struct {
	h     *handler
	ctx   fasthttp.RequestCtx
	done  chan struct{}
	state atomic.Int32

	deadline time.Time
	slot     int // index in deadlines.calls while there; under deadlines.mu
}

// States of a call.
const (
	callRunning int32 = iota
	callFinished
	callTimedOut
)

// deadlines answers the calls whose timeout passed. One timer serves every call, firing
// every deadlineTick while calls are in flight: a timer of each call's own, reset and
// stopped around every call, cost more than the rest of the hand-off (issue #13).
type deadlines struct {
	mu      sync.Mutex
	calls   []*call // in flight
	ticking bool
	tick    *time.Timer
}

// deadlineTick is how late past its timeout a call may be answered.
const deadlineTick = 5 * time.Millisecond

func (d *deadlines) add(c *call) {
	d.mu.Lock()
	c.slot = len(d.calls)
	d.calls = append(d.calls, c)
	if !d.ticking {
		d.ticking = true
		d.tick.Reset(deadlineTick)
	}
	d.mu.Unlock()
}

// remove takes a finished call off the list; one that timed out is off already.
func (d *deadlines) remove(c *call) {
	d.mu.Lock()
	d.drop(c)
	d.mu.Unlock()
}

// drop takes c off the list. d.mu is held.
func (d *deadlines) drop(c *call) {
	last := len(d.calls) - 1
	moved := d.calls[last]
	d.calls[c.slot], moved.slot = moved, c.slot
	d.calls[last] = nil
	d.calls = d.calls[:last]
}

// sweep answers the calls past their deadline, and comes again while any is in flight.
func (d *deadlines) sweep() {
	now := time.Now()
	d.mu.Lock()
	defer d.mu.Unlock()
	for i := 0; i < len(d.calls); {
		c := d.calls[i]
		// A call that finished meanwhile stays for its caller to remove.
		if now.Before(c.deadline) || !c.state.CompareAndSwap(callRunning, callTimedOut) {
			i++
			continue
		}
		d.drop(c) // brings the last call to i
		c.done <- struct{}{}
	}
	d.ticking = len(d.calls) > 0
	if d.ticking {
		d.tick.Reset(deadlineTick)
	}
}

func (c *call) run() {
	h := c.h
	h.serve(&c.ctx)
	if c.state.CompareAndSwap(callRunning, callFinished) {
		c.done <- struct{}{}
	}
	h.inflight.Done()
}

// workers run calls on goroutines kept between calls, as fasthttp's server does: a
// goroutine started per call would grow its stack through the handler's deep call
// chain every time (a tenth of the process's CPU in the gateway benchmark).
type workers struct {
	mu    sync.Mutex
	idle  []*worker // most recently used last: its stack is the warmest
	sweep *time.Timer
	swept bool // sweep is due
}

// A worker waits on its channel alone: a nil call ends it. Its idle expiry is the
// sweep's, which keeps timer and select work off the path of every call.
type worker struct {
	calls chan *call
	used  bool // served a call since the last sweep; under workers.mu
}

// workerIdle is how long a worker waits without a call before it may end.
const workerIdle = 10 * time.Second

func (w *workers) run(c *call) {
	w.mu.Lock()
	if n := len(w.idle); n > 0 {
		wk := w.idle[n-1]
		w.idle = w.idle[:n-1]
		w.mu.Unlock()
		wk.calls <- c
		return
	}
	w.mu.Unlock()
	wk := &worker{calls: make(chan *call, 1)}
	wk.calls <- c
	go wk.loop(w)
}

func (wk *worker) loop(w *workers) {
	for c := range wk.calls {
		if c == nil {
			return
		}
		c.run()
		w.mu.Lock()
		wk.used = true
		w.idle = append(w.idle, wk)
		if !w.swept {
			w.swept = true
			w.sweep.Reset(workerIdle)
		}
		w.mu.Unlock()
	}
}

// reap ends the workers that served no call since the previous sweep, so a worker
// leaves after one to two idle periods, and sweeps again while any is idle.
func (w *workers) reap() {
	w.mu.Lock()
	defer w.mu.Unlock()
	kept := w.idle[:0]
	for _, wk := range w.idle {
		if wk.used {
			wk.used = false
			kept = append(kept, wk)
			continue
		}
		// An idle worker's channel is empty: this never blocks.
		wk.calls <- nil
	}
	clear(w.idle[len(kept):])
	w.idle = kept
	w.swept = len(kept) > 0
	if w.swept {
		w.sweep.Reset(workerIdle)
	}
}

// peer is the address a service sees for an in-process caller: loopback, as over TCP,
// so code that trusts forwarding headers only from a local peer (auth's throttle key)
// treats the gateway the same way on both paths.
var peer = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}

// discard is the fasthttp logger of in-process calls (a nil one would panic if a handler
// logged through the request context); services log through their own slog logger.
type discard struct{}

func (discard) Printf(string, ...any) {}

// peerConn is the connection a handler called in process sees: its addresses only. A
// handler that tried to read or write it (a hijack) fails instead of touching anything.
type peerConn struct{}

var errNoConn = errors.New("inmem: an in-process call has no connection")

func (peerConn) Read([]byte) (int, error)         { return 0, errNoConn }
func (peerConn) Write([]byte) (int, error)        { return 0, errNoConn }
func (peerConn) Close() error                     { return nil }
func (peerConn) LocalAddr() net.Addr              { return peer }
func (peerConn) RemoteAddr() net.Addr             { return peer }
func (peerConn) SetDeadline(time.Time) error      { return nil }
func (peerConn) SetReadDeadline(time.Time) error  { return nil }
func (peerConn) SetWriteDeadline(time.Time) error { return nil }

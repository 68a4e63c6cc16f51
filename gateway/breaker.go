package gateway

import (
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// breaker is a circuit breaker that fails fast while a service is down: closed, it lets
// every request through and opens after a number of transport failures in a row; open,
// it refuses until its open period ends; half-open, it lets one probe through, whose
// success closes it and whose failure opens it again. Results of requests that started
// before a change of state are ignored.
//
// It behaves as sony/gobreaker with MaxRequests 1 and no interval, which it replaced on
// the request path: that one takes a mutex and reads the clock twice per request, the
// largest cost of a forward after the service itself (issue #13). Here a request through
// a closed breaker with no failure pending reads two atomics; the mutex is for failures
// and changes of state.
type breaker struct {
	name     string
	failures uint32        // in a row, to open
	open     time.Duration // how long it stays open
	excluded func(error) bool
	changed  func(name string, to breakerState)
	now      func() time.Time

	// gen is the generation (bumped by every change of state) shifted left by 2, with
	// the state in the low bits, so a request reads both in one load.
	gen atomic.Uint64
	// inRow counts failures in a row while closed; written only under mu.
	inRow atomic.Uint32

	mu      sync.Mutex
	expiry  time.Time // when an open breaker turns half-open
	probing bool      // a half-open breaker's probe is out
}

type breakerState uint8

// The values are those of gobreaker.State, which dashboards read from
// gateway_breaker_state.
const (
	breakerClosed breakerState = iota
	breakerHalfOpen
	breakerOpen
)

func (s breakerState) String() string {
	switch s {
	case breakerClosed:
		return "closed"
	case breakerHalfOpen:
		return "half-open"
	default:
		return "open"
	}
}

// Errors of a refused request.
var (
	errBreakerOpen = errors.New("circuit breaker is open")
	errProbeOut    = errors.New("circuit breaker is half-open and its probe is out")
)

// allow reports whether a request may go, and the generation its result belongs to.
func (b *breaker) allow() (uint64, error) {
	g := b.gen.Load()
	if breakerState(g&3) == breakerClosed {
		return g, nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	g = b.current()
	switch breakerState(g & 3) {
	case breakerOpen:
		return g, errBreakerOpen
	case breakerHalfOpen:
		if b.probing {
			return g, errProbeOut
		}
		b.probing = true
	}
	return g, nil
}

// done records the result of a request allow let through in generation g.
func (b *breaker) done(g uint64, err error) {
	if err == nil && breakerState(g&3) == breakerClosed && b.inRow.Load() == 0 {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.current() != g {
		return
	}
	switch {
	case err != nil && b.excluded(err):
		b.probing = false
	case breakerState(g&3) == breakerHalfOpen && err == nil:
		b.set(breakerClosed)
	case breakerState(g&3) == breakerHalfOpen:
		b.set(breakerOpen)
	case err == nil:
		b.inRow.Store(0)
	default:
		n := b.inRow.Load() + 1
		b.inRow.Store(n)
		if n >= b.failures {
			b.set(breakerOpen)
		}
	}
}

// current returns the generation and state, first turning an open breaker whose period
// ended half-open. b.mu is held.
func (b *breaker) current() uint64 {
	g := b.gen.Load()
	if breakerState(g&3) == breakerOpen && !b.now().Before(b.expiry) {
		b.set(breakerHalfOpen)
		g = b.gen.Load()
	}
	return g
}

// set moves to state s in a new generation. b.mu is held.
func (b *breaker) set(s breakerState) {
	b.gen.Store((b.gen.Load()>>2+1)<<2 | uint64(s))
	b.inRow.Store(0)
	b.probing = false
	if s == breakerOpen {
		b.expiry = b.now().Add(b.open)
	}
	if b.changed != nil {
		b.changed(b.name, s)
	}
}

// State is the breaker's state now: an open breaker whose period ended shows half-open.
func (b *breaker) State() breakerState {
	if g := b.gen.Load(); breakerState(g&3) == breakerClosed {
		return breakerClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return breakerState(b.current() & 3)
}

// Execute runs req if the breaker allows it and records its result; a panic counts as a
// failure and goes on.
func (b *breaker) Execute(req func() error) (err error) {
	g, err := b.allow()
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			b.done(g, errPanicked)
			panic(r)
		}
	}()
	err = req()
	b.done(g, err)
	return err
}

var errPanicked = errors.New("panicked")

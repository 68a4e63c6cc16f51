// Package inmem connects the components of one process over in-memory HTTP connections
// instead of loopback TCP. `conectar serve all` runs the gateway and every service in
// one process; a request the gateway forwards still goes through the service's own HTTP
// server (parsing, middleware, error handler: the code path of a separate process), but
// the bytes move between goroutines instead of through the kernel's TCP stack, which on
// a small machine cost the gateway more than its own code (issue #13: about 30 µs of
// CPU per forwarded request on two cores).
package inmem

import (
	"net"
	"sync"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fasthttp/fasthttputil"
)

// peer is the address a service sees for an in-memory caller: loopback, as over TCP,
// so code that trusts forwarding headers only from a local peer (auth's throttle key)
// treats the gateway the same way on both paths.
var peer = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)}

// Switchboard holds the in-memory listener of each component that serves in this
// process. It outlives the components: a service stopped and built again (a restart in
// the system tests) listens anew under the same name, and callers' dialers follow.
type Switchboard struct {
	mu  sync.RWMutex
	lns map[string]*fasthttputil.InmemoryListener
}

// New returns an empty switchboard.
func New() *Switchboard {
	return &Switchboard{lns: map[string]*fasthttputil.InmemoryListener{}}
}

// Listen returns a new in-memory listener for name; from now on dialling name reaches
// it, so call it as a server starts serving on it (a dial waits until it is accepted).
// Closing the listener (the server's shutdown does) sends callers back to TCP.
func (s *Switchboard) Listen(name string) net.Listener {
	ln := fasthttputil.NewInmemoryListener()
	s.mu.Lock()
	s.lns[name] = ln
	s.mu.Unlock()
	return ln
}

// Dialer returns a dial function for name's HTTP client: in memory while name listens
// in this process, otherwise TCP to the address the client asks for.
func (s *Switchboard) Dialer(name string) fasthttp.DialFunc {
	return func(addr string) (net.Conn, error) {
		s.mu.RLock()
		ln := s.lns[name]
		s.mu.RUnlock()
		if ln != nil {
			if c, err := ln.DialWithLocalAddr(peer); err == nil {
				return c, nil
			}
		}
		return fasthttp.Dial(addr)
	}
}

package testkit

import (
	"sync"
	"time"
)

// Clock is a test clock for kit.Deps.Now: the real time plus an offset the test moves
// forward, so time-driven transitions (expiries, automatic approvals) are reached by
// Advance instead of sleeping. It keeps ticking with the real clock so that rows written
// one after another still get increasing timestamps. Give the same Clock to every
// instance (replica) of a test so they agree on what is due.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time moved by every Advance so far.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

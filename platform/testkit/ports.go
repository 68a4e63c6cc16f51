package testkit

import (
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
)

// FreePort returns a TCP port free on loopback for a process to listen on later (a
// system under test started with its ports in the environment). It is drawn below the
// kernel's ephemeral range (32768–60999 on Linux) and checked by binding it: a port the
// kernel handed out for ":0" and that was closed again is also a candidate for the next
// outgoing connection (to PostgreSQL, to NATS) of any process, and one did take a
// service's port between the pick and its bind. A port is never handed out twice in a
// process.
func FreePort() (int, error) {
	ports.mu.Lock()
	defer ports.mu.Unlock()
	for range 1000 {
		p := portsLow + rand.IntN(portsHigh-portsLow)
		if ports.given[p] {
			continue
		}
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue // someone listens there
		}
		ln.Close()
		ports.given[p] = true
		return p, nil
	}
	return 0, fmt.Errorf("no free port in %d-%d", portsLow, portsHigh)
}

const portsLow, portsHigh = 20000, 32000

// ports remembers what FreePort handed out in this process.
var ports = struct {
	mu    sync.Mutex
	given map[int]bool
}{given: map[int]bool{}}

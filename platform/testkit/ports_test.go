package testkit

import (
	"net"
	"strconv"
	"testing"
)

// FreePort hands out distinct ports outside the ephemeral range that can be bound.
func TestFreePortIsDistinctBindableAndBelowTheEphemeralRange(t *testing.T) {
	seen := map[int]bool{}
	for range 50 {
		p, err := FreePort()
		if err != nil {
			t.Fatal(err)
		}
		if p < portsLow || p >= portsHigh || seen[p] {
			t.Fatalf("port %d: outside %d-%d or handed out twice", p, portsLow, portsHigh)
		}
		seen[p] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p))
		if err != nil {
			t.Fatalf("port %d cannot be bound: %v", p, err)
		}
		ln.Close()
	}
}

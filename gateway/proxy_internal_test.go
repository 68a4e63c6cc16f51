package gateway

import (
	"net"
	"testing"
)

// The forwarded address reads as net.IP's String writes it.
func TestAppendIPMatchesString(t *testing.T) {
	for _, ip := range []net.IP{
		net.IPv4(127, 0, 0, 1), net.IPv4(10, 1, 2, 3).To4(), net.ParseIP("::1"), net.ParseIP("2001:db8::8a2e:370:7334"),
		net.ParseIP("::"), net.ParseIP("::ffff:192.0.2.1"), net.ParseIP("::102:304"), net.ParseIP("fe80::1:0:0:1"),
		nil, {1, 2, 3},
	} {
		if got, want := string(appendIP([]byte("x"), ip)), "x"+ip.String(); got != want {
			t.Errorf("%#v: %q, want %q", ip, got, want)
		}
	}
}

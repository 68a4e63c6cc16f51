package gateway

import (
	"fmt"
	"testing"
	"time"
)

func TestVerifiedTokens(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	v := newVerifiedTokens(time.Minute, 8)

	v.add("a", "user-a", now.Add(10*time.Minute), now)
	if sub, ok := v.subject("a", now.Add(59*time.Second)); !ok || sub != "user-a" {
		t.Fatalf("fresh token: %q %v", sub, ok)
	}
	// Trusted no longer than the ttl, even when the token lives longer.
	if _, ok := v.subject("a", now.Add(time.Minute)); ok {
		t.Error("remembered past the ttl")
	}
	// Nor past the token's own expiry.
	v.add("b", "user-b", now.Add(10*time.Second), now)
	if _, ok := v.subject("b", now.Add(10*time.Second)); ok {
		t.Error("remembered past the token's expiry")
	}
	// An already expired token is not remembered at all.
	v.add("c", "user-c", now.Add(-time.Second), now)
	if _, ok := v.subject("c", now); ok {
		t.Error("expired token remembered")
	}
	// Full: stays bounded.
	for i := 0; i < 100; i++ {
		v.add(fmt.Sprint("t", i), "u", now.Add(time.Hour), now)
	}
	if n := len(v.m); n > 8 {
		t.Errorf("%d entries, max 8", n)
	}
}

package auth

import (
	"testing"
	"time"
)

func TestLimiterWindows(t *testing.T) {
	now := time.Unix(0, 0)
	l := newLimiter(2, time.Minute, func() time.Time { return now })
	if !l.Hit("a") || !l.Hit("a") || l.Hit("a") {
		t.Fatal("third hit in the window must be refused")
	}
	if !l.Blocked("a") || l.Blocked("b") {
		t.Fatal("Blocked")
	}
	if !l.Hit("b") {
		t.Fatal("keys are independent")
	}
	now = now.Add(time.Minute)
	if l.Blocked("a") || !l.Hit("a") {
		t.Fatal("a new window starts fresh")
	}
	l.Reset("a")
	if l.Blocked("a") {
		t.Fatal("reset")
	}
	now = now.Add(2 * time.Minute)
	l.sweep()
	if len(l.windows) != 0 {
		t.Fatalf("sweep left %d windows", len(l.windows))
	}
	off := newLimiter(0, time.Minute, time.Now)
	for i := 0; i < 100; i++ {
		if !off.Hit("x") || off.Blocked("x") {
			t.Fatal("limit 0 means off")
		}
	}
}

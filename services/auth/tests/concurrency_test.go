package tests

import (
	"sync"
	"testing"
)

// TestConcurrentRegistrationAndReset: racing requests on one email or one reset token
// have exactly one winner; the losers get the rule's 400, never a 5xx.
func TestConcurrentRegistrationAndReset(t *testing.T) {
	h := start(t, nil)
	race := func(n int, fn func() resp) map[int]int {
		var mu sync.Mutex
		counts := map[int]int{}
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := fn()
				mu.Lock()
				counts[r.Status]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		return counts
	}
	got := race(8, func() resp {
		return h.do("POST", "/api/v1/auth/register", "", map[string]any{"email": "carrera@example.com", "password": "secreto123",
			"nombre": "C", "apellido": "R"})
	})
	if got[201] != 1 || got[400] != 7 {
		t.Fatalf("register race: %v", got)
	}

	h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "carrera@example.com"}).Expect(t, 200, "forgot")
	evs := resetEvents(t, h, 1)
	if len(evs) != 1 {
		t.Fatalf("events %d", len(evs))
	}
	got = race(6, func() resp {
		return h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": evs[0].Token, "new_password": "nuevaclave1"})
	})
	if got[200] != 1 || got[400] != 5 {
		t.Fatalf("reset race: %v", got)
	}

	// Two refreshes racing with one token: one rotates, the other is a reuse, which ends
	// the session (the safe reading of a duplicated token).
	_, refresh := h.login("carrera@example.com", "nuevaclave1")
	got = race(2, func() resp {
		return h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": refresh})
	})
	if got[200] != 1 || got[401] != 1 {
		t.Fatalf("refresh race: %v", got)
	}
}

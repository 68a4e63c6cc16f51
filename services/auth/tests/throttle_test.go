package tests

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// loginFrom posts a JSON login as the gateway forwards it for client address ip.
func (h *harness) loginFrom(ip, email, password string) resp {
	h.t.Helper()
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	return doHdr(h.t, "POST", h.base+"/api/v1/auth/login", body, "X-Real-Ip", ip, "X-Forwarded-For", ip)
}

func expectThrottled(t *testing.T, r resp, what string) {
	t.Helper()
	m := r.ExpectError(t, 429, what)
	if m["code"] != "too_many_attempts" || m["detail"] == "" {
		t.Fatalf("%s: %s", what, r.Body)
	}
	if s, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || s < 1 {
		t.Fatalf("%s: Retry-After %q", what, r.Header.Get("Retry-After"))
	}
}

// TestLoginBackoffPerAccount: failures lock the account with a growing backoff, the
// right password included while locked; an unknown email behaves exactly alike; a
// success clears the count.
func TestLoginBackoffPerAccount(t *testing.T) {
	h := start(t, map[string]string{"LOGIN_FREE_FAILURES": "3", "LOGIN_BACKOFF_BASE": "1m", "LOGIN_BACKOFF_MAX": "10m"})
	u := h.register("backoff@example.com", "secreto123", "CLIENTE")
	const ip = "198.51.100.7"
	for _, email := range []string{u.Email, "fantasma@example.com"} {
		for i := 0; i < 3; i++ {
			h.loginFrom(ip, email, "mala-clave").ExpectError(t, 401, fmt.Sprintf("failure %d %s", i, email))
		}
		expectThrottled(t, h.loginFrom(ip, email, "secreto123"), "locked "+email)
		expectThrottled(t, h.loginFrom("203.0.113.50", email, "secreto123"), "locked from another address "+email)
	}
	// The lock runs out; one more failure locks for twice as long.
	h.clock.Advance(61 * time.Second)
	h.loginFrom(ip, u.Email, "mala-clave").ExpectError(t, 401, "4th failure")
	h.clock.Advance(61 * time.Second)
	expectThrottled(t, h.loginFrom(ip, u.Email, "secreto123"), "second lock is longer")
	h.clock.Advance(61 * time.Second)
	h.loginFrom(ip, u.Email, "secreto123").Expect(t, 200, "after the backoff")

	// The success cleared the failures: three free ones again.
	for i := 0; i < 3; i++ {
		h.loginFrom(ip, u.Email, "mala-clave").ExpectError(t, 401, fmt.Sprintf("fresh failure %d", i))
	}
	expectThrottled(t, h.loginFrom(ip, u.Email, "mala-clave"), "locked again")
}

// TestLoginAddressFailureBudget: successes never count against an address; a spray of
// one password over many accounts spends its failure budget; then only accounts that
// signed in from that address before are still checked.
func TestLoginAddressFailureBudget(t *testing.T) {
	h := start(t, map[string]string{"LOGIN_FAILURES_PER_ADDRESS": "10"})
	const office, attacker = "198.51.100.20", "203.0.113.66"
	var users []user
	for i := 0; i < 25; i++ {
		users = append(users, h.register(fmt.Sprintf("colega%02d@example.com", i), "secreto123", "CLIENTE"))
	}
	// 25 colleagues behind one address sign in, twice: no limit applies to successes.
	for round := 0; round < 2; round++ {
		for _, u := range users {
			h.loginFrom(office, u.Email, "secreto123").Expect(t, 200, "colleague "+u.Email)
		}
	}
	// One address sprays one password over known and unknown accounts.
	throttled := 0
	for i := 0; i < 30; i++ {
		email := fmt.Sprintf("victima%02d@example.com", i)
		if i%2 == 0 {
			email = users[i%len(users)].Email
		}
		switch r := h.loginFrom(attacker, email, "Verano2026!"); r.Status {
		case 401:
		case 429:
			throttled++
		default:
			t.Fatalf("spray %d: %d %s", i, r.Status, r.Body)
		}
	}
	if throttled != 20 {
		t.Fatalf("spray: %d of 30 throttled, want the 20 past the budget of 10", throttled)
	}
	// The budget is the address's: the sprayed accounts still sign in from elsewhere.
	h.loginFrom(office, users[0].Email, "secreto123").Expect(t, 200, "sprayed account from its own address")
	// Behind the sprayed address, an account that signed in from it before is checked
	// as usual; one that never did waits for the window.
	h.loginFrom(attacker, users[0].Email, "secreto123").ExpectError(t, 429, "untrusted account at the sprayed address")
	h.loginFrom(office, users[1].Email, "secreto123").Expect(t, 200, "office")
	h.clock.Advance(16 * time.Minute)
	h.loginFrom(attacker, users[1].Email, "secreto123").Expect(t, 200, "after the window")
}

// TestThrottleSharedByReplicas: the state lives in the auth schema, so a second
// instance (another replica, or a restart) sees the lock the first one set.
func TestThrottleSharedByReplicas(t *testing.T) {
	h := start(t, map[string]string{"LOGIN_FREE_FAILURES": "2", "LOGIN_BACKOFF_BASE": "1m"})
	h2 := startIn(t, h.env, map[string]string{"LOGIN_FREE_FAILURES": "2", "LOGIN_BACKOFF_BASE": "1m"})
	u := h.register("replicas@example.com", "secreto123", "CLIENTE")
	h.loginFrom("198.51.100.1", u.Email, "x-mala-1").ExpectError(t, 401, "1")
	h2.loginFrom("198.51.100.1", u.Email, "x-mala-2").ExpectError(t, 401, "2")
	expectThrottled(t, h.loginFrom("198.51.100.1", u.Email, "secreto123"), "replica 1")
	expectThrottled(t, h2.loginFrom("198.51.100.1", u.Email, "secreto123"), "replica 2")
}

// TestForgotResetAndChangeThrottled: the password-reset paths use the same policy.
func TestForgotResetAndChangeThrottled(t *testing.T) {
	h := start(t, map[string]string{"FORGOT_RATE_PER_ACCOUNT": "2", "FORGOT_RATE_PER_IP": "5",
		"RESET_FAILURES_PER_IP": "3", "LOGIN_FREE_FAILURES": "2", "LOGIN_BACKOFF_BASE": "1m"})
	u := h.user("olvido-limite@example.com", "CLIENTE")
	forgot := func(email string) resp {
		return h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": email})
	}
	// Per email, known or not; every request counts (each one sends an email).
	for _, email := range []string{u.Email, "fantasma@example.com"} {
		forgot(email).Expect(t, 200, "forgot 1")
		forgot(email).Expect(t, 200, "forgot 2")
		expectThrottled(t, forgot(email), "forgot 3 "+email)
	} // 6 requests from this address: over its 5 as well
	expectThrottled(t, forgot("nuevo@example.com"), "forgot per address")
	h.clock.Advance(16 * time.Minute)
	forgot("nuevo@example.com").Expect(t, 200, "after the window")

	// Guessing reset tokens costs the address its budget.
	reset := func() resp {
		return h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": "adivinado", "new_password": "nuevaclave1"})
	}
	for i := 0; i < 3; i++ {
		reset().ExpectError(t, 400, "bad token")
	}
	expectThrottled(t, reset(), "token guessing")

	// Guessing the current password from a stolen session meets the backoff.
	path := "/api/v1/users/me/change-password"
	for i := 0; i < 2; i++ {
		h.do("POST", path, u.Access, map[string]string{"current_password": "incorrecta", "new_password": "nuevaclave1"}).
			ExpectError(t, 400, "wrong current")
	}
	expectThrottled(t, h.do("POST", path, u.Access, map[string]string{"current_password": "secreto123", "new_password": "nuevaclave1"}),
		"change password locked")
	h.clock.Advance(61 * time.Second)
	h.do("POST", path, u.Access, map[string]string{"current_password": "secreto123", "new_password": "nuevaclave1"}).Expect(t, 200, "after the backoff")
}

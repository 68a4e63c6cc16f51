package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// loginStatus posts the frontend's login form through the gateway and returns the status.
func (s *system) loginStatus(email, password string) int {
	s.t.Helper()
	form := url.Values{"username": {email}, "password": {password}}
	resp, err := s.client().Post(s.gateway+"/api/v1/auth/login", "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestLoginThrottlingThroughGateway drives the one login policy through the edge, with
// every request from one address (127.0.0.1), as an office or a campus behind a NAT.
func TestLoginThrottlingThroughGateway(t *testing.T) {
	sys := startSystem(t, nil)

	// 40 different accounts sign in from one address: successes never count.
	for i := 0; i < 40; i++ {
		sys.register(fmt.Sprintf("colega%02d@conectar.test", i), "Colega", "CLIENTE", nil)
	}
	if st := sys.loginStatus("colega00@conectar.test", "password-123"); st != 200 {
		t.Fatalf("41st login from the address: %d", st)
	}

	// A success clears the account's failures: 4 + 4 failures with a success between
	// never reach the 5 free ones.
	for round := 0; round < 2; round++ {
		for i := 0; i < 4; i++ {
			if st := sys.loginStatus("colega01@conectar.test", "tecleo-mal"); st != 401 {
				t.Fatalf("round %d failure %d: %d", round, i, st)
			}
		}
		if st := sys.loginStatus("colega01@conectar.test", "password-123"); st != 200 {
			t.Fatalf("round %d: success after 4 failures: %d", round, st)
		}
	}

	// Credential stuffing on one account: 30 wrong passwords end in 429, and while
	// locked even the right password is refused.
	last := 0
	throttled := 0
	for i := 0; i < 30; i++ {
		last = sys.loginStatus("colega02@conectar.test", fmt.Sprintf("adivinanza-%d", i))
		if last == 429 {
			throttled++
		}
	}
	if last != 429 || throttled < 20 {
		t.Fatalf("30 wrong passwords: last %d, %d throttled", last, throttled)
	}
	if st, body := sys.call(http.MethodPost, "/api/v1/auth/login", "", map[string]string{"email": "colega02@conectar.test",
		"password": "password-123"}); st != 429 || body["code"] != "too_many_attempts" || body["detail"] == "" {
		t.Fatalf("right password while locked: %d %v", st, body)
	}
	// Other accounts at the same address are untouched.
	if st := sys.loginStatus("colega03@conectar.test", "password-123"); st != 200 {
		t.Fatalf("neighbour account: %d", st)
	}

	// One address sprays one password over 100 accounts, known (never signed in from
	// here) and unknown: the address's failure budget runs out.
	for i := 0; i < 20; i++ {
		body := map[string]any{"email": fmt.Sprintf("nuevo%02d@conectar.test", i), "password": "password-123",
			"nombre": "Nuevo", "apellido": "Prueba", "rol": "CLIENTE"}
		if st, b := sys.call(http.MethodPost, "/api/v1/auth/register", "", body); st != 201 {
			t.Fatalf("register: %d %v", st, b)
		}
	}
	throttled = 0
	for i := 0; i < 100; i++ {
		email := fmt.Sprintf("desconocido%03d@conectar.test", i)
		if i%5 == 0 {
			email = fmt.Sprintf("nuevo%02d@conectar.test", i/5)
		}
		switch st := sys.loginStatus(email, "Verano2026!"); st {
		case 401:
		case 429:
			throttled++
		default:
			t.Fatalf("spray %d: %d", i, st)
		}
	}
	if throttled < 40 {
		t.Fatalf("spray over 100 accounts: only %d throttled", throttled)
	}
	// Accounts that signed in from this address before keep working during the spray.
	if st := sys.loginStatus("colega04@conectar.test", "password-123"); st != 200 {
		t.Fatalf("known colleague during the spray: %d", st)
	}
}

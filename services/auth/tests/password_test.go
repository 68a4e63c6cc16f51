package tests

import (
	"sort"
	"testing"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

func resetEvents(t *testing.T, h *harness, min int) []events.PasswordResetRequestedV1 {
	t.Helper()
	envs := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjPasswordResetRequested, min, 5*time.Second)
	out := make([]events.PasswordResetRequestedV1, 0, len(envs))
	for _, env := range envs {
		e, err := events.Decode[events.PasswordResetRequestedV1](env)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

func TestForgotAndResetPassword(t *testing.T) {
	h := start(t, nil)
	u := h.user("olvido@example.com", "CLIENTE")

	known := h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "OLVIDO@example.com"})
	unknown := h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "nadie@example.com"})
	known.Expect(t, 200, "forgot known")
	unknown.Expect(t, 200, "forgot unknown")
	if string(known.Body) != string(unknown.Body) {
		t.Fatalf("answers differ: %s vs %s", known.Body, unknown.Body)
	}
	if known.Map(t)["message"] != "Si el email existe, recibirás instrucciones para resetear tu contraseña." {
		t.Fatalf("message: %s", known.Body)
	}
	h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": "no-es-email"}).ExpectError(t, 422, "bad email")

	evs := resetEvents(t, h, 1)
	if len(evs) != 1 {
		t.Fatalf("PasswordResetRequested events: %d, want 1 (none for the unknown email)", len(evs))
	}
	e := evs[0]
	if e.UserID != u.ID || e.Email != "olvido@example.com" || len(e.Token) < 32 || e.ExpiresAt == "" || e.ResetURL == "" {
		t.Fatalf("event: %+v", e)
	}
	exp, err := time.Parse(time.RFC3339, e.ExpiresAt)
	if err != nil || exp.Sub(time.Now()) < 59*time.Minute || exp.Sub(time.Now()) > 61*time.Minute {
		t.Fatalf("expires_at %s is not one hour ahead", e.ExpiresAt)
	}

	// The token works once; the reset revokes every session.
	h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": e.Token, "new_password": "corto"}).ExpectError(t, 422, "short password")
	h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": e.Token, "new_password": "nuevaclave1"}).Expect(t, 200, "reset")
	r := h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": e.Token, "new_password": "otraclave22"})
	if m := r.ExpectError(t, 400, "reuse"); m["detail"] != "Token inválido o expirado" {
		t.Fatalf("reuse message: %s", r.Body)
	}
	h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": "inventado", "new_password": "otraclave22"}).ExpectError(t, 400, "unknown token")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": u.Refresh}).ExpectError(t, 401, "session after reset")
	h.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": "secreto123"}).ExpectError(t, 401, "old password")
	h.login(u.Email, "nuevaclave1")

	// A token expires after one hour.
	h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": u.Email}).Expect(t, 200, "forgot again")
	evs = resetEvents(t, h, 2)
	if len(evs) != 2 {
		t.Fatalf("events: %d", len(evs))
	}
	h.clock.Advance(61 * time.Minute)
	h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": evs[1].Token, "new_password": "tardeclave1"}).ExpectError(t, 400, "expired token")

	// A newer request voids the older token.
	h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": u.Email}).Expect(t, 200, "forgot 3")
	h.do("POST", "/api/v1/auth/forgot-password", "", map[string]string{"email": u.Email}).Expect(t, 200, "forgot 4")
	evs = resetEvents(t, h, 4)
	if len(evs) != 4 {
		t.Fatalf("events: %d", len(evs))
	}
	h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": evs[2].Token, "new_password": "viejaclave1"}).ExpectError(t, 400, "superseded token")
	h.do("POST", "/api/v1/auth/reset-password", "", map[string]string{"token": evs[3].Token, "new_password": "ultimaclave1"}).Expect(t, 200, "latest token")

	changed := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjPasswordChanged, 2, 5*time.Second)
	if len(changed) != 2 {
		t.Fatalf("PasswordChanged events: %d, want 2", len(changed))
	}
}

func TestChangePassword(t *testing.T) {
	h := start(t, nil)
	u := h.user("cambio@example.com", "PROFESIONAL")
	_, otherRefresh := h.login(u.Email, "secreto123")
	path := "/api/v1/users/me/change-password"

	r := h.do("POST", path, u.Access, map[string]string{"current_password": "incorrecta", "new_password": "nuevaclave1"})
	r.ExpectError(t, 400, "wrong current")
	r = h.do("POST", path, u.Access, map[string]string{"current_password": "secreto123", "new_password": "secreto123"})
	r.ExpectError(t, 400, "same as current")
	h.do("POST", path, u.Access, map[string]string{"current_password": "secreto123", "new_password": "corta"}).ExpectError(t, 422, "short new")
	h.do("POST", path, "", map[string]string{"current_password": "secreto123", "new_password": "nuevaclave1"}).ExpectError(t, 401, "anonymous")

	r = h.do("POST", path, u.Access, map[string]string{"current_password": "secreto123", "new_password": "nuevaclave1"})
	r.Expect(t, 200, "change")
	if m := r.Map(t); m["message"] != "Contraseña actualizada exitosamente" || m["success"] != true {
		t.Fatalf("answer: %s", r.Body)
	}
	// Other sessions are revoked; the caller's own session lives on.
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": otherRefresh}).ExpectError(t, 401, "other session")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": u.Refresh}).Expect(t, 200, "own session")
	h.do("POST", "/api/v1/auth/login", "", map[string]string{"email": u.Email, "password": "secreto123"}).ExpectError(t, 401, "old password")
	h.login(u.Email, "nuevaclave1")

	evs := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjPasswordChanged, 1, 5*time.Second)
	if len(evs) != 1 {
		t.Fatalf("PasswordChanged: %d", len(evs))
	}
	e, _ := events.Decode[events.PasswordChangedV1](evs[0])
	if e.UserID != u.ID || e.Reason != "change" {
		t.Fatalf("event: %+v", e)
	}
}

// TestLoginTimingDoesNotRevealAccounts compares the time of a failed login for an
// existing and an unknown email with a realistic hash cost: both pay one argon2id.
func TestLoginTimingDoesNotRevealAccounts(t *testing.T) {
	h := start(t, map[string]string{"ARGON2_MEMORY_KIB": "16384", "ARGON2_ITERATIONS": "2", "LOGIN_FREE_FAILURES": "100"})
	u := h.register("tiempo@example.com", "secreto123", "CLIENTE")
	// Alternate the two cases so load on the shared machine hits both alike.
	var ks, us []time.Duration
	for i := 0; i < 9; i++ {
		for _, email := range []string{u.Email, "inexistente@example.com"} {
			t0 := time.Now()
			h.do("POST", "/api/v1/auth/login", "", map[string]string{"email": email, "password": "mala-clave"}).ExpectError(t, 401, "fail")
			if email == u.Email {
				ks = append(ks, time.Since(t0))
			} else {
				us = append(us, time.Since(t0))
			}
		}
	}
	median := func(ds []time.Duration) time.Duration {
		sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
		return ds[len(ds)/2]
	}
	known, unknown := median(ks), median(us)
	ratio := float64(unknown) / float64(known)
	t.Logf("median failed login: known %s, unknown %s", known, unknown)
	if ratio < 0.5 || ratio > 2 {
		t.Fatalf("timings differ: known %s, unknown %s", known, unknown)
	}
}

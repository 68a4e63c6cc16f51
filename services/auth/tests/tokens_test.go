package tests

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/authn"
)

func b64(v any) string {
	raw, _ := json.Marshal(v)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// tampered returns forgeries derived from a real token.
func tampered(t *testing.T, h *harness, real string) map[string]string {
	t.Helper()
	parts := strings.Split(real, ".")
	hdr, cl := decodeSegment(t, parts[0]), decodeSegment(t, parts[1])
	out := map[string]string{}

	// alg none, no signature.
	out["alg none"] = b64(map[string]any{"alg": "none", "typ": "JWT", "kid": hdr["kid"]}) + "." + parts[1] + "."

	// HS256 keyed with the public key bytes (the classic algorithm-confusion attack),
	// both raw and as the JWKS's base64 text.
	jr := h.do("GET", "/api/v1/auth/.well-known/jwks.json", "", nil)
	var doc authn.JWKS
	if err := json.Unmarshal(jr.Body, &doc); err != nil || len(doc.Keys) == 0 {
		t.Fatalf("jwks: %s", jr.Body)
	}
	pub, _ := base64.RawURLEncoding.DecodeString(doc.Keys[0].X)
	for name, key := range map[string][]byte{"HS256 with public key": pub, "HS256 with public key text": []byte(doc.Keys[0].X)} {
		head := b64(map[string]any{"alg": "HS256", "typ": "JWT", "kid": hdr["kid"]})
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(head + "." + parts[1]))
		out[name] = head + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(mac.Sum(nil))
	}

	// Unknown kid with the original signature.
	out["wrong kid"] = b64(map[string]any{"alg": "EdDSA", "typ": "JWT", "kid": "nope"}) + "." + parts[1] + "." + parts[2]
	// No kid at all.
	out["no kid"] = b64(map[string]any{"alg": "EdDSA", "typ": "JWT"}) + "." + parts[1] + "." + parts[2]

	// One bit of the signature flipped.
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[10] ^= 0x01
	out["signature bit flipped"] = parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)

	// Claims changed (promoted to ADMIN) under the original signature.
	cl["rol"] = "ADMIN"
	out["claims edited"] = parts[0] + "." + b64(cl) + "." + parts[2]
	out["garbage"] = "a.b.c"
	return out
}

func TestTokenTamperingIsRefused(t *testing.T) {
	h := start(t, nil)
	u := h.user("tamper@example.com", "CLIENTE")
	h.do("POST", "/api/v1/auth/validate-token", u.Access, nil).Expect(t, 200, "real token")
	for name, forged := range tampered(t, h, u.Access) {
		h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": forged}).ExpectError(t, 401, name+" (validate)")
		// The same forgery on a protected endpoint and on an admin endpoint.
		h.do("POST", "/api/v1/users/me/change-password", forged,
			map[string]string{"current_password": "secreto123", "new_password": "otraclave1"}).ExpectError(t,
			401, name+" (change-password)")

		h.do("GET", "/api/v1/admin/users", forged, nil).ExpectError(t, 401, name+" (admin)")
	}
	// Expired: the clock passes the token's exp (ACCESS_TOKEN_TTL, 8h by default).
	h.clock.Advance(8*time.Hour + time.Minute)
	h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": u.Access}).ExpectError(t, 401, "expired")
	h.do("POST", "/api/v1/users/me/change-password", u.Access,
		map[string]string{"current_password": "secreto123", "new_password": "otraclave1"}).ExpectError(t,
		401, "expired (change-password)")

}

func TestKeyRotationKeepsSessions(t *testing.T) {
	// The clock steps below are sized for a 30-minute access token.
	h := start(t, map[string]string{"ACCESS_TOKEN_TTL": "30m"})
	adm := h.admin("keys-admin@example.com")
	u := h.user("rot@example.com", "CLIENTE")
	oldKid := decodeSegment(t, strings.Split(u.Access, ".")[0])["kid"].(string)

	// A verifier like every other service's: JWKS over HTTP, cached.
	remote := &authn.Verifier{Keys: authn.NewJWKSClient(h.base + "/auth/.well-known/jwks.json")}
	if _, err := remote.Verify(context.Background(), u.Access); err != nil {
		t.Fatalf("remote verify before rotation: %v", err)
	}

	h.do("POST", "/api/v1/auth/admin/keys/rotate", u.Access, nil).ExpectError(t, 403, "rotate as cliente")
	r := h.do("POST", "/api/v1/auth/admin/keys/rotate", adm.Access, nil)
	r.Expect(t, 200, "rotate")
	newKid := r.Map(t)["kid"].(string)
	if newKid == oldKid {
		t.Fatal("rotation kept the kid")
	}
	var doc authn.JWKS
	jr := h.do("GET", "/api/v1/auth/.well-known/jwks.json", "", nil)
	if err := json.Unmarshal(jr.Body, &doc); err != nil || len(doc.Keys) != 2 || doc.Keys[0].Kid != newKid || doc.Keys[1].Kid != oldKid {
		t.Fatalf("jwks after rotation: %s", jr.Body)
	}
	// New logins sign with the new key; the old token still works everywhere.
	access2, _ := h.login("rot@example.com", "secreto123")
	if k := decodeSegment(t, strings.Split(access2, ".")[0])["kid"]; k != newKid {
		t.Fatalf("new token kid %v, want %s", k, newKid)
	}
	// JWKS clients refetch on an unknown kid at most every 2 s.
	time.Sleep(2100 * time.Millisecond)
	for name, tok := range map[string]string{"old": u.Access, "new": access2} {
		h.do("POST", "/api/v1/auth/validate-token", tok, nil).Expect(t, 200, name+" token after rotation")
		if _, err := remote.Verify(context.Background(), tok); err != nil {
			t.Fatalf("remote verify %s token after rotation: %v", name, err)
		}
	}
	// A refresh after rotation keeps the session and gets a new-key token.
	r = h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": u.Refresh})
	r.Expect(t, 200, "refresh after rotation")

	// The retired key leaves the JWKS only after every token it signed expired (access
	// lifetime plus a grace period for instances that have not reloaded yet).
	h.clock.Advance(35 * time.Minute)
	time.Sleep(1100 * time.Millisecond)
	h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": tampered(t, h, access2)["wrong kid"]})
	jr = h.do("GET", "/api/v1/auth/.well-known/jwks.json", "", nil)
	if err := json.Unmarshal(jr.Body, &doc); err != nil || len(doc.Keys) != 2 {
		t.Fatalf("jwks within the grace period: %s", jr.Body)
	}
	h.clock.Advance(10 * time.Minute)
	// Force a reload (the cache refreshes every 30 s): an unknown kid triggers one.
	time.Sleep(1100 * time.Millisecond)
	h.do("POST", "/api/v1/auth/validate-token", "", map[string]string{"token": tampered(t, h, access2)["wrong kid"]})
	jr = h.do("GET", "/api/v1/auth/.well-known/jwks.json", "", nil)
	if err := json.Unmarshal(jr.Body, &doc); err != nil || len(doc.Keys) != 1 || doc.Keys[0].Kid != newKid {
		t.Fatalf("jwks after the old key expired: %s", jr.Body)
	}
}

func TestAutomaticRotationOnAge(t *testing.T) {
	// KEY_ROTATION=1h: an instance whose clock is past the key's age makes a new key
	// (the background loop runs the same check every minute); the old key stays
	// published, so the old token keeps working.
	cfg := map[string]string{"KEY_ROTATION": "1h", "ACCESS_TOKEN_TTL": "30m"}
	h := start(t, cfg)
	u := h.user("age@example.com", "CLIENTE")
	oldKid := decodeSegment(t, strings.Split(u.Access, ".")[0])["kid"].(string)

	h2 := startAt(t, h.env, cfg, 61*time.Minute)
	var doc authn.JWKS
	jr := h2.do("GET", "/api/v1/auth/.well-known/jwks.json", "", nil)
	if err := json.Unmarshal(jr.Body, &doc); err != nil || len(doc.Keys) != 2 || doc.Keys[1].Kid != oldKid {
		t.Fatalf("jwks after age rotation: %s", jr.Body)
	}
	access2, _ := h2.login("age@example.com", "secreto123")
	if k := decodeSegment(t, strings.Split(access2, ".")[0])["kid"]; k != doc.Keys[0].Kid {
		t.Fatalf("new token kid %v, want %s", k, doc.Keys[0].Kid)
	}
	// The old token (issued at clock 0, valid 30 min) is checked at a clock inside its life.
	h.do("POST", "/api/v1/auth/validate-token", u.Access, nil).Expect(t, 200, "old token on the old instance")
	h3 := startAt(t, h.env, cfg, 0)
	h3.do("POST", "/api/v1/auth/validate-token", u.Access, nil).Expect(t, 200, "old token on another instance")
	h2.do("POST", "/api/v1/auth/validate-token", access2, nil).Expect(t, 200, "new-key token")
}

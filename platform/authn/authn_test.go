package authn_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/conectarpro/conectar/platform/authn"
)

type bans map[string]bool

func (b bans) IsBanned(id string) bool { return b[id] }

func sign(t *testing.T, priv ed25519.PrivateKey, kid string, claims authn.Claims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, claims)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func claims(sub string, exp time.Duration) authn.Claims {
	now := time.Now()
	return authn.Claims{Rol: authn.RoleCliente, Email: "a@b.c", RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(exp)), ID: "j"}}
}

func TestVerifyRefusesTampering(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	v := &authn.Verifier{Keys: authn.StaticKeys(func(kid string) (ed25519.PublicKey, bool) { return pub, kid == "k1" }),
		Bans: bans{"banned": true}}
	good := sign(t, priv, "k1", claims("u1", time.Minute))
	if c, err := v.Verify(context.Background(), good); err != nil || c.UserID() != "u1" {
		t.Fatalf("good token refused: %v", err)
	}
	hs := jwt.NewWithClaims(jwt.SigningMethodHS256, claims("u1", time.Minute))
	hs.Header["kid"] = "k1"
	hsTok, _ := hs.SignedString([]byte(pub))
	none := jwt.NewWithClaims(jwt.SigningMethodNone, claims("u1", time.Minute))
	none.Header["kid"] = "k1"
	noneTok, _ := none.SignedString(jwt.UnsafeAllowNoneSignatureType)
	parts := strings.Split(good, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	sig[0] ^= 1
	flipped := parts[0] + "." + parts[1] + "." + base64.RawURLEncoding.EncodeToString(sig)
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	var m map[string]any
	_ = json.Unmarshal(payload, &m)
	m["rol"] = authn.RoleAdmin
	p2, _ := json.Marshal(m)
	escalated := parts[0] + "." + base64.RawURLEncoding.EncodeToString(p2) + "." + parts[2]
	bad := map[string]string{
		"alg none":         noneTok,
		"HS256 public key": hsTok,
		"wrong kid":        sign(t, priv, "k2", claims("u1", time.Minute)),
		"other key":        sign(t, otherPriv, "k1", claims("u1", time.Minute)),
		"expired":          sign(t, priv, "k1", claims("u1", -time.Minute)),
		"bit flipped":      flipped,
		"role escalated":   escalated,
		"banned":           sign(t, priv, "k1", claims("banned", time.Minute)),
		"garbage":          "a.b.c",
		"no subject":       sign(t, priv, "k1", claims("", time.Minute)),
	}
	for name, tok := range bad {
		if _, err := v.Verify(context.Background(), tok); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestJWKSClientRefreshesOnUnknownKid(t *testing.T) {
	pub1, priv1, _ := ed25519.GenerateKey(rand.Reader)
	pub2, priv2, _ := ed25519.GenerateKey(rand.Reader)
	var rotated atomic.Bool
	var fetches atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetches.Add(1)
		doc := authn.JWKS{Keys: []authn.JWK{authn.PublicJWK("k1", pub1)}}
		if rotated.Load() {
			doc.Keys = append(doc.Keys, authn.PublicJWK("k2", pub2))
		}
		_ = json.NewEncoder(w).Encode(doc)
	}))
	defer srv.Close()
	c := authn.NewJWKSClient(srv.URL)
	c.MinRefresh = 0
	v := &authn.Verifier{Keys: c}
	if _, err := v.Verify(context.Background(), sign(t, priv1, "k1", claims("u", time.Minute))); err != nil {
		t.Fatal(err)
	}
	rotated.Store(true)
	// A token signed with the new key is accepted without restarting anything, and the
	// old key's tokens keep working: rotation logs nobody out.
	if _, err := v.Verify(context.Background(), sign(t, priv2, "k2", claims("u", time.Minute))); err != nil {
		t.Fatalf("new key refused: %v", err)
	}
	if _, err := v.Verify(context.Background(), sign(t, priv1, "k1", claims("u", time.Minute))); err != nil {
		t.Fatalf("old key refused after rotation: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Fatalf("fetched JWKS %d times, want 2 (cache hit for known kids)", n)
	}
}

// A verified token is remembered: the next checks within a minute skip the key lookup
// and the signature, never the ban list; after the minute, or past the token's expiry,
// it is checked in full again.
func TestVerifierRemembersVerifiedTokens(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	var lookups atomic.Int32
	banned := bans{}
	now := time.Now()
	v := &authn.Verifier{Keys: authn.StaticKeys(func(kid string) (ed25519.PublicKey, bool) {
		lookups.Add(1)
		return pub, kid == "k1"
	}), Bans: banned, Now: func() time.Time { return now }}
	tok := sign(t, priv, "k1", claims("u1", 90*time.Second))
	for i := 0; i < 3; i++ {
		if c, err := v.Verify(context.Background(), tok); err != nil || c.UserID() != "u1" || c.Rol != authn.RoleCliente {
			t.Fatalf("check %d: %+v %v", i, c, err)
		}
	}
	if n := lookups.Load(); n != 1 {
		t.Fatalf("%d key lookups for three checks of one token, want 1", n)
	}
	banned["u1"] = true
	if _, err := v.Verify(context.Background(), tok); err == nil || !strings.Contains(err.Error(), "desactivada") {
		t.Fatalf("remembered token of a banned user: %v", err)
	}
	delete(banned, "u1")
	now = now.Add(61 * time.Second)
	if _, err := v.Verify(context.Background(), tok); err != nil {
		t.Fatal(err)
	}
	if n := lookups.Load(); n != 2 {
		t.Fatalf("%d key lookups after the minute, want 2 (checked in full again)", n)
	}
	now = now.Add(35 * time.Second) // past exp + leeway
	if _, err := v.Verify(context.Background(), tok); err == nil {
		t.Fatal("expired token accepted from memory")
	}
}

package authn_test

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// The fuzz targets use one fixed key and one fixed clock, so a seed token minted here
// stays valid in every run and in every fuzz worker (the key is derived from a constant
// seed; a random key would make the corpus meaningless between processes).
var (
	fuzzPriv = ed25519.NewKeyFromSeed([]byte("conectar-fuzz-signing-key-seed-!"))
	fuzzNow  = time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
)

func fuzzVerifier() *authn.Verifier {
	pub := fuzzPriv.Public().(ed25519.PublicKey)
	return &authn.Verifier{
		Keys: authn.StaticKeys(func(kid string) (ed25519.PublicKey, bool) { return pub, kid == "k1" }),
		Bans: bans{"banned": true},
		Now:  func() time.Time { return fuzzNow },
	}
}

// fuzzToken signs claims for sub with the fuzz key; kid names the key in the header.
func fuzzToken(tb testing.TB, kid, sub, rol string, exp time.Duration) string {
	tb.Helper()
	c := authn.Claims{Rol: rol, Email: "ana@example.com", RegisteredClaims: jwt.RegisteredClaims{
		Subject: sub, IssuedAt: jwt.NewNumericDate(fuzzNow.Add(-time.Minute)), ExpiresAt: jwt.NewNumericDate(fuzzNow.Add(exp)), ID: "jti-1"}}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(fuzzPriv)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// refusedCleanly reports whether err is what a client must see for a bad token: an
// apperr of the 401 kind, never anything a handler would turn into a 500.
func refusedCleanly(err error) bool {
	e, ok := apperr.As(err)
	return ok && e.Kind == apperr.KindUnauthorized
}

// FuzzVerify feeds any byte string to Verify as a bearer token. The only tokens that may
// pass are the ones this test signed itself: the fuzzer cannot sign, so anything else it
// gets accepted is a forgery (an alternative encoding of a genuine token counts: a
// token is a credential byte for byte, and caches, ban lists and logs key on it).
func FuzzVerify(f *testing.F) {
	valid := fuzzToken(f, "k1", "7d3f1a52-2c4e-4a61-b1f2-0c9d5e6f7a80", authn.RoleCliente, time.Hour)
	admin := fuzzToken(f, "k1", "0b7e9c1d-1111-4a61-b1f2-0c9d5e6f7a80", authn.RoleAdmin, time.Hour)
	genuine := map[string]bool{valid: true, admin: true}
	for _, s := range []string{
		valid, admin,
		fuzzToken(f, "k1", "7d3f1a52-2c4e-4a61-b1f2-0c9d5e6f7a80", authn.RoleCliente, -time.Hour), // expired
		fuzzToken(f, "k2", "7d3f1a52-2c4e-4a61-b1f2-0c9d5e6f7a80", authn.RoleCliente, time.Hour),  // unknown kid
		fuzzToken(f, "k1", "banned", authn.RoleCliente, time.Hour),
		fuzzToken(f, "k1", "", authn.RoleCliente, time.Hour), // no subject
		fuzzToken(f, "k1", "u", "", time.Hour),               // no role
		// alg none and HS256 keyed with the public key: the classic confusions.
		"eyJhbGciOiJub25lIiwia2lkIjoiazEiLCJ0eXAiOiJKV1QifQ.eyJyb2wiOiJBRE1JTiIsInN1YiI6InUifQ.",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6ImsxIiwidHlwIjoiSldUIn0.eyJyb2wiOiJBRE1JTiIsInN1YiI6InUifQ.c2ln",
		"", ".", "..", "...", "a.b.c", "Bearer " + valid, valid + ".", valid + "\n", "eyJ9.eyJ9.eyJ9",
	} {
		f.Add(s)
	}
	v := fuzzVerifier()
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := v.Verify(context.Background(), tok)
		if err != nil {
			if !refusedCleanly(err) {
				t.Fatalf("token %q refused with a non-401 error: %v", tok, err)
			}
			return
		}
		if !genuine[tok] {
			t.Fatalf("accepted a token this test never signed: %q (claims %+v)", tok, c)
		}
		if c.Subject == "" || c.Rol == "" {
			t.Fatalf("accepted token without subject or role: %+v", c)
		}
	})
}

// FuzzVerifyFlipped changes one byte of a genuine token (at any position, to any other
// value): the result must be refused, cleanly. This is the tamper test of every field
// at once: header (alg, kid), claims (sub, rol, exp) and signature.
func FuzzVerifyFlipped(f *testing.F) {
	valid := fuzzToken(f, "k1", "7d3f1a52-2c4e-4a61-b1f2-0c9d5e6f7a80", authn.RoleProfesional, time.Hour)
	for _, s := range []struct {
		pos uint
		x   byte
	}{{0, 1}, {10, 0x20}, {uint(len(valid) / 2), 1}, {uint(len(valid) - 1), 1}, {uint(len(valid) - 1), 3}, {uint(len(valid) - 2), 0x7f}, {36, '.' ^ 'e'}} {
		f.Add(s.pos, s.x)
	}
	v := fuzzVerifier()
	if _, err := v.Verify(context.Background(), valid); err != nil {
		f.Fatalf("the genuine token is refused: %v", err)
	}
	f.Fuzz(func(t *testing.T, pos uint, x byte) {
		if x == 0 {
			return // not a change
		}
		b := []byte(valid)
		i := int(pos % uint(len(b)))
		b[i] ^= x
		_, err := v.Verify(context.Background(), string(b))
		if err == nil {
			t.Fatalf("byte %d changed %q→%q and the token is still accepted", i, valid[i], b[i])
		}
		if !refusedCleanly(err) {
			t.Fatalf("tampered token refused with a non-401 error: %v", err)
		}
		var e *apperr.Error
		if errors.As(err, &e) && e.Code != "invalid_token" {
			t.Fatalf("tampered token refused with code %q, want invalid_token", e.Code)
		}
	})
}

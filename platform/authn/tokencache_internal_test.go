package authn

import (
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerifiedTokens(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	v := &verifiedTokens{ttl: time.Minute, max: 8}
	claims := func(sub string, exp time.Time) Claims {
		return Claims{Rol: RoleCliente, RegisteredClaims: jwt.RegisteredClaims{Subject: sub, ExpiresAt: jwt.NewNumericDate(exp)}}
	}

	v.add("a", claims("user-a", now.Add(10*time.Minute)), now)
	if c, ok := v.get("a", now.Add(59*time.Second)); !ok || c.Subject != "user-a" || c.Rol != RoleCliente {
		t.Fatalf("fresh token: %+v %v", c, ok)
	}
	// Trusted no longer than the ttl, even when the token lives longer.
	if _, ok := v.get("a", now.Add(time.Minute)); ok {
		t.Error("remembered past the ttl")
	}
	// Nor past the token's own expiry.
	v.add("b", claims("user-b", now.Add(10*time.Second)), now)
	if _, ok := v.get("b", now.Add(10*time.Second)); ok {
		t.Error("remembered past the token's expiry")
	}
	// An already expired token is not remembered at all, nor one without an expiry.
	v.add("c", claims("user-c", now.Add(-time.Second)), now)
	if _, ok := v.get("c", now); ok {
		t.Error("expired token remembered")
	}
	v.add("d", Claims{RegisteredClaims: jwt.RegisteredClaims{Subject: "user-d"}}, now)
	if _, ok := v.get("d", now); ok {
		t.Error("token without expiry remembered")
	}
	// Full: stays bounded.
	for i := 0; i < 100; i++ {
		v.add(fmt.Sprint("t", i), claims("u", now.Add(time.Hour)), now)
	}
	if n := len(v.m); n > 8 {
		t.Errorf("%d entries, max 8", n)
	}
}

package authn

import (
	"strings"
	"sync"
	"time"
)

// How long and how many verified tokens a Verifier remembers: a minute bounds how long
// a withdrawn signing key is still honoured; 20,000 tokens (≈ 10 MiB) cover the active
// users of a busy hour several times over.
const (
	verifiedTokenTTL = time.Minute
	verifiedTokenMax = 20_000
)

// verifiedTokens remembers tokens a Verifier has verified, so a client's next requests
// with the same token skip the Ed25519 signature check: it was most of the CPU an
// authenticated request cost, at the gateway and again in the service (gateway/bench,
// issue #13). A hit is trusted only until the token's own expiry and never longer than
// ttl, so a signing key withdrawn from the JWKS stops being honoured within ttl; the ban
// list is still consulted on every request. Only a token string verified in full is
// remembered, byte for byte: a forged or altered token never matches.
//
// The zero value is ready: a Verifier is built as a literal.
type verifiedTokens struct {
	ttl time.Duration // 0: verifiedTokenTTL
	max int           // 0: verifiedTokenMax

	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	claims Claims
	until  time.Time
}

// get returns the claims of tok when it was verified and is still within its validity
// at now.
func (v *verifiedTokens) get(tok string, now time.Time) (Claims, bool) {
	v.mu.RLock()
	e, ok := v.m[tok]
	v.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return Claims{}, false
	}
	return e.claims, true
}

// add remembers tok as verified with claims until their expiry (capped at now+ttl).
func (v *verifiedTokens) add(tok string, claims Claims, now time.Time) {
	if claims.ExpiresAt == nil {
		return
	}
	ttl, max := v.ttl, v.max
	if ttl == 0 {
		ttl = verifiedTokenTTL
	}
	if max == 0 {
		max = verifiedTokenMax
	}
	until := now.Add(ttl)
	if exp := claims.ExpiresAt.Time; exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]verifiedToken)
	}
	if len(v.m) >= max {
		v.evict(now, max)
	}
	// tok may alias a pooled request buffer: the key must own its bytes.
	v.m[strings.Clone(tok)] = verifiedToken{claims: claims, until: until}
}

// evict drops expired entries and, if the map is still full, an arbitrary quarter of
// it (map order is random): a flood of distinct valid tokens only costs re-verification.
func (v *verifiedTokens) evict(now time.Time, max int) {
	for k, e := range v.m {
		if !now.Before(e.until) {
			delete(v.m, k)
		}
	}
	drop := len(v.m) - max*3/4
	for k := range v.m {
		if drop <= 0 {
			break
		}
		delete(v.m, k)
		drop--
	}
}

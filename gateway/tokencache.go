package gateway

import (
	"strings"
	"sync"
	"time"
)

// How long and how many verified tokens the edge remembers: a minute bounds how long a
// withdrawn signing key is still honoured; 20,000 tokens (≈ 10 MiB) cover the active
// users of a busy hour several times over.
const (
	verifiedTokenTTL = time.Minute
	verifiedTokenMax = 20_000
)

// verifiedTokens remembers tokens the edge has verified, so a client's next requests
// with the same token skip the Ed25519 signature check: it was most of what the gateway
// spent on an authenticated request (gateway/bench, issue #13). A hit is trusted only
// until the token's own expiry and never longer than ttl, so a signing key withdrawn
// from the JWKS stops being honoured within ttl; the ban list is still consulted on
// every request by the caller.
type verifiedTokens struct {
	ttl time.Duration
	max int

	mu sync.RWMutex
	m  map[string]verifiedToken
}

type verifiedToken struct {
	subject string
	until   time.Time
}

func newVerifiedTokens(ttl time.Duration, max int) *verifiedTokens {
	return &verifiedTokens{ttl: ttl, max: max, m: make(map[string]verifiedToken)}
}

// subject returns the subject of tok when it was verified and is still within its
// validity at now.
func (v *verifiedTokens) subject(tok string, now time.Time) (string, bool) {
	v.mu.RLock()
	e, ok := v.m[tok]
	v.mu.RUnlock()
	if !ok || !now.Before(e.until) {
		return "", false
	}
	return e.subject, true
}

// add remembers tok as verified for subject until exp (capped at now+ttl).
func (v *verifiedTokens) add(tok, subject string, exp, now time.Time) {
	until := now.Add(v.ttl)
	if exp.Before(until) {
		until = exp
	}
	if !now.Before(until) {
		return
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.m) >= v.max {
		v.evict(now)
	}
	// tok aliases Fiber's pooled request buffer: the key must own its bytes.
	v.m[strings.Clone(tok)] = verifiedToken{subject: strings.Clone(subject), until: until}
}

// evict drops expired entries and, if the map is still full, an arbitrary quarter of
// it (map order is random): a flood of distinct valid tokens only costs re-verification.
func (v *verifiedTokens) evict(now time.Time) {
	for k, e := range v.m {
		if !now.Before(e.until) {
			delete(v.m, k)
		}
	}
	drop := len(v.m) - v.max*3/4
	for k := range v.m {
		if drop <= 0 {
			break
		}
		delete(v.m, k)
		drop--
	}
}

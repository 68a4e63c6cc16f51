// Package authn verifies access tokens. Auth signs them with Ed25519 keys and publishes
// the public halves as a JWKS document; every other component fetches that document,
// caches it, and refetches it when a token names an unknown kid, so keys rotate without
// logging anyone out and no component holds a shared secret. A replicated ban list makes
// a ban effective on the next request, whatever the token's expiry.
package authn

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"
	"github.com/golang-jwt/jwt/v5"

	"github.com/conectarpro/conectar/platform/apperr"
)

// Roles.
const (
	RoleCliente     = "CLIENTE"
	RoleProfesional = "PROFESIONAL"
	RoleAdmin       = "ADMIN"
)

// Claims are the access token's claims.
type Claims struct {
	Rol   string `json:"rol"`
	Email string `json:"email"`
	jwt.RegisteredClaims
}

// UserID is the token's subject.
func (c Claims) UserID() string { return c.Subject }

// JWK is one Ed25519 public key in JWKS form (RFC 8037).
type JWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Kid string `json:"kid"`
	Alg string `json:"alg"`
	Use string `json:"use"`
}

// JWKS is the document auth serves at /auth/.well-known/jwks.json.
type JWKS struct {
	Keys []JWK `json:"keys"`
}

// PublicJWK renders pub as a JWK.
func PublicJWK(kid string, pub ed25519.PublicKey) JWK {
	return JWK{Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub), Kid: kid, Alg: "EdDSA", Use: "sig"}
}

// KeySource finds the public key for a kid.
type KeySource interface {
	Key(ctx context.Context, kid string) (ed25519.PublicKey, error)
}

// BanList answers whether a user is banned right now.
type BanList interface {
	IsBanned(userID string) bool
}

// ErrUnknownKey is returned when no key with the kid exists even after a refresh.
var ErrUnknownKey = errors.New("unknown signing key")

// JWKSClient fetches and caches a JWKS document over HTTP. A miss triggers a refetch, at
// most once per MinRefresh, so forged kids cannot make it hammer auth.
type JWKSClient struct {
	URL        string
	HTTP       *http.Client
	MinRefresh time.Duration

	mu      sync.RWMutex
	keys    map[string]ed25519.PublicKey
	fetched time.Time
	fetchMu sync.Mutex
}

// NewJWKSClient returns a client for url.
func NewJWKSClient(url string) *JWKSClient {
	return &JWKSClient{URL: url, HTTP: &http.Client{Timeout: 3 * time.Second}, MinRefresh: 2 * time.Second}
}

// Key returns the key for kid, fetching the document when the kid is unknown.
func (c *JWKSClient) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	c.mu.RLock()
	k, ok := c.keys[kid]
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	c.mu.RLock()
	k, ok = c.keys[kid]
	recent := time.Since(c.fetched) < c.MinRefresh
	c.mu.RUnlock()
	if ok {
		return k, nil
	}
	if recent {
		return nil, ErrUnknownKey
	}
	if err := c.refresh(ctx); err != nil {
		return nil, err
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	if k, ok := c.keys[kid]; ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

func (c *JWKSClient) refresh(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL, nil)
	if err != nil {
		return fmt.Errorf("jwks request: %w", err)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		return fmt.Errorf("fetch jwks: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("fetch jwks: status %d", resp.StatusCode)
	}
	var doc JWKS
	if err := json.NewDecoder(http.MaxBytesReader(nil, resp.Body, 1<<20)).Decode(&doc); err != nil {
		return fmt.Errorf("decode jwks: %w", err)
	}
	keys := make(map[string]ed25519.PublicKey, len(doc.Keys))
	for _, k := range doc.Keys {
		if k.Kty != "OKP" || k.Crv != "Ed25519" {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil || len(b) != ed25519.PublicKeySize {
			continue
		}
		keys[k.Kid] = ed25519.PublicKey(b)
	}
	c.mu.Lock()
	c.keys, c.fetched = keys, time.Now()
	c.mu.Unlock()
	return nil
}

// StaticKeys is a KeySource over a fixed map (auth itself uses its own keys this way).
type StaticKeys func(kid string) (ed25519.PublicKey, bool)

// Key implements KeySource.
func (s StaticKeys) Key(_ context.Context, kid string) (ed25519.PublicKey, error) {
	if k, ok := s(kid); ok {
		return k, nil
	}
	return nil, ErrUnknownKey
}

// Verifier checks tokens. It remembers the tokens it verified for up to a minute (see
// verifiedTokens); use it by pointer and share one per process.
type Verifier struct {
	Keys KeySource
	Bans BanList // may be nil
	Now  func() time.Time

	verified verifiedTokens
}

// Errors a client sees.
var (
	errNoToken = apperr.Unauthorized("not_authenticated", "No autenticado")
	errBadTok  = apperr.Unauthorized("invalid_token", "Token inválido o expirado")
	errBanned  = apperr.Unauthorized("user_banned", "Tu cuenta ha sido desactivada. Contactá a soporte.")
)

// Verify parses and checks token: EdDSA only, known kid, valid signature, not expired,
// subject and role present, user not banned. A token verified in full within the last
// minute (and not expired since) skips the parse and signature check; the ban list is
// consulted every time.
func (v *Verifier) Verify(ctx context.Context, token string) (Claims, error) {
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	t := now()
	if claims, ok := v.verified.get(token, t); ok {
		if v.Bans != nil && v.Bans.IsBanned(claims.Subject) {
			return Claims{}, errBanned
		}
		return claims, nil
	}
	claims, err := v.verify(ctx, token, now)
	if err == nil {
		v.verified.add(token, claims, t)
	}
	return claims, err
}

// verify is the full check.
func (v *Verifier) verify(ctx context.Context, token string, now func() time.Time) (Claims, error) {
	var claims Claims
	_, err := jwt.ParseWithClaims(token, &claims, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, ErrUnknownKey
		}
		return v.Keys.Key(ctx, kid)
	}, jwt.WithValidMethods([]string{"EdDSA"}), jwt.WithExpirationRequired(), jwt.WithIssuedAt(),
		// Strict base64: the unused low bits of a segment's last character must be zero,
		// or one signed token would have several accepted spellings.
		jwt.WithStrictDecoding(), jwt.WithTimeFunc(now), jwt.WithLeeway(5*time.Second))
	// The base64 decoder skips CR and LF even when strict: a token is base64url and dots only.
	if err == nil && strings.ContainsFunc(token, func(r rune) bool { return r == '\r' || r == '\n' }) {
		err = errors.New("token contains a line break")
	}
	if err != nil || claims.Subject == "" || claims.Rol == "" {
		return Claims{}, &apperr.Error{Kind: apperr.KindUnauthorized, Code: errBadTok.Code, Msg: errBadTok.Msg, Wrapped: err}
	}
	if v.Bans != nil && v.Bans.IsBanned(claims.Subject) {
		return Claims{}, errBanned
	}
	return claims, nil
}

const localsKey = "authn.claims"

// BearerToken extracts the token from "Authorization: Bearer …".
func BearerToken(c *fiber.Ctx) string { return bearer(c.Get(fiber.HeaderAuthorization)) }

// BearerTokenView is BearerToken without the copy of the header an immutable app makes
// on every request (the header is most of a request's bytes). The token aliases the
// request's buffer: it must not outlive the handler, nor be kept by what it is given to.
func BearerTokenView(c *fiber.Ctx) string {
	return bearer(utils.UnsafeString(c.Request().Header.Peek(fiber.HeaderAuthorization)))
}

func bearer(h string) string {
	if len(h) > 7 && (h[:7] == "Bearer " || h[:7] == "bearer ") {
		return h[7:]
	}
	return ""
}

// Middleware verifies the bearer token when present and stores the claims. With
// required, a request without a valid token is refused with 401.
func (v *Verifier) Middleware(required bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		tok := BearerToken(c)
		if tok == "" {
			if required {
				return errNoToken
			}
			return c.Next()
		}
		claims, err := v.Verify(c.UserContext(), tok)
		if err != nil {
			return err
		}
		c.Locals(localsKey, claims)
		return c.Next()
	}
}

// User returns the verified claims of the request, if any.
func User(c *fiber.Ctx) (Claims, bool) {
	cl, ok := c.Locals(localsKey).(Claims)
	return cl, ok
}

// MustUser returns the claims or a 401 error.
func MustUser(c *fiber.Ctx) (Claims, error) {
	cl, ok := User(c)
	if !ok {
		return Claims{}, errNoToken
	}
	return cl, nil
}

// Require refuses requests without a token (401) or whose role is not among roles (403).
func Require(roles ...string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		cl, ok := User(c)
		if !ok {
			return errNoToken
		}
		if len(roles) == 0 {
			return c.Next()
		}
		for _, r := range roles {
			if cl.Rol == r {
				return c.Next()
			}
		}
		return apperr.Forbidden("forbidden_role", "No tenés permisos para esta acción")
	}
}

package auth

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// accessClaims are authn.Claims plus the session (refresh family) the token belongs to,
// so change-password can keep the caller's own session and revoke the others.
type accessClaims struct {
	authn.Claims
	Sid string `json:"sid,omitempty"`
}

// TokenPair is the login and refresh answer.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
}

// randomToken returns n random bytes, base64url encoded.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the OS RNG never fails on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// hashToken is how refresh and reset tokens are stored: a SHA-256 of the clear token
// (they are 256-bit random values, so a fast hash is enough).
func hashToken(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// signAccess mints an access token for acc in session sid.
func signAccess(kid string, priv ed25519.PrivateKey, acc account, sid string, now time.Time, ttl time.Duration) (string, error) {
	cl := accessClaims{Claims: authn.Claims{Rol: acc.Rol, Email: acc.Email, RegisteredClaims: jwt.RegisteredClaims{
		Subject: acc.ID.String(), ID: uuid.NewString(), IssuedAt: jwt.NewNumericDate(now),
		ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
	}}, Sid: sid}
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, cl)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(priv)
	if err != nil {
		return "", fmt.Errorf("sign access token: %w", err)
	}
	return s, nil
}

// sessionOf reads the sid claim of an already verified token.
func sessionOf(token string) string {
	var cl accessClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &cl); err != nil {
		return ""
	}
	return cl.Sid
}

var errBadRefresh = apperr.Unauthorized("invalid_refresh_token", "Token de actualización inválido o expirado")

// newSession starts a refresh-token family for userID and returns its first token.
func (a *Auth) newSession(ctx context.Context, tx pgx.Tx, userID uuid.UUID, now time.Time) (refresh string, family uuid.UUID, err error) {
	family = uuid.New()
	refresh, err = a.insertRefresh(ctx, tx, userID, family, now)
	return refresh, family, err
}

func (a *Auth) insertRefresh(ctx context.Context, tx pgx.Tx, userID, family uuid.UUID, now time.Time) (string, error) {
	tok := randomToken(32)
	if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (id, family_id, user_id, token_hash, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, uuid.New(), family, userID, hashToken(tok), now, now.Add(a.cfg.RefreshTTL)); err != nil {
		return "", fmt.Errorf("insert refresh token: %w", err)
	}
	return tok, nil
}

// issue answers a login or refresh: an access token plus the given refresh token.
func (a *Auth) issue(ctx context.Context, acc account, refresh string, family uuid.UUID) (TokenPair, error) {
	kid, priv := a.keys.Signer(ctx)
	at, err := signAccess(kid, priv, acc, family.String(), a.now(), a.cfg.AccessTTL)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: at, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: int(a.cfg.AccessTTL.Seconds())}, nil
}

// revokeFamilies revokes every live session of userID except keep (uuid.Nil: all).
func revokeSessions(ctx context.Context, tx pgx.Tx, userID uuid.UUID, keep uuid.UUID, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $3
		WHERE user_id = $1 AND revoked_at IS NULL AND family_id <> $2`, userID, keep, now); err != nil {
		return fmt.Errorf("revoke sessions of %s: %w", userID, err)
	}
	return nil
}

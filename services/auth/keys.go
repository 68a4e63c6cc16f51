package auth

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
)

// keyLockID serializes key creation across auth instances (pg_advisory_xact_lock).
const keyLockID = 727281

// keyRefresh is how often an instance rereads the key table, so a rotation made by
// another instance is picked up for signing within this delay.
const keyRefresh = 30 * time.Second

// retireGrace is how long a retired key stays published beyond the access-token
// lifetime: it covers instances still signing with it until their next refresh.
const retireGrace = 10 * time.Minute

// KeyStore keeps the Ed25519 signing keys in the auth schema. The newest key signs;
// every key not yet expired verifies and is published in the JWKS. Private halves are
// sealed with AES-256-GCM under a key derived from AUTH_KEYS_SECRET and never logged.
type KeyStore struct {
	pool      *pgxpool.Pool
	aead      cipher.AEAD
	now       func() time.Time
	rotation  time.Duration
	accessTTL time.Duration
	log       *slog.Logger

	mu       sync.RWMutex
	current  signingKey
	public   map[string]ed25519.PublicKey
	order    []string // kids, newest first
	loadedAt time.Time
	reloadMu sync.Mutex
}

type signingKey struct {
	kid  string
	priv ed25519.PrivateKey
}

// NewKeyStore returns a store; call Ensure before use.
func NewKeyStore(pool *pgxpool.Pool, c Config, now func() time.Time, log *slog.Logger) (*KeyStore, error) {
	sum := sha256.Sum256([]byte(c.KeysSecret))
	block, err := aes.NewCipher(sum[:])
	if err != nil {
		return nil, fmt.Errorf("keys cipher: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("keys gcm: %w", err)
	}
	return &KeyStore{pool: pool, aead: aead, now: now, rotation: c.KeyRotation, accessTTL: c.AccessTTL, log: log,
		public: map[string]ed25519.PublicKey{}}, nil
}

func (k *KeyStore) seal(kid string, priv ed25519.PrivateKey) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	_, _ = rand.Read(nonce)
	return k.aead.Seal(nonce, nonce, priv.Seed(), []byte(kid))
}

func (k *KeyStore) open(kid string, sealed []byte) (ed25519.PrivateKey, error) {
	ns := k.aead.NonceSize()
	if len(sealed) < ns {
		return nil, errors.New("sealed key too short")
	}
	seed, err := k.aead.Open(nil, sealed[:ns], sealed[ns:], []byte(kid))
	if err != nil {
		return nil, fmt.Errorf("open key %s (is AUTH_KEYS_SECRET the one it was sealed with?): %w", kid, err)
	}
	return ed25519.NewKeyFromSeed(seed), nil
}

// Ensure creates the first key, or a new one when the current key is older than the
// rotation age, then loads the table. Safe to run from several instances at once.
func (k *KeyStore) Ensure(ctx context.Context) error {
	err := pg.WithTx(ctx, k.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", keyLockID); err != nil {
			return fmt.Errorf("lock keys: %w", err)
		}
		var newest *time.Time
		if err := tx.QueryRow(ctx, "SELECT max(created_at) FROM signing_keys").Scan(&newest); err != nil {
			return fmt.Errorf("newest key: %w", err)
		}
		now := k.now()
		if newest != nil && (k.rotation == 0 || now.Sub(*newest) < k.rotation) {
			return nil
		}
		return k.insertKey(ctx, tx, now)
	})
	if err != nil {
		return fmt.Errorf("ensure signing key: %w", err)
	}
	return k.reload(ctx)
}

// Rotate makes a new signing key at once. Older keys keep verifying for the access
// token lifetime plus a grace period, so nobody is logged out.
func (k *KeyStore) Rotate(ctx context.Context) (string, error) {
	var kid string
	err := pg.WithTx(ctx, k.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", keyLockID); err != nil {
			return fmt.Errorf("lock keys: %w", err)
		}
		now := k.now()
		var err error
		if kid, err = k.insertKeyReturning(ctx, tx, now); err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("rotate signing key: %w", err)
	}
	k.log.Info("signing key rotated", "kid", kid)
	return kid, k.reload(ctx)
}

func (k *KeyStore) insertKey(ctx context.Context, tx pgx.Tx, now time.Time) error {
	kid, err := k.insertKeyReturning(ctx, tx, now)
	if err == nil {
		k.log.Info("signing key created", "kid", kid)
	}
	return err
}

func (k *KeyStore) insertKeyReturning(ctx context.Context, tx pgx.Tx, now time.Time) (string, error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	kid := "k" + now.UTC().Format("20060102") + "-" + randomToken(6)
	// Keys that stop signing now stay published until every token they signed expired.
	if _, err := tx.Exec(ctx, `UPDATE signing_keys SET expires_at = LEAST(expires_at, $1)`,
		now.Add(k.accessTTL+retireGrace)); err != nil {
		return "", fmt.Errorf("retire keys: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO signing_keys (kid, public_key, private_key, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, kid, []byte(pub), k.seal(kid, priv), now, now.AddDate(100, 0, 0)); err != nil {
		return "", fmt.Errorf("insert key: %w", err)
	}
	return kid, nil
}

// reload reads every published key and the newest private key.
func (k *KeyStore) reload(ctx context.Context) error {
	rows, err := k.pool.Query(ctx, `SELECT kid, public_key, private_key FROM signing_keys
		WHERE expires_at > $1 ORDER BY created_at DESC, kid DESC`, k.now())
	if err != nil {
		return fmt.Errorf("load keys: %w", err)
	}
	defer rows.Close()
	public := map[string]ed25519.PublicKey{}
	var order []string
	var cur signingKey
	for rows.Next() {
		var kid string
		var pub, sealed []byte
		if err := rows.Scan(&kid, &pub, &sealed); err != nil {
			return fmt.Errorf("scan key: %w", err)
		}
		if len(pub) != ed25519.PublicKeySize {
			continue
		}
		public[kid] = ed25519.PublicKey(pub)
		order = append(order, kid)
		if cur.kid == "" {
			priv, err := k.open(kid, sealed)
			if err != nil {
				return err
			}
			cur = signingKey{kid: kid, priv: priv}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("load keys: %w", err)
	}
	if cur.kid == "" {
		return errors.New("load keys: no signing key")
	}
	k.mu.Lock()
	k.current, k.public, k.order, k.loadedAt = cur, public, order, time.Now()
	k.mu.Unlock()
	return nil
}

// maybeReload rereads the table when the cache is older than keyRefresh.
func (k *KeyStore) maybeReload(ctx context.Context, force bool) {
	k.mu.RLock()
	age := time.Since(k.loadedAt)
	k.mu.RUnlock()
	if age < keyRefresh && !(force && age > time.Second) {
		return
	}
	if !k.reloadMu.TryLock() {
		return
	}
	defer k.reloadMu.Unlock()
	if err := k.reload(ctx); err != nil {
		k.log.Warn("reload signing keys failed; using cached keys", "err", err)
	}
}

// Signer returns the key that signs new tokens.
func (k *KeyStore) Signer(ctx context.Context) (string, ed25519.PrivateKey) {
	k.maybeReload(ctx, false)
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current.kid, k.current.priv
}

// Key implements authn.KeySource over the published keys. An unknown kid triggers at
// most one reread per second (a forged kid cannot make auth hammer its database).
func (k *KeyStore) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	k.mu.RLock()
	pub, ok := k.public[kid]
	k.mu.RUnlock()
	if ok {
		return pub, nil
	}
	k.maybeReload(ctx, true)
	k.mu.RLock()
	defer k.mu.RUnlock()
	if pub, ok := k.public[kid]; ok {
		return pub, nil
	}
	return nil, authn.ErrUnknownKey
}

// JWKS returns the published keys, newest first.
func (k *KeyStore) JWKS(ctx context.Context) authn.JWKS {
	k.maybeReload(ctx, false)
	k.mu.RLock()
	defer k.mu.RUnlock()
	doc := authn.JWKS{Keys: make([]authn.JWK, 0, len(k.order))}
	for _, kid := range k.order {
		doc.Keys = append(doc.Keys, authn.PublicJWK(kid, k.public[kid]))
	}
	return doc
}

// RotateLoop rotates the key when it reaches the rotation age (checked every minute).
func (k *KeyStore) RotateLoop(ctx context.Context) {
	if k.rotation == 0 {
		return
	}
	kit.Every(ctx, time.Minute, k.log, "key rotation check", k.Ensure)
}

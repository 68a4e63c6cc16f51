// Package auth owns accounts, credentials, sessions, password-reset tokens and the token
// signing keys. It signs access tokens with Ed25519 keys kept in its schema, publishes
// their public halves as a JWKS document, rotates refresh tokens with reuse detection,
// and turns bans into UserBanned events that feed the replicated ban list.
package auth

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/natsx"
)

// Name is the service's name, schema and role suffix.
const Name = "auth"

// Auth is the service's state shared by its handlers and consumers.
type Auth struct {
	svc      *kit.Service
	cfg      Config
	keys     *KeyStore
	hasher   *Hasher
	verifier *authn.Verifier

	throttle *throttle

	kvMu sync.Mutex
	kv   jetstream.KeyValue // the bans bucket, opened on first use
}

func (a *Auth) now() time.Time { return a.svc.Deps.Now() }

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	_, s, err := build(ctx, d)
	return s, err
}

func build(ctx context.Context, d kit.Deps) (*Auth, *kit.Service, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, nil, err
	}
	cfg, err := LoadConfig(s.Deps.Env)
	if err != nil {
		return nil, nil, fmt.Errorf("auth config: %w", err)
	}
	if cfg.KeysSecret == DefaultKeysSecret {
		s.Deps.Log.Warn("AUTH_KEYS_SECRET is not set: signing keys are sealed with the development secret")
	}
	keys, err := NewKeyStore(s.Deps.Pool, cfg, s.Deps.Now, s.Deps.Log)
	if err != nil {
		return nil, nil, err
	}
	if err := keys.Ensure(ctx); err != nil {
		return nil, nil, err
	}
	hasher, err := NewHasher(cfg)
	if err != nil {
		return nil, nil, err
	}
	a := &Auth{svc: s, cfg: cfg, keys: keys, hasher: hasher,
		throttle: &throttle{cfg: cfg.Throttle, pool: s.Deps.Pool, now: s.Deps.Now}}
	if a.verifier, err = a.buildVerifier(ctx); err != nil {
		return nil, nil, err
	}
	s.Background = append(s.Background, keys.RotateLoop, func(ctx context.Context) {
		a.throttle.sweepLoop(ctx, s.Deps.Log)
	})
	s.Consume(a.consumers()...)
	if err := a.routes(s.App); err != nil {
		return nil, nil, err
	}
	return a, s, nil
}

// buildVerifier verifies with auth's own keys first. Keys trusted by the process-wide
// verifier are accepted too (tests mint tokens with their own key), except when that
// verifier is a JWKS client, which would only ask auth itself. The ban list is the
// process-wide one when there is one, else auth watches the bucket itself.
func (a *Auth) buildVerifier(ctx context.Context) (*authn.Verifier, error) {
	d := a.svc.Deps
	var fallback authn.KeySource
	var bans authn.BanList
	if d.Verifier != nil {
		if _, isJWKS := d.Verifier.Keys.(*authn.JWKSClient); !isJWKS {
			fallback = d.Verifier.Keys
		}
		bans = d.Verifier.Bans
	}
	if bans == nil {
		b, err := natsx.WatchBans(ctx, d.JS, d.Log)
		if err != nil {
			return nil, fmt.Errorf("auth ban list: %w", err)
		}
		bans = b
	}
	return &authn.Verifier{Keys: chainKeys{a.keys, fallback}, Bans: bans, Now: d.Now}, nil
}

// chainKeys asks each source in turn.
type chainKeys []authn.KeySource

func (c chainKeys) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	err := error(authn.ErrUnknownKey)
	for _, s := range c {
		if s == nil {
			continue
		}
		var k ed25519.PublicKey
		if k, err = s.Key(ctx, kid); err == nil {
			return k, nil
		}
	}
	return nil, err
}

// Keys exposes the signing keys (for the benchmark and operator tools).
func (a *Auth) Keys() *KeyStore { return a.keys }

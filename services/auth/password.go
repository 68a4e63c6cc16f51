package auth

import (
	"context"
	"fmt"
	"runtime"
	"time"
	"unicode/utf8"

	"github.com/alexedwards/argon2id"

	"github.com/conectarpro/conectar/platform/apperr"
)

// Hasher hashes and checks passwords with argon2id. A semaphore bounds how many hashes
// run at once, so a burst of logins cannot exhaust memory (each hash takes
// Argon2MemoryKiB), and a request waits for a slot at most wait.
type Hasher struct {
	params *argon2id.Params
	sem    chan struct{}
	wait   time.Duration
	// dummy is a hash of a random password with the same parameters: checking it when
	// the account does not exist makes both answers cost the same time.
	dummy string
}

// NewHasher builds a Hasher from the config.
func NewHasher(c Config) (*Hasher, error) {
	h := &Hasher{
		params: &argon2id.Params{Memory: c.Argon2MemoryKiB, Iterations: c.Argon2Iterations,
			Parallelism: c.Argon2Parallelism, SaltLength: 16, KeyLength: 32},
		sem:  make(chan struct{}, max(2, runtime.NumCPU()*2)),
		wait: c.HashWait,
	}
	d, err := argon2id.CreateHash(randomToken(16), h.params)
	if err != nil {
		return nil, fmt.Errorf("dummy hash: %w", err)
	}
	h.dummy = d
	return h, nil
}

// ErrHasherBusy refuses a request that found every hashing slot taken for the whole
// HashWait: the client is told to retry shortly instead of waiting past the gateway's
// patience for a hash nobody would read.
var ErrHasherBusy = apperr.Unavailable("auth_ocupado",
	"Hay muchos ingresos en este momento; probá de nuevo en unos segundos", nil)

func (h *Hasher) acquire(ctx context.Context) error {
	select {
	case h.sem <- struct{}{}:
		return nil
	default:
	}
	t := time.NewTimer(h.wait)
	defer t.Stop()
	select {
	case h.sem <- struct{}{}:
		return nil
	case <-t.C:
		return ErrHasherBusy
	case <-ctx.Done():
		return fmt.Errorf("wait for hasher: %w", ctx.Err())
	}
}

// Hash returns the encoded argon2id hash of password.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer func() { <-h.sem }()
	s, err := argon2id.CreateHash(password, h.params)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return s, nil
}

// Check reports whether password matches hash. An empty hash (unknown account) is
// checked against the dummy hash so the caller's timing does not reveal it.
func (h *Hasher) Check(ctx context.Context, password, hash string) (bool, error) {
	if err := h.acquire(ctx); err != nil {
		return false, err
	}
	defer func() { <-h.sem }()
	if hash == "" {
		_, _ = argon2id.ComparePasswordAndHash(password, h.dummy)
		return false, nil
	}
	ok, err := argon2id.ComparePasswordAndHash(password, hash)
	if err != nil {
		return false, fmt.Errorf("check password: %w", err)
	}
	return ok, nil
}

// checkPassword states the password rule as a sentence, since it is the 422's detail
// and the only text the web frontend shows: its register form accepts 6 characters,
// so the answer must say why 8 are needed.
func checkPassword(ck *apperr.Checker, field, pw string) {
	n := utf8.RuneCountInString(pw)
	ck.Add(n < minPassword, field, fmt.Sprintf("La contraseña debe tener al menos %d caracteres: "+
		"las más cortas se adivinan en minutos. Una frase de varias palabras es fácil de recordar y segura.", minPassword))
	ck.Add(n > maxPassword, field, fmt.Sprintf("La contraseña no puede tener más de %d caracteres", maxPassword))
}

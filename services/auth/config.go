package auth

import (
	"fmt"
	"time"

	"github.com/conectarpro/conectar/platform/config"
)

// Config holds auth's settings, read from the environment with production defaults.
type Config struct {
	// Argon2id parameters. The defaults are OWASP's recommended argon2id configuration
	// (19 MiB, 2 iterations, 1 lane). 64 MiB × 2 × 2 lanes cost six times the CPU: a
	// 2-core host then hashed about 13 passwords a second with nothing else running,
	// and a wave of sign-ups queued behind it until the gateway gave up (the load
	// benchmark's 503s). Hashes carry their parameters, so changing these never locks
	// anyone out. Tests lower them (ARGON2_MEMORY_KIB=1024, ARGON2_ITERATIONS=1).
	Argon2MemoryKiB   uint32
	Argon2Iterations  uint32
	Argon2Parallelism uint8
	// HashWait is how long a request waits for a free hashing slot (HASH_WAIT) before
	// it is answered 503 with Retry-After. It must stay well below the gateway's
	// upstream timeout: an answer the gateway has stopped waiting for would still cost
	// a hash, and a queue of abandoned requests is how a burst becomes an outage.
	HashWait time.Duration

	// AccessTTL bounds an access token's life (ACCESS_TOKEN_TTL, 15m..24h). The web
	// frontend never refreshes (it keeps only access_token), so the default is a working
	// day: a shorter token would end every web session at its first 401. A ban still
	// cuts a token at once (the replicated ban list); logout and password changes end
	// the refresh family, and the access token within this bound.
	AccessTTL  time.Duration
	RefreshTTL time.Duration // REFRESH_TOKEN_TTL
	ResetTTL   time.Duration // PASSWORD_RESET_TTL

	// KeyRotation is the age at which the signing key is replaced (KEY_ROTATION; 0 turns
	// automatic rotation off). A retired key stays published for another KeyRotation, far
	// longer than any access token lives.
	KeyRotation time.Duration
	// KeysSecret seals the private signing keys at rest (AUTH_KEYS_SECRET).
	KeysSecret string

	// Throttle is the one login / password-reset throttling policy (throttle.go).
	Throttle ThrottleConfig

	// FrontendURL builds the reset link carried by PasswordResetRequested.
	FrontendURL string
}

// DefaultKeysSecret is the development value of AUTH_KEYS_SECRET.
const DefaultKeysSecret = "dev-auth-keys-secret-change-me"

// LoadConfig reads the settings.
func LoadConfig(get config.Getenv) (Config, error) {
	r := config.NewReader(get)
	c := Config{
		Argon2MemoryKiB:   uint32(r.Int("ARGON2_MEMORY_KIB", 19*1024)),
		Argon2Iterations:  uint32(r.Int("ARGON2_ITERATIONS", 2)),
		Argon2Parallelism: uint8(r.Int("ARGON2_PARALLELISM", 1)),
		HashWait:          r.Duration("HASH_WAIT", 5*time.Second),
		AccessTTL:         r.Duration("ACCESS_TOKEN_TTL", 8*time.Hour),
		RefreshTTL:        r.Duration("REFRESH_TOKEN_TTL", 30*24*time.Hour),
		ResetTTL:          r.Duration("PASSWORD_RESET_TTL", time.Hour),
		KeyRotation:       r.Duration("KEY_ROTATION", 30*24*time.Hour),
		KeysSecret:        r.String("AUTH_KEYS_SECRET", DefaultKeysSecret),
		Throttle: ThrottleConfig{
			FreeFailures:       r.Int("LOGIN_FREE_FAILURES", 5),
			BackoffBase:        r.Duration("LOGIN_BACKOFF_BASE", 2*time.Second),
			BackoffMax:         r.Duration("LOGIN_BACKOFF_MAX", 15*time.Minute),
			FailureMemory:      r.Duration("LOGIN_FAILURE_MEMORY", 24*time.Hour),
			AddressFailures:    r.Int("LOGIN_FAILURES_PER_ADDRESS", 50),
			TrustedAddressTTL:  r.Duration("LOGIN_TRUSTED_ADDRESS_TTL", 30*24*time.Hour),
			ForgotPerAccount:   r.Int("FORGOT_RATE_PER_ACCOUNT", 3),
			ForgotPerAddress:   r.Int("FORGOT_RATE_PER_IP", 10),
			ResetFailuresPerIP: r.Int("RESET_FAILURES_PER_IP", 20),
			Window:             r.Duration("THROTTLE_WINDOW", 15*time.Minute),
		},
		FrontendURL: r.String("FRONTEND_URL", "http://localhost:3000"),
	}
	if err := r.Err(); err != nil {
		return c, err
	}
	if c.AccessTTL < 15*time.Minute || c.AccessTTL > 24*time.Hour {
		return c, fmt.Errorf("ACCESS_TOKEN_TTL=%s must be between 15m and 24h", c.AccessTTL)
	}
	if c.Argon2MemoryKiB < 8 || c.Argon2Iterations < 1 || c.Argon2Parallelism < 1 {
		return c, fmt.Errorf("ARGON2_* parameters must be positive (memory ≥ 8 KiB)")
	}
	if c.HashWait <= 0 {
		return c, fmt.Errorf("HASH_WAIT=%s must be positive", c.HashWait)
	}
	if c.KeyRotation != 0 && c.KeyRotation < 2*c.AccessTTL {
		return c, fmt.Errorf("KEY_ROTATION=%s must be 0 (off) or at least twice ACCESS_TOKEN_TTL", c.KeyRotation)
	}
	if c.RefreshTTL <= 0 || c.ResetTTL <= 0 {
		return c, fmt.Errorf("REFRESH_TOKEN_TTL and PASSWORD_RESET_TTL must be positive")
	}
	if err := c.Throttle.validate(); err != nil {
		return c, err
	}
	return c, nil
}

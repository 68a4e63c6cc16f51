package auth

import (
	"fmt"
	"time"

	"github.com/conectarpro/conectar/platform/config"
)

// Config holds auth's settings, read from the environment with production defaults.
type Config struct {
	// Argon2id parameters. Tests lower them (ARGON2_MEMORY_KIB=1024, ARGON2_ITERATIONS=1)
	// so hashing is fast; production keeps the strong defaults.
	Argon2MemoryKiB   uint32
	Argon2Iterations  uint32
	Argon2Parallelism uint8

	AccessTTL  time.Duration // ACCESS_TOKEN_TTL, 15m..60m
	RefreshTTL time.Duration // REFRESH_TOKEN_TTL
	ResetTTL   time.Duration // PASSWORD_RESET_TTL

	// KeyRotation is the age at which the signing key is replaced (KEY_ROTATION; 0 turns
	// automatic rotation off). A retired key stays published for another KeyRotation, far
	// longer than any access token lives.
	KeyRotation time.Duration
	// KeysSecret seals the private signing keys at rest (AUTH_KEYS_SECRET).
	KeysSecret string

	// Rate limits: attempts per window per client IP and per account (email).
	LoginPerIP       int           // LOGIN_RATE_PER_IP
	LoginPerAccount  int           // LOGIN_RATE_PER_ACCOUNT
	ForgotPerIP      int           // FORGOT_RATE_PER_IP
	ForgotPerAccount int           // FORGOT_RATE_PER_ACCOUNT
	RateWindow       time.Duration // RATE_LIMIT_WINDOW

	// FrontendURL builds the reset link carried by PasswordResetRequested.
	FrontendURL string
}

// DefaultKeysSecret is the development value of AUTH_KEYS_SECRET.
const DefaultKeysSecret = "dev-auth-keys-secret-change-me"

// LoadConfig reads the settings.
func LoadConfig(get config.Getenv) (Config, error) {
	r := config.NewReader(get)
	c := Config{
		Argon2MemoryKiB:   uint32(r.Int("ARGON2_MEMORY_KIB", 64*1024)),
		Argon2Iterations:  uint32(r.Int("ARGON2_ITERATIONS", 2)),
		Argon2Parallelism: uint8(r.Int("ARGON2_PARALLELISM", 2)),
		AccessTTL:         r.Duration("ACCESS_TOKEN_TTL", 30*time.Minute),
		RefreshTTL:        r.Duration("REFRESH_TOKEN_TTL", 30*24*time.Hour),
		ResetTTL:          r.Duration("PASSWORD_RESET_TTL", time.Hour),
		KeyRotation:       r.Duration("KEY_ROTATION", 30*24*time.Hour),
		KeysSecret:        r.String("AUTH_KEYS_SECRET", DefaultKeysSecret),
		LoginPerIP:        r.Int("LOGIN_RATE_PER_IP", 30),
		LoginPerAccount:   r.Int("LOGIN_RATE_PER_ACCOUNT", 5),
		ForgotPerIP:       r.Int("FORGOT_RATE_PER_IP", 10),
		ForgotPerAccount:  r.Int("FORGOT_RATE_PER_ACCOUNT", 3),
		RateWindow:        r.Duration("RATE_LIMIT_WINDOW", 15*time.Minute),
		FrontendURL:       r.String("FRONTEND_URL", "http://localhost:3000"),
	}
	if err := r.Err(); err != nil {
		return c, err
	}
	if c.AccessTTL < 15*time.Minute || c.AccessTTL > time.Hour {
		return c, fmt.Errorf("ACCESS_TOKEN_TTL=%s must be between 15m and 60m", c.AccessTTL)
	}
	if c.Argon2MemoryKiB < 8 || c.Argon2Iterations < 1 || c.Argon2Parallelism < 1 {
		return c, fmt.Errorf("ARGON2_* parameters must be positive (memory ≥ 8 KiB)")
	}
	if c.KeyRotation != 0 && c.KeyRotation < 2*c.AccessTTL {
		return c, fmt.Errorf("KEY_ROTATION=%s must be 0 (off) or at least twice ACCESS_TOKEN_TTL", c.KeyRotation)
	}
	if c.RefreshTTL <= 0 || c.ResetTTL <= 0 || c.RateWindow <= 0 {
		return c, fmt.Errorf("REFRESH_TOKEN_TTL, PASSWORD_RESET_TTL and RATE_LIMIT_WINDOW must be positive")
	}
	return c, nil
}

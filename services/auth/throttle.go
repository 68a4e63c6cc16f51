package auth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
)

// ThrottleConfig is the one throttling policy of login, forgot-password, reset-password
// and change-password (OWASP ASVS 2.2.1). Only failures count against an account or an
// address, so any number of people behind one address sign in freely; credential
// stuffing on one account meets a growing backoff, and one address spraying a password
// over many accounts runs out of its failure budget.
type ThrottleConfig struct {
	// FreeFailures is how many failed logins an account may have before each further
	// failure locks it for BackoffBase, doubling up to BackoffMax (LOGIN_FREE_FAILURES,
	// LOGIN_BACKOFF_BASE, LOGIN_BACKOFF_MAX). A success clears the count.
	FreeFailures int
	BackoffBase  time.Duration
	BackoffMax   time.Duration
	// FailureMemory is how long an account's failures are remembered without a new one
	// (LOGIN_FAILURE_MEMORY).
	FailureMemory time.Duration
	// AddressFailures is the failed logins one client address may have per Window
	// (LOGIN_FAILURES_PER_ADDRESS, 0 = no limit). Over it, only accounts that already
	// signed in from that address within TrustedAddressTTL (LOGIN_TRUSTED_ADDRESS_TTL)
	// are still checked: colleagues behind a sprayed office NAT keep working.
	AddressFailures   int
	TrustedAddressTTL time.Duration
	// Forgot-password requests per Window per email and per address (each one sends an
	// email, so every request counts; FORGOT_RATE_PER_ACCOUNT, FORGOT_RATE_PER_IP).
	ForgotPerAccount int
	ForgotPerAddress int
	// ResetFailuresPerIP is the bad reset tokens one address may send per Window
	// (RESET_FAILURES_PER_IP).
	ResetFailuresPerIP int
	// Window is the fixed window of the per-address and forgot-password counters
	// (THROTTLE_WINDOW).
	Window time.Duration
}

func (c ThrottleConfig) validate() error {
	switch {
	case c.FreeFailures < 1:
		return errors.New("LOGIN_FREE_FAILURES must be at least 1")
	case c.BackoffBase <= 0 || c.BackoffMax < c.BackoffBase:
		return errors.New("LOGIN_BACKOFF_BASE must be positive and LOGIN_BACKOFF_MAX at least as long")
	case c.FailureMemory < c.BackoffMax:
		return errors.New("LOGIN_FAILURE_MEMORY must be at least LOGIN_BACKOFF_MAX")
	case c.AddressFailures < 0 || c.ForgotPerAccount < 0 || c.ForgotPerAddress < 0 || c.ResetFailuresPerIP < 0:
		return errors.New("LOGIN_FAILURES_PER_ADDRESS, FORGOT_RATE_* and RESET_FAILURES_PER_IP must be ≥ 0 (0 = no limit)")
	case c.Window <= 0 || c.TrustedAddressTTL <= 0:
		return errors.New("THROTTLE_WINDOW and LOGIN_TRUSTED_ADDRESS_TTL must be positive")
	}
	return nil
}

// backoff is the lock after the n-th consecutive failure: none while free, then
// BackoffBase doubling per failure, capped.
func (c ThrottleConfig) backoff(n int) time.Duration {
	over := n - c.FreeFailures
	if over < 0 {
		return 0
	}
	d := c.BackoffBase
	for i := 0; i < over && d < c.BackoffMax; i++ {
		d *= 2
	}
	return min(d, c.BackoffMax)
}

// throttle keeps the policy's state in the auth schema, so every auth replica and a
// restarted one see the same counts. The check and the count are separate statements:
// a burst of concurrent attempts may overshoot a limit by the burst's size, which a
// throttle tolerates (the lock is still set by the first failures to commit).
type throttle struct {
	cfg  ThrottleConfig
	pool *pgxpool.Pool
	now  func() time.Time
}

// refusal is a throttled request: 429 with Retry-After.
type refusal struct{ retry time.Duration }

func (r *refusal) Error() string { return "throttled for " + r.retry.String() }

var errTooMany = apperr.New(apperr.KindRateLimited, "too_many_attempts",
	"Demasiados intentos fallidos. Esperá unos minutos antes de volver a intentar.")

// answer turns a refusal into the 429 answer (with Retry-After), and passes other
// errors on.
func answer(c *fiber.Ctx, err error) error {
	var r *refusal
	if errors.As(err, &r) {
		c.Set(fiber.HeaderRetryAfter, strconv.Itoa(max(1, int((r.retry+time.Second-1)/time.Second))))
		return errTooMany
	}
	return err
}

func accountKey(kind, id string) string { return kind + ":" + id }

const (
	keyLoginAddress  = "login-fail|"
	keyForgotAccount = "forgot|"
	keyForgotAddress = "forgot-ip|"
	keyResetAddress  = "reset-fail|"
)

// admitLogin decides before the password is checked: the account may be locked by its
// failures, and the address may have spent its failure budget (then only an account
// that signed in from it before is checked).
func (t *throttle) admitLogin(ctx context.Context, account, address string) error {
	now := t.now()
	var locked, windowStart *time.Time
	var trusted bool
	err := t.pool.QueryRow(ctx, `SELECT
		(SELECT locked_until FROM login_failures WHERE account_key = $1 AND locked_until > $4),
		(SELECT window_start FROM throttle_counters WHERE key = $2 AND window_start > $5 AND $6 > 0 AND hits >= $6),
		EXISTS (SELECT 1 FROM login_trusted_addresses WHERE account_key = $1 AND address = $3 AND last_success > $7)`,
		account, keyLoginAddress+address, address, now, now.Add(-t.cfg.Window), t.cfg.AddressFailures,
		now.Add(-t.cfg.TrustedAddressTTL)).Scan(&locked, &windowStart, &trusted)
	if err != nil {
		return pg.Translate(fmt.Errorf("login throttle state: %w", err))
	}
	if locked != nil {
		return &refusal{retry: locked.Sub(now)}
	}
	if windowStart != nil && !trusted {
		return &refusal{retry: windowStart.Add(t.cfg.Window).Sub(now)}
	}
	return nil
}

// loginFailed counts a failure against the account (locking it once the free failures
// are spent) and against the address.
func (t *throttle) loginFailed(ctx context.Context, account, address string) error {
	if err := t.accountFailed(ctx, account); err != nil {
		return err
	}
	if address != "" && t.cfg.AddressFailures > 0 {
		if _, _, err := t.hit(ctx, keyLoginAddress+address); err != nil {
			return err
		}
	}
	return nil
}

// loginSucceeded clears the account's failures and remembers the address as one the
// account signs in from.
func (t *throttle) loginSucceeded(ctx context.Context, account, address string) error {
	if err := t.accountCleared(ctx, account); err != nil {
		return err
	}
	if address == "" {
		return nil
	}
	if _, err := t.pool.Exec(ctx, `INSERT INTO login_trusted_addresses (account_key, address, last_success) VALUES ($1, $2, $3)
		ON CONFLICT (account_key, address) DO UPDATE SET last_success = EXCLUDED.last_success`, account, address, t.now()); err != nil {
		return pg.Translate(fmt.Errorf("trust address: %w", err))
	}
	return nil
}

// accountLocked refuses while the account's backoff runs.
func (t *throttle) accountLocked(ctx context.Context, account string) error {
	now := t.now()
	var until time.Time
	err := t.pool.QueryRow(ctx, `SELECT locked_until FROM login_failures WHERE account_key = $1 AND locked_until > $2`,
		account, now).Scan(&until)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return pg.Translate(fmt.Errorf("account throttle state: %w", err))
	}
	return &refusal{retry: until.Sub(now)}
}

func (t *throttle) accountFailed(ctx context.Context, account string) error {
	now := t.now()
	var n int
	err := t.pool.QueryRow(ctx, `INSERT INTO login_failures (account_key, failures, last_failure) VALUES ($1, 1, $2)
		ON CONFLICT (account_key) DO UPDATE SET
			failures = CASE WHEN login_failures.last_failure <= $3 THEN 1 ELSE login_failures.failures + 1 END,
			last_failure = EXCLUDED.last_failure
		RETURNING failures`, account, now, now.Add(-t.cfg.FailureMemory)).Scan(&n)
	if err != nil {
		return pg.Translate(fmt.Errorf("count login failure: %w", err))
	}
	if d := t.cfg.backoff(n); d > 0 {
		if _, err := t.pool.Exec(ctx, `UPDATE login_failures SET locked_until = $2 WHERE account_key = $1`, account, now.Add(d)); err != nil {
			return pg.Translate(fmt.Errorf("lock account: %w", err))
		}
	}
	return nil
}

func (t *throttle) accountCleared(ctx context.Context, account string) error {
	if _, err := t.pool.Exec(ctx, `DELETE FROM login_failures WHERE account_key = $1`, account); err != nil {
		return pg.Translate(fmt.Errorf("clear login failures: %w", err))
	}
	return nil
}

// hit counts one event under key in the current fixed window and returns the count
// and when the window ends.
func (t *throttle) hit(ctx context.Context, key string) (int, time.Time, error) {
	now := t.now()
	var n int
	var start time.Time
	err := t.pool.QueryRow(ctx, `INSERT INTO throttle_counters (key, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (key) DO UPDATE SET
			hits = CASE WHEN throttle_counters.window_start <= $3 THEN 1 ELSE throttle_counters.hits + 1 END,
			window_start = CASE WHEN throttle_counters.window_start <= $3 THEN EXCLUDED.window_start ELSE throttle_counters.window_start END
		RETURNING hits, window_start`, key, now, now.Add(-t.cfg.Window)).Scan(&n, &start)
	if err != nil {
		return 0, time.Time{}, pg.Translate(fmt.Errorf("throttle counter: %w", err))
	}
	return n, start.Add(t.cfg.Window), nil
}

// over reports, without counting, whether key has reached limit in its window.
func (t *throttle) over(ctx context.Context, key string, limit int) error {
	if limit <= 0 {
		return nil
	}
	now := t.now()
	var start time.Time
	err := t.pool.QueryRow(ctx, `SELECT window_start FROM throttle_counters WHERE key = $1 AND window_start > $2 AND hits >= $3`,
		key, now.Add(-t.cfg.Window), limit).Scan(&start)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return pg.Translate(fmt.Errorf("throttle counter: %w", err))
	}
	return &refusal{retry: start.Add(t.cfg.Window).Sub(now)}
}

// admitForgot counts a reset request per email and per address, known email or not, so
// a 429 reveals nothing.
func (t *throttle) admitForgot(ctx context.Context, email, address string) error {
	var worst error
	for _, k := range []struct {
		key   string
		limit int
	}{{keyForgotAccount + email, t.cfg.ForgotPerAccount}, {keyForgotAddress + address, t.cfg.ForgotPerAddress}} {
		if k.limit <= 0 {
			continue
		}
		n, end, err := t.hit(ctx, k.key)
		if err != nil {
			return err
		}
		if n > k.limit {
			worst = &refusal{retry: end.Sub(t.now())}
		}
	}
	return worst
}

// admitReset refuses an address that sent too many bad reset tokens.
func (t *throttle) admitReset(ctx context.Context, address string) error {
	return t.over(ctx, keyResetAddress+address, t.cfg.ResetFailuresPerIP)
}

func (t *throttle) resetFailed(ctx context.Context, address string) error {
	if t.cfg.ResetFailuresPerIP <= 0 {
		return nil
	}
	_, _, err := t.hit(ctx, keyResetAddress+address)
	return err
}

// sweep drops state that can no longer refuse anything.
func (t *throttle) sweep(ctx context.Context) error {
	now := t.now()
	for _, q := range []struct {
		sql string
		arg time.Time
	}{
		{`DELETE FROM throttle_counters WHERE window_start <= $1`, now.Add(-t.cfg.Window)},
		{`DELETE FROM login_failures WHERE last_failure <= $1`, now.Add(-t.cfg.FailureMemory)},
		{`DELETE FROM login_trusted_addresses WHERE last_success <= $1`, now.Add(-t.cfg.TrustedAddressTTL)},
	} {
		if _, err := t.pool.Exec(ctx, q.sql, q.arg); err != nil {
			return pg.Translate(fmt.Errorf("throttle sweep: %w", err))
		}
	}
	return nil
}

// sweepLoop sweeps every minute until ctx ends.
func (t *throttle) sweepLoop(ctx context.Context, log *slog.Logger) {
	kit.Every(ctx, time.Minute, log, "throttle sweep", t.sweep)
}

// clientIP is the caller's address. Behind the gateway (a loopback or private peer) it
// is the gateway's X-Real-Ip (the client address it computed, honouring its trusted
// proxy setting), else the last X-Forwarded-For hop, the one the gateway appended. A
// direct public caller cannot choose its own key by sending the headers.
func clientIP(c *fiber.Ctx) string {
	peer := c.Context().RemoteIP()
	if peer != nil && (peer.IsLoopback() || peer.IsPrivate()) {
		if ip := net.ParseIP(strings.TrimSpace(c.Get("X-Real-Ip"))); ip != nil {
			return ip.String()
		}
		if xff := c.Get(fiber.HeaderXForwardedFor); xff != "" {
			parts := strings.Split(xff, ",")
			if ip := net.ParseIP(strings.TrimSpace(parts[len(parts)-1])); ip != nil {
				return ip.String()
			}
		}
	}
	if peer == nil {
		return c.IP()
	}
	return peer.String()
}

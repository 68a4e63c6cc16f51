// Package pg opens a service's PostgreSQL pool (its own role, its own schema on the
// search_path), runs functions in transactions and translates driver errors into apperr
// kinds.
package pg

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/platform/apperr"
)

// Size bounds a pool: at most Max connections (0: pgx's default), and Min kept open
// while idle. A new PostgreSQL connection forks a backend, 17–23 ms on the two-core
// machines the benchmarks run on and up to 190 ms while their cores are busy: without
// Min, the first requests after start or after a quiet spell waited for that.
type Size struct{ Min, Max int32 }

// DefaultMinConns is a service pool's Min unless DB_MIN_CONNS says otherwise: enough for
// a relay, a consumer batch and a couple of requests at once.
const DefaultMinConns = 4

// Open connects to dsn with search_path set to schema (then public, where extensions
// such as PostGIS live) and checks the connection.
func Open(ctx context.Context, dsn, schema string, size Size) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("parse database url: %w", err)
	}
	if schema != "" {
		cfg.ConnConfig.RuntimeParams["search_path"] = schema + ",public"
	}
	// JIT planning costs more than the short queries it would speed up (see
	// performance-baselines: it added milliseconds to every search).
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	if size.Max > 0 {
		cfg.MaxConns = size.Max
	}
	// Opened in the background by pgxpool, and kept past MaxConnIdleTime.
	cfg.MinConns = min(max(size.Min, 0), cfg.MaxConns)
	cfg.MaxConnIdleTime = 5 * time.Minute
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		EncodeUUIDs(c.TypeMap())
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open pool: %w", err)
	}
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("ping database as %s: %w", cfg.ConnConfig.User, err)
	}
	return pool, nil
}

// WithUser returns dsn with its user (and password, when given) replaced.
func WithUser(dsn, user, password string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	if password != "" {
		u.User = url.UserPassword(user, password)
	} else {
		u.User = url.User(user)
	}
	return u.String(), nil
}

// WithDatabase returns dsn pointing at another database on the same server.
func WithDatabase(dsn, db string) (string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", fmt.Errorf("parse database url: %w", err)
	}
	u.Path = "/" + db
	return u.String(), nil
}

// Beginner is what WithTx needs: a pool or a connection.
type Beginner interface {
	Begin(ctx context.Context) (pgx.Tx, error)
}

// WithTx runs fn in a transaction, committing when it returns nil and rolling back
// otherwise (and on panic). On a pool the BEGIN travels with fn's first statement (see
// lazyTx); on anything else it is a round trip of its own.
func WithTx(ctx context.Context, db Beginner, fn func(tx pgx.Tx) error) (err error) {
	var tx pgx.Tx
	if p, ok := db.(*pgxpool.Pool); ok {
		tx = &lazyTx{pool: p}
	} else if tx, err = beginRetrying(ctx, db); err != nil {
		return Translate(fmt.Errorf("begin: %w", err))
	}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err = fn(tx); err != nil {
		// The connection died under fn (a raw driver error wrapped on the way up): the
		// work was rolled back with it and may be retried, which a 5xx or a consumer's
		// nak should say as Unavailable rather than as an unexplained failure.
		var ae *apperr.Error
		if errors.As(err, &ae) {
			return err
		}
		lazy, isLazy := tx.(*lazyTx)
		if isLazy && lazy.beginErr != nil {
			return Translate(err) // the transaction never began: as a failed BEGIN says
		}
		if (isLazy && lazy.connClosed()) || (!isLazy && tx.Conn().IsClosed()) {
			return &apperr.Error{Kind: apperr.KindUnavailable, Code: "db_unavailable", Msg: "Base de datos no disponible", Wrapped: err}
		}
		return err
	}
	if err = tx.Commit(ctx); err != nil {
		return Translate(fmt.Errorf("commit: %w", err))
	}
	return nil
}

// beginRetrying begins a transaction on db. A pooled connection the server closed while
// it sat idle (a failover, backends terminated) fails at its first statement, BEGIN.
// Nothing has run yet, so another connection is tried. The server rarely closes just
// one: the pool's other idle connections are dropped too, since it checks only those
// idle for over a second and a busy service (a worker ticking every second) would
// otherwise hand out one dead connection per attempt until a consumer had spent its
// whole redelivery budget and dead-lettered the event (found by the PostgreSQL fault
// test).
func beginRetrying(ctx context.Context, db Beginner) (tx pgx.Tx, err error) {
	for attempt := 1; ; attempt++ {
		tx, err = db.Begin(ctx)
		if err == nil || !retryBegin(ctx, db, attempt, err) {
			return tx, err
		}
	}
}

// retryBegin reports whether a failed BEGIN (alone or with a first statement) is tried
// again on another connection, and drops the pool's idle connections after the first.
func retryBegin(ctx context.Context, db Beginner, attempt int, err error) bool {
	if attempt == beginAttempts || !connectionLost(err) || ctx.Err() != nil {
		return false
	}
	if p, ok := db.(*pgxpool.Pool); ok && attempt == 1 {
		p.Reset()
	}
	return true
}

// beginAttempts bounds the connections WithTx tries to begin on.
const beginAttempts = 8

// connectionLost reports whether err says the connection died before doing anything:
// the server terminated it (57P01 admin shutdown, 57P02 crash shutdown) or the driver
// knows nothing was sent.
func connectionLost(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02"
	}
	return pgconn.SafeToRetry(err)
}

// Translate maps driver errors to apperr kinds: unique violations become Conflict,
// serialization failures and connection loss become Unavailable (retryable), no rows
// becomes NotFound. Other errors pass unchanged.
func Translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &apperr.Error{Kind: apperr.KindNotFound, Code: "not_found", Msg: "Recurso no encontrado", Wrapped: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &apperr.Error{Kind: apperr.KindConflict, Code: "conflict", Msg: "El recurso ya existe", Wrapped: err}
		case "40001", "40P01", "55P03", "57P01", "57014":
			return &apperr.Error{Kind: apperr.KindUnavailable, Code: "db_retry", Msg: "Servicio ocupado, reintentá", Wrapped: err}
		case "23503", "23514", "22P02", "22001", "22003":
			return &apperr.Error{Kind: apperr.KindInvalid, Code: "invalid_data", Msg: "Datos inválidos", Wrapped: err}
		case "57P02", "57P03":
			return &apperr.Error{Kind: apperr.KindUnavailable, Code: "db_unavailable", Msg: "Base de datos no disponible", Wrapped: err}
		}
		// Class 08 (connection exception) and 53 (insufficient resources: "too many
		// clients", out of memory or disk) say the database cannot serve now, not that
		// the request is wrong: 503, so clients and consumers retry.
		if strings.HasPrefix(pgErr.Code, "08") || strings.HasPrefix(pgErr.Code, "53") {
			return &apperr.Error{Kind: apperr.KindUnavailable, Code: "db_unavailable", Msg: "Base de datos no disponible", Wrapped: err}
		}
		return err
	}
	if pgconn.SafeToRetry(err) || errors.Is(err, context.DeadlineExceeded) {
		return &apperr.Error{Kind: apperr.KindUnavailable, Code: "db_unavailable", Msg: "Base de datos no disponible", Wrapped: err}
	}
	var ce *pgconn.ConnectError
	if errors.As(err, &ce) {
		return &apperr.Error{Kind: apperr.KindUnavailable, Code: "db_unavailable", Msg: "Base de datos no disponible", Wrapped: err}
	}
	return err
}

// IsUniqueViolation reports whether err is a unique-constraint violation, optionally of
// the named constraint.
func IsUniqueViolation(err error, constraint string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "23505" && (constraint == "" || pgErr.ConstraintName == constraint)
}

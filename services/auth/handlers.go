package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
)

var (
	errBadCredentials = apperr.Unauthorized("invalid_credentials", "Email o contraseña incorrectos")
	errInactive       = apperr.Unauthorized("account_disabled", "Tu cuenta ha sido desactivada. Contacta al administrador para más información.")
	errEmailTaken     = apperr.Invalid("email_taken", "El email ya está registrado")
	errBadResetToken  = apperr.Invalid("invalid_reset_token", "Token inválido o expirado")
	errUserNotFound   = apperr.NotFound("user_not_found", "Usuario no encontrado")
)

// forgotMessage is the one answer of forgot-password, whether or not the email exists.
const forgotMessage = "Si el email existe, recibirás instrucciones para resetear tu contraseña."

// inTx runs fn in a transaction and, after commit, wakes the relay.
func (a *Auth) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, after := a.svc.AfterCommit(ctx)
	if err := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error { return fn(ctx, tx) }); err != nil {
		return err
	}
	after()
	return nil
}

func (a *Auth) event(aggregate string, e events.Event) (events.Envelope, error) {
	return events.New(Name, aggregate, e, events.Meta{}, a.now())
}

// insertAccount creates the account and its UserRegistered event in tx.
func insertAccount(ctx context.Context, tx pgx.Tx, in RegisterInput, hash string, now time.Time) (account, error) {
	acc := account{ID: uuid.New(), Email: in.Email, PasswordHash: hash, Nombre: in.Nombre, Apellido: in.Apellido,
		Rol: in.Rol, IsActive: true, OficioID: in.OficioID, FechaCreacion: now, FechaActualiza: now}
	_, err := tx.Exec(ctx, `INSERT INTO accounts (id, email, password_hash, nombre, apellido, rol, is_active, oficio_id,
		fecha_creacion, fecha_actualizacion) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
		acc.ID, acc.Email, acc.PasswordHash, acc.Nombre, acc.Apellido, acc.Rol, acc.IsActive, acc.OficioID, now, now)
	if pg.IsUniqueViolation(err, "") {
		return account{}, errEmailTaken
	}
	if err != nil {
		return account{}, pg.Translate(fmt.Errorf("insert account: %w", err))
	}
	ev := events.UserRegisteredV1{UserID: acc.ID.String(), Email: acc.Email, Nombre: acc.Nombre, Apellido: acc.Apellido, Rol: acc.Rol}
	if in.OficioID != nil {
		ev.OficioID = in.OficioID.String()
	}
	env, err := events.New(Name, acc.ID.String(), ev, events.Meta{}, now)
	if err != nil {
		return account{}, err
	}
	if err := outbox.Append(ctx, tx, env); err != nil {
		return account{}, err
	}
	return acc, nil
}

func (a *Auth) register(c *fiber.Ctx) error {
	var b registerBody
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	in, err := b.input()
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	// A cheap existence check first spares a hash for the common duplicate; the unique
	// index still decides races.
	if _, found, err := accountByEmail(ctx, a.svc.Deps.Pool, in.Email); err != nil {
		return err
	} else if found {
		return errEmailTaken
	}
	hash, err := a.hasher.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	var acc account
	if err := a.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		acc, err = insertAccount(ctx, tx, in, hash, a.now())
		return err
	}); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(acc.userRead())
}

func (a *Auth) login(c *fiber.Ctx) error {
	in, err := DecodeLogin(c.Get(fiber.HeaderContentType), c.Body())
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	key, addr := accountKey("login", in.Email), clientIP(c)
	if err := a.throttle.admitLogin(ctx, key, addr); err != nil {
		return answer(c, err)
	}
	acc, found, err := accountByEmail(ctx, a.svc.Deps.Pool, in.Email)
	if err != nil {
		return err
	}
	// An unknown email is checked against a dummy hash and counted like a real one:
	// same work, same answer, same throttling.
	ok, err := a.hasher.Check(ctx, in.Password, acc.PasswordHash)
	if err != nil {
		return err
	}
	if !found || !ok {
		if err := a.throttle.loginFailed(ctx, key, addr); err != nil {
			return err
		}
		return errBadCredentials
	}
	if !acc.IsActive {
		return errInactive
	}
	if err := a.throttle.loginSucceeded(ctx, key, addr); err != nil {
		return err
	}
	var refresh string
	var family uuid.UUID
	if err := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		refresh, family, err = a.newSession(ctx, tx, acc.ID, a.now())
		return err
	}); err != nil {
		return err
	}
	pair, err := a.issue(ctx, acc, refresh, family)
	if err != nil {
		return err
	}
	return c.JSON(pair)
}

type refreshBody struct {
	RefreshToken string `json:"refresh_token" jsonschema:"required,maxLength=256"`
}

func (a *Auth) refresh(c *fiber.Ctx) error {
	var b refreshBody
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	if b.RefreshToken == "" || len(b.RefreshToken) > 256 {
		return apperr.Validation(apperr.FieldError{Field: "refresh_token", Msg: "falta el token"})
	}
	ctx := c.UserContext()
	now := a.now()
	var (
		acc     account
		next    string
		family  uuid.UUID
		outcome error // a refusal whose effects (family revocation) must still commit
	)
	err := pg.WithTx(ctx, a.svc.Deps.Pool, func(tx pgx.Tx) error {
		var id, userID uuid.UUID
		var expires time.Time
		var rotated, revoked *time.Time
		err := tx.QueryRow(ctx, `SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at
			FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hashToken(b.RefreshToken)).
			Scan(&id, &family, &userID, &expires, &rotated, &revoked)
		if errors.Is(err, pgx.ErrNoRows) {
			outcome = errBadRefresh
			return nil
		}
		if err != nil {
			return pg.Translate(fmt.Errorf("refresh token: %w", err))
		}
		switch {
		case revoked != nil:
			outcome = errBadRefresh
			return nil
		case rotated != nil:
			// A rotated token presented again: someone holds a copy. End the session.
			if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
				family, now); err != nil {
				return fmt.Errorf("revoke family %s: %w", family, err)
			}
			a.svc.Deps.Log.Warn("refresh token reuse detected; session revoked", "user_id", userID, "family", family)
			outcome = apperr.Unauthorized("refresh_token_reused", "La sesión fue cerrada por seguridad. Iniciá sesión de nuevo.")
			return nil
		case !now.Before(expires):
			outcome = errBadRefresh
			return nil
		}
		var found bool
		if acc, found, err = accountByID(ctx, tx, userID, false); err != nil {
			return err
		}
		if !found || !acc.IsActive {
			outcome = errInactive
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = $2 WHERE id = $1`, id, now); err != nil {
			return fmt.Errorf("rotate refresh token: %w", err)
		}
		next, err = a.insertRefresh(ctx, tx, userID, family, now)
		return err
	})
	if err != nil {
		return err
	}
	if outcome != nil {
		return outcome
	}
	pair, err := a.issue(ctx, acc, next, family)
	if err != nil {
		return err
	}
	return c.JSON(pair)
}

func (a *Auth) logout(c *fiber.Ctx) error {
	var b refreshBody
	if err := httpx.BindOptionalJSON(c, &b); err != nil {
		return err
	}
	ctx := c.UserContext()
	var family uuid.UUID
	if b.RefreshToken != "" {
		err := a.svc.Deps.Pool.QueryRow(ctx, `SELECT family_id FROM refresh_tokens WHERE token_hash = $1`,
			hashToken(b.RefreshToken)).Scan(&family)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return pg.Translate(fmt.Errorf("logout: %w", err))
		}
	} else if tok := authn.BearerToken(c); tok != "" {
		if _, err := a.verifier.Verify(ctx, tok); err != nil {
			return err
		}
		family, _ = uuid.Parse(sessionOf(tok))
	} else {
		return apperr.Validation(apperr.FieldError{Field: "refresh_token", Msg: "falta el token"})
	}
	if family != uuid.Nil {
		if _, err := a.svc.Deps.Pool.Exec(ctx, `UPDATE refresh_tokens SET revoked_at = $2 WHERE family_id = $1 AND revoked_at IS NULL`,
			family, a.now()); err != nil {
			return pg.Translate(fmt.Errorf("logout: %w", err))
		}
	}
	return c.JSON(Confirmation{Message: "Sesión cerrada", Success: true})
}

type validateBody struct {
	Token string `json:"token"`
}

func (a *Auth) validateToken(c *fiber.Ctx) error {
	tok := c.Query("token")
	if tok == "" {
		tok = authn.BearerToken(c)
	}
	if tok == "" && len(c.Body()) > 0 {
		var b validateBody
		if err := httpx.BindJSON(c, &b); err != nil {
			return err
		}
		tok = b.Token
	}
	if tok == "" {
		return apperr.Unauthorized("not_authenticated", "No autenticado")
	}
	cl, err := a.verifier.Verify(c.UserContext(), tok)
	if err != nil {
		return err
	}
	return c.JSON(TokenInfo{UserID: cl.UserID(), Rol: cl.Rol, Email: cl.Email})
}

type forgotBody struct {
	Email string `json:"email" jsonschema:"required,maxLength=254"`
}

func (a *Auth) forgotPassword(c *fiber.Ctx) error {
	var b forgotBody
	if q := c.Query("email"); q != "" && len(c.Body()) == 0 {
		b.Email = q
	} else if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	email := normalizeEmail(b.Email)
	if !validEmail(email) {
		return apperr.Validation(apperr.FieldError{Field: "email", Msg: "email inválido"})
	}
	ctx := c.UserContext()
	if err := a.throttle.admitForgot(ctx, email, clientIP(c)); err != nil {
		return answer(c, err)
	}
	acc, found, err := accountByEmail(ctx, a.svc.Deps.Pool, email)
	if err != nil {
		return err
	}
	if found && acc.IsActive {
		if err := a.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error { return a.createReset(ctx, tx, acc) }); err != nil {
			return err
		}
	}
	return c.JSON(Confirmation{Message: forgotMessage, Success: true})
}

// createReset stores a fresh reset token (hashed), voids older ones and appends the
// event that carries the clear token to the notifications service.
func (a *Auth) createReset(ctx context.Context, tx pgx.Tx, acc account) error {
	now := a.now()
	tok := randomToken(32)
	expires := now.Add(a.cfg.ResetTTL)
	if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, acc.ID, now); err != nil {
		return fmt.Errorf("void old reset tokens: %w", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		hashToken(tok), acc.ID, now, expires); err != nil {
		return fmt.Errorf("insert reset token: %w", err)
	}
	env, err := a.event(acc.ID.String(), events.PasswordResetRequestedV1{UserID: acc.ID.String(), Email: acc.Email,
		Nombre: acc.Nombre, Token: tok, ExpiresAt: expires.UTC().Format(time.RFC3339),
		ResetURL: strings.TrimRight(a.cfg.FrontendURL, "/") + "/reset-password?token=" + tok})
	if err != nil {
		return err
	}
	return outbox.Append(ctx, tx, env)
}

type resetBody struct {
	Token       string `json:"token" jsonschema:"required,maxLength=256"`
	NewPassword string `json:"new_password" jsonschema:"required,minLength=8,maxLength=128"`
}

func (a *Auth) resetPassword(c *fiber.Ctx) error {
	var b resetBody
	if len(c.Body()) == 0 && c.Query("token") != "" {
		b.Token, b.NewPassword = c.Query("token"), c.Query("new_password")
	} else if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Add(b.Token == "" || len(b.Token) > 256, "token", "falta el token")
	checkPassword(&ck, "new_password", b.NewPassword)
	if err := ck.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	addr := clientIP(c)
	if err := a.throttle.admitReset(ctx, addr); err != nil {
		return answer(c, err)
	}
	h := hashToken(b.Token)
	const live = `SELECT user_id FROM password_resets WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2`
	var userID uuid.UUID
	if err := a.svc.Deps.Pool.QueryRow(ctx, live, h, a.now()).Scan(&userID); errors.Is(err, pgx.ErrNoRows) {
		// Guessing tokens costs the address its budget.
		if err := a.throttle.resetFailed(ctx, addr); err != nil {
			return err
		}
		return errBadResetToken
	} else if err != nil {
		return pg.Translate(fmt.Errorf("reset token: %w", err))
	}
	hash, err := a.hasher.Hash(ctx, b.NewPassword)
	if err != nil {
		return err
	}
	err = a.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		now := a.now()
		// Recheck under lock: two concurrent resets with one token, only one wins.
		if err := tx.QueryRow(ctx, live+` FOR UPDATE`, h, now).Scan(&userID); errors.Is(err, pgx.ErrNoRows) {
			return errBadResetToken
		} else if err != nil {
			return pg.Translate(fmt.Errorf("reset token: %w", err))
		}
		if _, err := tx.Exec(ctx, `UPDATE password_resets SET used_at = $2 WHERE user_id = $1 AND used_at IS NULL`, userID, now); err != nil {
			return fmt.Errorf("use reset token: %w", err)
		}
		return a.setPassword(ctx, tx, userID, hash, uuid.Nil, "reset", now)
	})
	if err != nil {
		return err
	}
	// Whoever reset the password owns the mailbox: a lock that guessing left on the
	// account must not keep its owner out with the new password.
	if acc, found, err := accountByID(ctx, a.svc.Deps.Pool, userID, false); err != nil {
		return err
	} else if found {
		if err := a.throttle.accountCleared(ctx, accountKey("login", acc.Email)); err != nil {
			return err
		}
	}
	return c.JSON(Confirmation{Message: "Contraseña restablecida exitosamente", Success: true})
}

// setPassword stores hash, revokes every session but keep and appends PasswordChanged.
func (a *Auth) setPassword(ctx context.Context, tx pgx.Tx, userID uuid.UUID, hash string, keep uuid.UUID, reason string, now time.Time) error {
	if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2, fecha_actualizacion = $3 WHERE id = $1`, userID, hash, now); err != nil {
		return pg.Translate(fmt.Errorf("set password: %w", err))
	}
	if err := revokeSessions(ctx, tx, userID, keep, now); err != nil {
		return err
	}
	env, err := a.event(userID.String(), events.PasswordChangedV1{UserID: userID.String(), Reason: reason})
	if err != nil {
		return err
	}
	return outbox.Append(ctx, tx, env)
}

type changeBody struct {
	CurrentPassword string `json:"current_password" jsonschema:"required,maxLength=1024"`
	NewPassword     string `json:"new_password" jsonschema:"required,minLength=8,maxLength=128"`
}

func (a *Auth) changePassword(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var b changeBody
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Add(b.CurrentPassword == "" || len(b.CurrentPassword) > 1024, "current_password", "falta la contraseña actual")
	checkPassword(&ck, "new_password", b.NewPassword)
	if err := ck.Err(); err != nil {
		return err
	}
	uid, err := uuid.Parse(cl.UserID())
	if err != nil {
		return errUserNotFound
	}
	// Guessing the current password from a stolen session meets the same backoff.
	ctx := c.UserContext()
	key := accountKey("change", uid.String())
	if err := a.throttle.accountLocked(ctx, key); err != nil {
		return answer(c, err)
	}
	acc, found, err := accountByID(ctx, a.svc.Deps.Pool, uid, false)
	if err != nil {
		return err
	}
	if !found {
		return errUserNotFound
	}
	if ok, err := a.hasher.Check(ctx, b.CurrentPassword, acc.PasswordHash); err != nil {
		return err
	} else if !ok {
		if err := a.throttle.accountFailed(ctx, key); err != nil {
			return err
		}
		return apperr.Invalid("wrong_password", "La contraseña actual es incorrecta")
	}
	if err := a.throttle.accountCleared(ctx, key); err != nil {
		return err
	}
	if b.NewPassword == b.CurrentPassword {
		return apperr.Invalid("same_password", "La nueva contraseña debe ser distinta de la actual")
	}
	hash, err := a.hasher.Hash(ctx, b.NewPassword)
	if err != nil {
		return err
	}
	keep, _ := uuid.Parse(sessionOf(authn.BearerToken(c)))
	if err := a.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return a.setPassword(ctx, tx, uid, hash, keep, "change", a.now())
	}); err != nil {
		return err
	}
	return c.JSON(Confirmation{Message: "Contraseña actualizada exitosamente", Success: true})
}

func (a *Auth) jwks(c *fiber.Ctx) error {
	c.Set(fiber.HeaderCacheControl, "public, max-age=60")
	return c.JSON(a.keys.JWKS(c.UserContext()))
}

func (a *Auth) rotateKeys(c *fiber.Ctx) error {
	kid, err := a.keys.Rotate(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(RotatedKeys{Kid: kid, JWKS: a.keys.JWKS(c.UserContext())})
}

func (a *Auth) internalAccount(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errUserNotFound
	}
	acc, found, err := accountByID(c.UserContext(), a.svc.Deps.Pool, id, false)
	if err != nil {
		return err
	}
	if !found {
		return errUserNotFound
	}
	return c.JSON(acc.internal())
}

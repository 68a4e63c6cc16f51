package auth

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/pg"
)

// clampInt parses v, falling back to def when absent or malformed, within [lo, hi], as
// the earlier admin listing did (it never refused a bad page number).
func clampInt(v string, def, lo, hi int) int {
	n, err := strconv.Atoi(v)
	if err != nil {
		n = def
	}
	return min(max(n, lo), hi)
}

func (a *Auth) adminList(c *fiber.Ctx) error {
	page := clampInt(c.Query("page"), 1, 1, 1_000_000)
	limit := c.Query("limit")
	lim := 10
	if n, err := strconv.Atoi(limit); err == nil {
		lim = n
		if lim < 1 {
			lim = 10
		}
	}
	lim = min(lim, 100)
	ctx := c.UserContext()
	var total int
	if err := a.svc.Deps.Pool.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&total); err != nil {
		return pg.Translate(fmt.Errorf("count accounts: %w", err))
	}
	users, err := a.listAccounts(ctx, `SELECT `+accountCols+` FROM accounts ORDER BY fecha_creacion DESC, id DESC OFFSET $1 LIMIT $2`,
		(page-1)*lim, lim)
	if err != nil {
		return err
	}
	return c.JSON(UserPage{Users: users, Total: total, Page: page, Limit: lim, TotalPages: (total + lim - 1) / lim})
}

func (a *Auth) listAccounts(ctx context.Context, sql string, args ...any) ([]UserSearchResult, error) {
	rows, err := a.svc.Deps.Pool.Query(ctx, sql, args...)
	if err != nil {
		return nil, pg.Translate(fmt.Errorf("list accounts: %w", err))
	}
	defer rows.Close()
	out := []UserSearchResult{}
	for rows.Next() {
		acc, err := scanAccount(rows)
		if err != nil {
			return nil, fmt.Errorf("scan account: %w", err)
		}
		out = append(out, acc.searchResult(a.svc.Deps.PublicURL))
	}
	return out, pg.Translate(rows.Err())
}

func (a *Auth) adminSearch(c *fiber.Ctx) error {
	term := strings.TrimSpace(c.Query("email"))
	if len([]rune(term)) < 2 {
		return apperr.Invalid("search_too_short", "El término de búsqueda debe tener al menos 2 caracteres")
	}
	if len(term) > 254 {
		return apperr.Invalid("search_too_long", "El término de búsqueda es demasiado largo")
	}
	users, err := a.listAccounts(c.UserContext(), `SELECT `+accountCols+` FROM accounts WHERE email ILIKE $1
		ORDER BY fecha_creacion DESC, id DESC LIMIT 50`, pg.LikePattern(strings.ToLower(term)))
	if err != nil {
		return err
	}
	return c.JSON(users)
}

func (a *Auth) ban(c *fiber.Ctx) error   { return a.setActive(c, false) }
func (a *Auth) unban(c *fiber.Ctx) error { return a.setActive(c, true) }

// setActive bans or unbans: the flag, the sessions and the event commit together; the
// ban-list consumer then writes the replicated ban list from the event.
func (a *Auth) setActive(c *fiber.Ctx, active bool) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errUserNotFound
	}
	var acc account
	err = a.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var found bool
		if acc, found, err = accountByID(ctx, tx, id, true); err != nil {
			return err
		}
		if !found {
			return errUserNotFound
		}
		if acc.Rol == authn.RoleAdmin && !active {
			return apperr.Forbidden("cannot_ban_admin", "No se puede banear a un administrador")
		}
		if acc.IsActive == active {
			if active {
				return apperr.Invalid("not_banned", "El usuario no está baneado")
			}
			return apperr.Invalid("already_banned", "El usuario ya está baneado")
		}
		now := a.now()
		if _, err := tx.Exec(ctx, `UPDATE accounts SET is_active = $2, fecha_actualizacion = $3 WHERE id = $1`, id, active, now); err != nil {
			return pg.Translate(fmt.Errorf("set active %s: %w", id, err))
		}
		var ev events.Event = events.UserUnbannedV1{UserID: id.String(), By: cl.UserID()}
		if !active {
			ev = events.UserBannedV1{UserID: id.String(), By: cl.UserID()}
			if err := revokeSessions(ctx, tx, id, uuid.Nil, now); err != nil {
				return err
			}
		}
		env, err := a.event(id.String(), ev)
		if err != nil {
			return err
		}
		return outbox.Append(ctx, tx, env)
	})
	if err != nil {
		return err
	}
	msg := "Usuario desbaneado exitosamente"
	if !active {
		msg = "Usuario baneado exitosamente"
	}
	return c.JSON(BanResult{UserID: id.String(), Email: acc.Email, IsActive: active, Mensaje: msg, Message: msg})
}

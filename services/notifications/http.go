package notifications

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
)

// tipos are the notification categories a client may filter by or test.
var tipos = []string{TipoMensaje, TipoOferta, TipoPago, TipoResena, TipoSistema, TipoTrabajo}

// checkTipo accepts "" (no filter) or one of tipos.
func checkTipo(field, v string) error {
	if v == "" || slices.Contains(tipos, v) {
		return nil
	}
	return apperr.Validation(apperr.FieldError{Field: field, Msg: "debe ser uno de: " + strings.Join(tipos, ", ")})
}

// NotificationList is the list answer the frontend reads.
type NotificationList struct {
	Notificaciones []NotificationRead `json:"notificaciones"`
	Total          int                `json:"total"`
	NoLeidas       int                `json:"no_leidas"`
	Page           int                `json:"page"`
	Limit          int                `json:"limit"`
}

func parseBoolQuery(c *fiber.Ctx, name string) (bool, error) {
	v := c.Query(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, apperr.Validation(apperr.FieldError{Field: name, Msg: "debe ser true o false"})
	}
	return b, nil
}

func (s *svc) list(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	page, err := httpx.Paging(c, 20)
	if err != nil {
		return err
	}
	onlyUnread, err := parseBoolQuery(c, "solo_no_leidas")
	if err != nil {
		return err
	}
	tipo := c.Query("tipo")
	if err := checkTipo("tipo", tipo); err != nil {
		return err
	}
	ctx := c.UserContext()
	// total counts what the filters select (for paging); no_leidas is the person's
	// whole unread count, the badge, whatever the filters.
	out := NotificationList{Notificaciones: []NotificationRead{}, Page: page.Page, Limit: page.Limit}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE (NOT $2 OR NOT leida) AND ($3 = '' OR tipo = $3)),
			count(*) FILTER (WHERE NOT leida)
		FROM notifications WHERE user_id = $1`, u.UserID(), onlyUnread, tipo).Scan(&out.Total, &out.NoLeidas); err != nil {
		return fmt.Errorf("count notifications: %w", pg.Translate(err))
	}
	rows, err := s.pool.Query(ctx, `SELECT id, tipo, titulo, mensaje, leida, created_at, data FROM notifications
		WHERE user_id = $1 AND (NOT $2 OR NOT leida) AND ($3 = '' OR tipo = $3)
		ORDER BY created_at DESC, id DESC OFFSET $4 LIMIT $5`,
		u.UserID(), onlyUnread, tipo, page.Skip, page.Limit)
	if err != nil {
		return fmt.Errorf("list notifications: %w", pg.Translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		n, err := scanNotification(rows)
		if err != nil {
			return err
		}
		out.Notificaciones = append(out.Notificaciones, n)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list notifications: %w", pg.Translate(err))
	}
	return c.JSON(out)
}

func scanNotification(row pgx.Row) (NotificationRead, error) {
	var n NotificationRead
	var data []byte
	if err := row.Scan(&n.ID, &n.Tipo, &n.Titulo, &n.Mensaje, &n.Leida, &n.CreatedAt, &data); err != nil {
		return n, fmt.Errorf("scan notification: %w", pg.Translate(err))
	}
	n.CreatedAt = n.CreatedAt.UTC()
	n.Data = map[string]any{}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &n.Data); err != nil {
			return n, fmt.Errorf("decode notification data: %w", err)
		}
	}
	return n, nil
}

func (s *svc) unreadCount(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var n int
	if err := s.pool.QueryRow(c.UserContext(), `SELECT count(*) FROM notifications WHERE user_id = $1 AND NOT leida`, u.UserID()).Scan(&n); err != nil {
		return fmt.Errorf("count unread: %w", pg.Translate(err))
	}
	// no-leidas was read as no_leidas, no-leidas/contador as count: one answer for both.
	return c.JSON(UnreadCount{NoLeidas: n, Count: n})
}

// deleteOne deletes one of the caller's notifications. Another person's answers 404
// like a missing one: deleting is not a way to learn which ids exist.
func (s *svc) deleteOne(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(c.UserContext(), `DELETE FROM notifications WHERE id = $1 AND user_id = $2`, id, u.UserID())
	if err != nil {
		return fmt.Errorf("delete notification %s: %w", id, pg.Translate(err))
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("notification_not_found", "Notificación no encontrada")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// clearRead deletes the caller's read notifications; unread ones stay.
func (s *svc) clearRead(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(c.UserContext(), `DELETE FROM notifications WHERE user_id = $1 AND leida`, u.UserID())
	if err != nil {
		return fmt.Errorf("clear read notifications: %w", pg.Translate(err))
	}
	return c.JSON(ClearedRead{Eliminadas: tag.RowsAffected(), Mensaje: "Se eliminaron las notificaciones leídas"})
}

func pathUUID(c *fiber.Ctx, name string) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return id, apperr.Validation(apperr.FieldError{Field: name, Msg: "debe ser un UUID"})
	}
	return id, nil
}

func (s *svc) markRead(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	n, err := scanNotification(s.pool.QueryRow(ctx, `UPDATE notifications SET leida = true, read_at = COALESCE(read_at, now())
		WHERE id = $1 AND user_id = $2 RETURNING id, tipo, titulo, mensaje, leida, created_at, data`, id, u.UserID()))
	if apperr.KindOf(err) == apperr.KindNotFound {
		var exists bool
		if qerr := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM notifications WHERE id = $1)`, id).Scan(&exists); qerr != nil {
			return fmt.Errorf("check notification: %w", pg.Translate(qerr))
		}
		if exists {
			return apperr.Forbidden("not_owner", "La notificación no te pertenece")
		}
		return apperr.NotFound("notification_not_found", "Notificación no encontrada")
	}
	if err != nil {
		return err
	}
	return c.JSON(n)
}

func (s *svc) readAll(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(c.UserContext(), `UPDATE notifications SET leida = true, read_at = now() WHERE user_id = $1 AND NOT leida`, u.UserID())
	if err != nil {
		return fmt.Errorf("read all: %w", pg.Translate(err))
	}
	return c.JSON(MarkedAllRead{Marcadas: tag.RowsAffected(), NoLeidas: 0, Mensaje: "Todas las notificaciones fueron marcadas como leídas"})
}

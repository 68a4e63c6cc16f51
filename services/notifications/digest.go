package notifications

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/notifications/mailer"
)

// The summary periods of preferences.frecuencia_resumen ("nunca" sends none).
const (
	digestDaily  = 24 * time.Hour
	digestWeekly = 7 * 24 * time.Hour
)

// digestBatch is how many people one pass handles per transaction.
const digestBatch = 100

// digestItems is how many unread notifications a summary lists by title.
const digestItems = 10

// runDigests sends summary emails until ctx ends, checking every interval. A summary
// lists the notifications still unread that arrived since the previous one; nothing
// unread, no email. The email is queued in deliveries, so the sender delivers it once.
func (s *svc) runDigests(interval time.Duration) func(ctx context.Context) {
	return func(ctx context.Context) {
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			for {
				n, err := s.digestPass(ctx)
				if err != nil && ctx.Err() == nil {
					s.log.Warn("digest pass", "err", err)
				}
				if err != nil || n < digestBatch {
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
}

// digestPass handles up to digestBatch people whose period is over and reports how
// many. Rows are locked with SKIP LOCKED so several instances share the work.
func (s *svc) digestPass(ctx context.Context) (int, error) {
	now := s.now()
	handled, queued := 0, false
	err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT user_id::text, frecuencia_resumen, last_digest_at FROM preferences
			WHERE frecuencia_resumen <> 'nunca' AND (last_digest_at IS NULL
				OR last_digest_at <= CASE frecuencia_resumen WHEN 'diario' THEN $1::timestamptz ELSE $2::timestamptz END)
			ORDER BY last_digest_at NULLS FIRST, user_id LIMIT $3 FOR UPDATE SKIP LOCKED`,
			now.Add(-digestDaily), now.Add(-digestWeekly), digestBatch)
		if err != nil {
			return fmt.Errorf("due digests: %w", err)
		}
		type due struct {
			user, freq string
			since      *time.Time
		}
		var list []due
		for rows.Next() {
			var d due
			if err := rows.Scan(&d.user, &d.freq, &d.since); err != nil {
				rows.Close()
				return fmt.Errorf("scan due digest: %w", err)
			}
			list = append(list, d)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("due digests: %w", err)
		}
		for _, d := range list {
			// The first time, the period starts now: choosing a frequency must not mail
			// a summary of everything unread before.
			if d.since != nil {
				sent, err := s.queueDigest(ctx, tx, d.user, d.freq, *d.since, now)
				if err != nil {
					return err
				}
				queued = queued || sent
			}
			if _, err := tx.Exec(ctx, `UPDATE preferences SET last_digest_at = $2 WHERE user_id = $1`, d.user, now); err != nil {
				return fmt.Errorf("mark digest of %s: %w", d.user, err)
			}
		}
		handled = len(list)
		return nil
	})
	if err != nil {
		return 0, err
	}
	if queued {
		s.sender.Wake()
	}
	return handled, nil
}

// queueDigest queues userID's summary of the unread notifications created in
// (since, until], if there are any and the account is not banned.
func (s *svc) queueDigest(ctx context.Context, tx pgx.Tx, userID, freq string, since, until time.Time) (bool, error) {
	var total int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE user_id = $1 AND NOT leida AND created_at > $2 AND created_at <= $3`,
		userID, since, until).Scan(&total); err != nil {
		return false, fmt.Errorf("count digest of %s: %w", userID, err)
	}
	if total == 0 {
		return false, nil
	}
	c, known, err := s.contact(ctx, tx, userID, false)
	if err != nil {
		return false, err
	}
	if known && !c.Active {
		return false, nil
	}
	rows, err := tx.Query(ctx, `SELECT titulo, mensaje FROM notifications WHERE user_id = $1 AND NOT leida AND created_at > $2 AND created_at <= $3
		ORDER BY created_at DESC, id DESC LIMIT $4`, userID, since, until, digestItems)
	if err != nil {
		return false, fmt.Errorf("digest items of %s: %w", userID, err)
	}
	var items []string
	for rows.Next() {
		var titulo, mensaje string
		if err := rows.Scan(&titulo, &mensaje); err != nil {
			rows.Close()
			return false, fmt.Errorf("scan digest item: %w", err)
		}
		items = append(items, "• "+titulo+": "+truncate(mensaje, 120))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, fmt.Errorf("digest items of %s: %w", userID, err)
	}
	if more := total - len(items); more > 0 {
		items = append(items, fmt.Sprintf("… y %d más.", more))
	}
	titulo := fmt.Sprintf("Tu resumen %s: %d %s sin leer", freq, total, plural(total, "notificación", "notificaciones"))
	parrafos := append([]string{"Esto es lo que llegó desde tu último resumen y todavía no leíste:"}, items...)
	text, html := s.tmpl.render(emailView{Nombre: c.Nombre, Titulo: titulo, Parrafos: parrafos, Accion: "Ver en ConectarProfesionales",
		Link: s.link(""), Nota: "Podés cambiar la frecuencia del resumen o desactivarlo en tus preferencias."})
	payload, err := json.Marshal(mailer.Email{To: c.Email, ToName: joinName(c.Nombre, c.Apellido), Subject: titulo, Text: text, HTML: html})
	if err != nil {
		return false, fmt.Errorf("marshal digest: %w", err)
	}
	// One summary per person and period, whatever instance or retry builds it.
	key := fmt.Sprintf("digest:%s:%s", userID, since.UTC().Format(time.RFC3339Nano))
	if _, err := tx.Exec(ctx, `INSERT INTO deliveries (idem_key, channel, user_id, to_email, payload)
		VALUES ($1, 'email', $2, $3, $4) ON CONFLICT (idem_key) DO NOTHING`, key, userID, c.Email, payload); err != nil {
		return false, fmt.Errorf("enqueue digest of %s: %w", userID, err)
	}
	return true, nil
}

// digestInterval is how often due summaries are looked for: every 30 sender polls (a
// minute by default), so a summary leaves within a minute of its period ending.
func digestInterval(poll time.Duration) time.Duration { return 30 * poll }

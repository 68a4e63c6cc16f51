package notifications

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/services/notifications/mailer"
)

// Categories (the frontend's `tipo`) and the preference each one is governed by.
const (
	TipoOferta  = "oferta"
	TipoTrabajo = "trabajo"
	TipoPago    = "pago"
	TipoResena  = "resena"
	TipoSistema = "sistema"
	TipoMensaje = "mensaje"
)

// emailMode says whether a notice is emailed.
type emailMode int

const (
	emailNever        emailMode = iota
	emailByPreference           // per the user's email_<category> preference
	emailAlways                 // transactional: password reset, welcome
)

// notice is one thing a person should hear about, built from an event.
type notice struct {
	UserID  string
	Tipo    string // category: oferta, trabajo, pago, resena, sistema, mensaje
	Evento  string // precise kind, kept in data.evento (oferta_recibida, kyc_aprobado, …)
	Titulo  string
	Mensaje string
	Link    string // frontend path the notification leads to ("/trabajos/…")
	Data    map[string]any

	InApp bool
	Email emailMode
	Push  bool // per the user's push_<category> preference

	// EmailTo/EmailName come from the event when it carries them (reset, welcome);
	// otherwise the contacts replica resolves the address at send time.
	EmailTo   string
	EmailName string
	// Email content; when empty it is rendered from Titulo/Mensaje/Link.
	EmailSubject string
	EmailText    string
	EmailHTML    string
}

// NotificationRead is the API and realtime shape of an in-app notification.
type NotificationRead struct {
	ID        uuid.UUID      `json:"id"`
	Tipo      string         `json:"tipo"`
	Titulo    string         `json:"titulo"`
	Mensaje   string         `json:"mensaje"`
	Leida     bool           `json:"leida"`
	CreatedAt time.Time      `json:"created_at"`
	Data      map[string]any `json:"data"`
}

// MarshalJSON adds the names the web frontend reads, from the same values:
// fecha_creacion (= created_at) and metadata (= data; metadata.url is where a click
// leads). Deriving them here keeps one source for each value.
func (n NotificationRead) MarshalJSON() ([]byte, error) {
	type plain NotificationRead
	return json.Marshal(struct {
		plain
		FechaCreacion time.Time      `json:"fecha_creacion"`
		Metadata      map[string]any `json:"metadata"`
	}{plain(n), n.CreatedAt, n.Data})
}

// pushPayload is what the service worker receives (decrypted) in its push event.
type pushPayload struct {
	Title string         `json:"title"`
	Body  string         `json:"body"`
	URL   string         `json:"url,omitempty"`
	Tipo  string         `json:"tipo"`
	Data  map[string]any `json:"data,omitempty"`
}

// deliver records n inside the consumer's transaction: the in-app row, and one pending
// delivery per email or push it deserves, keyed by (consumer, event, channel, target) so
// that the same event can never enqueue the same side effect twice. The sender picks
// them up after commit.
func (s *svc) deliver(ctx context.Context, tx pgx.Tx, consumerName string, env events.Envelope, n notice) error {
	if n.UserID == "" {
		return nil
	}
	if _, err := uuid.Parse(n.UserID); err != nil {
		return nil // not a person we can address; nothing to do
	}
	prefs, err := loadPreferences(ctx, tx, n.UserID)
	if err != nil {
		return err
	}
	if n.Data == nil {
		n.Data = map[string]any{}
	}
	n.Data["evento"] = n.Evento
	if n.Link != "" {
		n.Data["url"] = n.Link
	}
	if n.InApp {
		id, err := uuid.NewV7()
		if err != nil {
			return fmt.Errorf("notification id: %w", err)
		}
		data, err := json.Marshal(n.Data)
		if err != nil {
			return fmt.Errorf("marshal notification data: %w", err)
		}
		var created time.Time
		err = tx.QueryRow(ctx, `INSERT INTO notifications (id, user_id, tipo, titulo, mensaje, data, event_id, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT ON CONSTRAINT notifications_event_user DO NOTHING RETURNING created_at`,
			id, n.UserID, n.Tipo, n.Titulo, n.Mensaje, data, env.ID, s.now()).Scan(&created)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			// Already recorded for this event: nothing new to show.
		case err != nil:
			return fmt.Errorf("insert notification for %s: %w", n.UserID, err)
		default:
			read := NotificationRead{ID: id, Tipo: n.Tipo, Titulo: n.Titulo, Mensaje: n.Mensaje, CreatedAt: created.UTC(), Data: n.Data}
			user := n.UserID
			consumer.AfterCommit(ctx, func() {
				if err := s.rt.Send(realtime.Push{Type: "notificacion", Data: read}, user); err != nil {
					s.log.Warn("realtime push failed", "user_id", user, "err", err)
				}
			})
		}
	}

	wantEmail := n.Email == emailAlways || (n.Email == emailByPreference && prefs.email(n.Tipo))
	wantPush := n.Push && prefs.push(n.Tipo)
	if !wantEmail && !wantPush {
		return nil
	}
	// Only an email needs the address, so only then is a replica miss worth a call.
	c, known, err := s.contact(ctx, tx, n.UserID, wantEmail)
	if err != nil {
		return err
	}
	if known && !c.Active {
		// A banned account keeps its in-app history but gets no email or push.
		return nil
	}
	queued := false
	if wantEmail {
		e := s.renderEmail(n, c)
		payload, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("marshal email: %w", err)
		}
		key := fmt.Sprintf("%s:%s:email:%s", consumerName, env.ID, n.UserID)
		if _, err := tx.Exec(ctx, `INSERT INTO deliveries (idem_key, channel, user_id, to_email, payload)
			VALUES ($1, 'email', $2, $3, $4) ON CONFLICT (idem_key) DO NOTHING`, key, n.UserID, e.To, payload); err != nil {
			return fmt.Errorf("enqueue email: %w", err)
		}
		queued = true
	}
	if wantPush {
		payload, err := json.Marshal(pushPayload{Title: n.Titulo, Body: n.Mensaje, URL: s.link(n.Link), Tipo: n.Tipo, Data: n.Data})
		if err != nil {
			return fmt.Errorf("marshal push: %w", err)
		}
		tag, err := tx.Exec(ctx, `INSERT INTO deliveries (idem_key, channel, user_id, subscription_id, payload)
			SELECT $1 || id::text, 'push', user_id, id, $3 FROM push_subscriptions WHERE user_id = $2 AND kind = 'webpush'
			ON CONFLICT (idem_key) DO NOTHING`, fmt.Sprintf("%s:%s:push:", consumerName, env.ID), n.UserID, payload)
		if err != nil {
			return fmt.Errorf("enqueue push: %w", err)
		}
		queued = queued || tag.RowsAffected() > 0
	}
	if queued {
		consumer.AfterCommit(ctx, s.sender.Wake)
	}
	return nil
}

// contactRow is the replica of a person we write to.
type contactRow struct {
	UserID   string
	Email    string
	Nombre   string
	Apellido string
	Rol      string
	Active   bool
}

// internalUser is users' /internal/users/{id} answer.
type internalUser struct {
	ID        string `json:"id"`
	Email     string `json:"email"`
	Nombre    string `json:"nombre"`
	Apellido  string `json:"apellido"`
	AvatarURL string `json:"avatar_url"`
	Rol       string `json:"rol"`
	IsActive  bool   `json:"is_active"`
}

// contact reads the replica; on a miss (the UserRegistered event still in flight) it
// asks users once, when fetch is set, and stores the answer. known is false when
// neither knows the user; a users outage is not an error here (the sender retries).
func (s *svc) contact(ctx context.Context, q pgxQuerier, userID string, fetch bool) (contactRow, bool, error) {
	c := contactRow{UserID: userID}
	err := q.QueryRow(ctx, `SELECT email, nombre, apellido, rol, is_active FROM contacts WHERE user_id = $1`, userID).
		Scan(&c.Email, &c.Nombre, &c.Apellido, &c.Rol, &c.Active)
	if err == nil && c.Email != "" {
		return c, true, nil
	}
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return c, false, fmt.Errorf("read contact %s: %w", userID, err)
	}
	if !fetch || s.users == nil {
		return c, err == nil, nil
	}
	var u internalUser
	if ferr := s.users(ctx, userID, &u); ferr != nil {
		s.log.Debug("contact miss not filled", "user_id", userID, "err", ferr)
		return c, err == nil, nil
	}
	c = contactRow{UserID: userID, Email: u.Email, Nombre: u.Nombre, Apellido: u.Apellido, Rol: u.Rol, Active: u.IsActive}
	if _, err := q.Exec(ctx, `INSERT INTO contacts (user_id, email, nombre, apellido, rol, is_active)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email,
			nombre = CASE WHEN contacts.nombre = '' THEN EXCLUDED.nombre ELSE contacts.nombre END,
			apellido = CASE WHEN contacts.apellido = '' THEN EXCLUDED.apellido ELSE contacts.apellido END,
			rol = EXCLUDED.rol, updated_at = now()`,
		userID, u.Email, u.Nombre, u.Apellido, u.Rol, u.IsActive); err != nil {
		return c, true, fmt.Errorf("store contact %s: %w", userID, err)
	}
	return c, true, nil
}

// renderEmail turns n into an email for c. The address stays empty when unknown; the
// sender resolves it.
func (s *svc) renderEmail(n notice, c contactRow) mailer.Email {
	e := mailer.Email{To: n.EmailTo, ToName: n.EmailName}
	if e.To == "" {
		e.To = c.Email
	}
	if e.ToName == "" {
		e.ToName = joinName(c.Nombre, c.Apellido)
	}
	nombre := c.Nombre
	if nombre == "" {
		nombre = firstWord(n.EmailName)
	}
	e.Subject, e.Text, e.HTML = n.EmailSubject, n.EmailText, n.EmailHTML
	if e.Subject == "" {
		e.Subject = n.Titulo
	}
	if e.Text == "" || e.HTML == "" {
		text, html := s.tmpl.render(emailView{Nombre: nombre, Titulo: n.Titulo, Parrafos: []string{n.Mensaje},
			Accion: "Ver en ConectarProfesionales", Link: s.link(n.Link)})
		if e.Text == "" {
			e.Text = text
		}
		if e.HTML == "" {
			e.HTML = html
		}
	}
	return e
}

// link makes a frontend path absolute.
func (s *svc) link(path string) string {
	if path == "" {
		return s.frontendURL
	}
	return s.frontendURL + path
}

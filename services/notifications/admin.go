package notifications

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/notifications/mailer"
)

// adminEmailIn is an admin's email to a person: usuario_id, email or both (the address
// wins; the account gives the greeting's name). The limits are checked after trimming
// (422 beyond them).
type adminEmailIn struct {
	UsuarioID string `json:"usuario_id" jsonschema_description:"the person's user id (a UUID); required without email"`
	Email     string `json:"email" jsonschema_description:"the address; required without usuario_id"`
	Asunto    string `json:"asunto" jsonschema:"required,maxLength=200"`
	Mensaje   string `json:"mensaje" jsonschema:"required,maxLength=10000" jsonschema_description:"plain text; a blank line separates paragraphs"`
}

func (s *svc) adminEmail(c *fiber.Ctx) error {
	var in adminEmailIn
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	in.Asunto, in.Mensaje, in.Email = strings.TrimSpace(in.Asunto), strings.TrimSpace(in.Mensaje), strings.TrimSpace(in.Email)
	var ck apperr.Checker
	ck.Len("asunto", in.Asunto, 1, 200)
	ck.Len("mensaje", in.Mensaje, 1, 10000)
	ck.Add(in.UsuarioID == "" && in.Email == "", "usuario_id", "indicá usuario_id o email")
	if in.UsuarioID != "" {
		_, err := uuid.Parse(in.UsuarioID)
		ck.Add(err != nil, "usuario_id", "debe ser un UUID")
	}
	if in.Email != "" {
		_, err := mailer.New(mailer.Config{From: mailer.DefaultFrom}).Build(mailer.Email{To: in.Email})
		ck.Add(err != nil || !strings.Contains(in.Email, "@"), "email", "no es una dirección válida")
	}
	if err := ck.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	nombre := ""
	if in.UsuarioID != "" {
		ct, known, err := s.contact(ctx, s.pool, in.UsuarioID, true)
		if err != nil {
			return err
		}
		if !known && in.Email == "" {
			return apperr.NotFound("user_not_found", "Usuario no encontrado")
		}
		nombre = ct.Nombre
	}
	text, html := s.tmpl.render(emailView{Nombre: nombre, Titulo: in.Asunto, Parrafos: strings.Split(in.Mensaje, "\n\n")})
	payload, err := json.Marshal(mailer.Email{To: in.Email, Subject: in.Asunto, Text: text, HTML: html})
	if err != nil {
		return fmt.Errorf("marshal email: %w", err)
	}
	key := "admin-email:" + uuid.NewString()
	var userID *string
	if in.UsuarioID != "" {
		userID = &in.UsuarioID
	}
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO deliveries (idem_key, channel, user_id, to_email, payload) VALUES ($1, 'email', $2, $3, $4) RETURNING id`,
		key, userID, in.Email, payload).Scan(&id); err != nil {
		return fmt.Errorf("enqueue admin email: %w", pg.Translate(err))
	}
	s.sender.Wake()
	return apperr.Accepted(EmailQueued{ID: id, Estado: "pendiente", Mensaje: "Correo en cola de envío"})
}

// adminPushIn is an admin's Web Push to every browser of a person (limits checked after
// trimming; 422 beyond them).
type adminPushIn struct {
	UsuarioID string `json:"usuario_id" jsonschema:"required,format=uuid"`
	Titulo    string `json:"titulo" jsonschema:"required,maxLength=120"`
	Mensaje   string `json:"mensaje" jsonschema:"required,maxLength=500"`
	URL       string `json:"url" jsonschema:"maxLength=500" jsonschema_description:"a path of the site, starting with /, that a click opens"`
}

func (s *svc) adminPush(c *fiber.Ctx) error {
	var in adminPushIn
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	in.Titulo, in.Mensaje = strings.TrimSpace(in.Titulo), strings.TrimSpace(in.Mensaje)
	var ck apperr.Checker
	_, uerr := uuid.Parse(in.UsuarioID)
	ck.Add(uerr != nil, "usuario_id", "debe ser un UUID")
	ck.Len("titulo", in.Titulo, 1, 120)
	ck.Len("mensaje", in.Mensaje, 1, 500)
	ck.Add(len(in.URL) > 500 || (in.URL != "" && !strings.HasPrefix(in.URL, "/")), "url", "debe ser una ruta del sitio que empiece con /")
	if err := ck.Err(); err != nil {
		return err
	}
	payload, err := json.Marshal(pushPayload{Title: in.Titulo, Body: in.Mensaje, URL: s.link(in.URL), Tipo: TipoSistema})
	if err != nil {
		return fmt.Errorf("marshal push: %w", err)
	}
	tag, err := s.pool.Exec(c.UserContext(), `INSERT INTO deliveries (idem_key, channel, user_id, subscription_id, payload)
		SELECT $1 || id::text, 'push', user_id, id, $3 FROM push_subscriptions WHERE user_id = $2 AND kind = 'webpush'`,
		"admin-push:"+uuid.NewString()+":", in.UsuarioID, payload)
	if err != nil {
		return fmt.Errorf("enqueue admin push: %w", pg.Translate(err))
	}
	s.sender.Wake()
	return apperr.Accepted(PushQueued{Suscripciones: tag.RowsAffected(), Estado: "pendiente", Mensaje: "Notificación push en cola de envío"})
}

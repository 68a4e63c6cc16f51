package notifications

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/notifications/mailer"
	"github.com/conectarpro/conectar/services/notifications/webpush"
)

func (s *svc) routes() {
	app := s.kit.App
	auth := s.kit.Auth()
	admin := authn.Require(authn.RoleAdmin)
	// The frontend calls the Spanish paths, the seed the English ones: one handler each.
	for _, base := range []string{"/api/v1/notificaciones", "/api/v1/notifications"} {
		app.Get(base, auth, s.list)
		app.Get(base+"/no-leidas", auth, s.unreadCount)
		app.Get(base+"/no-leidas/contador", auth, s.unreadCount)
		// The frontend marks read with PUT, earlier clients with POST.
		for _, m := range []string{fiber.MethodPost, fiber.MethodPut} {
			app.Add(m, base+"/leer-todas", auth, s.readAll)
			app.Add(m, base+"/:id/leer", auth, s.markRead)
		}
		for _, p := range []string{"/preferencias", "/preferences"} {
			app.Get(base+p, auth, s.getPreferences)
			app.Put(base+p, auth, s.putPreferences)
		}
		app.Post(base+"/push/subscribe", auth, s.subscribe)
		app.Delete(base+"/push/subscribe", auth, s.unsubscribe)
		app.Get(base+"/push/vapid-public-key", s.vapidKey)
		app.Post(base+"/push/registrar", auth, s.registerDevice)
		app.Post(base+"/fcm-token", auth, s.registerDevice)
		app.Post(base+"/push/desregistrar", auth, s.unsubscribe)
		app.Delete(base+"/fcm-token", auth, s.unsubscribe)
		app.Post(base+"/test", auth, s.sendTest)
		// Fixed paths before /:id, which would otherwise take them.
		app.Delete(base+"/limpiar-leidas", auth, s.clearRead)
		app.Delete(base+"/:id", auth, s.deleteOne)
	}
	app.Post("/api/v1/notifications/email", auth, admin, s.adminEmail)
	app.Post("/api/v1/notifications/push", auth, admin, s.adminPush)

	app.Get("/api/v1/gamification/user/:id", s.gamificationUser)
	app.Get("/api/v1/gamification/leaderboard", s.leaderboard)
	app.Get("/api/v1/gamification/niveles", s.levels)
	app.Get("/api/v1/gamification/medallas", s.medalCatalogue)
	app.Post("/api/v1/gamification/event", auth, s.gamificationEvent)
}

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
	return c.JSON(fiber.Map{"no_leidas": n, "count": n})
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
	return c.JSON(fiber.Map{"eliminadas": tag.RowsAffected(), "mensaje": "Se eliminaron las notificaciones leídas"})
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
	return c.JSON(fiber.Map{"marcadas": tag.RowsAffected(), "no_leidas": 0, "mensaje": "Todas las notificaciones fueron marcadas como leídas"})
}

func (s *svc) getPreferences(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	p, err := loadPreferences(c.UserContext(), s.pool, u.UserID())
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// preferencesPatch is a partial update: absent fields keep their value.
type preferencesPatch struct {
	EmailOfertas      *bool   `json:"email_ofertas"`
	EmailTrabajos     *bool   `json:"email_trabajos"`
	EmailPagos        *bool   `json:"email_pagos"`
	EmailResenas      *bool   `json:"email_resenas"`
	EmailSistema      *bool   `json:"email_sistema"`
	EmailMensajes     *bool   `json:"email_mensajes"`
	PushOfertas       *bool   `json:"push_ofertas"`
	PushTrabajos      *bool   `json:"push_trabajos"`
	PushPagos         *bool   `json:"push_pagos"`
	PushResenas       *bool   `json:"push_resenas"`
	PushSistema       *bool   `json:"push_sistema"`
	PushMensajes      *bool   `json:"push_mensajes"`
	FrecuenciaResumen *string `json:"frecuencia_resumen"`
}

func (s *svc) putPreferences(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in preferencesPatch
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if in.FrecuenciaResumen != nil {
		switch *in.FrecuenciaResumen {
		case "nunca", "diario", "semanal":
		default:
			return apperr.Validation(apperr.FieldError{Field: "frecuencia_resumen", Msg: "debe ser nunca, diario o semanal"})
		}
	}
	ctx := c.UserContext()
	var out Preferences
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the row (or the absence of it) so two concurrent partial updates merge.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('prefs:' || $1::text))`, u.UserID()); err != nil {
			return pg.Translate(err)
		}
		p, err := loadPreferences(ctx, tx, u.UserID())
		if err != nil {
			return err
		}
		set := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.EmailOfertas, in.EmailOfertas)
		set(&p.EmailTrabajos, in.EmailTrabajos)
		set(&p.EmailPagos, in.EmailPagos)
		set(&p.EmailResenas, in.EmailResenas)
		set(&p.EmailSistema, in.EmailSistema)
		set(&p.EmailMensajes, in.EmailMensajes)
		set(&p.PushOfertas, in.PushOfertas)
		set(&p.PushTrabajos, in.PushTrabajos)
		set(&p.PushPagos, in.PushPagos)
		set(&p.PushResenas, in.PushResenas)
		set(&p.PushSistema, in.PushSistema)
		set(&p.PushMensajes, in.PushMensajes)
		if in.FrecuenciaResumen != nil {
			p.FrecuenciaResumen = *in.FrecuenciaResumen
		}
		out = p
		return savePreferences(ctx, tx, u.UserID(), p)
	})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// subscriptionIn is the browser's PushSubscription.toJSON().
type subscriptionIn struct {
	Endpoint       string  `json:"endpoint"`
	ExpirationTime *int64  `json:"expirationTime"`
	Keys           subKeys `json:"keys"`
}

type subKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

func (s *svc) subscribe(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in subscriptionIn
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if bad := webpush.Validate(webpush.Subscription{Endpoint: in.Endpoint, P256dh: in.Keys.P256dh, Auth: in.Keys.Auth}); len(bad) > 0 {
		var fe []apperr.FieldError
		for _, f := range []string{"endpoint", "keys.p256dh", "keys.auth"} {
			if m, ok := bad[f]; ok {
				fe = append(fe, apperr.FieldError{Field: f, Msg: m})
			}
		}
		return apperr.Validation(fe...)
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("subscription id: %w", err)
	}
	ua := c.Get(fiber.HeaderUserAgent)
	if len(ua) > 300 {
		ua = ua[:300]
	}
	// One endpoint belongs to one browser profile; if another account subscribed it
	// before (shared device), it now belongs to whoever subscribed last.
	var outID uuid.UUID
	if err := s.pool.QueryRow(c.UserContext(), `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent)
		VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
			user_agent = EXCLUDED.user_agent
		RETURNING id`, id, u.UserID(), in.Endpoint, in.Keys.P256dh, in.Keys.Auth, ua).Scan(&outID); err != nil {
		return fmt.Errorf("store subscription: %w", pg.Translate(err))
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": outID, "endpoint": in.Endpoint, "mensaje": "Suscripción registrada"})
}

func (s *svc) unsubscribe(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	// A registration is removed by its address, however it was registered: a Web Push
	// endpoint (push/subscribe) or a device token (push/desregistrar, fcm-token).
	var in struct {
		Endpoint string `json:"endpoint"`
		Token    string `json:"token"`
		FCMToken string `json:"fcmToken"`
	}
	if err := httpx.BindOptionalJSON(c, &in); err != nil {
		return err
	}
	address := ""
	for _, v := range []string{c.Query("endpoint"), c.Query("token"), in.Endpoint, in.Token, in.FCMToken} {
		if v = strings.TrimSpace(v); v != "" {
			address = v
			break
		}
	}
	if address == "" {
		return apperr.Validation(apperr.FieldError{Field: "token", Msg: "indicá el token del dispositivo o el endpoint de la suscripción"})
	}
	tag, err := s.pool.Exec(c.UserContext(), `DELETE FROM push_subscriptions WHERE endpoint = $1 AND user_id = $2`, address, u.UserID())
	if err != nil {
		return fmt.Errorf("delete subscription: %w", pg.Translate(err))
	}
	if tag.RowsAffected() == 0 {
		return apperr.NotFound("subscription_not_found", "Suscripción no encontrada")
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *svc) vapidKey(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"public_key": s.push.PublicKey()})
}

type adminEmailIn struct {
	UsuarioID string `json:"usuario_id"`
	Email     string `json:"email"`
	Asunto    string `json:"asunto"`
	Mensaje   string `json:"mensaje"`
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
	return apperr.Accepted(fiber.Map{"id": id, "estado": "pendiente", "mensaje": "Correo en cola de envío"})
}

type adminPushIn struct {
	UsuarioID string `json:"usuario_id"`
	Titulo    string `json:"titulo"`
	Mensaje   string `json:"mensaje"`
	URL       string `json:"url"`
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
	return apperr.Accepted(fiber.Map{"suscripciones": tag.RowsAffected(), "estado": "pendiente", "mensaje": "Notificación push en cola de envío"})
}

// --- gamification ---------------------------------------------------------------

// MedalRead is a medal as the API shows it.
type MedalRead struct {
	Codigo      string     `json:"codigo"`
	Nombre      string     `json:"nombre"`
	Descripcion string     `json:"descripcion"`
	Icono       string     `json:"icono"`
	ObtenidaEn  *time.Time `json:"obtenida_en,omitempty"`
}

// GamificationRead is GET /gamification/user/{id}.
type GamificationRead struct {
	UsuarioID              string      `json:"usuario_id"`
	NivelActual            string      `json:"nivel_actual"`
	PuntosExperiencia      int         `json:"puntos_experiencia"`
	ProximoNivel           *string     `json:"proximo_nivel"`
	PuntosParaProximoNivel int         `json:"puntos_para_proximo_nivel"`
	ProgresoPorcentaje     float64     `json:"progreso_porcentaje"`
	TrabajosCompletados    int         `json:"trabajos_completados"`
	RatingPromedio         float64     `json:"rating_promedio"`
	TotalResenas           int         `json:"total_resenas"`
	ComisionActual         float64     `json:"comision_actual"` // fraction: 0.2 = 20 %
	TasaComisionBP         int         `json:"tasa_comision_bp"`
	Medallas               []MedalRead `json:"medallas"`
}

func (s *svc) gamificationUser(c *fiber.Ctx) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	p := profile{UsuarioID: id.String(), Nivel: "BRONCE"}
	err = s.pool.QueryRow(ctx, `SELECT puntos_experiencia, nivel, trabajos_completados, resenas_5_estrellas, total_resenas,
		rating_promedio::float8, kyc_verificado FROM gamification_profiles WHERE usuario_id = $1`, id).
		Scan(&p.Puntos, &p.Nivel, &p.TrabajosCompletados, &p.Resenas5, &p.TotalResenas, &p.RatingPromedio, &p.KYC)
	if errors.Is(err, pgx.ErrNoRows) {
		// No activity yet: a professional starts at BRONCE with nothing. A known
		// client has no gamification at all.
		var rol string
		if qerr := s.pool.QueryRow(ctx, `SELECT rol FROM contacts WHERE user_id = $1`, id).Scan(&rol); qerr == nil && rol != "" && rol != authn.RoleProfesional {
			return apperr.NotFound("professional_not_found", "Profesional no encontrado")
		}
	} else if err != nil {
		return fmt.Errorf("read gamification of %s: %w", id, pg.Translate(err))
	}
	out := gamificationRead(p)
	rows, err := s.pool.Query(ctx, `SELECT m.codigo, m.nombre, m.descripcion, m.icono, um.awarded_at FROM user_medals um
		JOIN medals m USING (codigo) WHERE um.usuario_id = $1 ORDER BY um.awarded_at, m.orden`, id)
	if err != nil {
		return fmt.Errorf("read medals of %s: %w", id, pg.Translate(err))
	}
	defer rows.Close()
	for rows.Next() {
		var m MedalRead
		var at time.Time
		if err := rows.Scan(&m.Codigo, &m.Nombre, &m.Descripcion, &m.Icono, &at); err != nil {
			return fmt.Errorf("scan medal: %w", err)
		}
		at = at.UTC()
		m.ObtenidaEn = &at
		out.Medallas = append(out.Medallas, m)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read medals of %s: %w", id, pg.Translate(err))
	}
	return c.JSON(out)
}

func (s *svc) leaderboard(c *fiber.Ctx) error {
	limit := 10
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			return apperr.Validation(apperr.FieldError{Field: "limit", Msg: "debe ser un entero entre 1 y 100"})
		}
		limit = n
	}
	rows, err := s.pool.Query(c.UserContext(), `SELECT g.usuario_id::text, COALESCE(NULLIF(trim(ct.nombre || ' ' || ct.apellido), ''), 'Profesional'),
			g.puntos_experiencia, g.nivel, g.rating_promedio::float8, g.trabajos_completados
		FROM gamification_profiles g LEFT JOIN contacts ct ON ct.user_id = g.usuario_id
		WHERE COALESCE(ct.is_active, true)
		ORDER BY g.puntos_experiencia DESC, g.usuario_id LIMIT $1`, limit)
	if err != nil {
		return fmt.Errorf("leaderboard: %w", pg.Translate(err))
	}
	defer rows.Close()
	type entry struct {
		Posicion            int     `json:"posicion"`
		UsuarioID           string  `json:"usuario_id"`
		Nombre              string  `json:"nombre"`
		Puntos              int     `json:"puntos"`
		Nivel               string  `json:"nivel"`
		Rating              float64 `json:"rating"`
		TrabajosCompletados int     `json:"trabajos_completados"`
	}
	out := []entry{}
	for rows.Next() {
		var e entry
		if err := rows.Scan(&e.UsuarioID, &e.Nombre, &e.Puntos, &e.Nivel, &e.Rating, &e.TrabajosCompletados); err != nil {
			return fmt.Errorf("scan leaderboard: %w", err)
		}
		e.Posicion = len(out) + 1
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("leaderboard: %w", pg.Translate(err))
	}
	return c.JSON(out)
}

func (s *svc) levels(c *fiber.Ctx) error {
	return c.JSON(levelsRead())
}

func (s *svc) medalCatalogue(c *fiber.Ctx) error {
	ms, err := loadMedals(c.UserContext(), s.pool)
	if err != nil {
		return pg.Translate(err)
	}
	out := make([]MedalRead, 0, len(ms))
	for _, m := range ms {
		out = append(out, MedalRead{Codigo: m.Codigo, Nombre: m.Nombre, Descripcion: m.Descripcion, Icono: m.Icono})
	}
	return c.JSON(out)
}

// gamificationEvent answers the frontend's POST /gamification/event, with which the
// earlier client reported its own trabajo_completado, resena_recibida or nivel_subido.
// Experience decides levels and levels decide the platform's commission, so a client
// that could record them would lower its own fees: XP comes only from the events of
// the services that witnessed the facts (a released payment, a posted review, an
// approved KYC). Nothing is recorded, for any role.
func (s *svc) gamificationEvent(c *fiber.Ctx) error {
	if _, err := authn.MustUser(c); err != nil {
		return err
	}
	return apperr.Forbidden("xp_server_side",
		"Los puntos de experiencia y los niveles los otorga el sistema: 100 por cada trabajo con el pago liberado y 50 o 10 por cada reseña de 5 o 4 estrellas. No se registran desde la app.")
}

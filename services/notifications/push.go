package notifications

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/notifications/webpush"
)

// maxDevicesPerUser bounds the device tokens one account keeps: registering one more
// forgets the least recently registered (an old phone), so the table cannot grow
// without limit from one account.
const maxDevicesPerUser = 20

// deviceToken is what FCM and APNs hand an app: base64url-ish text with ':' and no
// '/', so it can never be mistaken for a Web Push endpoint URL stored in the same column.
var deviceToken = regexp.MustCompile(`^[A-Za-z0-9_\-:.+=]+$`)

// deviceIn is a device registration in either spelling the frontend uses:
// push/registrar {token, device_type} and fcm-token {userId, fcmToken, platform}.
type deviceIn struct {
	Token      string  `json:"token" jsonschema:"maxLength=1024" jsonschema_description:"the device token (16 to 1024 characters); or fcmToken"`
	FCMToken   string  `json:"fcmToken" jsonschema:"maxLength=1024" jsonschema_description:"fcm-token's name for token; when both are sent they must be equal"`
	DeviceType string  `json:"device_type" jsonschema_description:"web, android or ios (web when absent); or platform"`
	Platform   string  `json:"platform" jsonschema_description:"fcm-token's name for device_type"`
	UserID     *string `json:"userId" jsonschema_description:"fcm-token's: when sent, must be the caller (403 otherwise)"`
}

// noFCM says, in every answer, that a registered device token is kept but not sent to.
const noFCM = "Este servidor no tiene credenciales de Firebase Cloud Messaging, así que todavía no envía notificaciones a dispositivos registrados con un token: las vas a ver en la app y, según tus preferencias, por correo. En el navegador, las notificaciones web (push/subscribe) sí se envían."

// registerDevice stores the caller's device token (kind 'fcm'), idempotently: the same
// token again refreshes the row, and a token last registered by another account (a
// shared device) now belongs to the caller.
func (s *svc) registerDevice(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in deviceIn
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	token, platform := strings.TrimSpace(in.Token), strings.TrimSpace(in.DeviceType)
	if token == "" {
		token = strings.TrimSpace(in.FCMToken)
	}
	if platform == "" {
		platform = strings.TrimSpace(in.Platform)
	}
	if platform == "" {
		platform = "web"
	}
	var ck apperr.Checker
	ck.Add(token == "", "token", "es obligatorio")
	ck.Add(token != "" && (len(token) < 16 || len(token) > 1024 || !deviceToken.MatchString(token)), "token", "no es un token de dispositivo válido")
	ck.Add(in.Token != "" && in.FCMToken != "" && strings.TrimSpace(in.Token) != strings.TrimSpace(in.FCMToken), "fcmToken", "no coincide con token")
	ck.Add(platform != "web" && platform != "android" && platform != "ios", "device_type", "debe ser web, android o ios")
	if err := ck.Err(); err != nil {
		return err
	}
	if in.UserID != nil && *in.UserID != u.UserID() {
		return apperr.Forbidden("not_owner", "Solo podés registrar dispositivos en tu propia cuenta")
	}
	id, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("device id: %w", err)
	}
	ua := c.Get(fiber.HeaderUserAgent)
	if len(ua) > 300 {
		ua = ua[:300]
	}
	ctx := c.UserContext()
	var outID uuid.UUID
	var created bool
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// The WHERE keeps a (theoretical) Web Push row with this address untouched; xmax
		// is 0 only on a row this statement inserted, which tells 201 from 200.
		err := tx.QueryRow(ctx, `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, user_agent, kind, platform)
			VALUES ($1, $2, $3, '', '', $4, 'fcm', $5)
			ON CONFLICT (endpoint) DO UPDATE SET user_id = EXCLUDED.user_id, platform = EXCLUDED.platform,
				user_agent = EXCLUDED.user_agent, updated_at = now()
			WHERE push_subscriptions.kind = 'fcm'
			RETURNING id, xmax = 0`, id, u.UserID(), token, ua, platform).Scan(&outID, &created)
		if err != nil {
			return pg.Translate(err)
		}
		_, err = tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE user_id = $1 AND kind = 'fcm' AND id NOT IN (
			SELECT id FROM push_subscriptions WHERE user_id = $1 AND kind = 'fcm' ORDER BY updated_at DESC, id DESC LIMIT $2)`,
			u.UserID(), maxDevicesPerUser)
		return pg.Translate(err)
	})
	if apperr.KindOf(err) == apperr.KindNotFound {
		return apperr.Conflict("address_in_use", "Ese token ya está registrado como suscripción web")
	}
	if err != nil {
		return fmt.Errorf("store device token: %w", err)
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(DeviceRegistered{ID: outID, Token: token, DeviceType: platform, Tipo: "fcm",
		EntregaActiva: false, Mensaje: "Dispositivo registrado. " + noFCM})
}

// subscriptionIn is the browser's PushSubscription.toJSON().
type subscriptionIn struct {
	Endpoint       string  `json:"endpoint" jsonschema:"required,maxLength=2048" jsonschema_description:"the push service's https URL"`
	ExpirationTime *int64  `json:"expirationTime"`
	Keys           subKeys `json:"keys" jsonschema:"required"`
}

type subKeys struct {
	P256dh string `json:"p256dh" jsonschema:"required" jsonschema_description:"the browser's P-256 public key, base64url"`
	Auth   string `json:"auth" jsonschema:"required" jsonschema_description:"the 16-byte auth secret, base64url"`
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
	return c.Status(fiber.StatusCreated).JSON(Subscribed{ID: outID, Endpoint: in.Endpoint, Mensaje: "Suscripción registrada"})
}

func (s *svc) unsubscribe(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	// A registration is removed by its address, however it was registered: a Web Push
	// endpoint (push/subscribe) or a device token (push/desregistrar, fcm-token).
	var in unsubscribeIn
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
	return c.JSON(VapidKey{PublicKey: s.push.PublicKey()})
}

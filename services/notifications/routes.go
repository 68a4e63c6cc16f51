package notifications

import (
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// The answers that used to be fiber.Map, named so the OpenAPI document is reflected
// from the very types the handlers encode (same JSON as the maps they replace).

// UnreadCount is the badge: no-leidas was read as no_leidas, no-leidas/contador as
// count, so one answer carries both.
type UnreadCount struct {
	NoLeidas int `json:"no_leidas"`
	Count    int `json:"count"`
}

// MarkedAllRead is the answer of marking every notification read.
type MarkedAllRead struct {
	Marcadas int64  `json:"marcadas"`
	NoLeidas int    `json:"no_leidas" jsonschema:"enum=0"`
	Mensaje  string `json:"mensaje"`
}

// ClearedRead is the answer of deleting the read notifications.
type ClearedRead struct {
	Eliminadas int64  `json:"eliminadas"`
	Mensaje    string `json:"mensaje"`
}

// EmailQueued is the admin's email, queued for the sender.
type EmailQueued struct {
	ID      int64  `json:"id"`
	Estado  string `json:"estado" jsonschema:"enum=pendiente"`
	Mensaje string `json:"mensaje"`
}

// PushQueued is the admin's Web Push, queued once per browser subscription.
type PushQueued struct {
	Suscripciones int64  `json:"suscripciones"`
	Estado        string `json:"estado" jsonschema:"enum=pendiente"`
	Mensaje       string `json:"mensaje"`
}

// DeviceRegistered is a stored device token; entrega_activa is false: nothing is sent
// to device tokens without Firebase credentials (mensaje says so).
type DeviceRegistered struct {
	ID            uuid.UUID `json:"id"`
	Token         string    `json:"token"`
	DeviceType    string    `json:"device_type" jsonschema:"enum=web,enum=android,enum=ios"`
	Tipo          string    `json:"tipo" jsonschema:"enum=fcm"`
	EntregaActiva bool      `json:"entrega_activa"`
	Mensaje       string    `json:"mensaje"`
}

// Subscribed is a stored Web Push subscription.
type Subscribed struct {
	ID       uuid.UUID `json:"id"`
	Endpoint string    `json:"endpoint"`
	Mensaje  string    `json:"mensaje"`
}

// VapidKey is the application server key a browser subscribes with.
type VapidKey struct {
	PublicKey string `json:"public_key" jsonschema_description:"base64url, uncompressed P-256 point"`
}

// LeaderboardEntry is one professional of the leaderboard.
type LeaderboardEntry struct {
	Posicion            int     `json:"posicion"`
	UsuarioID           string  `json:"usuario_id"`
	Nombre              string  `json:"nombre"`
	Puntos              int     `json:"puntos"`
	Nivel               string  `json:"nivel"`
	Rating              float64 `json:"rating"`
	TrabajosCompletados int     `json:"trabajos_completados"`
}

// JSONSchemaExtend adds what NotificationRead.MarshalJSON writes besides the struct's
// fields: fecha_creacion (= created_at) and metadata (= data).
func (NotificationRead) JSONSchemaExtend(s *jsonschema.Schema) {
	if s.Properties == nil {
		return
	}
	s.Properties.Set("fecha_creacion", &jsonschema.Schema{Type: "string", Format: "date-time", Description: "the same as created_at"})
	s.Properties.Set("metadata", &jsonschema.Schema{Type: "object", Description: "the same as data; metadata.url is the frontend route it leads to"})
	s.Required = append(s.Required, "fecha_creacion", "metadata")
}

// Request bodies and their limits.

// unsubscribeIn names the registration to remove: a Web Push endpoint or a device token
// (the query's endpoint or token may name it instead).
type unsubscribeIn struct {
	Endpoint string `json:"endpoint"`
	Token    string `json:"token"`
	FCMToken string `json:"fcmToken"`
}

// testIn is the category of a test notification (sistema when absent).
type testIn struct {
	Tipo string `json:"tipo" jsonschema_description:"mensaje, oferta, pago, resena, sistema or trabajo; sistema when absent"`
}

// Query and path parameters.

type listQuery struct {
	Skip         int    `query:"skip" jsonschema:"minimum=0,maximum=1000000000"`
	Page         int    `query:"page" jsonschema:"minimum=1" doc:"from 1; wins over skip"`
	Limit        int    `query:"limit" jsonschema:"minimum=1,maximum=100" doc:"default 20"`
	SoloNoLeidas string `query:"solo_no_leidas" jsonschema:"enum=true,enum=false,enum=1,enum=0,enum=t,enum=f,enum=TRUE,enum=FALSE,enum=True,enum=False,enum=T,enum=F" doc:"only unread ones (strconv.ParseBool's spellings)"`
	Tipo         string `query:"tipo" jsonschema:"enum=mensaje,enum=oferta,enum=pago,enum=resena,enum=sistema,enum=trabajo"`
}

type idPath struct {
	ID string `path:"id" jsonschema:"format=uuid" doc:"a notification (not a UUID is 422)"`
}

type userPath struct {
	ID string `path:"id" jsonschema:"format=uuid" doc:"the professional's user id (not a UUID is 422)"`
}

type unsubscribeQuery struct {
	Endpoint string `query:"endpoint" doc:"the Web Push endpoint to remove (or in the body)"`
	Token    string `query:"token" doc:"the device token to remove (or in the body)"`
}

type leaderboardQuery struct {
	Limit int `query:"limit" jsonschema:"minimum=1,maximum=100" doc:"default 10"`
}

// routes declares every operation of notifications once: the registry mounts it with
// the middleware chain the hand-written table had and describes it (served at
// /openapi.json, merged by the gateway).
func (s *svc) routes() error {
	reg := api.New(s.kit.App, api.Config{Service: Name,
		Title: "notifications: in-app notifications, email, Web Push, preferences, XP, levels and medals",
		Auth:  s.kit.Auth(), Internal: s.kit.Internal(), Common: api.StoreErrors()})
	admin := []string{authn.RoleAdmin}
	invalid := apperr.Validation() // a malformed path id or query value (422)
	notFound := apperr.NotFound("notification_not_found", "")
	unsubscribe := api.Op{Access: api.Authenticated, Params: unsubscribeQuery{}, Body: unsubscribeIn{}, BodyOptional: true,
		Answers: []api.Answer{{Status: fiber.StatusNoContent, Description: "removed"}},
		Errors:  []*apperr.Error{apperr.NotFound("subscription_not_found", "")}, Handler: s.unsubscribe}
	registerDevice := api.Op{Access: api.Authenticated, Body: deviceIn{},
		Description: "Stored, not delivered: sending to device tokens needs Firebase credentials this backend does not have " +
			"(entrega_activa false). The same token again refreshes it (200); userId, when sent, must be the caller.",
		Answers: []api.Answer{api.JSON(201, DeviceRegistered{}, "registered"), api.JSON(200, DeviceRegistered{}, "already registered: refreshed")},
		Errors:  []*apperr.Error{apperr.Forbidden("not_owner", ""), apperr.Conflict("address_in_use", "")}, Handler: s.registerDevice}

	// The frontend calls the Spanish paths, the seed the English ones: one handler each.
	for _, base := range []string{"/api/v1/notificaciones", "/api/v1/notifications"} {
		g := reg.Group(base, "")
		g.Add(api.Op{Method: "GET", Path: "", Access: api.Authenticated, Summary: "One's notifications, newest first",
			Description: "total counts what the filters select; no_leidas is every unread one (the badge), whatever the filters.",
			Params:      listQuery{}, Answers: []api.Answer{api.JSON(200, NotificationList{}, "one page")},
			Errors: []*apperr.Error{invalid}, Handler: s.list})
		for _, p := range []string{"/no-leidas", "/no-leidas/contador"} {
			g.Add(api.Op{Method: "GET", Path: p, Access: api.Authenticated, Summary: "How many of one's notifications are unread",
				Answers: []api.Answer{api.JSON(200, UnreadCount{}, "no_leidas and count are the same number")}, Handler: s.unreadCount})
		}
		// The frontend marks read with PUT, earlier clients with POST.
		for _, m := range []string{fiber.MethodPost, fiber.MethodPut} {
			g.Add(api.Op{Method: m, Path: "/leer-todas", Access: api.Authenticated, Summary: "Mark every notification of one's read",
				Answers: []api.Answer{api.JSON(200, MarkedAllRead{}, "")}, Handler: s.readAll})
			g.Add(api.Op{Method: m, Path: "/:id/leer", Access: api.Authenticated, Summary: "Mark one notification read",
				Params: idPath{}, Answers: []api.Answer{api.JSON(200, NotificationRead{}, "the notification, read")},
				Errors: []*apperr.Error{invalid, notFound, apperr.Forbidden("not_owner", "")}, Handler: s.markRead})
		}
		for _, p := range []string{"/preferencias", "/preferences"} {
			g.Add(api.Op{Method: "GET", Path: p, Access: api.Authenticated, Summary: "One's email and push choices per category",
				Answers: []api.Answer{api.JSON(200, Preferences{}, "the defaults when never set")}, Handler: s.getPreferences})
			g.Add(api.Op{Method: "PUT", Path: p, Access: api.Authenticated, Summary: "Change some of one's preferences",
				Description: "Absent fields are left as they are.", Body: preferencesPatch{},
				Answers: []api.Answer{api.JSON(200, Preferences{}, "the preferences as they are now")}, Handler: s.putPreferences})
		}
		g.Add(api.Op{Method: "POST", Path: "/push/subscribe", Access: api.Authenticated, Summary: "Register this browser for Web Push",
			Description: "The browser's PushSubscription.toJSON(); an endpoint another account registered before now belongs to the caller.",
			Body:        subscriptionIn{}, Answers: []api.Answer{api.JSON(201, Subscribed{}, "")}, Handler: s.subscribe})
		un := unsubscribe
		un.Method, un.Path, un.Summary = "DELETE", "/push/subscribe", "Remove a Web Push subscription (or a device token)"
		g.Add(un)
		g.Add(api.Op{Method: "GET", Path: "/push/vapid-public-key", Access: api.Public, Summary: "The VAPID key browsers subscribe with",
			Answers: []api.Answer{api.JSON(200, VapidKey{}, "")}, Handler: s.vapidKey})
		for _, p := range []string{"/push/registrar", "/fcm-token"} {
			op := registerDevice
			op.Method, op.Path, op.Summary = "POST", p, "Register a device token (stored, not delivered)"
			g.Add(op)
		}
		un = unsubscribe
		un.Method, un.Path, un.Summary = "POST", "/push/desregistrar", "Remove a device token (or a Web Push subscription)"
		g.Add(un)
		un = unsubscribe
		un.Method, un.Path, un.Summary = "DELETE", "/fcm-token", "Remove a device token (or a Web Push subscription)"
		g.Add(un)
		g.Add(api.Op{Method: "POST", Path: "/test", Access: api.Authenticated, Summary: "Send oneself a test notification",
			Description: "In-app, live over the WebSocket, and as Web Push when enabled (never email); at most 5 an hour.",
			Body:        testIn{}, BodyOptional: true, Answers: []api.Answer{api.JSON(201, NotificationRead{}, "the notification sent")},
			Errors: []*apperr.Error{apperr.New(apperr.KindRateLimited, "test_rate_limited", "")}, Handler: s.sendTest})
		// Fixed paths before /:id, which would otherwise take them.
		g.Add(api.Op{Method: "DELETE", Path: "/limpiar-leidas", Access: api.Authenticated, Summary: "Delete one's read notifications",
			Answers: []api.Answer{api.JSON(200, ClearedRead{}, "unread ones stay")}, Handler: s.clearRead})
		g.Add(api.Op{Method: "DELETE", Path: "/:id", Access: api.Authenticated, Summary: "Delete one of one's notifications",
			Description: "Another person's answers 404 like a missing one.", Params: idPath{},
			Answers: []api.Answer{{Status: fiber.StatusNoContent, Description: "deleted"}},
			Errors:  []*apperr.Error{invalid, notFound}, Handler: s.deleteOne})
	}
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/notifications/email", Roles: admin, Summary: "Email a person (by account or address)",
		Body: adminEmailIn{}, Answers: []api.Answer{api.JSON(202, EmailQueued{}, "queued for the sender")},
		Errors: []*apperr.Error{apperr.NotFound("user_not_found", "")}, Handler: s.adminEmail})
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/notifications/push", Roles: admin, Summary: "Web Push to every browser of a person",
		Body: adminPushIn{}, Answers: []api.Answer{api.JSON(202, PushQueued{}, "queued, one per subscription")}, Handler: s.adminPush})

	gm := reg.Group("/api/v1/gamification", "")
	gm.Add(api.Op{Method: "GET", Path: "/user/:id", Access: api.Public, Summary: "A professional's level, experience and medals",
		Description: "A professional without activity yet is BRONCE with nothing; a known client is 404.",
		Params:      userPath{}, Answers: []api.Answer{api.JSON(200, GamificationRead{}, "")},
		Errors: []*apperr.Error{invalid, apperr.NotFound("professional_not_found", "")}, Handler: s.gamificationUser})
	gm.Add(api.Op{Method: "GET", Path: "/leaderboard", Access: api.Public, Summary: "The professionals with the most experience",
		Params: leaderboardQuery{}, Answers: []api.Answer{api.JSON(200, []LeaderboardEntry{}, "")},
		Errors: []*apperr.Error{invalid}, Handler: s.leaderboard})
	gm.Add(api.Op{Method: "GET", Path: "/niveles", Access: api.Public, Summary: "The levels, their thresholds and commissions",
		Answers: []api.Answer{api.JSON(200, []levelRead{}, "lowest first")}, Handler: s.levels})
	gm.Add(api.Op{Method: "GET", Path: "/medallas", Access: api.Public, Summary: "Every medal there is",
		Answers: []api.Answer{api.JSON(200, []MedalRead{}, "")}, Handler: s.medalCatalogue})
	gm.Add(api.Op{Method: "POST", Path: "/event", Access: api.Authenticated, Summary: "Refused: experience is granted by the server only",
		Description: "Experience and levels lower a professional's commission, so they come only from facts the server " +
			"witnessed (a released payment, a review). Always 403 xp_server_side; nothing is recorded.",
		Errors: []*apperr.Error{apperr.Forbidden("xp_server_side", "")}, Handler: s.gamificationEvent})
	return reg.Serve("/openapi.json")
}

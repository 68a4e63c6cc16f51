package notifications

import (
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
)

// testsPerHour bounds POST /notificaciones/test per person. The endpoint is harmless
// (it only ever writes to the caller) and useful outside development too (checking that
// notifications reach a newly subscribed browser), so it is open to everyone, but a loop
// must not be able to bury the person's real notifications or hammer push services.
const testsPerHour = 5

// eventoPrueba marks test notifications in data.evento.
const eventoPrueba = "prueba"

// sendTest sends the caller a notification of the category they name: in-app, live
// over the WebSocket, and as Web Push when their preferences allow (never email).
func (s *svc) sendTest(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in testIn
	if err := httpx.BindOptionalJSON(c, &in); err != nil {
		return err
	}
	tipo := strings.TrimSpace(in.Tipo)
	if tipo == "" {
		tipo = TipoSistema
	}
	if err := checkTipo("tipo", tipo); err != nil {
		return err
	}
	// deliver keys the row and its deliveries by a cause id; here the cause is this
	// request, so it gets a fresh one.
	causeID, err := uuid.NewV7()
	if err != nil {
		return fmt.Errorf("test notification id: %w", err)
	}
	ctx, runAfter := consumer.WithAfterCommit(c.UserContext())
	var out NotificationRead
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Serialize one person's test requests so the count below is exact.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('test-notification:' || $1::text))`, u.UserID()); err != nil {
			return pg.Translate(err)
		}
		now := s.now()
		if _, err := tx.Exec(ctx, `DELETE FROM test_sends WHERE user_id = $1 AND sent_at <= $2`, u.UserID(), now.Add(-time.Hour)); err != nil {
			return pg.Translate(err)
		}
		var recent int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM test_sends WHERE user_id = $1`, u.UserID()).Scan(&recent); err != nil {
			return pg.Translate(err)
		}
		if recent >= testsPerHour {
			return apperr.New(apperr.KindRateLimited, "test_rate_limited",
				fmt.Sprintf("Ya enviaste %d notificaciones de prueba en la última hora; probá de nuevo más tarde", testsPerHour))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO test_sends (user_id, sent_at) VALUES ($1, $2)`, u.UserID(), now); err != nil {
			return pg.Translate(err)
		}
		if err := s.deliver(ctx, tx, "notifications-test", events.Envelope{ID: causeID}, notice{UserID: u.UserID(), Tipo: tipo,
			Evento: eventoPrueba, Titulo: "Notificación de prueba",
			Mensaje: fmt.Sprintf("Esta es una notificación de prueba de tipo «%s». Si la ves, las notificaciones funcionan.", tipo),
			InApp:   true, Push: true}); err != nil {
			return err
		}
		var err error
		out, err = scanNotification(tx.QueryRow(ctx, `SELECT id, tipo, titulo, mensaje, leida, created_at, data FROM notifications
			WHERE event_id = $1 AND user_id = $2`, causeID, u.UserID()))
		return err
	})
	if err != nil {
		return err
	}
	runAfter()
	return c.Status(fiber.StatusCreated).JSON(out)
}

package marketplace

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Offer history: every change of an offer appends one row to oferta_eventos in the
// transaction that makes it, so GET …/ofertas/{id}/timeline tells what happened, not what
// the current row suggests.

// OfferTimeline is the answer of GET …/ofertas/{id}/timeline.
type OfferTimeline struct {
	OfertaID     string       `json:"oferta_id"`
	EstadoActual string       `json:"estado_actual" jsonschema:"enum=OFERTADO,enum=ACEPTADO,enum=RECHAZADO,enum=EXPIRADO,enum=RETIRADO"`
	Timeline     []OfferEvent `json:"timeline"`
}

// OfferEvent is one step of an offer's history.
type OfferEvent struct {
	Evento      string    `json:"evento"`
	Fecha       time.Time `json:"fecha"`
	Estado      string    `json:"estado" jsonschema:"enum=OFERTADO,enum=ACEPTADO,enum=RECHAZADO,enum=EXPIRADO,enum=RETIRADO"`
	Descripcion string    `json:"descripcion"`
	UsuarioID   *string   `json:"usuario_id"`
}

// Offer history events.
const (
	eventoCreada      = "CREADA"
	eventoActualizada = "ACTUALIZADA"
)

// eventoFor names the step that moves an offer to estado.
func eventoFor(estado string) string {
	switch estado {
	case domain.OfertaAceptado:
		return "ACEPTADA"
	case domain.OfertaRechazado:
		return "RECHAZADA"
	case domain.OfertaExpirado:
		return "EXPIRADA"
	case domain.OfertaRetirado:
		return "RETIRADA"
	case domain.OfertaOfertado:
		return "REABIERTA" // the checkout failed: the accept was undone
	}
	return estado
}

// recordOffer appends one step to offer id's history; by is "" for system steps.
func (m *Market) recordOffer(ctx context.Context, tx pgx.Tx, id, evento, estado, by, detalle string) error {
	_, err := tx.Exec(ctx, `INSERT INTO oferta_eventos (oferta_id, evento, estado, usuario_id, detalle, fecha) VALUES ($1,$2,$3,$4,$5,$6)`,
		id, evento, estado, sp(by), detalle, m.now().UTC())
	return wrapf(err, "record offer "+id+" "+evento)
}

// offerTimeline serves GET /ofertas/{id}/timeline (and the /chat_ofertas alias): the
// parties and admins see it, oldest step first.
func (m *Market) offerTimeline(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "oferta")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	o, err := m.getOffer(ctx, m.pool, id, false)
	if err != nil {
		return err
	}
	if a.ID != o.ClienteID && a.ID != o.ProfesionalID && a.Rol != authn.RoleAdmin {
		return apperr.Forbidden("oferta_ajena", "Esta oferta no te pertenece")
	}
	rows, err := m.pool.Query(ctx, `SELECT evento, fecha, estado, detalle, usuario_id::text FROM oferta_eventos WHERE oferta_id = $1 ORDER BY id`, id)
	if err != nil {
		return wrapf(err, "offer timeline "+id)
	}
	defer rows.Close()
	out := OfferTimeline{OfertaID: o.ID, EstadoActual: o.Estado, Timeline: []OfferEvent{}}
	for rows.Next() {
		var e OfferEvent
		if err := rows.Scan(&e.Evento, &e.Fecha, &e.Estado, &e.Descripcion, &e.UsuarioID); err != nil {
			return wrapf(err, "offer timeline "+id)
		}
		e.Fecha = e.Fecha.UTC()
		out.Timeline = append(out.Timeline, e)
	}
	if err := rows.Err(); err != nil {
		return wrapf(err, "offer timeline "+id)
	}
	return m.answer(c, fiber.StatusOK, out)
}

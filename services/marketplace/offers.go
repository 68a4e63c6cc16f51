package marketplace

import (
	"context"
	"fmt"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

type createOfferReq struct {
	ClienteID   string         `json:"cliente_id"`
	ChatID      string         `json:"chat_id"`
	Descripcion string         `json:"descripcion"`
	PrecioFinal money.Centavos `json:"precio_final"`
}

// createOffer serves POST /ofertas, /professional/ofertas and /chat_ofertas/ofertas.
// cliente_id may be left empty (the web's chat page sends ""): the chat names the client.
func (m *Market) createOffer(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	if a.Rol != authn.RoleProfesional {
		return apperr.Forbidden("solo_profesional", "Solo los profesionales pueden enviar ofertas")
	}
	var req createOfferReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Add(req.ChatID == "", "chat_id", "es obligatorio")
	if err := ck.Err(); err != nil {
		return err
	}
	cli := ""
	if req.ClienteID != "" {
		if cli, err = parseUUID("cliente_id", req.ClienteID); err != nil {
			return err
		}
	}
	chatID, err := parseUUID("chat_id", req.ChatID)
	if err != nil {
		return err
	}
	if err := domain.ValidateOffer(req.Descripcion, req.PrecioFinal); err != nil {
		return err
	}
	if cli == a.ID {
		return apperr.Invalid("oferta_a_si_mismo", "No podés enviarte una oferta a vos mismo")
	}
	ctx := c.UserContext()
	// No profile yet counts as not verified.
	pro, err := m.professionalWhere(ctx, a.ID, kycApproved)
	if err != nil && apperr.KindOf(err) != apperr.KindNotFound {
		return err
	}
	if err != nil || !kycApproved(pro) {
		return apperr.Forbidden("kyc_no_aprobado", "Tu perfil profesional debe estar verificado (KYC aprobado) para enviar ofertas")
	}
	cv, err := m.participantConv(ctx, chatID, a.ID)
	if err != nil {
		return err
	}
	if cv.ProfesionalID != a.ID {
		return apperr.Invalid("chat_no_corresponde", "En esta conversación no participás como profesional: solo el profesional envía ofertas")
	}
	if cli != "" && cv.ClienteID != cli {
		return apperr.Invalid("chat_no_corresponde", "La conversación no es entre vos y ese cliente")
	}
	var o Oferta
	err = m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		o, err = m.insertOffer(ctx, tx, cv, req.Descripcion, req.PrecioFinal, "")
		return err
	})
	if err != nil {
		return err
	}
	return m.answer(c, fiber.StatusCreated, o)
}

// insertOffer stores an open offer, its chat message and OfferCreated.
func (m *Market) insertOffer(ctx context.Context, tx pgx.Tx, cv conv, descripcion string, precio money.Centavos, servicioID string) (Oferta, error) {
	id := newID()
	now := m.now().UTC()
	var expires *time.Time
	if m.cfg.OfferTTL > 0 {
		e := now.Add(m.cfg.OfferTTL)
		expires = &e
	}
	o, err := scanOferta(tx.QueryRow(ctx, `INSERT INTO ofertas (id, profesional_id, cliente_id, chat_id, servicio_id, descripcion, precio_centavos, expires_at, fecha_creacion, fecha_actualizacion)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9) RETURNING `+ofertaCols,
		id, cv.ProfesionalID, cv.ClienteID, cv.ID, sp(servicioID), descripcion, int64(precio), expires, now))
	if err != nil {
		return o, fmt.Errorf("insert offer: %w", err)
	}
	if err := m.recordOffer(ctx, tx, o.ID, eventoCreada, o.Estado, o.ProfesionalID, "El profesional envió la oferta"); err != nil {
		return o, err
	}
	if _, err := m.storeMessage(ctx, tx, newMessage{chat: cv, senderID: cv.ProfesionalID, recipientID: cv.ClienteID, tipo: "oferta",
		text: o.Descripcion, ofertaID: o.ID, oferta: &o}); err != nil {
		return o, err
	}
	exp := ""
	if expires != nil {
		exp = expires.Format(time.RFC3339)
	}
	if err := m.emit(ctx, tx, o.ID, events.OfferCreatedV1{OfertaID: o.ID, ChatID: cv.ID, ClienteID: cv.ClienteID, ProfesionalID: cv.ProfesionalID,
		Descripcion: o.Descripcion, PrecioCentavos: int64(precio), ExpiresAt: exp}, events.Meta{}); err != nil {
		return o, err
	}
	m.push(ctx, "oferta", o, o.ClienteID, o.ProfesionalID)
	return o, nil
}

// listOffersHandler serves GET /ofertas (mine, either side), /cliente/ofertas,
// /professional/ofertas and /chat_ofertas/ofertas.
func (m *Market) listOffersHandler(side string) fiber.Handler {
	return func(c *fiber.Ctx) error {
		where, args, p, err := listScope(c, side)
		if err != nil {
			return err
		}
		if e := c.Query("estado"); e != "" {
			args = append(args, viewOf(c).offerEstadoFilter(e))
			where += fmt.Sprintf(" AND estado = ANY($%d::text[])", len(args))
		}
		out, err := m.listOffers(c.UserContext(), where, args, p.Skip, p.Limit)
		if err != nil {
			return err
		}
		return m.answer(c, fiber.StatusOK, out)
	}
}

// listChatOffers serves GET /ofertas/chat/{id} and /chat_ofertas/ofertas/chat/{id}: the
// offers of one conversation, for its participants (an empty list when there are none).
func (m *Market) listChatOffers(c *fiber.Ctx) error {
	a, chatID, err := actorAndID(c, "chat")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, err := m.participantConv(ctx, chatID, a.ID); err != nil {
		return err
	}
	p, err := httpx.Paging(c, 50)
	if err != nil {
		return err
	}
	out, err := m.listOffers(ctx, "chat_id = $1", []any{chatID}, p.Skip, p.Limit)
	if err != nil {
		return err
	}
	return m.answer(c, fiber.StatusOK, out)
}

// getOfferHandler serves GET /cliente/ofertas/{id} and /ofertas/{id}.
func (m *Market) getOfferHandler(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "oferta")
	if err != nil {
		return err
	}
	o, err := m.getOffer(c.UserContext(), m.pool, id, false)
	if err != nil {
		return err
	}
	if a.ID != o.ClienteID && a.ID != o.ProfesionalID && a.Rol != authn.RoleAdmin {
		return apperr.Forbidden("oferta_ajena", "Esta oferta no te pertenece")
	}
	return m.answer(c, fiber.StatusOK, o)
}

type updateOfferReq struct {
	Descripcion *string         `json:"descripcion"`
	PrecioFinal *money.Centavos `json:"precio_final"`
}

// updateOffer serves PUT /ofertas/{id} (and the /chat_ofertas alias): the professional
// changes the description and/or the price of an offer the client has not answered.
// The expiry stays: editing does not buy an offer more time. The chat gets a note, the
// offer's message shows the new values, and OfferUpdated tells the others.
func (m *Market) updateOffer(c *fiber.Ctx) error {
	a, id, err := actorAndID(c, "oferta")
	if err != nil {
		return err
	}
	var req updateOfferReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	if req.Descripcion == nil && req.PrecioFinal == nil {
		return &apperr.Error{Kind: apperr.KindValidation, Code: "validation_error",
			Msg:    "Indicá la nueva descripción o el nuevo precio de la oferta",
			Fields: []apperr.FieldError{{Field: "descripcion", Msg: "indicá descripcion o precio_final"}}}
	}
	var o Oferta
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if o, err = m.getOffer(ctx, tx, id, true); err != nil {
			return err
		}
		if err := domain.CanEdit(o.rules(), a.ID, m.now()); err != nil {
			return err
		}
		desc, precio := o.Descripcion, o.PrecioFinal
		if req.Descripcion != nil {
			desc = *req.Descripcion
		}
		if req.PrecioFinal != nil {
			precio = *req.PrecioFinal
		}
		if err := domain.ValidateOffer(desc, precio); err != nil {
			return err
		}
		if desc == o.Descripcion && precio == o.PrecioFinal {
			return nil // nothing changes: no note, no event
		}
		before := o.PrecioFinal
		o, err = scanOferta(tx.QueryRow(ctx, `UPDATE ofertas SET descripcion = $2, precio_centavos = $3, fecha_actualizacion = $4 WHERE id = $1 RETURNING `+ofertaCols,
			o.ID, desc, int64(precio), m.now().UTC()))
		if err != nil {
			return fmt.Errorf("update offer %s: %w", id, err)
		}
		note := fmt.Sprintf("✏️ El profesional modificó la oferta: $%s", o.PrecioFinal)
		if before != o.PrecioFinal {
			note = fmt.Sprintf("✏️ El profesional modificó la oferta: $%s (antes $%s)", o.PrecioFinal, before)
		}
		if err := m.recordOffer(ctx, tx, o.ID, eventoActualizada, o.Estado, a.ID, note); err != nil {
			return err
		}
		if err := m.info(ctx, tx, &o.ChatID, note); err != nil {
			return err
		}
		m.push(ctx, "oferta", o, o.ClienteID, o.ProfesionalID)
		return m.emit(ctx, tx, o.ID, events.OfferUpdatedV1{OfertaID: o.ID, ChatID: o.ChatID, ClienteID: o.ClienteID, ProfesionalID: o.ProfesionalID,
			Descripcion: o.Descripcion, PrecioCentavos: int64(o.PrecioFinal), PrecioAnteriorCentavos: int64(before)}, events.Meta{})
	})
	if err != nil {
		return err
	}
	return m.answer(c, fiber.StatusOK, o)
}

// rejectOffer serves POST /cliente/ofertas/{id}/reject and /ofertas/{id}/reject.
func (m *Market) rejectOffer(c *fiber.Ctx) error {
	return m.closeOfferAs(c, func(o Oferta, actorID string) error { return domain.CanAnswer(o.rules(), actorID, "rechazar", m.now()) },
		domain.OfertaRechazado, "❌ La oferta fue rechazada", func(o Oferta) events.Event {
			return events.OfferRejectedV1{OfertaID: o.ID, ChatID: o.ChatID, ClienteID: o.ClienteID, ProfesionalID: o.ProfesionalID}
		})
}

// withdrawOffer serves POST /ofertas/{id}/retirar (and aliases): the professional takes
// an open offer back.
func (m *Market) withdrawOffer(c *fiber.Ctx) error {
	return m.closeOfferAs(c, func(o Oferta, actorID string) error { return domain.CanWithdraw(o.rules(), actorID) },
		domain.OfertaRetirado, "↩️ El profesional retiró la oferta", func(o Oferta) events.Event {
			return events.OfferWithdrawnV1{OfertaID: o.ID, ClienteID: o.ClienteID, ProfesionalID: o.ProfesionalID}
		})
}

// closeOfferAs serves the caller's move that closes the offer in the path: under the
// row lock, allowed says whether the caller may make it, then closeOffer. It answers
// the offer as it ends up.
func (m *Market) closeOfferAs(c *fiber.Ctx, allowed func(o Oferta, actorID string) error, estado, note string, ev func(Oferta) events.Event) error {
	a, id, err := actorAndID(c, "oferta")
	if err != nil {
		return err
	}
	var o Oferta
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if o, err = m.getOffer(ctx, tx, id, true); err != nil {
			return err
		}
		if err := allowed(o, a.ID); err != nil {
			return err
		}
		o, err = m.closeOffer(ctx, tx, o.ID, estado, a.ID, note, ev)
		return err
	})
	if err != nil {
		return err
	}
	return m.answer(c, fiber.StatusOK, o)
}

// closeOffer moves offer id to a final estado (by the user by, "" for the system), posts
// note in its chat and emits ev(o).
func (m *Market) closeOffer(ctx context.Context, tx pgx.Tx, id, estado, by, note string, ev func(Oferta) events.Event) (Oferta, error) {
	o, err := m.setOfferState(ctx, tx, id, estado, by, note)
	if err != nil {
		return o, err
	}
	if err := m.info(ctx, tx, &o.ChatID, note); err != nil {
		return o, err
	}
	return o, m.emit(ctx, tx, o.ID, ev(o), events.Meta{})
}

// setOfferState moves offer id to estado and records the step in its history (by is
// the acting user, "" for the system; detalle says what happened).
func (m *Market) setOfferState(ctx context.Context, tx pgx.Tx, id, estado, by, detalle string) (Oferta, error) {
	o, err := scanOferta(tx.QueryRow(ctx, `UPDATE ofertas SET estado = $2, fecha_actualizacion = $3 WHERE id = $1 RETURNING `+ofertaCols, id, estado, m.now().UTC()))
	if err != nil {
		return o, fmt.Errorf("set offer %s %s: %w", id, estado, err)
	}
	if err := m.recordOffer(ctx, tx, id, eventoFor(estado), estado, by, detalle); err != nil {
		return o, err
	}
	m.push(ctx, "oferta", o, o.ClienteID, o.ProfesionalID)
	return o, nil
}

// expireOffers moves open offers past their expiry to EXPIRADO (the states it leaves
// are the lifecycle table's row). Several replicas may run it: SKIP LOCKED splits the
// work, and an offer another replica expired meanwhile no longer matches.
func (m *Market) expireOffers(ctx context.Context) error {
	move := domain.TimedMove(domain.OfferMachine(), domain.OfertaExpirar)
	return m.inBatches(ctx, 100, func(ctx context.Context, tx pgx.Tx) (int, error) {
		rows, err := tx.Query(ctx, `SELECT id::text FROM ofertas WHERE estado IN (`+sqlList(move.From)+`) AND expires_at <= $1
			ORDER BY expires_at LIMIT 100 FOR UPDATE SKIP LOCKED`, m.now())
		if err != nil {
			return 0, err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return 0, err
		}
		for _, id := range ids {
			if _, err := m.closeOffer(ctx, tx, id, move.To, "", "⌛ La oferta expiró", func(o Oferta) events.Event {
				return events.OfferExpiredV1{OfertaID: o.ID, ClienteID: o.ClienteID, ProfesionalID: o.ProfesionalID}
			}); err != nil {
				return 0, err
			}
		}
		return len(ids), nil
	})
}

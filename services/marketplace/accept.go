package marketplace

import (
	"context"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// AcceptResponse is OfertaAcceptResponse.
type AcceptResponse struct {
	Oferta              Oferta  `json:"oferta"`
	TrabajoID           string  `json:"trabajo_id"`
	PaymentPreferenceID *string `json:"payment_preference_id"`
	PaymentURL          *string `json:"payment_url"`
	Mensaje             string  `json:"mensaje"`
}

// acceptLocked accepts a locked, open offer: ACEPTADO, the job in PENDIENTE_PAGO and
// OfferAccepted (with everything payments needs for the checkout) in the caller's tx.
func (m *Market) acceptLocked(ctx context.Context, tx pgx.Tx, o Oferta, clienteEmail string) (Oferta, string, error) {
	o, err := m.setOfferState(ctx, tx, o.ID, domain.OfertaAceptado, o.ClienteID, "El cliente aceptó la oferta; trabajo creado, pendiente de pago")
	if err != nil {
		return o, "", err
	}
	jobID := newID()
	now := m.now().UTC()
	_, err = tx.Exec(ctx, `INSERT INTO trabajos (id, cliente_id, profesional_id, oferta_id, servicio_id, chat_id, descripcion, precio_centavos, fecha_creacion, fecha_actualizacion)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$9)`, jobID, o.ClienteID, o.ProfesionalID, o.ID, o.ServicioID, o.ChatID, o.Descripcion, int64(o.PrecioFinal), now)
	if err != nil {
		return o, "", fmt.Errorf("create job for offer %s: %w", o.ID, err)
	}
	to := domain.EstadoPendientePago
	if err := timeline(ctx, tx, jobID, "ESTADO_CAMBIO", "Oferta aceptada: trabajo creado, pendiente de pago", nil, &to, &o.ClienteID); err != nil {
		return o, "", err
	}
	if err := m.info(ctx, tx, &o.ChatID, fmt.Sprintf("✅ Oferta aceptada: $%s. Procesando pago...", o.PrecioFinal)); err != nil {
		return o, "", err
	}
	servicio := ""
	if o.ServicioID != nil {
		servicio = *o.ServicioID
	}
	if err := m.emit(ctx, tx, jobID, events.OfferAcceptedV1{OfertaID: o.ID, TrabajoID: jobID, ChatID: o.ChatID, ClienteID: o.ClienteID,
		ClienteEmail: clienteEmail, ProfesionalID: o.ProfesionalID, ServicioID: servicio, Descripcion: o.Descripcion,
		PrecioCentavos: int64(o.PrecioFinal)}, events.Meta{}); err != nil {
		return o, "", err
	}
	if err := m.pushJob(ctx, tx, jobID); err != nil {
		return o, "", err
	}
	return o, jobID, nil
}

// pushJob sends the job's current row to both parties after commit.
func (m *Market) pushJob(ctx context.Context, tx pgx.Tx, id string) error {
	_, err := m.readAndPushJob(ctx, tx, id)
	return err
}

// readAndPushJob reads the job's current row in tx, returns it and sends it to both
// parties after commit (handlers answer with the same row they push).
func (m *Market) readAndPushJob(ctx context.Context, tx pgx.Tx, id string) (Trabajo, error) {
	t, err := m.getJob(ctx, tx, id)
	if err != nil {
		return t, err
	}
	m.push(ctx, "trabajo", t, t.ClienteID, t.ProfesionalID)
	return t, nil
}

// clientEmail is the email payments puts on the checkout: the token's, else the replica's.
func (m *Market) clientEmail(ctx context.Context, cl authn.Claims) (string, error) {
	if cl.Email != "" {
		return cl.Email, nil
	}
	u, err := m.user(ctx, cl.UserID())
	if err != nil {
		return "", err
	}
	return u.Email, nil
}

// acceptOffer serves POST /cliente/ofertas/{id}/accept and PUT /ofertas/{id}/accept.
func (m *Market) acceptOffer(c *fiber.Ctx) error {
	a, cl, err := actorOf(c)
	if err != nil {
		return err
	}
	id, err := pathID(c, "id", "oferta")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	email, err := m.clientEmail(ctx, cl)
	if err != nil {
		return err
	}
	var o Oferta
	var jobID string
	err = m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		// The row lock serializes concurrent accepts: the loser sees ACEPTADO (400).
		if o, err = m.getOffer(ctx, tx, id, true); err != nil {
			return err
		}
		if err := domain.CanAnswer(o.rules(), a.ID, "aceptar", m.now()); err != nil {
			return err
		}
		o, jobID, err = m.acceptLocked(ctx, tx, o, email)
		return err
	})
	if err != nil {
		return err
	}
	return m.answerCheckout(c, o, jobID)
}

// answerCheckout is the synchronous face of the checkout saga: wait for payments'
// reply, then answer 200 with the link, 502 after compensation, or 202 on timeout.
func (m *Market) answerCheckout(c *fiber.Ctx, o Oferta, jobID string) error {
	t, done, err := m.awaitJob(c.UserContext(), jobID, func(t Trabajo) bool { return t.checkoutEstado != domain.CheckoutPendiente })
	if err != nil {
		return err
	}
	if fresh, err := m.getOffer(c.UserContext(), m.pool, o.ID, false); err == nil {
		o = fresh
	}
	resp := AcceptResponse{Oferta: o, TrabajoID: jobID, PaymentPreferenceID: t.PaymentPreferenceID, PaymentURL: t.PaymentURL}
	switch {
	case !done:
		resp.Mensaje = "Oferta aceptada. Estamos generando el link de pago; te avisaremos cuando esté listo."
		return m.answer(c, fiber.StatusAccepted, resp)
	case t.checkoutEstado == domain.CheckoutFallido:
		motivo := "el proveedor de pagos no respondió"
		if t.checkoutError != nil && strings.TrimSpace(*t.checkoutError) != "" {
			motivo = *t.checkoutError
		}
		return &apperr.Error{Kind: apperr.KindBadGateway, Code: "checkout_fallido",
			Msg: "Error generando link de pago: " + motivo + ". La aceptación se deshizo y la oferta sigue disponible."}
	}
	resp.Mensaje = "Oferta aceptada. Procede al pago para confirmar el trabajo."
	return m.answer(c, fiber.StatusOK, resp)
}

// hireService serves POST /cliente/servicios/{id}/contratar: a fixed-price hire is an
// offer at the service's price, accepted at once, through the same saga.
func (m *Market) hireService(c *fiber.Ctx) error {
	a, cl, err := actorOf(c)
	if err != nil {
		return err
	}
	if a.Rol != authn.RoleCliente {
		return apperr.Forbidden("solo_cliente", "Solo los clientes pueden contratar servicios")
	}
	id, err := pathID(c, "id", "servicio")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	sv, err := m.servicio(ctx, id)
	if err != nil {
		return err
	}
	if sv.ProfesionalUsuarioID == a.ID {
		return apperr.Invalid("contratar_propio", "No podés contratar tu propio servicio")
	}
	pro, err := m.professionalWhere(ctx, sv.ProfesionalUsuarioID, kycApproved)
	if err != nil {
		return err
	}
	if !kycApproved(pro) {
		return apperr.Invalid("profesional_no_verificado", "El profesional todavía no está verificado")
	}
	email, err := m.clientEmail(ctx, cl)
	if err != nil {
		return err
	}
	desc := sv.Nombre
	if sv.Descripcion != "" {
		desc += " — " + sv.Descripcion
	}
	for len([]rune(desc)) < 10 {
		desc += "."
	}
	var o Oferta
	var jobID string
	err = m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		cv, _, err := m.ensureConv(ctx, tx, a.ID, sv.ProfesionalUsuarioID)
		if err != nil {
			return err
		}
		if o, err = m.insertOffer(ctx, tx, cv, desc, sv.Precio, sv.ID); err != nil {
			return err
		}
		o, jobID, err = m.acceptLocked(ctx, tx, o, email)
		return err
	})
	if err != nil {
		return err
	}
	return m.answerCheckout(c, o, jobID)
}

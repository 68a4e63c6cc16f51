package marketplace

import (
	"context"
	"math"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Presentation is the one place where an answer's shape depends on the path that asked.
// One handler serves our own paths, the earlier monolith's and the web frontend's
// /chat_ofertas prefix; the route marks its view (withView) and the handler hands its
// result to answer, which applies that view. The stored data and the rules never differ
// per path: only vocabularies and wrapping do.

// view names a client contract.
type view int

const (
	// viewAPI is our own contract: the stored vocabularies, wrapped action answers.
	viewAPI view = iota
	// viewWeb is the web frontend's /chat_ofertas/*: only the offer and work states its
	// pages know (they crash on others), and the bare job from every job action.
	viewWeb
	// viewAdmin is GET /admin/trabajos: estado in escrow words, the work state aside.
	viewAdmin
	// viewTransaction is the web frontend's /pagos/transacciones/{id}/liberar and
	// …/reembolso: a job action answered as the payment card's Transaction (transaction.go).
	viewTransaction
)

const viewKey = "marketplace.view"

// withView marks the routes below it as speaking v.
func withView(v view) fiber.Handler {
	return func(c *fiber.Ctx) error {
		c.Locals(viewKey, v)
		return c.Next()
	}
}

func viewOf(c *fiber.Ctx) view {
	v, _ := c.Locals(viewKey).(view)
	return v
}

// answer renders body for the path's view with status (202 goes through the error
// handler's Accepted form, as elsewhere).
func (m *Market) answer(c *fiber.Ctx, status int, body any) error {
	var out any
	var err error
	if v := viewOf(c); v == viewTransaction {
		out, err = m.presentTransaction(c, body)
	} else {
		out, err = m.present(c.UserContext(), v, body)
	}
	if err != nil {
		return err
	}
	if status == fiber.StatusAccepted {
		return apperr.Accepted(out)
	}
	return c.Status(status).JSON(out)
}

// present applies view v to an answer body.
func (m *Market) present(ctx context.Context, v view, body any) (any, error) {
	switch b := body.(type) {
	case Oferta:
		list, err := m.offersView(ctx, v, []Oferta{b})
		return list[0], err
	case []Oferta:
		return m.offersView(ctx, v, b)
	case AcceptResponse:
		list, err := m.offersView(ctx, v, []Oferta{b.Oferta})
		b.Oferta = list[0]
		return b, err
	case OfferTimeline:
		b.EstadoActual = v.offerEstado(b.EstadoActual)
		for i := range b.Timeline {
			b.Timeline[i].Estado = v.offerEstado(b.Timeline[i].Estado)
		}
		return b, nil
	case Trabajo:
		list, err := m.jobsView(ctx, v, []Trabajo{b})
		return list[0], err
	case []Trabajo:
		return m.jobsView(ctx, v, b)
	case FinalizarResponse:
		list, err := m.jobsView(ctx, v, []Trabajo{b.Trabajo})
		if v == viewWeb {
			return list[0], err // the job page replaces its copy with the answer
		}
		b.Trabajo = list[0]
		return b, err
	case CancelResponse:
		list, err := m.jobsView(ctx, v, []Trabajo{b.Trabajo})
		if v == viewWeb {
			return list[0], err
		}
		b.Trabajo = list[0]
		return b, err
	}
	return body, nil
}

// presentTransaction renders a job action's answer as the Transaction the caller sees
// (its buttons depend on who asks, so it needs the caller, not only the view).
func (m *Market) presentTransaction(c *fiber.Ctx, body any) (any, error) {
	var t Trabajo
	switch b := body.(type) {
	case FinalizarResponse:
		t = b.Trabajo
	case CancelResponse:
		t = b.Trabajo
	case Trabajo:
		t = b
	default:
		return body, nil
	}
	a, _, err := actorOf(c)
	if err != nil {
		return nil, err
	}
	return m.transactionOf(c.UserContext(), a, t)
}

// offerEstado is an offer state as view v shows it. The web pages know no withdrawn
// offer; EXPIRADO is their one "no longer valid" value.
func (v view) offerEstado(estado string) string {
	if v == viewWeb && estado == domain.OfertaRetirado {
		return domain.OfertaExpirado
	}
	return estado
}

// offerEstadoFilter is the stored states a ?estado= filter of view v stands for.
func (v view) offerEstadoFilter(estado string) []string {
	if v == viewWeb && estado == domain.OfertaExpirado {
		return []string{domain.OfertaExpirado, domain.OfertaRetirado}
	}
	return []string{estado}
}

// offersView enriches offers with both sides and applies v's vocabulary.
func (m *Market) offersView(ctx context.Context, v view, list []Oferta) ([]Oferta, error) {
	if err := m.enrichOffers(ctx, list); err != nil {
		return list, err
	}
	for i := range list {
		list[i].Estado = v.offerEstado(list[i].Estado)
	}
	return list, nil
}

// party is what an offer shows of one side.
type party struct {
	nombre, apellido string
	avatar           *string
	rating           float64
	resenas          int
}

// enrichOffers fills both sides' names, avatars (absolute) and the professional's rating
// from the replica and the reviews, in one query for the whole list. A user the replica
// does not know yet is asked once from users (as on any replica miss).
func (m *Market) enrichOffers(ctx context.Context, list []Oferta) error {
	if len(list) == 0 {
		return nil
	}
	ids := make([]string, 0, 2*len(list))
	for _, o := range list {
		ids = append(ids, o.ProfesionalID, o.ClienteID)
	}
	rows, err := m.pool.Query(ctx, `SELECT u.id::text, u.nombre, u.apellido, u.avatar_url,
		       coalesce(r.promedio, 0)::float8, coalesce(r.total, 0)
		FROM usuarios u
		LEFT JOIN LATERAL (SELECT avg(rating) AS promedio, count(*) AS total FROM resenas WHERE profesional_id = u.id) r ON true
		WHERE u.id = ANY($1::uuid[])`, ids)
	if err != nil {
		return wrapf(err, "enrich offers")
	}
	parties := map[string]party{}
	for rows.Next() {
		var id string
		var p party
		if err := rows.Scan(&id, &p.nombre, &p.apellido, &p.avatar, &p.rating, &p.resenas); err != nil {
			rows.Close()
			return wrapf(err, "enrich offers")
		}
		parties[id] = p
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return wrapf(err, "enrich offers")
	}
	for _, id := range ids {
		if p, ok := parties[id]; ok && (p.nombre != "" || p.apellido != "") {
			continue
		}
		// A miss costs one internal call; a failed one leaves the names empty rather than
		// failing a read over a label.
		u, err := m.user(ctx, id)
		if err != nil {
			m.s.Deps.Log.Warn("offer party unknown", "user", id, "err", err)
			continue
		}
		p := parties[id]
		p.nombre, p.apellido = u.Nombre, u.Apellido
		parties[id] = p
	}
	for i := range list {
		o := &list[i]
		pro, cli := parties[o.ProfesionalID], parties[o.ClienteID]
		o.ProfesionalNombre, o.ProfesionalApellido = pro.nombre, pro.apellido
		o.ProfesionalAvatarURL = m.absURLp(pro.avatar)
		o.ProfesionalRating = math.Round(pro.rating*100) / 100
		o.ProfesionalTotalResenas = pro.resenas
		o.ClienteNombre, o.ClienteApellido = cli.nombre, cli.apellido
		o.ClienteAvatarURL = m.absURLp(cli.avatar)
	}
	return nil
}

// jobsView applies v to jobs: image URLs absolute everywhere; on the web, a disputed job
// in the work state it had before the dispute (en_disputa says it is frozen); for the
// admin, estado in escrow words and the work state in estado_trabajo.
func (m *Market) jobsView(ctx context.Context, v view, list []Trabajo) ([]Trabajo, error) {
	var disputed []string
	for i := range list {
		t := &list[i]
		imgs := make([]string, len(t.Imagenes))
		for j, u := range t.Imagenes {
			imgs[j] = m.absURL(u)
		}
		t.Imagenes = imgs
		if t.Estado == domain.EstadoDisputado {
			disputed = append(disputed, t.ID)
		}
		if v == viewAdmin {
			work := t.Estado
			t.EstadoTrabajo = &work
			t.Estado = adminEstado(t.EstadoEscrow)
		}
	}
	if v != viewWeb || len(disputed) == 0 {
		return list, nil
	}
	before, err := m.stateBeforeDispute(ctx, disputed)
	if err != nil {
		return list, err
	}
	for i := range list {
		if t := &list[i]; t.Estado == domain.EstadoDisputado {
			t.Estado = before[t.ID]
			if t.Estado == "" {
				t.Estado = domain.EstadoPagado // a dispute needs the money held
			}
		}
	}
	return list, nil
}

// adminEstado is the admin jobs page's word for an escrow state: the page knows
// PENDIENTE_PAGO, PAGADO_EN_ESCROW, LIBERADO and CANCELADO (a refund is a cancellation
// to it; estado_escrow keeps the difference).
func adminEstado(escrow string) string {
	if escrow == domain.EscrowReembolsado {
		return domain.EscrowCancelado
	}
	return escrow
}

// stateBeforeDispute reads the work state each disputed job had when its (latest)
// dispute was opened.
func (m *Market) stateBeforeDispute(ctx context.Context, ids []string) (map[string]string, error) {
	rows, err := m.pool.Query(ctx, `SELECT DISTINCT ON (trabajo_id) trabajo_id::text, estado_trabajo_previo
		FROM disputas WHERE trabajo_id = ANY($1::uuid[]) ORDER BY trabajo_id, fecha_creacion DESC`, ids)
	if err != nil {
		return nil, wrapf(err, "state before dispute")
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, estado string
		if err := rows.Scan(&id, &estado); err != nil {
			return nil, wrapf(err, "state before dispute")
		}
		out[id] = estado
	}
	return out, wrapf(rows.Err(), "state before dispute")
}

// absURL makes a path on the API host absolute with the public base URL: pages put
// these URLs straight into img src, where a relative path resolves against the
// frontend's own origin.
func (m *Market) absURL(u string) string {
	base := strings.TrimRight(m.s.Deps.PublicURL, "/")
	if base == "" || !strings.HasPrefix(u, "/") || strings.HasPrefix(u, "//") {
		return u
	}
	return base + u
}

func (m *Market) absURLp(u *string) *string {
	if u == nil || *u == "" {
		return nil
	}
	s := m.absURL(*u)
	return &s
}

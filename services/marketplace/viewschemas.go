package marketplace

import "github.com/conectarpro/conectar/platform/api"

// The shapes of the answers as each view (present.go) renders them, for the document
// only: no handler builds these types. A view changes vocabularies, so each embeds the
// type the handler answers with and narrows the fields whose words differ; the JSON is
// the embedded type's. The routes declare them on the paths of their view, so the
// contract tests (cmd/conectar) fail if a view leaks the other's words.

// OfertaWeb is an offer on /chat_ofertas: the web's pages know no withdrawn offer, so
// RETIRADO is shown as EXPIRADO.
type OfertaWeb struct {
	Oferta
	Estado string `json:"estado" jsonschema:"enum=OFERTADO,enum=ACEPTADO,enum=RECHAZADO,enum=EXPIRADO"`
}

// AcceptResponseWeb is an acceptance on /chat_ofertas.
type AcceptResponseWeb struct {
	AcceptResponse
	Oferta OfertaWeb `json:"oferta"`
}

// OfferTimelineWeb is an offer's history on /chat_ofertas.
type OfferTimelineWeb struct {
	OfferTimeline
	EstadoActual string          `json:"estado_actual" jsonschema:"enum=OFERTADO,enum=ACEPTADO,enum=RECHAZADO,enum=EXPIRADO"`
	Timeline     []OfferEventWeb `json:"timeline"`
}

// OfferEventWeb is one step of an offer's history on /chat_ofertas.
type OfferEventWeb struct {
	OfferEvent
	Estado string `json:"estado" jsonschema:"enum=OFERTADO,enum=ACEPTADO,enum=RECHAZADO,enum=EXPIRADO"`
}

// TrabajoWeb is a job on /chat_ofertas: a disputed job shows the work state it had
// before the dispute (en_disputa says it is frozen).
type TrabajoWeb struct {
	Trabajo
	Estado string `json:"estado" jsonschema:"enum=PENDIENTE_PAGO,enum=PAGADO,enum=EN_PROCESO,enum=COMPLETADO,enum=APROBADO,enum=CANCELADO"`
}

// TrabajoAdmin is a job on GET /admin/trabajos: estado in the admin page's escrow words
// (a refund is a cancellation there; estado_escrow keeps the difference) and the work
// state in estado_trabajo.
type TrabajoAdmin struct {
	Trabajo
	Estado        string `json:"estado" jsonschema:"enum=PENDIENTE_PAGO,enum=PAGADO_EN_ESCROW,enum=LIBERADO,enum=CANCELADO"`
	EstadoTrabajo string `json:"estado_trabajo" jsonschema:"enum=PENDIENTE_PAGO,enum=PAGADO,enum=EN_PROCESO,enum=COMPLETADO,enum=APROBADO,enum=CANCELADO,enum=DISPUTADO"`
}

// DisputaWeb is a dispute on the web's paths, in its lower-case words.
type DisputaWeb struct {
	Disputa
	Tipo   string `json:"tipo" jsonschema:"enum=reembolso,enum=calidad,enum=cancelacion,enum=otro"`
	Estado string `json:"estado" jsonschema:"enum=abierta,enum=resuelta,enum=rechazada"`
}

// DisputaPageWeb is one page of disputes on the web's paths.
type DisputaPageWeb struct {
	DisputaPage
	Disputas []DisputaWeb `json:"disputas"`
}

// DisputaAPI is a dispute on our paths (GET /disputas, the resolution), in our words.
// POST /disputas answers in the words its tipo came in: Disputa, either vocabulary.
type DisputaAPI struct {
	Disputa
	Tipo   string `json:"tipo" jsonschema:"enum=CALIDAD_TRABAJO,enum=NO_REALIZADO,enum=REEMBOLSO,enum=INCUMPLIMIENTO_TIEMPO,enum=CANCELACION,enum=OTRO"`
	Estado string `json:"estado" jsonschema:"enum=ABIERTA,enum=RESUELTA_A_FAVOR_CLIENTE,enum=RESUELTA_A_FAVOR_PROFESIONAL,enum=DESESTIMADA,enum=CANCELADA"`
}

// DisputeResolutionAPI is the answer of POST /disputas/{id}/resolver.
type DisputeResolutionAPI struct {
	DisputeResolution
	Disputa DisputaAPI `json:"disputa"`
}

// inView returns op answering in view v's shapes: each answer body the handler gives
// is replaced by the type describing it in that view.
func inView(op api.Op, v view) api.Op {
	answers := make([]api.Answer, len(op.Answers))
	for i, a := range op.Answers {
		answers[i] = a
		switch a.Body.(type) {
		case Oferta:
			if v == viewWeb {
				answers[i].Body = OfertaWeb{}
			}
		case []Oferta:
			if v == viewWeb {
				answers[i].Body = []OfertaWeb{}
			}
		case AcceptResponse:
			if v == viewWeb {
				answers[i].Body = AcceptResponseWeb{}
			}
		case OfferTimeline:
			if v == viewWeb {
				answers[i].Body = OfferTimelineWeb{}
			}
		case Trabajo:
			switch v {
			case viewWeb:
				answers[i].Body = TrabajoWeb{}
			case viewAdmin:
				answers[i].Body = TrabajoAdmin{}
			}
		case []Trabajo:
			switch v {
			case viewWeb:
				answers[i].Body = []TrabajoWeb{}
			case viewAdmin:
				answers[i].Body = []TrabajoAdmin{}
			}
		case Disputa:
			if v == viewWeb {
				answers[i].Body = DisputaWeb{}
			}
		case DisputaPage:
			if v == viewWeb {
				answers[i].Body = DisputaPageWeb{}
			}
		}
	}
	op.Answers = answers
	return op
}

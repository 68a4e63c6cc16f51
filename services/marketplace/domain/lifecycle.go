package domain

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
)

// The offer and job lifecycles, declared once as data: every move, the states it leaves
// and enters, the money-state (estado_escrow) guard, who may make it and what clock or
// event fires the system's moves. The handlers ask CheckOffer / CheckJob, the
// time-driven loops select their rows from the same rows (TimedMove), the consumer of
// payments' events asks MoneyAllows, the tests walk the table and docs/lifecycle.md is
// rendered from it (LifecycleDoc). Changing a rule means changing a row here.

// Role is who makes a move.
type Role string

// Roles. RoleNone is someone with no part in the offer or job.
const (
	RoleCliente     Role = "cliente"
	RoleProfesional Role = "profesional"
	RoleAdmin       Role = "admin"
	RoleSystem      Role = "system"
	RoleNone        Role = ""
)

// Timer defaults (the service's OFFER_TTL and AUTO_APPROVE_AFTER settings default to
// these, and payments' CHECKOUT_TTL to the contract's, so the documented timer and the
// running one are the same number).
const (
	DefaultOfferTTL         = 7 * 24 * time.Hour
	DefaultAutoApproveAfter = 72 * time.Hour
	DefaultCheckoutTTL      = events.DefaultCheckoutTTL
)

// Offer moves.
const (
	OfertaCrear      = "crear"
	OfertaAceptar    = "aceptar"
	OfertaRechazar   = "rechazar"
	OfertaModificar  = "modificar"
	OfertaRetirar    = "retirar"
	OfertaExpirar    = "expirar"
	OfertaReabrir    = "reabrir"
	OfertaVencerPago = "vencer_pago"
)

// Job moves.
const (
	TrabajoCrear                = "crear"
	TrabajoPagar                = "pagar"
	TrabajoIniciar              = "iniciar"
	TrabajoCompletar            = "completar"
	TrabajoAprobar              = "aprobar"
	TrabajoFinalizar            = "finalizar"
	TrabajoAprobarAuto          = "aprobar_automaticamente"
	TrabajoLiberar              = "liberar"
	TrabajoCancelar             = "cancelar"
	TrabajoCancelarPagado       = "cancelar_pagado"
	TrabajoReembolsar           = "reembolsar"
	TrabajoAnularCheckout       = "anular_checkout"
	TrabajoVencerCheckout       = "vencer_checkout"
	TrabajoPagoDeCancelado      = "cobrar_cancelado"
	TrabajoDisputar             = "disputar"
	TrabajoResolverACliente     = "resolver_a_favor_cliente"
	TrabajoResolverAProfesional = "resolver_a_favor_profesional"
	TrabajoDesestimarDisputa    = "desestimar_disputa"
	TrabajoRetirarDisputa       = "retirar_disputa"
)

// ToPrevio is the To of the moves that end a dispute without settling it: the job goes
// back to the work state it had when the dispute was opened.
const ToPrevio = "(estado previo)"

const (
	machineOferta  = "oferta"
	machineTrabajo = "trabajo"
)

// Timer fires a system move once a time has passed.
type Timer struct {
	Setting string        // the environment setting that changes it
	Default time.Duration // its default
	Since   string        // what starts it
	// Service runs the timer when it is not marketplace's own loops (Market.Tick): the
	// move then arrives as that service's event (the row's Trigger).
	Service string
}

// Refusal is the 4xx answer of a refused move.
type Refusal struct {
	Code string
	// Msg may name the job's money state as {estado_escrow}.
	Msg string
}

// Transition is one row of a machine: one move.
type Transition struct {
	Move string
	// From are the work states the move leaves. Creates marks the move that makes the
	// aggregate (it leaves no state).
	From    []string
	Creates bool
	// To is the work state it enters; "" leaves it as it is; ToPrevio returns to the
	// state the job had when the dispute was opened.
	To string
	// EscrowFrom guards the money: estado_escrow must be one of these (nil: any).
	// EscrowTo is the money state the move sets ("" leaves it).
	EscrowFrom []string
	EscrowTo   string
	Roles      []Role
	// Timer fires the move (role system) when it is due.
	Timer *Timer
	// Trigger is the event of another context that makes the move. Such a move is a fact
	// already decided there (payments moved the money): only the money guard decides
	// whether it applies, from whatever work state; From says where it normally lands.
	Trigger string
	// BeforeExpiry refuses the move once the offer's expiry has passed, even before the
	// expiry loop has moved the offer.
	BeforeExpiry bool
	// Verb names the move in refusals of offers ("No se puede <verb> una oferta …").
	Verb string
	// Wrong role; the refusal of a disputed job that the move does not leave (nil: say
	// it is frozen); of a failed money guard (nil: the wrong-state refusal).
	NotYours Refusal
	Frozen   *Refusal
	Unpaid   *Refusal
	// Note says what else guards the move, for the document.
	Note string
}

// Machine is one lifecycle.
type Machine struct {
	Name         string
	States       []string // work states (for offers, the offer's states)
	EscrowStates []string // money states (jobs only)
	Final        []string
	Transitions  []Transition
}

// Move returns the row of move; ok is false for a name the machine lacks.
func (m Machine) Move(move string) (Transition, bool) {
	for _, t := range m.Transitions {
		if t.Move == move {
			return t, true
		}
	}
	return Transition{}, false
}

// TimedMove is the row of a timer's move, for the loops that fire it: they select the
// rows in From (and EscrowFrom) whose time has come.
func TimedMove(m Machine, move string) Transition {
	t, ok := m.Move(move)
	if !ok || t.Timer == nil {
		panic("domain: " + move + " is not a timed move of " + m.Name)
	}
	return t
}

var (
	refOfertaAjena  = Refusal{"oferta_ajena", "Esta oferta no te pertenece"}
	refTrabajoAjeno = Refusal{"trabajo_ajeno", "Este trabajo no te pertenece"}
	refSoloSistema  = Refusal{"solo_sistema", "Este cambio de estado lo hace el sistema"}
	refSoloAdmin    = Refusal{"solo_admin", "Solo un administrador puede resolver una disputa"}
)

// OfferMachine is the offer's lifecycle.
func OfferMachine() Machine {
	open := []string{OfertaOfertado}
	return Machine{
		Name:   machineOferta,
		States: []string{OfertaOfertado, OfertaAceptado, OfertaRechazado, OfertaExpirado, OfertaRetirado},
		Final:  []string{OfertaRechazado, OfertaExpirado, OfertaRetirado},
		Transitions: []Transition{
			{Move: OfertaCrear, Creates: true, To: OfertaOfertado, Roles: []Role{RoleProfesional}, Verb: "crear",
				NotYours: Refusal{"solo_profesional", "Solo los profesionales pueden enviar ofertas"},
				Note:     "KYC aprobado, dentro de una conversación con el cliente"},
			{Move: OfertaAceptar, From: open, To: OfertaAceptado, Roles: []Role{RoleCliente}, BeforeExpiry: true, Verb: "aceptar",
				NotYours: refOfertaAjena, Note: "crea el trabajo (PENDIENTE_PAGO)"},
			{Move: OfertaRechazar, From: open, To: OfertaRechazado, Roles: []Role{RoleCliente}, BeforeExpiry: true, Verb: "rechazar",
				NotYours: refOfertaAjena},
			{Move: OfertaModificar, From: open, To: OfertaOfertado, Roles: []Role{RoleProfesional}, BeforeExpiry: true, Verb: "modificar",
				NotYours: Refusal{"oferta_ajena", "Solo el profesional que envió la oferta puede modificarla"}, Note: "no extiende el vencimiento"},
			{Move: OfertaRetirar, From: open, To: OfertaRetirado, Roles: []Role{RoleProfesional}, Verb: "retirar", NotYours: refOfertaAjena},
			{Move: OfertaExpirar, From: open, To: OfertaExpirado, Roles: []Role{RoleSystem}, Verb: "expirar", NotYours: refSoloSistema,
				Timer: &Timer{Setting: "OFFER_TTL", Default: DefaultOfferTTL, Since: "desde la creación"}},
			{Move: OfertaReabrir, From: []string{OfertaAceptado}, To: OfertaOfertado, Roles: []Role{RoleSystem}, Verb: "reabrir",
				NotYours: refSoloSistema, Trigger: "PaymentCheckoutFailed", Note: "compensación: el checkout no se pudo crear"},
			{Move: OfertaVencerPago, From: []string{OfertaAceptado}, To: OfertaExpirado, Roles: []Role{RoleSystem}, Verb: "vencer",
				NotYours: refSoloSistema, Trigger: "PaymentCheckoutExpired",
				Note: "el cliente dejó vencer el link de pago: la oferta no se reabre, porque el precio y la fecha que el profesional ofreció días atrás ya no lo obligan; puede enviar una nueva desde el chat"},
		},
	}
}

// JobMachine is the job's lifecycle: the work state (estado) with the money state
// (estado_escrow) as guard and second effect.
func JobMachine() Machine {
	paid := []string{EstadoPagado, EstadoEnProceso, EstadoCompletado}
	enEscrow := []string{EscrowEnEscrow}
	soloCliente := Refusal{"solo_cliente", "Solo el cliente del trabajo puede aprobarlo"}
	frozenApprove := &Refusal{"trabajo_en_disputa", "El trabajo tiene una disputa abierta; los fondos están congelados hasta su resolución"}
	unpaidApprove := &Refusal{"trabajo_no_pagado", "Solo se pueden finalizar trabajos pagados en escrow (estado actual: {estado_escrow})"}
	parties := []Role{RoleCliente, RoleProfesional}
	cancellers := []Role{RoleCliente, RoleProfesional, RoleAdmin}
	frozenCancel := &Refusal{"trabajo_en_disputa", "El trabajo tiene una disputa abierta; la resuelve un administrador"}
	return Machine{
		Name:         machineTrabajo,
		States:       []string{EstadoPendientePago, EstadoPagado, EstadoEnProceso, EstadoCompletado, EstadoAprobado, EstadoCancelado, EstadoDisputado},
		EscrowStates: []string{EscrowPendientePago, EscrowEnEscrow, EscrowLiberado, EscrowReembolsado, EscrowCancelado},
		Final:        []string{EstadoAprobado, EstadoCancelado},
		Transitions: []Transition{
			{Move: TrabajoCrear, Creates: true, To: EstadoPendientePago, EscrowTo: EscrowPendientePago, Roles: []Role{RoleCliente},
				NotYours: refOfertaAjena, Note: "al aceptar la oferta o contratar un servicio de precio fijo"},
			{Move: TrabajoAnularCheckout, From: []string{EstadoPendientePago}, To: EstadoCancelado, EscrowFrom: []string{EscrowPendientePago},
				EscrowTo: EscrowCancelado, Roles: []Role{RoleSystem}, Trigger: "PaymentCheckoutFailed", NotYours: refSoloSistema,
				Note: "solo mientras el checkout está pendiente; la oferta vuelve a OFERTADO"},
			{Move: TrabajoVencerCheckout, From: []string{EstadoPendientePago}, To: EstadoCancelado, EscrowFrom: []string{EscrowPendientePago},
				EscrowTo: EscrowCancelado, Roles: []Role{RoleSystem}, Trigger: "PaymentCheckoutExpired", NotYours: refSoloSistema,
				Timer: &Timer{Setting: "CHECKOUT_TTL", Default: DefaultCheckoutTTL, Since: "desde el link de pago", Service: "payments"},
				Note:  "payments consulta antes a MercadoPago (un pago aprobado se aplica en lugar de vencer); la oferta queda EXPIRADO (vencer_pago); un pago que llegue después se reembolsa (cobrar_cancelado)"},
			{Move: TrabajoPagar, From: []string{EstadoPendientePago}, To: EstadoPagado, EscrowFrom: []string{EscrowPendientePago},
				EscrowTo: EscrowEnEscrow, Roles: []Role{RoleSystem}, Trigger: "PaymentApproved / EscrowHeld", NotYours: refSoloSistema},
			{Move: TrabajoIniciar, From: []string{EstadoPagado}, To: EstadoEnProceso, EscrowFrom: enEscrow, Roles: []Role{RoleProfesional},
				NotYours: Refusal{"solo_profesional", "Solo el profesional del trabajo puede iniciarlo"}},
			{Move: TrabajoCompletar, From: []string{EstadoEnProceso}, To: EstadoCompletado, EscrowFrom: enEscrow, Roles: []Role{RoleProfesional},
				NotYours: Refusal{"solo_profesional", "Solo el profesional del trabajo puede completarlo"},
				Note:     "nota de 10 a 500 caracteres, hasta 10 imágenes; arranca la aprobación automática"},
			{Move: TrabajoAprobar, From: []string{EstadoCompletado}, To: EstadoAprobado, EscrowFrom: enEscrow, Roles: []Role{RoleCliente},
				NotYours: soloCliente, Frozen: frozenApprove, Unpaid: unpaidApprove,
				Note: "el profesional necesita cuenta de cobro; payments libera el escrow"},
			{Move: TrabajoFinalizar, From: paid, To: EstadoAprobado, EscrowFrom: enEscrow, Roles: []Role{RoleCliente},
				NotYours: soloCliente, Frozen: frozenApprove, Unpaid: unpaidApprove,
				Note: "POST /cliente/trabajo/{id}/finalizar, desde cualquier estado pagado"},
			{Move: TrabajoAprobarAuto, From: []string{EstadoCompletado}, To: EstadoAprobado, EscrowFrom: enEscrow, Roles: []Role{RoleSystem},
				NotYours: refSoloSistema, Timer: &Timer{Setting: "AUTO_APPROVE_AFTER", Default: DefaultAutoApproveAfter, Since: "desde completar"},
				Note: "JobCompleted motivo automatico; una disputa lo detiene"},
			{Move: TrabajoLiberar, From: []string{EstadoAprobado}, To: EstadoAprobado, EscrowFrom: []string{EscrowEnEscrow, EscrowPendientePago},
				EscrowTo: EscrowLiberado, Roles: []Role{RoleSystem}, Trigger: "EscrowReleased", NotYours: refSoloSistema},
			{Move: TrabajoCancelar, From: []string{EstadoPendientePago}, To: EstadoCancelado,
				EscrowFrom: []string{EscrowPendientePago}, EscrowTo: EscrowCancelado, Roles: cancellers,
				NotYours: refTrabajoAjeno, Frozen: frozenCancel, Note: "antes del pago"},
			{Move: TrabajoCancelarPagado, From: paid, To: EstadoCancelado,
				EscrowFrom: enEscrow, Roles: cancellers, NotYours: refTrabajoAjeno, Frozen: frozenCancel,
				Note: "JobCancelled paid: payments reembolsa todo (reembolsar)"},
			{Move: TrabajoReembolsar, From: []string{EstadoCancelado}, To: EstadoCancelado, EscrowFrom: []string{EscrowEnEscrow, EscrowPendientePago},
				EscrowTo: EscrowReembolsado, Roles: []Role{RoleSystem}, Trigger: "RefundIssued", NotYours: refSoloSistema},
			{Move: TrabajoPagoDeCancelado, From: []string{EstadoCancelado}, EscrowFrom: []string{EscrowCancelado}, EscrowTo: EscrowEnEscrow,
				Roles: []Role{RoleSystem}, Trigger: "PaymentApproved / EscrowHeld", NotYours: refSoloSistema,
				Note: "un pago que llega para un trabajo cancelado se retiene y se reembolsa"},
			{Move: TrabajoDisputar, From: paid, To: EstadoDisputado, EscrowFrom: enEscrow, Roles: parties, NotYours: refTrabajoAjeno,
				Frozen: &Refusal{"disputa_abierta", "El trabajo ya tiene una disputa abierta"},
				Unpaid: &Refusal{"trabajo_no_pagado", "Solo se pueden disputar trabajos pagados y no liberados"},
				Note:   "congela el escrow y detiene la aprobación automática"},
			{Move: TrabajoResolverAProfesional, From: []string{EstadoDisputado}, To: EstadoAprobado, EscrowFrom: enEscrow, Roles: []Role{RoleAdmin},
				NotYours: refSoloAdmin, Note: "la disputa debe estar ABIERTA; payments libera"},
			{Move: TrabajoResolverACliente, From: []string{EstadoDisputado}, To: EstadoCancelado, EscrowFrom: enEscrow, Roles: []Role{RoleAdmin},
				NotYours: refSoloAdmin, Note: "la disputa debe estar ABIERTA; payments reembolsa"},
			{Move: TrabajoDesestimarDisputa, From: []string{EstadoDisputado}, To: ToPrevio, EscrowFrom: enEscrow, Roles: []Role{RoleAdmin},
				NotYours: refSoloAdmin, Note: "el escrow sigue retenido; COMPLETADO recibe un nuevo plazo de aprobación automática"},
			{Move: TrabajoRetirarDisputa, From: []string{EstadoDisputado}, To: ToPrevio, EscrowFrom: enEscrow, Roles: parties,
				NotYours: Refusal{"solo_iniciador", "Solo quien abrió la disputa puede cancelarla"},
				Note:     "solo quien la abrió; el escrow sigue retenido"},
		},
	}
}

// RoleInOffer is a's role in o.
func RoleInOffer(o Offer, actorID string) Role {
	switch actorID {
	case o.ClienteID:
		return RoleCliente
	case o.ProfesionalID:
		return RoleProfesional
	}
	return RoleNone
}

// RoleInJob is a's role in j: the party it is, else admin, else none.
func RoleInJob(j Job, a Actor) Role {
	switch PartyOf(j, a) {
	case Cliente:
		return RoleCliente
	case Profesional:
		return RoleProfesional
	case Admin:
		return RoleAdmin
	}
	return RoleNone
}

func unknownMove(machine, move string) error {
	return fmt.Errorf("domain: %s has no move %q", machine, move)
}

func refuse(kind apperr.Kind, r Refusal, escrow string) error {
	return &apperr.Error{Kind: kind, Code: r.Code, Msg: strings.ReplaceAll(r.Msg, "{estado_escrow}", escrow)}
}

// CheckOffer says whether actorID may make move on o at now: 403 for the wrong role, 400
// for the wrong state or an expired offer.
func CheckOffer(o Offer, move, actorID string, now time.Time) error {
	return CheckOfferAs(o, move, RoleInOffer(o, actorID), now)
}

// CheckOfferAs is CheckOffer for a role.
func CheckOfferAs(o Offer, move string, r Role, now time.Time) error {
	t, ok := OfferMachine().Move(move)
	if !ok || t.Creates {
		return unknownMove(machineOferta, move)
	}
	if !slices.Contains(t.Roles, r) {
		return refuse(apperr.KindForbidden, t.NotYours, "")
	}
	if !slices.Contains(t.From, o.Estado) {
		return apperr.Invalid("oferta_estado_invalido", fmt.Sprintf("No se puede %s una oferta en estado %s", t.Verb, o.Estado))
	}
	if t.BeforeExpiry && o.ExpiresAt != nil && !now.Before(*o.ExpiresAt) {
		return apperr.Invalid("oferta_expirada", "La oferta expiró")
	}
	return nil
}

// CheckJob says whether a may make move on j: 403 for the wrong role, 400 for a frozen
// (disputed) job, a failed money guard or the wrong work state.
func CheckJob(j Job, move string, a Actor) error {
	return CheckJobAs(j, move, RoleInJob(j, a))
}

// CheckJobAs is CheckJob for a role. Moves triggered by another context's event are
// checked by their money guard alone (see Transition.Trigger).
func CheckJobAs(j Job, move string, r Role) error {
	t, ok := JobMachine().Move(move)
	if !ok || t.Creates {
		return unknownMove(machineTrabajo, move)
	}
	if !slices.Contains(t.Roles, r) {
		return refuse(apperr.KindForbidden, t.NotYours, "")
	}
	wrong := func() error {
		to := t.To
		if to == "" || to == ToPrevio {
			to = strings.ToUpper(t.Move)
		}
		return apperr.Invalid("estado_invalido", fmt.Sprintf("No se puede pasar un trabajo en estado %s a %s", j.Estado, to))
	}
	if t.Trigger == "" && j.Estado == EstadoDisputado && !slices.Contains(t.From, EstadoDisputado) {
		if t.Frozen != nil {
			return refuse(apperr.KindInvalid, *t.Frozen, j.EstadoEscrow)
		}
		// The web shows a disputed job in its earlier work state, so say why it is frozen.
		return apperr.Invalid("trabajo_en_disputa", "El trabajo tiene una disputa abierta; no se puede cambiar su estado hasta que un administrador la resuelva")
	}
	if t.EscrowFrom != nil && !slices.Contains(t.EscrowFrom, j.EstadoEscrow) {
		if t.Unpaid != nil {
			return refuse(apperr.KindInvalid, *t.Unpaid, j.EstadoEscrow)
		}
		return wrong()
	}
	if t.Trigger == "" && !slices.Contains(t.From, j.Estado) {
		return wrong()
	}
	return nil
}

// MoneyAllows says whether payments' event that makes move applies to j: the system
// makes it and the money guard holds.
func MoneyAllows(j Job, move string) bool {
	t, ok := JobMachine().Move(move)
	return ok && t.Trigger != "" && CheckJobAs(j, move, RoleSystem) == nil
}

// Package domain holds the marketplace's pure rules: the two state machines of a job
// (the money in estado_escrow, the work in estado), who may move them, and the offer
// rules. The lifecycles are one table (lifecycle.go); the Can* functions read it. Nothing
// here does I/O, so every rule is unit tested on its own.
package domain

import (
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// Work states (estado).
const (
	EstadoPendientePago = "PENDIENTE_PAGO"
	EstadoPagado        = "PAGADO"
	EstadoEnProceso     = "EN_PROCESO"
	EstadoCompletado    = "COMPLETADO"
	EstadoAprobado      = "APROBADO"
	EstadoCancelado     = "CANCELADO"
	EstadoDisputado     = "DISPUTADO"
)

// Money states (estado_escrow).
const (
	EscrowPendientePago = "PENDIENTE_PAGO"
	EscrowEnEscrow      = "PAGADO_EN_ESCROW"
	EscrowLiberado      = "LIBERADO"
	EscrowReembolsado   = "CANCELADO_REEMBOLSADO"
	EscrowCancelado     = "CANCELADO"
)

// Checkout saga states.
const (
	CheckoutPendiente = "PENDIENTE"
	CheckoutCreado    = "CREADO"
	CheckoutFallido   = "FALLIDO"
)

// Job is what the rules need to know about a job.
type Job struct {
	ClienteID     string
	ProfesionalID string
	Estado        string
	EstadoEscrow  string
}

// Actor is who asks.
type Actor struct {
	ID  string
	Rol string
}

// Party names the actor's relation to a job.
type Party int

// Parties.
const (
	Stranger Party = iota
	Cliente
	Profesional
	Admin
)

// PartyOf tells how a relates to j. An admin who is also a party acts as the party.
func PartyOf(j Job, a Actor) Party {
	switch {
	case a.ID == j.ClienteID:
		return Cliente
	case a.ID == j.ProfesionalID:
		return Profesional
	case a.Rol == authn.RoleAdmin:
		return Admin
	}
	return Stranger
}

var errNotYours = apperr.Forbidden("trabajo_ajeno", "Este trabajo no te pertenece")

// CanView: the parties and admins.
func CanView(j Job, a Actor) error {
	if PartyOf(j, a) == Stranger {
		return errNotYours
	}
	return nil
}

// CanStart: the professional starts a paid job (PAGADO → EN_PROCESO).
func CanStart(j Job, a Actor) error { return CheckJob(j, TrabajoIniciar, a) }

// CanDeliver: the professional marks the work done (EN_PROCESO → COMPLETADO).
func CanDeliver(j Job, a Actor) error { return CheckJob(j, TrabajoCompletar, a) }

// CanApprove: the client approves and releases the escrow. onlyDelivered is the
// work-step path (COMPLETADO → APROBADO); finalizar accepts any paid state, as the
// earlier flow did. A disputed job is frozen until an admin resolves it.
func CanApprove(j Job, a Actor, onlyDelivered bool) error {
	if onlyDelivered {
		return CheckJob(j, TrabajoAprobar, a)
	}
	return CheckJob(j, TrabajoFinalizar, a)
}

// CanCancel: the parties or an admin, in any state before approval. paid says the money
// is held, so cancelling means a full refund.
func CanCancel(j Job, a Actor) (paid bool, err error) {
	err = CheckJob(j, TrabajoCancelar, a)
	if err == nil {
		return false, nil
	}
	if CheckJob(j, TrabajoCancelarPagado, a) == nil {
		return true, nil
	}
	// Both refuse the same way but for the money guard; the unpaid one's words.
	return false, err
}

// CanDispute: a party of a paid, unapproved job.
func CanDispute(j Job, a Actor) error { return CheckJob(j, TrabajoDisputar, a) }

// CanReview: only the job's client, only once the job is approved (LIBERADO, or
// APROBADO while payments finishes the release).
func CanReview(j Job, a Actor) error {
	if PartyOf(j, a) != Cliente {
		return apperr.Forbidden("solo_cliente", "Solo el cliente del trabajo puede reseñarlo")
	}
	if j.EstadoEscrow != EscrowLiberado && j.Estado != EstadoAprobado {
		return apperr.Invalid("trabajo_no_liberado", "Solo se pueden reseñar trabajos finalizados (fondos liberados)")
	}
	return nil
}

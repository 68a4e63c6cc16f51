// Package domain holds the marketplace's pure rules: the two state machines of a job
// (the money in estado_escrow, the work in estado), who may move them, and the offer
// rules. Nothing here does I/O, so every rule is unit tested on its own.
package domain

import (
	"fmt"

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

func wrongState(j Job, to string) error {
	if j.Estado == EstadoDisputado {
		// The web shows a disputed job in its earlier work state, so say why it is frozen.
		return apperr.Invalid("trabajo_en_disputa", "El trabajo tiene una disputa abierta; no se puede cambiar su estado hasta que un administrador la resuelva")
	}
	return apperr.Invalid("estado_invalido", fmt.Sprintf("No se puede pasar un trabajo en estado %s a %s", j.Estado, to))
}

// CanStart: the professional starts a paid job (PAGADO → EN_PROCESO).
func CanStart(j Job, a Actor) error {
	if PartyOf(j, a) != Profesional {
		return apperr.Forbidden("solo_profesional", "Solo el profesional del trabajo puede iniciarlo")
	}
	if j.Estado != EstadoPagado || j.EstadoEscrow != EscrowEnEscrow {
		return wrongState(j, EstadoEnProceso)
	}
	return nil
}

// CanDeliver: the professional marks the work done (EN_PROCESO → COMPLETADO).
func CanDeliver(j Job, a Actor) error {
	if PartyOf(j, a) != Profesional {
		return apperr.Forbidden("solo_profesional", "Solo el profesional del trabajo puede completarlo")
	}
	if j.Estado != EstadoEnProceso {
		return wrongState(j, EstadoCompletado)
	}
	return nil
}

// CanApprove: the client approves and releases the escrow. onlyDelivered is the
// work-step path (COMPLETADO → APROBADO); finalizar accepts any paid state, as the
// earlier flow did. A disputed job is frozen until an admin resolves it.
func CanApprove(j Job, a Actor, onlyDelivered bool) error {
	if PartyOf(j, a) != Cliente {
		return apperr.Forbidden("solo_cliente", "Solo el cliente del trabajo puede aprobarlo")
	}
	if j.Estado == EstadoDisputado {
		return apperr.Invalid("trabajo_en_disputa", "El trabajo tiene una disputa abierta; los fondos están congelados hasta su resolución")
	}
	if j.EstadoEscrow != EscrowEnEscrow {
		return apperr.Invalid("trabajo_no_pagado", fmt.Sprintf("Solo se pueden finalizar trabajos pagados en escrow (estado actual: %s)", j.EstadoEscrow))
	}
	if onlyDelivered && j.Estado != EstadoCompletado {
		return wrongState(j, EstadoAprobado)
	}
	switch j.Estado {
	case EstadoPagado, EstadoEnProceso, EstadoCompletado:
		return nil
	}
	return wrongState(j, EstadoAprobado)
}

// CanCancel: the parties or an admin, in any state before approval. paid says the money
// is held, so cancelling means a full refund.
func CanCancel(j Job, a Actor) (paid bool, err error) {
	if PartyOf(j, a) == Stranger {
		return false, errNotYours
	}
	switch j.Estado {
	case EstadoDisputado:
		return false, apperr.Invalid("trabajo_en_disputa", "El trabajo tiene una disputa abierta; la resuelve un administrador")
	case EstadoPendientePago, EstadoPagado, EstadoEnProceso, EstadoCompletado:
	default:
		return false, wrongState(j, EstadoCancelado)
	}
	switch j.EstadoEscrow {
	case EscrowPendientePago:
		return false, nil
	case EscrowEnEscrow:
		return true, nil
	}
	return false, wrongState(j, EstadoCancelado)
}

// CanDispute: a party of a paid, unapproved job.
func CanDispute(j Job, a Actor) error {
	p := PartyOf(j, a)
	if p != Cliente && p != Profesional {
		return errNotYours
	}
	if j.EstadoEscrow != EscrowEnEscrow {
		return apperr.Invalid("trabajo_no_pagado", "Solo se pueden disputar trabajos pagados y no liberados")
	}
	switch j.Estado {
	case EstadoPagado, EstadoEnProceso, EstadoCompletado:
		return nil
	case EstadoDisputado:
		return apperr.Invalid("disputa_abierta", "El trabajo ya tiene una disputa abierta")
	}
	return wrongState(j, EstadoDisputado)
}

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

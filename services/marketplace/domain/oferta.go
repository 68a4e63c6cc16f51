package domain

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/money"
)

// Offer states.
const (
	OfertaOfertado  = "OFERTADO"
	OfertaAceptado  = "ACEPTADO"
	OfertaRechazado = "RECHAZADO"
	OfertaExpirado  = "EXPIRADO"
	OfertaRetirado  = "RETIRADO"
)

// MaxPrecio is the highest price of an offer: ARS 10,000,000.
const MaxPrecio = money.Centavos(10_000_000_00)

// ValidateOffer checks an offer's fields (422 with every bad field).
func ValidateOffer(descripcion string, precio money.Centavos) error {
	var ck apperr.Checker
	n := utf8.RuneCountInString(strings.TrimSpace(descripcion))
	ck.Add(n < 10 || n > 5000, "descripcion", "debe tener entre 10 y 5000 caracteres")
	ck.Add(precio <= 0, "precio_final", "debe ser mayor a 0")
	ck.Add(precio > MaxPrecio, "precio_final", "no puede superar 10.000.000")
	return ck.Err()
}

// Offer is what the answer rules need.
type Offer struct {
	ClienteID     string
	ProfesionalID string
	Estado        string
	ExpiresAt     *time.Time
}

// CanAnswer: only the offer's client, only an open, unexpired offer.
func CanAnswer(o Offer, actorID, verb string, now time.Time) error {
	if actorID != o.ClienteID {
		return apperr.Forbidden("oferta_ajena", "Esta oferta no te pertenece")
	}
	if o.Estado != OfertaOfertado {
		return apperr.Invalid("oferta_estado_invalido", fmt.Sprintf("No se puede %s una oferta en estado %s", verb, o.Estado))
	}
	if o.ExpiresAt != nil && !now.Before(*o.ExpiresAt) {
		return apperr.Invalid("oferta_expirada", "La oferta expiró")
	}
	return nil
}

// CanEdit: only the offer's professional, only while open and unexpired (the client
// has not answered it yet, so changing it misleads nobody).
func CanEdit(o Offer, actorID string, now time.Time) error {
	if actorID != o.ProfesionalID {
		return apperr.Forbidden("oferta_ajena", "Solo el profesional que envió la oferta puede modificarla")
	}
	if o.Estado != OfertaOfertado {
		return apperr.Invalid("oferta_estado_invalido", fmt.Sprintf("No se puede modificar una oferta en estado %s", o.Estado))
	}
	if o.ExpiresAt != nil && !now.Before(*o.ExpiresAt) {
		return apperr.Invalid("oferta_expirada", "La oferta expiró")
	}
	return nil
}

// CanWithdraw: only the offer's professional, only while open.
func CanWithdraw(o Offer, actorID string) error {
	if actorID != o.ProfesionalID {
		return apperr.Forbidden("oferta_ajena", "Esta oferta no te pertenece")
	}
	if o.Estado != OfertaOfertado {
		return apperr.Invalid("oferta_estado_invalido", fmt.Sprintf("No se puede retirar una oferta en estado %s", o.Estado))
	}
	return nil
}

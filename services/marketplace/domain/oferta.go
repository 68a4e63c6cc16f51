package domain

import (
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

// CanAnswer: only the offer's client, only an open, unexpired offer. verb is the
// move: "aceptar" or "rechazar".
func CanAnswer(o Offer, actorID, verb string, now time.Time) error {
	return CheckOffer(o, verb, actorID, now)
}

// CanEdit: only the offer's professional, only while open and unexpired (the client
// has not answered it yet, so changing it misleads nobody).
func CanEdit(o Offer, actorID string, now time.Time) error {
	return CheckOffer(o, OfertaModificar, actorID, now)
}

// CanWithdraw: only the offer's professional, only while open.
func CanWithdraw(o Offer, actorID string) error {
	return CheckOffer(o, OfertaRetirar, actorID, time.Time{})
}

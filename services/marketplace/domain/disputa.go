package domain

import (
	"strings"

	"github.com/conectarpro/conectar/platform/apperr"
)

// Dispute states (ours). DESESTIMADA and CANCELADA end a dispute without moving money:
// the job resumes the state it had before.
const (
	DisputaAbierta          = "ABIERTA"
	DisputaFavorCliente     = "RESUELTA_A_FAVOR_CLIENTE"
	DisputaFavorProfesional = "RESUELTA_A_FAVOR_PROFESIONAL"
	DisputaDesestimada      = "DESESTIMADA"
	DisputaCancelada        = "CANCELADA"
)

// Dispute types (ours). CANCELACION exists so the frontend's "cancelacion" round-trips.
var tiposDisputa = []string{"CALIDAD_TRABAJO", "NO_REALIZADO", "REEMBOLSO", "INCUMPLIMIENTO_TIEMPO", "CANCELACION", "OTRO"}

// The web frontend's lower-case words, and which of ours each stands for. This file is
// the one place where the two vocabularies meet.
var (
	tipoDesdeFront = map[string]string{"reembolso": "REEMBOLSO", "calidad": "CALIDAD_TRABAJO", "cancelacion": "CANCELACION", "otro": "OTRO"}
	tipoHaciaFront = map[string]string{"REEMBOLSO": "reembolso", "CALIDAD_TRABAJO": "calidad", "CANCELACION": "cancelacion", "OTRO": "otro",
		// Ours without a word of their own: a job not done is a claim for the money back;
		// a late job is "otro".
		"NO_REALIZADO": "reembolso", "INCUMPLIMIENTO_TIEMPO": "otro"}
	// A withdrawn dispute is over by the parties' own doing: "resuelta" (the frontend
	// has no "cancelada"); one an admin dismissed is "rechazada".
	estadoHaciaFront = map[string]string{DisputaAbierta: "abierta", DisputaFavorCliente: "resuelta", DisputaFavorProfesional: "resuelta",
		DisputaDesestimada: "rechazada", DisputaCancelada: "resuelta"}
)

// TiposDisputaMsg lists the accepted types for a 422 message.
const TiposDisputaMsg = "debe ser reembolso, calidad, cancelacion u otro (o CALIDAD_TRABAJO, NO_REALIZADO, REEMBOLSO, INCUMPLIMIENTO_TIEMPO, CANCELACION, OTRO)"

// ParseTipoDisputa reads a dispute type in either vocabulary. front says the caller used
// the frontend's words (its answer then uses them too).
func ParseTipoDisputa(s string) (tipo string, front, ok bool) {
	if t, found := tipoDesdeFront[s]; found {
		return t, true, true
	}
	for _, t := range tiposDisputa {
		if s == t {
			return t, false, true
		}
	}
	return "", false, false
}

// DisputaFront presents a dispute's type and state in the frontend's words.
func DisputaFront(tipo, estado string) (string, string) {
	t, ok := tipoHaciaFront[tipo]
	if !ok {
		t = "otro"
	}
	e, ok := estadoHaciaFront[estado]
	if !ok {
		e = strings.ToLower(estado)
	}
	return t, e
}

// EstadosDisputa turns an ?estado filter in either vocabulary into our states. ok is
// false for a value neither knows; "en_revision" is known but we have no such stage, so
// it matches nothing.
func EstadosDisputa(filter string) (estados []string, ok bool) {
	if filter == "en_revision" {
		return []string{}, true
	}
	for ours, front := range estadoHaciaFront {
		if filter == ours || filter == front {
			estados = append(estados, ours)
		}
	}
	return estados, len(estados) > 0
}

// TiposDisputa turns a ?tipo filter in either vocabulary into our types.
func TiposDisputa(filter string) (tipos []string, ok bool) {
	for ours, front := range tipoHaciaFront {
		if filter == ours || filter == front {
			tipos = append(tipos, ours)
		}
	}
	return tipos, len(tipos) > 0
}

// Outcome is what a resolution does.
type Outcome struct {
	Estado string // the dispute's new state
	// JobEstado is the job's new work state; empty means "the state it had before".
	JobEstado string
}

// ResolveOutcome maps an admin's "in favour of" onto the dispute and job states:
// cliente refunds (CANCELADO), profesional releases (APROBADO), ninguno dismisses the
// claim and the job resumes with the money still held.
func ResolveOutcome(aFavor string) (Outcome, bool) {
	switch aFavor {
	case "cliente":
		return Outcome{Estado: DisputaFavorCliente, JobEstado: EstadoCancelado}, true
	case "profesional":
		return Outcome{Estado: DisputaFavorProfesional, JobEstado: EstadoAprobado}, true
	case "ninguno":
		return Outcome{Estado: DisputaDesestimada}, true
	}
	return Outcome{}, false
}

// Dispute is what the dispute rules need.
type Dispute struct {
	Job        Job
	AbiertaPor string
	Estado     string
}

// CanSeeDispute: the job's parties and admins.
func CanSeeDispute(d Dispute, a Actor) error {
	if PartyOf(d.Job, a) == Stranger {
		return apperr.Forbidden("disputa_ajena", "No participás de esta disputa")
	}
	return nil
}

// CanAddEvidence: a party (not an admin acting as such), while the dispute is open.
func CanAddEvidence(d Dispute, a Actor) error {
	if p := PartyOf(d.Job, a); p != Cliente && p != Profesional {
		return apperr.Forbidden("disputa_ajena", "Solo las partes de la disputa pueden aportar evidencias")
	}
	return mustBeOpen(d)
}

// CanPostDisputeMessage: the parties and admins, while the dispute is open.
func CanPostDisputeMessage(d Dispute, a Actor) error {
	if err := CanSeeDispute(d, a); err != nil {
		return err
	}
	return mustBeOpen(d)
}

// CanCancelDispute: only whoever opened it, only while open.
func CanCancelDispute(d Dispute, a Actor) error {
	if a.ID != d.AbiertaPor {
		return apperr.Forbidden("solo_iniciador", "Solo quien abrió la disputa puede cancelarla")
	}
	return mustBeOpen(d)
}

func mustBeOpen(d Dispute) error {
	if d.Estado != DisputaAbierta {
		return apperr.Invalid("disputa_cerrada", "La disputa ya está cerrada")
	}
	return nil
}

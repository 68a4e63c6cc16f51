package professionals

import (
	"strings"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/bank"
)

// KYC states.
const (
	EstadoPendiente  = "PENDIENTE"
	EstadoEnRevision = "EN_REVISION"
	EstadoAprobado   = "APROBADO"
	EstadoRechazado  = "RECHAZADO"
)

// Levels, lowest first.
var niveles = []string{"BRONCE", "PLATA", "ORO", "DIAMANTE"}

func validNivel(n string) bool {
	for _, x := range niveles {
		if x == n {
			return true
		}
	}
	return false
}

// NormalizePayout validates a payout account and returns its canonical form: a CBU/CVU
// without spaces, or an alias in lower case (aliases are case-insensitive). The account
// rules themselves are platform/bank's, shared with payments' bank accounts.
func NormalizePayout(raw string) (string, error) {
	s := strings.ToLower(strings.TrimSpace(raw))
	digits := strings.NewReplacer(" ", "", "-", "").Replace(s)
	allDigits := digits != ""
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			allDigits = false
			break
		}
	}
	if allDigits {
		if len(digits) != 22 {
			return "", apperr.Validation(apperr.FieldError{Field: "payout_account", Msg: "el CBU/CVU debe tener 22 dígitos"})
		}
		if !bank.ValidCBU(digits) {
			return "", apperr.Validation(apperr.FieldError{Field: "payout_account", Msg: "el CBU/CVU tiene dígitos verificadores inválidos"})
		}
		return digits, nil
	}
	if !bank.ValidAlias(s) {
		return "", apperr.Validation(apperr.FieldError{Field: "payout_account", Msg: "debe ser un CBU/CVU de 22 dígitos o un alias de 6 a 20 caracteres (a-z, 0-9, punto, guion)"})
	}
	return s, nil
}

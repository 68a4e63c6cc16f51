package professionals

import (
	"strings"

	"github.com/conectarpro/conectar/platform/apperr"
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

// cbuWeights are the BCRA weights of the two CBU blocks (the first block's 7 digits use
// the first 7; the second block's 13 digits use all).
var cbuWeights = []int{3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3}

// cbuBlockOK checks one block: the last digit must be (10 - Σ dᵢ·wᵢ mod 10) mod 10, with
// the weights aligned to the block's last data digit (…,7,1,3 for both blocks).
func cbuBlockOK(block string) bool {
	n := len(block) - 1
	w := cbuWeights[len(cbuWeights)-n:]
	sum := 0
	for i := 0; i < n; i++ {
		sum += int(block[i]-'0') * w[i]
	}
	return (10-sum%10)%10 == int(block[n]-'0')
}

// ValidCBU reports whether s is a 22-digit CBU or CVU with valid check digits: block 1
// is bank (3) + branch (4) + check; block 2 is account (13) + check.
func ValidCBU(s string) bool {
	if len(s) != 22 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return cbuBlockOK(s[:8]) && cbuBlockOK(s[8:])
}

// ValidAlias reports whether s is a MercadoPago/bank alias: 6–20 of [a-z0-9.-].
func ValidAlias(s string) bool {
	if len(s) < 6 || len(s) > 20 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// NormalizePayout validates a payout account and returns its canonical form: a CBU/CVU
// without spaces, or an alias in lower case (aliases are case-insensitive).
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
		if !ValidCBU(digits) {
			return "", apperr.Validation(apperr.FieldError{Field: "payout_account", Msg: "el CBU/CVU tiene dígitos verificadores inválidos"})
		}
		return digits, nil
	}
	if !ValidAlias(s) {
		return "", apperr.Validation(apperr.FieldError{Field: "payout_account", Msg: "debe ser un CBU/CVU de 22 dígitos o un alias de 6 a 20 caracteres (a-z, 0-9, punto, guion)"})
	}
	return s, nil
}

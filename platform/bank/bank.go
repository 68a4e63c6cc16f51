// Package bank checks the two ways an Argentine transfer is addressed: a CBU (bank
// account) or CVU (virtual wallet account), 22 digits with BCRA check digits, and an
// alias. Professionals validate the payout account a professional types in its profile
// and payments validates the bank account a withdrawal is sent to; both must accept
// exactly the same numbers, so the rules live here once, with no I/O and no service's
// vocabulary.
package bank

// cbuWeights are the BCRA weights of the two CBU blocks (the first block's 7 digits use
// the last 7; the second block's 13 digits use all).
var cbuWeights = [...]int{3, 9, 7, 1, 3, 9, 7, 1, 3, 9, 7, 1, 3}

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
// is bank (3) + branch (4) + check; block 2 is account (13) + check. s must already be
// bare digits (callers strip the spaces and dashes people type).
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

// ValidAlias reports whether s is a MercadoPago/bank alias: 6–20 of [a-z0-9.-]. Aliases
// are case-insensitive, so callers lower-case what people type before asking.
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

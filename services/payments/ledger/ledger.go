// Package ledger holds the escrow's double-entry rules as pure functions. Amounts are
// integer centavos; a posting's amount is positive for a debit and negative for a
// credit, and every transaction's postings sum to zero.
//
// Accounts:
//
//	mp_balance            asset: money in the platform's MercadoPago account
//	escrow                liability: money held for a job until release or refund
//	professional_payable  liability: owed to professionals and available to withdraw
//	professional_reserved liability: asked for in a withdrawal, until its payout leaves
//	platform_revenue      income: the commission
//	chargeback_losses     expense: money taken back by a card dispute after release, as
//	                      booked before such a chargeback became the professional's debt
package ledger

import (
	"errors"
	"fmt"

	"github.com/conectarpro/conectar/platform/money"
)

// Accounts.
const (
	MPBalance            = "mp_balance"
	Escrow               = "escrow"
	ProfessionalPayable  = "professional_payable"
	ProfessionalReserved = "professional_reserved"
	PlatformRevenue      = "platform_revenue"
	ChargebackLosses     = "chargeback_losses"
)

// Transaction kinds; each happens at most once per job or per withdrawal.
const (
	KindHold       = "HOLD"
	KindRelease    = "RELEASE"
	KindPayout     = "PAYOUT"
	KindRefund     = "REFUND"
	KindChargeback = "CHARGEBACK"
	// KindChargebackReversal gives back what a chargeback took when the card dispute is
	// decided for the seller.
	KindChargebackReversal = "CHARGEBACK_REVERSAL"
	KindReserve            = "RESERVE"   // a withdrawal is requested
	KindUnreserve          = "UNRESERVE" // a withdrawal is rejected
)

// MinWithdrawal is the smallest withdrawal a professional may request (ARS 1000.00).
const MinWithdrawal = 100000

// Posting is one line of a transaction.
type Posting struct {
	Account string
	Amount  int64 // debit > 0, credit < 0
}

// Levels and their commission in basis points (SPEC §7).
var levelBP = map[string]int{"BRONCE": 2000, "PLATA": 1800, "ORO": 1500, "DIAMANTE": 1000}

// DefaultBP is the commission of a professional we know nothing about (BRONCE).
const DefaultBP = 2000

// LevelBP returns the commission of a level (DefaultBP for unknown levels).
func LevelBP(nivel string) int {
	if bp, ok := levelBP[nivel]; ok {
		return bp
	}
	return DefaultBP
}

// Split is a release's arithmetic.
type Split struct {
	Price      int64
	RateBP     int
	Commission int64
	Net        int64
}

// Commission splits price at rateBP, rounding the commission half away from zero to the
// centavo; the professional gets the rest, so the two always add up to the price.
func Commission(price int64, rateBP int) (Split, error) {
	if price <= 0 {
		return Split{}, fmt.Errorf("commission: price %d must be positive", price)
	}
	if rateBP < 0 || rateBP > 10000 {
		return Split{}, fmt.Errorf("commission: rate %d bp out of range", rateBP)
	}
	c := int64(money.Centavos(price).PercentBP(rateBP))
	return Split{Price: price, RateBP: rateBP, Commission: c, Net: price - c}, nil
}

// Hold: the client's payment arrives in our MercadoPago account and is held for the job.
func Hold(price int64) []Posting {
	return []Posting{{MPBalance, price}, {Escrow, -price}}
}

// Release: the held money becomes commission plus what we owe the professional.
func Release(s Split) []Posting {
	p := []Posting{{Escrow, s.Price}, {PlatformRevenue, -s.Commission}, {ProfessionalPayable, -s.Net}}
	return nonZero(p)
}

// Payout: the transfer to the professional leaves our account. Payouts of the earlier
// model (one per released job) came straight from the payable balance.
func Payout(net int64) []Posting {
	return []Posting{{ProfessionalPayable, net}, {MPBalance, -net}}
}

// Reserve: a withdrawal request sets its amount aside from the available balance, so no
// second request can spend it.
func Reserve(amount int64) []Posting {
	return []Posting{{ProfessionalPayable, amount}, {ProfessionalReserved, -amount}}
}

// Unreserve: a rejected withdrawal gives its amount back to the available balance.
func Unreserve(amount int64) []Posting {
	return []Posting{{ProfessionalReserved, amount}, {ProfessionalPayable, -amount}}
}

// WithdrawalPayout: an approved withdrawal's transfer leaves our account.
func WithdrawalPayout(amount int64) []Posting {
	return []Posting{{ProfessionalReserved, amount}, {MPBalance, -amount}}
}

// Refund: the held money goes back to the client.
func Refund(price int64) []Posting {
	return []Posting{{Escrow, price}, {MPBalance, -price}}
}

// Chargeback: the card issuer takes the money back while it is held: it comes out of the
// escrow.
func Chargeback(price int64) []Posting {
	return []Posting{{Escrow, price}, {MPBalance, -price}}
}

// ChargebackReleased: the card issuer takes back money already released. The sale is
// undone on both sides: the platform gives up its commission and the professional owes
// their share, which is taken from their available balance (below zero, a debt that
// their next releases pay first). Otherwise a professional and an accomplice paying
// with a card could be paid, withdraw, dispute the charge and leave the platform to pay
// twice.
func ChargebackReleased(s Split) []Posting {
	return nonZero([]Posting{{PlatformRevenue, s.Commission}, {ProfessionalPayable, s.Net}, {MPBalance, -s.Price}})
}

// Reverse is the transaction that undoes ps: every line with its sign turned. A
// chargeback decided for the seller is undone this way, line for line, so whatever split
// the chargeback recorded is exactly what comes back.
func Reverse(ps []Posting) []Posting {
	out := make([]Posting, len(ps))
	for i, p := range ps {
		out[i] = Posting{Account: p.Account, Amount: -p.Amount}
	}
	return out
}

func nonZero(ps []Posting) []Posting {
	out := ps[:0]
	for _, p := range ps {
		if p.Amount != 0 {
			out = append(out, p)
		}
	}
	return out
}

// ErrUnbalanced is returned for a transaction whose postings do not sum to zero.
var ErrUnbalanced = errors.New("ledger: transaction does not balance")

// Check verifies a transaction: at least two postings, none zero, sum zero.
func Check(ps []Posting) error {
	if len(ps) < 2 {
		return fmt.Errorf("%w: %d postings", ErrUnbalanced, len(ps))
	}
	var sum int64
	for _, p := range ps {
		if p.Amount == 0 || p.Account == "" {
			return fmt.Errorf("%w: empty posting %+v", ErrUnbalanced, p)
		}
		sum += p.Amount
	}
	if sum != 0 {
		return fmt.Errorf("%w: sum %d", ErrUnbalanced, sum)
	}
	return nil
}

package ledger

import "testing"

func TestCommissionLevelsAndRounding(t *testing.T) {
	cases := []struct {
		nivel      string
		price      int64
		commission int64
	}{
		{"BRONCE", 100000, 20000},   // $1000.00 × 20 %
		{"PLATA", 100000, 18000},    // × 18 %
		{"ORO", 100000, 15000},      // × 15 %
		{"DIAMANTE", 100000, 10000}, // × 10 %
		{"BRONCE", 333, 67},         // 66.6 → 67
		{"PLATA", 12345, 2222},      // 2222.1 → 2222
		{"ORO", 10, 2},              // 1.5 → 2 (half away from zero)
		{"DIAMANTE", 5, 1},          // 0.5 → 1
		{"DIAMANTE", 4, 0},          // 0.4 → 0
		{"ORO", 123457, 18519},      // 18518.55 → 18519
		{"desconocido", 1000, 200},  // default BRONCE
	}
	for _, c := range cases {
		s, err := Commission(c.price, LevelBP(c.nivel))
		if err != nil {
			t.Fatal(err)
		}
		if s.Commission != c.commission || s.Net != c.price-c.commission {
			t.Errorf("%s %d: got %+v, want commission %d", c.nivel, c.price, s, c.commission)
		}
		if err := Check(Release(s)); err != nil && s.Price != 0 {
			t.Errorf("release unbalanced: %v", err)
		}
	}
}

func TestCommissionRejects(t *testing.T) {
	if _, err := Commission(0, 2000); err == nil {
		t.Fatal("zero price accepted")
	}
	if _, err := Commission(100, 10001); err == nil {
		t.Fatal("rate > 100 % accepted")
	}
}

func TestTransactionsBalance(t *testing.T) {
	for name, ps := range map[string][]Posting{
		"hold": Hold(5000), "payout": Payout(4000), "refund": Refund(5000),
		"chargeback held": Chargeback(5000),
		"reserve":         Reserve(100000), "unreserve": Unreserve(100000), "withdrawal payout": WithdrawalPayout(100000),
	} {
		if err := Check(ps); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if err := Check([]Posting{{Escrow, 1}, {MPBalance, -2}}); err == nil {
		t.Fatal("unbalanced accepted")
	}
	// A full-commission release has no payable line but still balances.
	s, _ := Commission(100, 10000)
	if err := Check(Release(s)); err != nil {
		t.Fatal(err)
	}
}

// A chargeback after release undoes the release and the payment: the commission and the
// professional's share go back and the money leaves, whatever the rate (a full-commission
// split has no share line).
func TestChargebackReleasedUndoesTheSale(t *testing.T) {
	for _, bp := range []int{0, 1500, 2000, 10000} {
		s, err := Commission(123457, bp)
		if err != nil {
			t.Fatal(err)
		}
		cb := ChargebackReleased(s)
		if err := Check(cb); err != nil {
			t.Fatalf("%d bp: %v", bp, err)
		}
		m := map[string]int64{}
		for _, tx := range [][]Posting{Hold(s.Price), Release(s), cb} {
			for _, p := range tx {
				m[p.Account] += p.Amount
			}
		}
		for acct, v := range m {
			if v != 0 {
				t.Errorf("%d bp: %s ends at %d after hold, release and chargeback", bp, acct, v)
			}
		}
	}
}

// A chargeback decided for the seller puts every account back where release (or hold)
// left it: reversing is exact for either kind of chargeback, and balanced.
func TestReverseUndoesAChargeback(t *testing.T) {
	s, err := Commission(123457, 1500)
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct{ before, cb []Posting }{
		"held":     {Hold(s.Price), Chargeback(s.Price)},
		"released": {append(Hold(s.Price), Release(s)...), ChargebackReleased(s)},
	} {
		rev := Reverse(c.cb)
		if err := Check(rev); err != nil {
			t.Fatalf("%s: reversal unbalanced: %v", name, err)
		}
		want, got := map[string]int64{}, map[string]int64{}
		for _, p := range c.before {
			want[p.Account] += p.Amount
			got[p.Account] += p.Amount
		}
		for _, p := range append(append([]Posting{}, c.cb...), rev...) {
			got[p.Account] += p.Amount
		}
		for acct, v := range got {
			if v != want[acct] {
				t.Errorf("%s: %s at %d after the reversal, %d before the chargeback", name, acct, v, want[acct])
			}
		}
		if rev[0].Amount != -c.cb[0].Amount || rev[0].Account != c.cb[0].Account {
			t.Errorf("%s: reversal %v of %v", name, rev, c.cb)
		}
	}
}

// A withdrawal's life leaves the professional's accounts where they started (rejected) or
// moves exactly the amount out of the platform (paid).
func TestWithdrawalFlows(t *testing.T) {
	sum := func(txs ...[]Posting) map[string]int64 {
		m := map[string]int64{}
		for _, tx := range txs {
			for _, p := range tx {
				m[p.Account] += p.Amount
			}
		}
		return m
	}
	rejected := sum(Reserve(150000), Unreserve(150000))
	if rejected[ProfessionalPayable] != 0 || rejected[ProfessionalReserved] != 0 {
		t.Fatalf("rejected withdrawal left %v", rejected)
	}
	paid := sum(Reserve(150000), WithdrawalPayout(150000))
	if paid[ProfessionalPayable] != 150000 || paid[ProfessionalReserved] != 0 || paid[MPBalance] != -150000 {
		t.Fatalf("paid withdrawal left %v", paid)
	}
}

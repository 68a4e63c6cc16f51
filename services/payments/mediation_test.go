package payments

import (
	"testing"
	"time"

	"github.com/conectarpro/conectar/services/payments/mp"
)

// An approved payment after a claim counts as the claim's end only when MercadoPago's
// date_last_updated proves it newer than the claim: the same reads, fetched in another
// order, must not thaw a job.
func TestMediationClosedNeedsANewerRead(t *testing.T) {
	at := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	claim := recorded{status: "in_mediation", updated: &at}
	cases := []struct {
		name string
		prev recorded
		p    mp.Payment
		want bool
	}{
		{"approved after the claim", claim, mp.Payment{Status: "approved", DateLastUpdated: at.Add(time.Millisecond)}, true},
		{"approved as old as the claim", claim, mp.Payment{Status: "approved", DateLastUpdated: at}, false},
		{"approved before the claim", claim, mp.Payment{Status: "approved", DateLastUpdated: at.Add(-time.Second)}, false},
		{"approved without a date", claim, mp.Payment{Status: "approved"}, false},
		{"claim recorded without a date", recorded{status: "in_mediation"}, mp.Payment{Status: "approved", DateLastUpdated: at}, false},
		{"refunded after the claim", claim, mp.Payment{Status: "refunded", DateLastUpdated: at.Add(time.Second)}, false},
		{"approved after a chargeback", recorded{status: "charged_back", updated: &at}, mp.Payment{Status: "approved", DateLastUpdated: at.Add(time.Second)}, false},
	}
	for _, c := range cases {
		if got := mediationClosed(c.prev, c.p); got != c.want {
			t.Errorf("%s: mediationClosed = %v, want %v", c.name, got, c.want)
		}
	}
}

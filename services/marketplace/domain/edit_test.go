package domain

import (
	"testing"
	"time"

	"github.com/conectarpro/conectar/platform/apperr"
)

func TestCanEdit(t *testing.T) {
	now := time.Now()
	past, future := now.Add(-time.Minute), now.Add(time.Hour)
	open := Offer{ClienteID: "c", ProfesionalID: "p", Estado: OfertaOfertado, ExpiresAt: &future}
	if kind(CanEdit(open, "p", now)) != "ok" {
		t.Fatal("the professional edits an open offer")
	}
	if kind(CanEdit(open, "c", now)) != "403" || kind(CanEdit(open, "x", now)) != "403" {
		t.Fatal("only the offer's professional edits it")
	}
	for _, estado := range []string{OfertaAceptado, OfertaRechazado, OfertaExpirado, OfertaRetirado} {
		closed := open
		closed.Estado = estado
		if kind(CanEdit(closed, "p", now)) != "400" {
			t.Fatalf("a %s offer cannot be edited", estado)
		}
	}
	expired := open
	expired.ExpiresAt = &past
	if kind(CanEdit(expired, "p", now)) != "400" {
		t.Fatal("an offer past its expiry cannot be edited")
	}
}

// TestDisputedJobFrozenSaysWhy: the web shows a disputed job in its earlier work state,
// so a refused step must name the dispute, not a state the page never showed.
func TestDisputedJobFrozenSaysWhy(t *testing.T) {
	j := job(EstadoDisputado, EscrowEnEscrow)
	for name, err := range map[string]error{
		"start":   CanStart(j, pro),
		"deliver": CanDeliver(j, pro),
		"approve": CanApprove(j, cli, true),
	} {
		e, ok := apperr.As(err)
		if !ok || e.Code != "trabajo_en_disputa" || e.Kind != apperr.KindInvalid {
			t.Errorf("%s of a disputed job: %v", name, err)
		}
	}
}

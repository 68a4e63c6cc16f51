package marketplace

import (
	"testing"

	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// TestTransactionWords pins the payment card's words for every money state, written out
// literally. services/payments/transactions_test.go pins the same table for payments'
// GET /pagos/transacciones/{id}: change both or neither, or the card shows one state
// under two names depending on the call.
func TestTransactionWords(t *testing.T) {
	want := []struct{ escrow, estadoEscrow, estado string }{
		{"PENDIENTE_PAGO", "PENDIENTE", "pendiente"},
		{"PAGADO_EN_ESCROW", "DEPOSITADO", "pendiente"},
		{"LIBERADO", "LIBERADO", "completado"},
		{"CANCELADO_REEMBOLSADO", "REEMBOLSADO", "reembolsado"},
		{"CANCELADO", "CANCELADO", "cancelado"},
	}
	if len(transactionEscrow) != len(want) {
		t.Errorf("transactionEscrow has %d states, the table %d", len(transactionEscrow), len(want))
	}
	for _, w := range want {
		if got := transactionEscrow[w.escrow]; got != w.estadoEscrow {
			t.Errorf("estado_escrow of %s = %q, want %q", w.escrow, got, w.estadoEscrow)
		}
		if got := transactionEstado(Trabajo{EstadoEscrow: w.escrow, Estado: domain.EstadoPagado}); got != w.estado {
			t.Errorf("estado of %s = %q, want %q", w.escrow, got, w.estado)
		}
	}
	// A dispute freezes held money: the movement shows it.
	if got := transactionEstado(Trabajo{EstadoEscrow: domain.EscrowEnEscrow, Estado: domain.EstadoDisputado}); got != "en_disputa" {
		t.Errorf("disputed held job: estado %q, want en_disputa", got)
	}
	for _, s := range domain.JobMachine().EscrowStates {
		if _, ok := transactionEscrow[s]; !ok {
			t.Errorf("money state %s has no word on the card", s)
		}
	}
}

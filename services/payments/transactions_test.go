package payments

import "testing"

// TestTransactionEscrowWords pins the payment card's words for every money state,
// written out literally. services/marketplace/transaction_test.go pins the same table for
// the card marketplace answers after a release or a refund (POST
// /pagos/transacciones/{id}/liberar and …/reembolso): change both or neither, or one
// state shows under two names depending on the call. (The estado words, from
// movementEstadoSQL, are checked through GET /pagos/transacciones/{id} in
// tests/frontend_test.go.)
func TestTransactionEscrowWords(t *testing.T) {
	want := map[string]string{
		"PENDIENTE_PAGO":        "PENDIENTE",
		"PAGADO_EN_ESCROW":      "DEPOSITADO",
		"LIBERADO":              "LIBERADO",
		"CANCELADO_REEMBOLSADO": "REEMBOLSADO",
		"CANCELADO":             "CANCELADO",
	}
	if len(transactionEscrow) != len(want) {
		t.Errorf("transactionEscrow has %d states, the table %d", len(transactionEscrow), len(want))
	}
	for escrow, word := range want {
		if got := transactionEscrow[escrow]; got != word {
			t.Errorf("estado_escrow of %s = %q, want %q", escrow, got, word)
		}
	}
	for _, s := range []string{EstadoPendientePago, EstadoEnEscrow, EstadoLiberado, EstadoReembolsado, EstadoCancelado} {
		if _, ok := transactionEscrow[s]; !ok {
			t.Errorf("money state %s has no word on the card", s)
		}
	}
}

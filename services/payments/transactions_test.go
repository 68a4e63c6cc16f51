package payments

import (
	"fmt"
	"testing"

	"github.com/conectarpro/conectar/platform/authn"
)

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

// TestTransactionFigures: the card's commission and net are the release's figures once
// released, a projection at the professional's rate while the money waits or is held, and
// zero once the money is going (or went) back to the client.
func TestTransactionFigures(t *testing.T) {
	rate, com, net := 1500, int64(10000), int64(40000)
	var viewer authn.Claims
	viewer.Subject = "cliente"
	cases := []struct {
		name     string
		tx       transaction
		com, net string
	}{
		{"pending", transaction{job: job{Estado: EstadoPendientePago, Precio: 50000}, TasaReplica: &rate}, "75.00", "425.00"},
		{"held, unknown rate", transaction{job: job{Estado: EstadoEnEscrow, Precio: 50000}}, "100.00", "400.00"},
		{"held, refund under way", transaction{job: job{Estado: EstadoEnEscrow, Precio: 50000, Congelado: true}, TasaReplica: &rate, Reembolsando: true}, "0.00", "0.00"},
		{"released", transaction{job: job{Estado: EstadoLiberado, Precio: 50000, Comision: &com, Liberado: &net}, TasaReplica: &rate}, "100.00", "400.00"},
		{"refunded", transaction{job: job{Estado: EstadoReembolsado, Precio: 50000}, TasaReplica: &rate, Reembolsando: true}, "0.00", "0.00"},
		{"cancelled unpaid", transaction{job: job{Estado: EstadoCancelado, Precio: 50000}}, "0.00", "0.00"},
	}
	for _, c := range cases {
		v := c.tx.view(viewer)
		if got := fmt.Sprint(v.ComisionPlataforma); got != c.com {
			t.Errorf("%s: comision_plataforma %s, want %s", c.name, got, c.com)
		}
		if got := fmt.Sprint(v.MontoNetoProfesional); got != c.net {
			t.Errorf("%s: monto_neto_profesional %s, want %s", c.name, got, c.net)
		}
	}
}

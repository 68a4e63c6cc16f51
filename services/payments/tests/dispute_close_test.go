package tests

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// A dispute withdrawn by whoever opened it, or resolved for neither party, moves no
// money: the escrow is unfrozen and stays held, and the job's later approval releases it.
func TestDisputeEndedWithoutDecisionKeepsTheMoneyHeld(t *testing.T) {
	for _, end := range []string{"cancelled", "ninguno"} {
		t.Run(end, func(t *testing.T) {
			h := newHarness(t, nil)
			prof := uuid.NewString()
			h.publish(events.ProfessionalProfileUpdatedV1{ProfesionalID: uuid.NewString(), UsuarioID: prof, PayoutAccount: "alias.sin.decision"}, prof)
			id, cliente, _ := h.accept(20000, prof)
			h.simPay(id, "approved", "")
			h.waitEstado(id, "PAGADO_EN_ESCROW")
			disputa := uuid.NewString()
			h.publish(events.DisputeOpenedV1{DisputaID: disputa, TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AbiertaPor: cliente, Tipo: "OTRO"}, id)
			if end == "cancelled" {
				h.publish(events.DisputeCancelledV1{DisputaID: disputa, TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, CanceladaPor: cliente,
					EstadoTrabajo: "PAGADO"}, id)
			} else {
				h.publish(events.DisputeResolvedV1{DisputaID: disputa, TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AFavor: "ninguno",
					Resolucion: "Sin elementos", PrecioCentavos: 20000}, id)
			}
			testkit.Eventually(t, 5*time.Second, "unfrozen", func() bool {
				return h.count("SELECT count(*) FROM trabajos WHERE trabajo_id=$1 AND NOT congelado", id) == 1
			})
			h.quiesce()
			if e := h.estado(id); e != "PAGADO_EN_ESCROW" {
				t.Fatalf("money moved on a dispute without decision: %s", e)
			}
			if n := h.count("SELECT count(*) FROM refunds WHERE trabajo_id=$1", id); n != 0 {
				t.Fatalf("%d refunds", n)
			}
			// The job goes on and is approved: the release is not blocked.
			h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 20000, Motivo: "cliente"}, id)
			h.waitEstado(id, "LIBERADO")
			h.waitEvent("EscrowReleased", id)
			h.assertLedgerBalanced()
		})
	}
}

// A release that arrived while the job was frozen goes ahead when the dispute ends
// without a decision.
func TestPendingReleaseRunsAfterDismissal(t *testing.T) {
	h := newHarness(t, nil)
	prof := uuid.NewString()
	h.publish(events.ProfessionalProfileUpdatedV1{ProfesionalID: uuid.NewString(), UsuarioID: prof, PayoutAccount: "alias.pendiente"}, prof)
	id, cliente, _ := h.accept(20000, prof)
	h.simPay(id, "approved", "")
	h.waitEstado(id, "PAGADO_EN_ESCROW")
	h.publish(events.DisputeOpenedV1{DisputaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AbiertaPor: cliente}, id)
	h.publish(events.JobCompletedV1{TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, PrecioCentavos: 20000}, id)
	testkit.Eventually(t, 5*time.Second, "release pending", func() bool {
		return h.count("SELECT count(*) FROM trabajos WHERE trabajo_id=$1 AND liberacion_pendiente", id) == 1
	})
	h.publish(events.DisputeResolvedV1{DisputaID: uuid.NewString(), TrabajoID: id, ClienteID: cliente, ProfesionalID: prof, AFavor: "ninguno"}, id)
	h.waitEstado(id, "LIBERADO")
	h.waitEvent("EscrowReleased", id)
}

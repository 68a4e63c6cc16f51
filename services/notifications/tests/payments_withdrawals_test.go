package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// Releases credit the professional's balance and money leaves through withdrawals: the
// professional hears of the credit, of the admin's decision and of the transfer, once each.
func TestWithdrawalNotifications(t *testing.T) {
	h := start(t, nil)
	prof, _ := h.register("PROFESIONAL", "Pablo")
	job, ok, bad := uuid.NewString(), uuid.NewString(), uuid.NewString()
	h.publish(events.EscrowReleasedV1{TrabajoID: job, ProfesionalID: prof, PrecioCentavos: 200000, ComisionCentavos: 40000,
		LiberadoCentavos: 160000, TasaComisionBasisPt: 2000})
	h.publish(events.WithdrawalApprovedV1{RetiroID: ok, ProfesionalID: prof, MontoCentavos: 100000, CuentaDestino: "juan.plomero", AprobadoPor: uuid.NewString()})
	h.publish(events.PayoutSentV1{PayoutID: uuid.NewString(), RetiroID: ok, ProfesionalID: prof, MontoCentavos: 100000, ExternalID: "PO-1"})
	rej := h.publish(events.WithdrawalRejectedV1{RetiroID: bad, ProfesionalID: prof, MontoCentavos: 60000, Motivo: "La cuenta no es del titular", RechazadoPor: uuid.NewString()})
	h.publishEnv(rej, rej.ID.String()) // a redelivery notifies nothing twice
	// A chargeback of held money takes nothing from the professional: not theirs to hear.
	h.publish(events.PaymentChargedBackV1{TrabajoID: uuid.NewString(), PaymentID: "PAY-1", Status: "charged_back", MontoCentavos: 50000,
		ProfesionalID: prof})
	h.publish(events.PaymentChargedBackV1{TrabajoID: job, PaymentID: "PAY-2", Status: "charged_back", MontoCentavos: 200000,
		ProfesionalID: prof, DescontadoCentavos: 160000})
	// Its reversal gives the share back, and says so; one of held money, again, does not.
	h.publish(events.PaymentChargebackReversedV1{TrabajoID: uuid.NewString(), PaymentID: "PAY-1", Status: "charged_back",
		StatusDetail: "reimbursed", MontoCentavos: 50000, ProfesionalID: prof, Retenido: true})
	h.publish(events.PaymentChargebackReversedV1{TrabajoID: job, PaymentID: "PAY-2", Status: "charged_back",
		StatusDetail: "reimbursed", MontoCentavos: 200000, ProfesionalID: prof, ReintegradoCentavos: 160000})
	want := []string{"pago_acreditado", "retiro_aprobado", "pago_enviado", "retiro_rechazado", "contracargo", "contracargo_revertido"}
	testkit.Eventually(t, 15*time.Second, "withdrawal notifications", func() bool {
		for _, e := range want {
			if len(h.withEvento(prof, e)) != 1 {
				return false
			}
		}
		return true
	})
	h.settle()
	checks := map[string]string{"pago_acreditado": "saldo disponible", "retiro_aprobado": "aprobado",
		"pago_enviado": "retiro", "retiro_rechazado": "La cuenta no es del titular", "contracargo": "Descontamos $ 1.600,00 de tu saldo",
		"contracargo_revertido": "Devolvimos $ 1.600,00 a tu saldo"}
	for evento, text := range checks {
		n := h.withEvento(prof, evento)
		if len(n) != 1 || n[0].Tipo != "pago" || !strings.Contains(n[0].Mensaje, text) {
			t.Errorf("%s: %+v (want one pago notification mentioning %q)", evento, n, text)
		}
	}
}

// A refund that went back (through MercadoPago or by a transfer an admin recorded) tells
// the client once, however often the event is delivered; nobody else hears of it.
func TestRefundIssuedTellsTheClient(t *testing.T) {
	h := start(t, nil)
	cli, _ := h.register("CLIENTE", "Carla")
	prof, _ := h.register("PROFESIONAL", "Pablo")
	job := uuid.NewString()
	env := h.publish(events.RefundIssuedV1{RefundID: uuid.NewString(), TrabajoID: job, ClienteID: cli, MontoCentavos: 1500050})
	h.publishEnv(env, env.ID.String()) // a redelivery notifies nothing twice
	testkit.Eventually(t, 15*time.Second, "the refund notification", func() bool { return len(h.withEvento(cli, "reembolso_emitido")) == 1 })
	h.settle()
	n := h.withEvento(cli, "reembolso_emitido")
	if len(n) != 1 || n[0].Tipo != "pago" || !strings.Contains(n[0].Mensaje, "Te devolvimos $ 15.000,50") || n[0].Data["trabajo_id"] != job {
		t.Fatalf("refund notification %+v", n)
	}
	if got := h.withEvento(prof, "reembolso_emitido"); len(got) != 0 {
		t.Fatalf("the professional was told of the client's refund: %+v", got)
	}
}

package marketplace

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// The web frontend's payment card calls a job's money a "transaction" whose id is the
// job's id. Releasing it is the client's approval of the job and asking for a refund is
// the client's cancel of the paid job: both are marketplace decisions, so
// POST /pagos/transacciones/{id}/liberar and …/reembolso are served here by the finalizar
// and cancel handlers, and only their answer differs (viewTransaction). Reading one
// (GET /pagos/transacciones/{id}) stays in payments; both must show the same words.

// transactionEscrow is the card's word for each money state (estado_escrow): PENDIENTE,
// DEPOSITADO, LIBERADO, REEMBOLSADO. A job cancelled before anyone paid has no word there
// and is shown as CANCELADO. Payments' GET /pagos/transacciones/{id} uses the same table
// (services/payments/transactions.go); a test in each service pins it.
var transactionEscrow = map[string]string{
	domain.EscrowPendientePago: "PENDIENTE",
	domain.EscrowEnEscrow:      "DEPOSITADO",
	domain.EscrowLiberado:      "LIBERADO",
	domain.EscrowReembolsado:   "REEMBOLSADO",
	domain.EscrowCancelado:     "CANCELADO",
}

// transactionEstado is the card's estado, the lower-case vocabulary of payment movements
// (frontend-shapes §3 item 12), as payments' movementEstadoSQL spells it: waiting or held
// money is pendiente (en_disputa while a dispute freezes it), then completado,
// reembolsado or cancelado.
func transactionEstado(t Trabajo) string {
	switch t.EstadoEscrow {
	case domain.EscrowPendientePago, domain.EscrowEnEscrow:
		if t.Estado == domain.EstadoDisputado {
			return "en_disputa"
		}
		return "pendiente"
	case domain.EscrowLiberado:
		return "completado"
	case domain.EscrowReembolsado:
		return "reembolsado"
	}
	return "cancelado"
}

// Transaction is the frontend's Transaction (frontend-shapes §2.9).
type Transaction struct {
	ID                      string         `json:"id"`
	TrabajoID               string         `json:"trabajo_id"`
	ClienteID               string         `json:"cliente_id"`
	ProfesionalID           string         `json:"profesional_id"`
	Monto                   money.Centavos `json:"monto"`
	Estado                  string         `json:"estado"`
	EstadoEscrow            string         `json:"estado_escrow"`
	MetodoPago              string         `json:"metodo_pago"`
	MercadopagoPreferenceID *string        `json:"mercadopago_preference_id"`
	MercadopagoPaymentID    *string        `json:"mercadopago_payment_id"`
	FechaCreacion           time.Time      `json:"fecha_creacion"`
	CreatedAt               time.Time      `json:"created_at"`
	FechaLiberacion         *time.Time     `json:"fecha_liberacion"`
	Descripcion             string         `json:"descripcion"`
	ClienteNombre           string         `json:"cliente_nombre"`
	ProfesionalNombre       string         `json:"profesional_nombre"`
	PuedeLiberar            bool           `json:"puede_liberar"`
	PuedeSolicitarReembolso bool           `json:"puede_solicitar_reembolso"`
	ComisionPlataforma      money.Centavos `json:"comision_plataforma"`
	MontoNetoProfesional    money.Centavos `json:"monto_neto_profesional"`
}

// defaultCommissionBP is what payments charges a professional it knows nothing about
// (BRONCE); used only to project a commission that is not fixed yet.
const defaultCommissionBP = 2000

// transactionOf renders job t as the Transaction viewer a sees. The buttons follow the
// job's own rules (domain), so the card never offers a move the handlers would refuse.
func (m *Market) transactionOf(ctx context.Context, a domain.Actor, t Trabajo) (Transaction, error) {
	cliente := domain.PartyOf(t.rules(), a) == domain.Cliente
	paid, cancelErr := domain.CanCancel(t.rules(), a)
	tx := Transaction{
		ID: t.ID, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
		Monto: t.PrecioFinal, Estado: transactionEstado(t), EstadoEscrow: transactionEscrow[t.EstadoEscrow],
		MetodoPago: "mercadopago", MercadopagoPreferenceID: t.PaymentPreferenceID, MercadopagoPaymentID: t.MercadopagoPaymentID,
		FechaCreacion: t.FechaCreacion.UTC(), CreatedAt: t.FechaCreacion.UTC(), Descripcion: t.Descripcion,
		ClienteNombre: m.fullName(ctx, t.ClienteID), ProfesionalNombre: m.fullName(ctx, t.ProfesionalID),
		PuedeLiberar:            cliente && domain.CanApprove(t.rules(), a, false) == nil,
		PuedeSolicitarReembolso: cliente && cancelErr == nil && paid,
	}
	switch t.EstadoEscrow {
	case domain.EscrowLiberado:
		// The figures payments fixed at the release (EscrowReleased).
		tx.ComisionPlataforma, tx.MontoNetoProfesional = deref(t.ComisionPlataforma), deref(t.MontoLiberado)
		at, err := m.releasedAt(ctx, t.ID)
		if err != nil {
			return tx, err
		}
		tx.FechaLiberacion = at
	case domain.EscrowPendientePago, domain.EscrowEnEscrow:
		if t.Estado == domain.EstadoCancelado {
			break // cancelled: the held money goes back to the client
		}
		// Not fixed until the release: what the professional's current rate would charge.
		tx.ComisionPlataforma = t.PrecioFinal.PercentBP(m.commissionBP(ctx, t.ProfesionalID))
		tx.MontoNetoProfesional = t.PrecioFinal - tx.ComisionPlataforma
	}
	// Refunded or cancelled (also while the refund is under way): nothing is charged and
	// nothing goes to the professional.
	return tx, nil
}

// fullName is a person's name from the replica (asked once from users on a miss); a
// failure leaves it empty rather than failing the answer over a label.
func (m *Market) fullName(ctx context.Context, id string) string {
	u, err := m.user(ctx, id)
	if err != nil {
		m.s.Deps.Log.Warn("transaction party unknown", "user", id, "err", err)
		return ""
	}
	return strings.TrimSpace(u.Nombre + " " + u.Apellido)
}

// commissionBP is the professional's current commission rate as professionals (which
// owns levels) reports it; the default rate when it cannot tell, since the figure is
// only a projection until payments fixes it at the release.
func (m *Market) commissionBP(ctx context.Context, proUserID string) int {
	var out struct {
		TasaBP *int `json:"tasa_comision_bp"`
	}
	if err := m.s.InternalGet(ctx, "professionals", "/internal/professionals/by-user/"+proUserID, &out); err != nil || out.TasaBP == nil ||
		*out.TasaBP < 0 || *out.TasaBP > 10000 {
		return defaultCommissionBP
	}
	return *out.TasaBP
}

// releaseLine starts the timeline line the EscrowReleased consumer writes (payments.go).
// A release of an approved job changes no work state, so that line is found by its text;
// TestTransactionRelease fails if the two drift apart.
const releaseLine = "Fondos liberados al profesional"

// releasedAt is when marketplace applied the job's EscrowReleased, nil if it has no
// such line.
func (m *Market) releasedAt(ctx context.Context, jobID string) (*time.Time, error) {
	var at time.Time
	err := m.pool.QueryRow(ctx, `SELECT created_at FROM trabajo_eventos WHERE trabajo_id = $1 AND tipo = 'PAGO' AND starts_with(descripcion, $2)
		ORDER BY id DESC LIMIT 1`, jobID, releaseLine).Scan(&at)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, wrapf(err, "release time of "+jobID)
	}
	at = at.UTC()
	return &at, nil
}

package events

import "time"

// Subjects of the payments context.
const (
	SubjPaymentCheckoutCreated    = "payments.checkout.created"
	SubjPaymentCheckoutFailed     = "payments.checkout.failed"
	SubjPaymentCheckoutExpired    = "payments.checkout.expired"
	SubjPaymentApproved           = "payments.payment.approved"
	SubjPaymentRejected           = "payments.payment.rejected"
	SubjPaymentRefunded           = "payments.payment.refunded"
	SubjPaymentChargedBack        = "payments.payment.charged_back"
	SubjPaymentChargebackReversed = "payments.payment.chargeback_reversed"
	SubjEscrowHeld                = "payments.escrow.held"
	SubjEscrowReleased            = "payments.escrow.released"
	SubjPayoutSent                = "payments.payout.sent"
	SubjPayoutFailed              = "payments.payout.failed"
	SubjRefundIssued              = "payments.refund.issued"
	SubjWithdrawalRequested       = "payments.withdrawal.requested"
	SubjWithdrawalApproved        = "payments.withdrawal.approved"
	SubjWithdrawalRejected        = "payments.withdrawal.rejected"
)

// PaymentCheckoutCreatedV1 answers OfferAccepted: the client can pay at PaymentURL.
type PaymentCheckoutCreatedV1 struct {
	TrabajoID    string `json:"trabajo_id"`
	OfertaID     string `json:"oferta_id,omitempty"`
	PreferenceID string `json:"preference_id"`
	PaymentURL   string `json:"payment_url"`
}

func (PaymentCheckoutCreatedV1) EventType() string { return "PaymentCheckoutCreated" }
func (PaymentCheckoutCreatedV1) EventVersion() int { return 1 }
func (PaymentCheckoutCreatedV1) Subject() string   { return SubjPaymentCheckoutCreated }

// PaymentCheckoutFailedV1 answers OfferAccepted when no checkout could be created after
// retries; marketplace compensates (offer back to OFERTADO, job cancelled).
type PaymentCheckoutFailedV1 struct {
	TrabajoID string `json:"trabajo_id"`
	OfertaID  string `json:"oferta_id,omitempty"`
	Motivo    string `json:"motivo"`
}

func (PaymentCheckoutFailedV1) EventType() string { return "PaymentCheckoutFailed" }
func (PaymentCheckoutFailedV1) EventVersion() int { return 1 }
func (PaymentCheckoutFailedV1) Subject() string   { return SubjPaymentCheckoutFailed }

// DefaultCheckoutTTL is how long a checkout link stays payable when payments'
// CHECKOUT_TTL does not say otherwise; PaymentCheckoutExpired follows it. It lives in the
// contract because marketplace documents the timer in its lifecycle table.
const DefaultCheckoutTTL = 72 * time.Hour

// PaymentCheckoutExpiredV1 is published once when a job's checkout link went unpaid past
// its deadline (VenceAt, the expiration the preference carried at MercadoPago) and
// MercadoPago had no approved payment for it: payments cancelled the job's money state
// (CANCELADO), and marketplace cancels the job. A payment approved later anyway is held
// and refunded like any payment for a cancelled job.
type PaymentCheckoutExpiredV1 struct {
	TrabajoID     string    `json:"trabajo_id"`
	OfertaID      string    `json:"oferta_id,omitempty"`
	ClienteID     string    `json:"cliente_id"`
	ProfesionalID string    `json:"profesional_id"`
	PreferenceID  string    `json:"preference_id"`
	MontoCentavos int64     `json:"monto_centavos"`
	VenceAt       time.Time `json:"vence_at"`
}

func (PaymentCheckoutExpiredV1) EventType() string { return "PaymentCheckoutExpired" }
func (PaymentCheckoutExpiredV1) EventVersion() int { return 1 }
func (PaymentCheckoutExpiredV1) Subject() string   { return SubjPaymentCheckoutExpired }

// PaymentStatusV1 is the payload shared by the payment status events.
type PaymentStatusV1 struct {
	TrabajoID     string `json:"trabajo_id"`
	PaymentID     string `json:"payment_id"`
	Status        string `json:"status"`
	StatusDetail  string `json:"status_detail,omitempty"`
	MontoCentavos int64  `json:"monto_centavos"`
	ClienteID     string `json:"cliente_id,omitempty"`
	ProfesionalID string `json:"profesional_id,omitempty"`
	// DescontadoCentavos, on a chargeback of money already released, is the professional's
	// share taken back from their balance (a debt if they had withdrawn it).
	DescontadoCentavos int64 `json:"descontado_centavos,omitempty"`
}

// PaymentApprovedV1 is published once when MercadoPago reports the payment approved.
type PaymentApprovedV1 PaymentStatusV1

func (PaymentApprovedV1) EventType() string { return "PaymentApproved" }
func (PaymentApprovedV1) EventVersion() int { return 1 }
func (PaymentApprovedV1) Subject() string   { return SubjPaymentApproved }

// PaymentRejectedV1 is published when a payment attempt is rejected; the client may retry.
type PaymentRejectedV1 PaymentStatusV1

func (PaymentRejectedV1) EventType() string { return "PaymentRejected" }
func (PaymentRejectedV1) EventVersion() int { return 1 }
func (PaymentRejectedV1) Subject() string   { return SubjPaymentRejected }

// PaymentRefundedV1 is published when MercadoPago reports a refund or cancellation.
type PaymentRefundedV1 PaymentStatusV1

func (PaymentRefundedV1) EventType() string { return "PaymentRefunded" }
func (PaymentRefundedV1) EventVersion() int { return 1 }
func (PaymentRefundedV1) Subject() string   { return SubjPaymentRefunded }

// PaymentChargedBackV1 is published when the card holder disputes the charge.
type PaymentChargedBackV1 PaymentStatusV1

func (PaymentChargedBackV1) EventType() string { return "PaymentChargedBack" }
func (PaymentChargedBackV1) EventVersion() int { return 1 }
func (PaymentChargedBackV1) Subject() string   { return SubjPaymentChargedBack }

// PaymentChargebackReversedV1 is published once when MercadoPago reports that a
// chargeback was decided for the seller (status charged_back, status_detail reimbursed):
// the money the chargeback took is back. Held money returns to the escrow (the job thaws
// unless a dispute holds it; a completion that waited is released, a refund owed to the
// client waits, frozen, for an admin to transfer it); released money returns to the
// commission and to the professional's balance (ReintegradoCentavos).
type PaymentChargebackReversedV1 struct {
	TrabajoID     string `json:"trabajo_id"`
	PaymentID     string `json:"payment_id"`
	Status        string `json:"status"`
	StatusDetail  string `json:"status_detail,omitempty"`
	MontoCentavos int64  `json:"monto_centavos"`
	ClienteID     string `json:"cliente_id,omitempty"`
	ProfesionalID string `json:"profesional_id,omitempty"`
	// Retenido is true when the money was held: it is back in the escrow.
	Retenido bool `json:"retenido"`
	// ReintegradoCentavos, when the money had been released, is the professional's share
	// given back to their balance (it pays a debt the chargeback left first).
	ReintegradoCentavos int64 `json:"reintegrado_centavos,omitempty"`
}

func (PaymentChargebackReversedV1) EventType() string { return "PaymentChargebackReversed" }
func (PaymentChargebackReversedV1) EventVersion() int { return 1 }
func (PaymentChargebackReversedV1) Subject() string   { return SubjPaymentChargebackReversed }

// EscrowHeldV1 is published when the ledger holds a job's money.
type EscrowHeldV1 struct {
	TrabajoID     string `json:"trabajo_id"`
	PaymentID     string `json:"payment_id"`
	MontoCentavos int64  `json:"monto_centavos"`
	ClienteID     string `json:"cliente_id,omitempty"`
	ProfesionalID string `json:"profesional_id,omitempty"`
}

func (EscrowHeldV1) EventType() string { return "EscrowHeld" }
func (EscrowHeldV1) EventVersion() int { return 1 }
func (EscrowHeldV1) Subject() string   { return SubjEscrowHeld }

// EscrowReleasedV1 answers JobCompleted with the amounts the ledger recorded.
type EscrowReleasedV1 struct {
	TrabajoID           string `json:"trabajo_id"`
	ProfesionalID       string `json:"profesional_id"`
	PrecioCentavos      int64  `json:"precio_centavos"`
	ComisionCentavos    int64  `json:"comision_centavos"`
	LiberadoCentavos    int64  `json:"liberado_centavos"`
	TasaComisionBasisPt int    `json:"tasa_comision_bp"` // 2000 = 20 %
	// PayoutID is empty since releases credit the professional's available balance and
	// money leaves only through an approved withdrawal; it was set under the earlier
	// automatic-payout model.
	PayoutID string `json:"payout_id"`
}

func (EscrowReleasedV1) EventType() string { return "EscrowReleased" }
func (EscrowReleasedV1) EventVersion() int { return 1 }
func (EscrowReleasedV1) Subject() string   { return SubjEscrowReleased }

// PayoutSentV1 is published when the professional's transfer succeeded. A payout belongs
// to a withdrawal (RetiroID) or, under the earlier automatic-payout model, to a job.
type PayoutSentV1 struct {
	PayoutID      string `json:"payout_id"`
	RetiroID      string `json:"retiro_id,omitempty"`
	TrabajoID     string `json:"trabajo_id"`
	ProfesionalID string `json:"profesional_id"`
	MontoCentavos int64  `json:"monto_centavos"`
	ExternalID    string `json:"external_id"`
}

func (PayoutSentV1) EventType() string { return "PayoutSent" }
func (PayoutSentV1) EventVersion() int { return 1 }
func (PayoutSentV1) Subject() string   { return SubjPayoutSent }

// PayoutFailedV1 is published when a transfer attempt failed; it will be retried.
type PayoutFailedV1 struct {
	PayoutID      string `json:"payout_id"`
	RetiroID      string `json:"retiro_id,omitempty"`
	TrabajoID     string `json:"trabajo_id"`
	ProfesionalID string `json:"profesional_id"`
	MontoCentavos int64  `json:"monto_centavos"`
	Motivo        string `json:"motivo"`
	Intentos      int    `json:"intentos"`
}

func (PayoutFailedV1) EventType() string { return "PayoutFailed" }
func (PayoutFailedV1) EventVersion() int { return 1 }
func (PayoutFailedV1) Subject() string   { return SubjPayoutFailed }

// RefundIssuedV1 answers JobCancelled (paid) or a dispute resolved for the client.
type RefundIssuedV1 struct {
	RefundID      string `json:"refund_id"`
	TrabajoID     string `json:"trabajo_id"`
	ClienteID     string `json:"cliente_id"`
	MontoCentavos int64  `json:"monto_centavos"`
}

func (RefundIssuedV1) EventType() string { return "RefundIssued" }
func (RefundIssuedV1) EventVersion() int { return 1 }
func (RefundIssuedV1) Subject() string   { return SubjRefundIssued }

// WithdrawalRequestedV1 is published when a professional asks to withdraw part of their
// available balance; the amount is reserved until an admin approves or rejects it.
type WithdrawalRequestedV1 struct {
	RetiroID      string `json:"retiro_id"`
	ProfesionalID string `json:"profesional_id"` // the professional's user id
	MontoCentavos int64  `json:"monto_centavos"`
	CuentaDestino string `json:"cuenta_destino"`
}

func (WithdrawalRequestedV1) EventType() string { return "WithdrawalRequested" }
func (WithdrawalRequestedV1) EventVersion() int { return 1 }
func (WithdrawalRequestedV1) Subject() string   { return SubjWithdrawalRequested }

// WithdrawalApprovedV1 is published when an admin approves a withdrawal; its payout is
// queued (PayoutSent or PayoutFailed follow).
type WithdrawalApprovedV1 struct {
	RetiroID      string `json:"retiro_id"`
	ProfesionalID string `json:"profesional_id"`
	MontoCentavos int64  `json:"monto_centavos"`
	CuentaDestino string `json:"cuenta_destino"`
	AprobadoPor   string `json:"aprobado_por"`
}

func (WithdrawalApprovedV1) EventType() string { return "WithdrawalApproved" }
func (WithdrawalApprovedV1) EventVersion() int { return 1 }
func (WithdrawalApprovedV1) Subject() string   { return SubjWithdrawalApproved }

// WithdrawalRejectedV1 is published when an admin rejects a withdrawal; the amount is
// available again.
type WithdrawalRejectedV1 struct {
	RetiroID      string `json:"retiro_id"`
	ProfesionalID string `json:"profesional_id"`
	MontoCentavos int64  `json:"monto_centavos"`
	Motivo        string `json:"motivo"`
	RechazadoPor  string `json:"rechazado_por"`
}

func (WithdrawalRejectedV1) EventType() string { return "WithdrawalRejected" }
func (WithdrawalRejectedV1) EventVersion() int { return 1 }
func (WithdrawalRejectedV1) Subject() string   { return SubjWithdrawalRejected }

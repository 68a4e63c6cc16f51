package payments

import (
	"github.com/gofiber/fiber/v2"
	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/money"
)

// Request bodies the handlers decode. Their limits are checked by the handlers, which
// answer 400 with a code of their own; the descriptions say them.

// checkoutBody is POST /pagos/crear-pago's body. The frontend also sends monto,
// descripcion and metodo_pago: they are read by nobody (the job's price and text are the
// only truth), and listed so that sending them is documented.
type checkoutBody struct {
	TrabajoID   *string `json:"trabajo_id" jsonschema_description:"the job to pay; the query's trabajo_id wins"`
	Monto       any     `json:"monto,omitempty" jsonschema_description:"ignored: the job's price is charged"`
	Descripcion any     `json:"descripcion,omitempty" jsonschema_description:"ignored"`
	MetodoPago  any     `json:"metodo_pago,omitempty" jsonschema_description:"ignored: always MercadoPago"`
}

// paymentHintBody is the earlier frontend's unsigned payment notice.
type paymentHintBody struct {
	PaymentID any `json:"payment_id" jsonschema:"oneof_type=string;integer" jsonschema_description:"MercadoPago's payment number (a positive integer, or a string of its digits); otherwise 400 invalid_payment_id"`
}

// withdrawalBody is POST /pagos/retiros's body.
type withdrawalBody struct {
	Monto *money.Centavos `json:"monto" jsonschema_description:"ARS, at least 1000 and at most the available balance; absent is 400 monto_required"`
}

// rejectBody is the admin's reason for rejecting a withdrawal.
type rejectBody struct {
	Motivo *string `json:"motivo" jsonschema_description:"3 to 500 characters (trimmed); otherwise 400 motivo_required"`
}

// webhookBody is what MercadoPago posts (Webhooks format). The handler reads only
// type/topic, action and data.id, and only when the query lacks them; MercadoPago sends
// more fields (id, live_mode, date_created, user_id, api_version…), so the object is open.
type webhookBody struct {
	Type   string `json:"type,omitempty" jsonschema:"example=payment"`
	Topic  string `json:"topic,omitempty" jsonschema_description:"the legacy IPN's name for type"`
	Action string `json:"action,omitempty" jsonschema:"example=payment.updated"`
	Data   struct {
		ID any `json:"id,omitempty" jsonschema:"oneof_type=string;integer"`
	} `json:"data,omitzero"`
}

// JSONSchemaExtend opens the object: MercadoPago adds fields we do not read.
func (webhookBody) JSONSchemaExtend(s *jsonschema.Schema) {
	s.AdditionalProperties = jsonschema.TrueSchema
}

// Query, path and header parameters.

type webhookParams struct {
	DataID     string `query:"data.id" doc:"the payment's id (Webhooks); signed, so it must match x-signature's manifest"`
	Type       string `query:"type" doc:"the topic (Webhooks): only payment is processed, others are acknowledged and ignored"`
	ID         string `query:"id" doc:"the legacy IPN's id, read when data.id is absent"`
	Topic      string `query:"topic" doc:"the legacy IPN's topic, read when type is absent"`
	SourceNews string `query:"source_news" doc:"webhooks: set on the notification_url we give MercadoPago"`
	Signature  string `header:"x-signature" jsonschema:"required" doc:"ts=<unix seconds>,v1=<HMAC-SHA256 hex> over id:<data.id>;request-id:<x-request-id>;ts:<ts>; with MP_WEBHOOK_SECRET; stale (MP_WEBHOOK_TOLERANCE) or forged is 401"`
	RequestID  string `header:"x-request-id" doc:"MercadoPago's delivery id, part of the signed manifest"`
}

type checkoutQuery struct {
	TrabajoID string `query:"trabajo_id" jsonschema:"format=uuid" doc:"the job to pay (or the body's trabajo_id)"`
}

type jobPath struct {
	ID string `path:"id" jsonschema:"format=uuid" doc:"the job's id (a transaction's id is its job's)"`
}

type withdrawalPath struct {
	ID string `path:"id" jsonschema:"format=uuid" doc:"the withdrawal"`
}

type payoutPath struct {
	ID string `path:"id" doc:"a withdrawal's id or (earlier automatic payouts) a job's"`
}

// paging are httpx.Paging's parameters (out of range is 422).
type paging struct {
	Skip  int `query:"skip" jsonschema:"minimum=0,maximum=1000000000"`
	Page  int `query:"page" jsonschema:"minimum=1" doc:"from 1; wins over skip"`
	Limit int `query:"limit" jsonschema:"minimum=1,maximum=100"`
}

type historyQuery struct {
	paging
	Tipo   string `query:"tipo" doc:"ingreso, egreso, comision or todos (case-insensitive)"`
	Desde  string `query:"desde" doc:"from this day (AAAA-MM-DD) or instant (RFC 3339)"`
	Hasta  string `query:"hasta" doc:"up to this day, included (AAAA-MM-DD), or instant (RFC 3339)"`
	Estado string `query:"estado" doc:"earlier API: the job's escrow state (PAGADO_EN_ESCROW, LIBERADO…)"`
}

type transactionsQuery struct {
	paging
	Estado string `query:"estado" doc:"PENDIENTE, DEPOSITADO, LIBERADO, REEMBOLSADO or CANCELADO (or the escrow states)"`
}

type withdrawalsQuery struct {
	paging
	Estado string `query:"estado" doc:"PENDIENTE, APROBADO, RECHAZADO or PROCESADO (case-insensitive)"`
}

// routes declares every operation of payments once: the registry mounts it with the
// middleware chain the hand-written table had and describes it (served at
// /openapi.json, merged by the gateway). Releasing a transaction and asking for its
// refund are the job's approval and cancel: marketplace serves those two paths.
func (a *App) routes() error {
	reg := api.New(a.svc.App, api.Config{Service: Name,
		Title: "payments: MercadoPago checkout and webhooks, escrow ledger, balances, bank accounts, withdrawals",
		Auth:  a.svc.Auth(), Internal: a.svc.Internal(), Common: api.StoreErrors()})
	cliente := []string{authn.RoleCliente, authn.RoleAdmin}
	pro := []string{authn.RoleProfesional}
	admin := []string{authn.RoleAdmin}
	invalidState := apperr.Invalid("invalid_state", "")
	jobNotFound := apperr.NotFound("trabajo_not_found", "")
	notParty := apperr.Forbidden("not_party", "")
	// Paging and its out-of-range answer (httpx.Paging).
	pagingErr := apperr.Validation()

	reg.Add(api.Op{Method: "POST", Path: "/api/v1/webhook/mercadopago", Access: api.Public,
		Summary: "MercadoPago's signed webhook: a payment changed",
		Description: "Authenticated by x-signature only; stored and answered at once, then the payment is read from " +
			"MercadoPago's API and applied (nothing in the body is trusted beyond \"payment X changed\"). Any 2xx stops " +
			"MercadoPago's retries; a 5xx makes it deliver again.",
		Params: webhookParams{}, Forms: []api.Form{{MediaType: fiber.MIMEApplicationJSON, Schema: webhookBody{}}},
		Answers: []api.Answer{api.JSON(200, WebhookAck{}, "stored (payment) or acknowledged and ignored (another topic)")},
		Errors: []*apperr.Error{apperr.Unauthorized("invalid_signature", ""), apperr.Invalid("invalid_notification", ""),
			apperr.Unavailable("unavailable", "", nil)},
		Handler: a.postWebhook})
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/pagos/webhook/mercadopago", Access: api.Public,
		Summary: "The earlier frontend's unsigned payment notice (a hint)",
		Description: "Nothing in it is trusted: the payment is read from MercadoPago's API as for the signed webhook. " +
			"Hints share one rate limit per payments replica (MP_HINT_RATE, MP_HINT_BURST).",
		Body: paymentHintBody{}, Answers: []api.Answer{api.JSON(202, StatusMessage{}, "queued: the payment will be read from MercadoPago")},
		Errors:  []*apperr.Error{apperr.Invalid("invalid_payment_id", ""), apperr.New(apperr.KindRateLimited, "rate_limited", "")},
		Handler: a.postPaymentHint})

	checkoutErrs := []*apperr.Error{jobNotFound, apperr.Forbidden("not_owner", ""), invalidState,
		apperr.New(apperr.KindBadGateway, "checkout_failed", "")}
	for _, p := range []string{"/api/v1/mercadopago/create-preference", "/api/v1/payments/create-preference", "/api/v1/pagos/crear-pago"} {
		reg.Add(api.Op{Method: "POST", Path: p, Roles: cliente, Summary: "The job's MercadoPago checkout link",
			Description: "Created now if the OfferAccepted event could not create it yet; the job must be waiting for payment " +
				"and the caller its client. trabajo_id comes from the query or the body.",
			Params: checkoutQuery{}, Body: checkoutBody{}, BodyOptional: true,
			Answers: []api.Answer{api.JSON(200, Checkout{}, "the link (init_point and payment_url are the same)")},
			Errors:  checkoutErrs, Handler: a.createPreferenceHTTP})
	}

	historyErrs := []*apperr.Error{pagingErr, apperr.Invalid("invalid_type", ""), apperr.Invalid("invalid_date", ""),
		apperr.Invalid("invalid_range", "")}
	for _, p := range []string{"/api/v1/payments/history", "/api/v1/pagos/historial"} {
		reg.Add(api.Op{Method: "GET", Path: p, Access: api.Authenticated, Summary: "One's money movements, newest first",
			Description: "A client sees what they paid; a professional what they earned, the commission kept on each release " +
				"and their withdrawals; an admin the platform's view. resumen sums the whole filter.",
			Params: historyQuery{}, Answers: []api.Answer{api.JSON(200, History{}, "one page")}, Errors: historyErrs, Handler: a.history})
	}
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/balance", Roles: pro, Summary: "One's balance: available, held, earned, withdrawn",
		Answers: []api.Answer{api.JSON(200, Balance{}, "")}, Handler: a.balance})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/dashboard", Roles: pro, Summary: "One's earnings page",
		Description: "This and last month's earnings (net, Argentina's calendar), jobs released this month, the average, held jobs and open withdrawals.",
		Answers:     []api.Answer{api.JSON(200, ProfessionalDashboard{}, "")}, Handler: a.professionalDashboard})

	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/transacciones/:id", Access: api.Authenticated,
		Summary: "A job's payment (the transaction card), to its parties and admins", Params: jobPath{},
		Answers: []api.Answer{api.JSON(200, Transaction{}, "")},
		Errors:  []*apperr.Error{apperr.NotFound("transaccion_not_found", ""), notParty}, Handler: a.getTransaction})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/mis-transacciones", Access: api.Authenticated,
		Summary: "One's transactions as client or professional (an admin's: all), newest first", Params: transactionsQuery{},
		Answers: []api.Answer{api.JSON(200, TransactionPage{}, "one page")},
		Errors:  []*apperr.Error{pagingErr, invalidState}, Handler: a.myTransactions})

	reg.Add(api.Op{Method: "POST", Path: "/api/v1/pagos/cuenta-bancaria", Roles: pro, Summary: "Set one's withdrawal destination",
		Description: "Withdrawals already requested keep theirs.", Body: bankAccountInput{},
		Answers: []api.Answer{api.JSON(200, BankAccountSaved{}, "the account as stored (CBU masked)")},
		Errors: []*apperr.Error{apperr.Invalid("invalid_account_type", ""), apperr.Invalid("cbu_required", ""),
			apperr.Invalid("alias_required", ""), apperr.Invalid("invalid_cbu", ""), apperr.Invalid("invalid_alias", ""),
			apperr.Invalid("invalid_holder", ""), apperr.Invalid("invalid_bank", "")},
		Handler: a.putBankAccount})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/cuenta-bancaria", Roles: pro, Summary: "One's withdrawal destination",
		Answers: []api.Answer{api.JSON(200, (*BankAccount)(nil), "the account (CBU masked), or null when none is set")},
		Handler: a.getBankAccount})
	withdrawalsQ := []*apperr.Error{pagingErr, invalidState}
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/pagos/retiros", Roles: pro, Summary: "Ask to withdraw part of one's available balance",
		Description: "The amount is set aside at once; an admin approves (the transfer is sent) or rejects it (available again).",
		Body:        withdrawalBody{}, Answers: []api.Answer{api.JSON(201, Withdrawal{}, "the request, PENDIENTE")},
		Errors: []*apperr.Error{apperr.Invalid("monto_required", ""), apperr.Invalid("below_minimum", ""),
			apperr.Invalid("no_bank_account", ""), apperr.Invalid("insufficient_funds", "")},
		Handler: a.requestWithdrawal})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/pagos/retiros", Roles: pro, Summary: "One's withdrawal requests, newest first",
		Params: withdrawalsQuery{}, Answers: []api.Answer{api.JSON(200, []ListedWithdrawal{}, "")}, Errors: withdrawalsQ,
		Handler: a.listMyWithdrawals})

	ad := reg.Group("/api/v1/admin", "")
	ad.Add(api.Op{Method: "GET", Path: "/pagos/retiros", Roles: admin, Summary: "Every withdrawal request, newest first",
		Params: withdrawalsQuery{}, Answers: []api.Answer{api.JSON(200, []ListedWithdrawal{}, "")}, Errors: withdrawalsQ,
		Handler: a.listAdminWithdrawals})
	review := []*apperr.Error{apperr.NotFound("retiro_not_found", ""), apperr.Conflict("retiro_not_pending", "")}
	ad.Add(api.Op{Method: "POST", Path: "/pagos/retiros/:id/aprobar", Roles: admin, Summary: "Approve a withdrawal: the transfer is sent",
		Description: "The payout is retried until MercadoPago takes it: the answer shows APROBADO, PROCESADO once it left.",
		Params:      withdrawalPath{}, Answers: []api.Answer{api.JSON(200, Withdrawal{}, "")}, Errors: review, Handler: a.approveWithdrawal})
	ad.Add(api.Op{Method: "POST", Path: "/pagos/retiros/:id/rechazar", Roles: admin, Summary: "Reject a withdrawal: the amount is available again",
		Params: withdrawalPath{}, Body: rejectBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, Withdrawal{}, "")},
		Errors: append([]*apperr.Error{apperr.Invalid("motivo_required", "")}, review...), Handler: a.rejectWithdrawal})
	ad.Add(api.Op{Method: "GET", Path: "/pagos/reembolsos", Roles: admin, Summary: "Refunds to clients not issued yet, oldest first",
		Description: "Without estado, every refund that is not EMITIDO; MANUAL ones wait for an admin to transfer the money and record it.",
		Params:      refundsQuery{}, Answers: []api.Answer{api.JSON(200, Refunds{}, "")},
		Errors: withdrawalsQ, Handler: a.listRefunds})
	ad.Add(api.Op{Method: "POST", Path: "/pagos/reembolsos/:trabajo_id/manual", Roles: admin,
		Summary:     "Record a MANUAL refund the admin transferred to the client",
		Description: "The job becomes CANCELADO_REEMBOLSADO, the ledger and the client's statement show the refund, and RefundIssued tells the client.",
		Params:      refundPath{}, Body: manualRefundBody{}, Answers: []api.Answer{api.JSON(200, Refund{}, "the refund, EMITIDO")},
		Errors: []*apperr.Error{apperr.Invalid("referencia_required", ""), apperr.NotFound("refund_not_found", ""),
			apperr.Conflict("refund_not_manual", "")}, Handler: a.recordManualRefund})
	ad.Add(api.Op{Method: "GET", Path: "/pagos/dashboard", Roles: admin, Summary: "Payments processed, pending and kept as commission",
		Answers: []api.Answer{api.JSON(200, AdminPaymentsDashboard{}, "")}, Handler: a.adminPaymentsDashboard})
	ad.Add(api.Op{Method: "GET", Path: "/metrics/financials", Roles: admin, Summary: "Released totals and the money held in escrow",
		Answers: []api.Answer{api.JSON(200, Financials{}, "")}, Handler: a.financials})
	ad.Add(api.Op{Method: "GET", Path: "/dashboard/stats", Roles: admin, Summary: "Jobs by escrow state and their money",
		Answers: []api.Answer{api.JSON(200, DashboardStats{}, "")}, Handler: a.dashboard})
	ad.Add(api.Op{Method: "POST", Path: "/trabajo/:id/simular-pago", Roles: admin, Summary: "Sandbox: pay the job at the MercadoPago simulator",
		Description: "Only with MP_SANDBOX and the simulator (otherwise 404 not_found). The simulator sends the signed webhook; " +
			"the answer waits briefly for the payment to be held.",
		Params: jobPath{}, Answers: []api.Answer{api.JSON(200, SimulatedJob{}, "the job as it is now")},
		Errors: []*apperr.Error{apperr.NotFound("not_found", ""), jobNotFound, invalidState, apperr.Invalid("no_checkout", ""),
			apperr.New(apperr.KindBadGateway, "simulator_unavailable", ""), apperr.New(apperr.KindBadGateway, "simulator_error", "")},
		Handler: a.simulatePayment})

	reg.Add(api.Op{Method: "GET", Path: "/api/v1/escrow/:id", Access: api.Authenticated,
		Summary: "A job's money and its ledger entries, to its parties and admins", Params: jobPath{},
		Answers: []api.Answer{api.JSON(200, EscrowView{}, "")}, Errors: []*apperr.Error{jobNotFound, notParty}, Handler: a.escrowView})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/payout/fallidos", Roles: admin, Summary: "Payouts not sent yet, with their last error (at most 100)",
		Answers: []api.Answer{api.JSON(200, FailedPayouts{}, "")}, Handler: a.failedPayouts})
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/payout/:id/reintentar", Roles: admin, Summary: "Try a payout again now",
		Params: payoutPath{}, Answers: []api.Answer{api.JSON(200, StatusMessage{}, "scheduled")},
		Errors: []*apperr.Error{apperr.NotFound("payout_not_found", "")}, Handler: a.retryPayout})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/escrow/ledger/check", Roles: admin, Summary: "Verify the escrow ledger",
		Description: "Every transaction balances, the ledger sums to zero, no liability is overdrawn, no withdrawal asked for more than the balance of its moment, each job's escrow matches its state; deudas lists what professionals owe after chargebacks of released money.",
		Answers:     []api.Answer{api.JSON(200, LedgerReport{}, "problemas is empty when the ledger is sound")}, Handler: a.ledgerCheck})
	return reg.Serve("/openapi.json")
}

package payments

import (
	"encoding/json"
	"reflect"
	"time"

	"github.com/google/uuid"
	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/platform/money"
)

// The answers that used to be fiber.Map, named so the OpenAPI document (routes.go) is
// reflected from the very types the handlers encode. Field order and JSON are those of
// the maps they replace: a nil pointer is written as null, and omitempty marks the
// fields a map used to leave out (JobView.Alerta, WebhookAck.Message).

// JobView is payments' view of a job (a subset of marketplace's TrabajoRead plus the
// money details).
type JobView struct {
	ID                   string          `json:"id"`
	TrabajoID            string          `json:"trabajo_id"`
	ClienteID            string          `json:"cliente_id"`
	ProfesionalID        string          `json:"profesional_id"`
	OfertaID             *string         `json:"oferta_id"`
	PrecioFinal          money.Centavos  `json:"precio_final"`
	EstadoEscrow         string          `json:"estado_escrow" jsonschema:"enum=PENDIENTE_PAGO,enum=PAGADO_EN_ESCROW,enum=LIBERADO,enum=CANCELADO_REEMBOLSADO,enum=CANCELADO"`
	MercadopagoPaymentID *string         `json:"mercadopago_payment_id"`
	PaymentPreferenceID  *string         `json:"payment_preference_id"`
	PaymentURL           *string         `json:"payment_url"`
	Congelado            bool            `json:"congelado" jsonschema_description:"the money may not move: a dispute, a refund under way or a card chargeback holds it"`
	ComisionPlataforma   *money.Centavos `json:"comision_plataforma" jsonschema_description:"fixed at release; null before"`
	MontoLiberado        *money.Centavos `json:"monto_liberado" jsonschema_description:"credited to the professional at release; null before"`
	TasaComisionBP       *int            `json:"tasa_comision_bp" jsonschema_description:"the rate fixed at release, in basis points"`
	FechaCreacion        time.Time       `json:"fecha_creacion"`
	FechaActualizacion   time.Time       `json:"fecha_actualizacion"`
	Alerta               string          `json:"alerta,omitempty" jsonschema_description:"why an admin should look at the job: a payment that did not match it (amount, currency), a second payment, a chargeback (contracargo:<payment>), its reversal (contracargo_revertido:<payment>) money to give back by hand (reembolso_manual:<payment>) and its transfer recorded (reembolso_manual_registrado:<payment>)"`
}

// EscrowMovement is one ledger entry of a job.
type EscrowMovement struct {
	Tipo   string         `json:"tipo"`
	Cuenta string         `json:"cuenta"`
	Monto  money.Centavos `json:"monto"`
	Fecha  time.Time      `json:"fecha"`
}

// EscrowView is a job's money with its ledger entries.
type EscrowView struct {
	JobView
	Movimientos []EscrowMovement `json:"movimientos"`
}

// SimulatedJob is the job after a simulated payment: payments' JobView with, when
// marketplace has seen the payment in time, marketplace's TrabajoRead fields over it (an
// object whose fields are two services' own, so it is described as open).
type SimulatedJob map[string]any

// JSONSchema: an open object (see the type).
func (SimulatedJob) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Description: "payments' JobView (id, trabajo_id, estado_escrow, precio_final, …) " +
		"with marketplace's TrabajoRead fields over it once marketplace has seen the payment"}
}

// Checkout is the job's MercadoPago checkout link.
type Checkout struct {
	TrabajoID        string `json:"trabajo_id"`
	TransactionID    string `json:"transaction_id" jsonschema_description:"the job's id: a transaction is a job's payment"`
	PreferenceID     string `json:"preference_id"`
	InitPoint        string `json:"init_point"`
	SandboxInitPoint string `json:"sandbox_init_point"`
	PaymentURL       string `json:"payment_url"`
}

// Financials are the platform's released totals.
type Financials struct {
	TotalFacturado      money.Centavos `json:"total_facturado"`
	ComisionTotal       money.Centavos `json:"comision_total"`
	TrabajosCompletados int            `json:"trabajos_completados"`
	DineroEnEscrow      money.Centavos `json:"dinero_en_escrow"`
}

// DashboardStats is the admin dashboard's jobs and money.
type DashboardStats struct {
	Trabajos        DashboardJobs    `json:"trabajos"`
	Finanzas        DashboardFinance `json:"finanzas"`
	PayoutsFallidos int              `json:"payouts_fallidos"`
}

// DashboardJobs counts jobs by escrow state.
type DashboardJobs struct {
	Total          int `json:"total"`
	PendientesPago int `json:"pendientes_pago"`
	EnEscrow       int `json:"en_escrow"`
	Completados    int `json:"completados"`
	Cancelados     int `json:"cancelados"`
}

// DashboardFinance sums the money of the jobs.
type DashboardFinance struct {
	TotalIngresos   money.Centavos `json:"total_ingresos"`
	TotalComisiones money.Centavos `json:"total_comisiones"`
	DineroEnEscrow  money.Centavos `json:"dinero_en_escrow"`
	TotalLiberado   money.Centavos `json:"total_liberado"`
}

// FailedPayout is a payout not sent yet, with its last error.
type FailedPayout struct {
	ID             string         `json:"id" jsonschema:"format=uuid"`
	TrabajoID      *string        `json:"trabajo_id" jsonschema_description:"a payout of the earlier automatic model"`
	RetiroID       *string        `json:"retiro_id" jsonschema_description:"a withdrawal's payout"`
	ProfesionalID  string         `json:"profesional_id"`
	CuentaDestino  string         `json:"cuenta_destino"`
	Monto          money.Centavos `json:"monto"`
	Estado         string         `json:"estado"`
	Intentos       int            `json:"intentos"`
	UltimoError    string         `json:"ultimo_error"`
	ProximoIntento time.Time      `json:"proximo_intento"`
	CreatedAt      time.Time      `json:"created_at"`
}

// FailedPayouts lists the payouts not sent yet (at most 100).
type FailedPayouts struct {
	Payouts []FailedPayout `json:"payouts"`
	Total   int            `json:"total"`
}

// StatusMessage acknowledges a request (status and a Spanish message).
type StatusMessage struct {
	Status  string `json:"status"`
	Mensaje string `json:"mensaje"`
}

// WebhookAck is the answer MercadoPago gets: any 2xx stops its retries.
type WebhookAck struct {
	Status  string `json:"status" jsonschema:"enum=ok"`
	Message string `json:"message,omitempty" jsonschema_description:"set when the topic is not payment and was ignored"`
}

// Transaction is the frontend's transaction card: one job's payment (its id is the
// job's).
type Transaction struct {
	ID                      string         `json:"id"`
	TrabajoID               string         `json:"trabajo_id"`
	ClienteID               string         `json:"cliente_id"`
	ProfesionalID           string         `json:"profesional_id"`
	Monto                   money.Centavos `json:"monto"`
	Estado                  string         `json:"estado" jsonschema:"enum=pendiente,enum=en_disputa,enum=completado,enum=reembolsado,enum=cancelado"`
	EstadoEscrow            string         `json:"estado_escrow" jsonschema:"enum=PENDIENTE,enum=DEPOSITADO,enum=LIBERADO,enum=REEMBOLSADO,enum=CANCELADO"`
	MetodoPago              string         `json:"metodo_pago" jsonschema:"enum=mercadopago"`
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
	PaymentURL              *string        `json:"payment_url"`
}

// TransactionPage is one page of the caller's transactions.
type TransactionPage struct {
	Transacciones []Transaction `json:"transacciones"`
	Total         int           `json:"total"`
	Page          int           `json:"page"`
	Limit         int           `json:"limit"`
}

// BankAccount is a professional's withdrawal destination; the CBU is never shown whole.
type BankAccount struct {
	TipoCuenta         string    `json:"tipo_cuenta" jsonschema:"enum=cbu,enum=alias"`
	CBUOculto          *string   `json:"cbu_oculto" jsonschema_description:"the CBU/CVU with all but its last four digits masked"`
	Alias              *string   `json:"alias"`
	Titular            string    `json:"titular"`
	Banco              string    `json:"banco"`
	FechaActualizacion time.Time `json:"fecha_actualizacion"`
}

// BankAccountSaved is the answer of saving the bank account.
type BankAccountSaved struct {
	BankAccount
	Mensaje string `json:"mensaje"`
}

// Withdrawal is the frontend's withdrawal shape. fecha_procesado is when the request was
// closed: the payout left (PROCESADO) or it was rejected (RECHAZADO).
type Withdrawal struct {
	ID             uuid.UUID      `json:"id"`
	UsuarioID      string         `json:"usuario_id"`
	Monto          money.Centavos `json:"monto"`
	Estado         string         `json:"estado" jsonschema:"enum=PENDIENTE,enum=APROBADO,enum=RECHAZADO,enum=PROCESADO"`
	FechaSolicitud time.Time      `json:"fecha_solicitud"`
	FechaProcesado *time.Time     `json:"fecha_procesado"`
	FechaRevision  *time.Time     `json:"fecha_revision"`
	CuentaDestino  string         `json:"cuenta_destino"`
	MotivoRechazo  *string        `json:"motivo_rechazo"`
	FechaCreacion  time.Time      `json:"fecha_creacion"`
}

// ListedWithdrawal is a withdrawal in a list, with whose money it is.
type ListedWithdrawal struct {
	Withdrawal
	ProfesionalNombre string `json:"profesional_nombre"`
}

// Balance is a professional's money: the frontend's cards and the earlier names beside
// them, all from one computation.
type Balance struct {
	Disponible money.Centavos `json:"disponible"`
	// Deuda is what the professional owes after a card chargeback of money already released
	// to them; it is taken from their next releases before anything becomes disponible.
	Deuda               money.Centavos `json:"deuda"`
	Pendiente           money.Centavos `json:"pendiente"`
	TotalGanado         money.Centavos `json:"total_ganado"`
	TotalComisiones     money.Centavos `json:"total_comisiones"`
	TrabajosCompletados int            `json:"trabajos_completados"`
	EnRetiro            money.Centavos `json:"en_retiro"`
	Retirado            money.Centavos `json:"retirado"`
	// Earlier names.
	EnEscrow          money.Centavos `json:"en_escrow"`
	TrabajosEnEscrow  int            `json:"trabajos_en_escrow"`
	Liberado          money.Centavos `json:"liberado"`
	ComisionTotal     money.Centavos `json:"comision_total"`
	TrabajosLiberados int            `json:"trabajos_liberados"`
	Pagado            money.Centavos `json:"pagado"`
	PendienteDePago   money.Centavos `json:"pendiente_de_pago"`
	Moneda            string         `json:"moneda" jsonschema:"enum=ARS"`
}

// ProfessionalDashboard is a professional's earnings page.
type ProfessionalDashboard struct {
	IngresosMesActual      money.Centavos `json:"ingresos_mes_actual"`
	IngresosMesAnterior    money.Centavos `json:"ingresos_mes_anterior"`
	TrabajosCompletadosMes int            `json:"trabajos_completados_mes"`
	PromedioPorTrabajo     money.Centavos `json:"promedio_por_trabajo"`
	ProximosPagos          []Transaction  `json:"proximos_pagos"`
	RetirosPendientes      []Withdrawal   `json:"retiros_pendientes"`
	ComisionesPagadas      money.Centavos `json:"comisiones_pagadas"`
	Disponible             money.Centavos `json:"disponible"`
	Pendiente              money.Centavos `json:"pendiente"`
}

// AdminPaymentsDashboard is the admin's payments page.
type AdminPaymentsDashboard struct {
	TotalMontoProcesado    money.Centavos `json:"total_monto_procesado"`
	TotalTransacciones     int            `json:"total_transacciones"`
	PagosPendientes        int            `json:"pagos_pendientes"`
	RetirosPendientes      int            `json:"retiros_pendientes"`
	TotalComisiones        money.Centavos `json:"total_comisiones"`
	IngresosUltimoMes      money.Centavos `json:"ingresos_ultimo_mes"`
	MontoRetirosPendientes money.Centavos `json:"monto_retiros_pendientes"`
	DineroEnEscrow         money.Centavos `json:"dinero_en_escrow"`
	PayoutsFallidos        int            `json:"payouts_fallidos"`
}

// History is the caller's money movements, one page, with totals over the whole filter.
type History struct {
	Movimientos []Movement       `json:"movimientos"`
	Total       int              `json:"total"`
	Page        int              `json:"page"`
	Limit       int              `json:"limit"`
	Resumen     HistorySummary   `json:"resumen"`
	Tipo        string           `json:"tipo" jsonschema:"enum=cliente,enum=profesional,enum=admin"`
	Pagos       []HistoryPayment `json:"pagos" jsonschema_description:"the earlier API's shape, one item per job (a client's payments, or a professional's or the platform's income)"`
}

// HistorySummary sums the filtered movements.
type HistorySummary struct {
	TotalIngresos   money.Centavos `json:"total_ingresos"`
	TotalEgresos    money.Centavos `json:"total_egresos"`
	TotalComisiones money.Centavos `json:"total_comisiones"`
}

// Movement is one money movement as /pagos/historial lists it.
type Movement struct {
	ID                 string         `json:"id"`
	Tipo               string         `json:"tipo" jsonschema:"enum=ingreso,enum=egreso,enum=comision"`
	Estado             string         `json:"estado" jsonschema:"enum=pendiente,enum=en_disputa,enum=completado,enum=reembolsado,enum=cancelado"`
	Descripcion        string         `json:"descripcion"`
	FechaCreacion      time.Time      `json:"fecha_creacion"`
	Fecha              time.Time      `json:"fecha"`
	ClienteID          *string        `json:"cliente_id" jsonschema_description:"null for a withdrawal"`
	ProfesionalID      string         `json:"profesional_id"`
	ClienteNombre      string         `json:"cliente_nombre"`
	ProfesionalNombre  string         `json:"profesional_nombre"`
	Monto              money.Centavos `json:"monto"`
	ComisionPlataforma money.Centavos `json:"comision_plataforma"`
	TrabajoID          *string        `json:"trabajo_id" jsonschema_description:"null for a withdrawal"`
}

// ClientPayment is a client's payment in the earlier /payments/history shape.
type ClientPayment struct {
	TrabajoID            string         `json:"trabajo_id"`
	Tipo                 string         `json:"tipo" jsonschema:"enum=egreso"`
	Monto                money.Centavos `json:"monto"`
	Estado               string         `json:"estado"`
	Fecha                time.Time      `json:"fecha"`
	ProfesionalID        string         `json:"profesional_id"`
	ClienteID            string         `json:"cliente_id"`
	OfertaID             *string        `json:"oferta_id" jsonschema:"oneof_type=string;null"`
	MercadopagoPaymentID *string        `json:"mercadopago_payment_id" jsonschema:"oneof_type=string;null"`
}

// ProfessionalPayment is a job's income in the earlier /payments/history shape
// (comision and monto_recibido are null until the release).
type ProfessionalPayment struct {
	TrabajoID     string          `json:"trabajo_id"`
	Tipo          string          `json:"tipo" jsonschema:"enum=ingreso"`
	MontoTotal    money.Centavos  `json:"monto_total"`
	Comision      *money.Centavos `json:"comision" jsonschema:"oneof_type=number;null"`
	MontoRecibido *money.Centavos `json:"monto_recibido" jsonschema:"oneof_type=number;null"`
	Estado        string          `json:"estado"`
	Fecha         time.Time       `json:"fecha"`
	ClienteID     string          `json:"cliente_id"`
	OfertaID      *string         `json:"oferta_id" jsonschema:"oneof_type=string;null"`
}

// HistoryPayment is one item of History.Pagos: a ClientPayment or a
// ProfessionalPayment, per the caller's role.
type HistoryPayment struct{ v any }

// MarshalJSON writes the payment it holds.
func (p HistoryPayment) MarshalJSON() ([]byte, error) { return json.Marshal(p.v) }

// JSONSchema is either shape, each reflected from its type (inline: the shapes are
// components of no other answer). The pointer fields carry their null in their tags,
// as the registry's nullability applies to components only.
func (HistoryPayment) JSONSchema() *jsonschema.Schema {
	centavos := reflect.TypeFor[money.Centavos]()
	r := &jsonschema.Reflector{Anonymous: true, DoNotReference: true, ExpandedStruct: true,
		Mapper: func(t reflect.Type) *jsonschema.Schema {
			if t == centavos {
				return &jsonschema.Schema{Type: "number", MultipleOf: json.Number("0.01")}
			}
			return nil
		}}
	var out []*jsonschema.Schema
	for _, v := range []any{ClientPayment{}, ProfessionalPayment{}} {
		s := r.Reflect(v)
		s.Version, s.ID = "", ""
		out = append(out, s)
	}
	return &jsonschema.Schema{AnyOf: out}
}

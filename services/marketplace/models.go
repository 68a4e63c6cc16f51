package marketplace

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Oferta is OfertaRead, plus what the web frontend's offer pages read: the price and
// both dates under their second names, and both sides' names (filled by enrichOffers
// before an answer; see present.go).
type Oferta struct {
	ID                 string         `json:"id"`
	ProfesionalID      string         `json:"profesional_id"`
	ClienteID          string         `json:"cliente_id"`
	ChatID             string         `json:"chat_id"`
	ServicioID         *string        `json:"servicio_id,omitempty"`
	Descripcion        string         `json:"descripcion"`
	PrecioFinal        money.Centavos `json:"precio_final"`
	Precio             money.Centavos `json:"precio"`
	Estado             string         `json:"estado" jsonschema:"enum=OFERTADO,enum=ACEPTADO,enum=RECHAZADO,enum=EXPIRADO,enum=RETIRADO"`
	ExpiresAt          *time.Time     `json:"expires_at"`
	FechaCreacion      time.Time      `json:"fecha_creacion"`
	FechaActualizacion time.Time      `json:"fecha_actualizacion"`
	CreatedAt          time.Time      `json:"created_at"`
	UpdatedAt          time.Time      `json:"updated_at"`

	ProfesionalNombre       string  `json:"profesional_nombre"`
	ProfesionalApellido     string  `json:"profesional_apellido"`
	ProfesionalAvatarURL    *string `json:"profesional_avatar_url"`
	ProfesionalRating       float64 `json:"profesional_rating"`
	ProfesionalTotalResenas int     `json:"profesional_total_resenas"`
	ClienteNombre           string  `json:"cliente_nombre"`
	ClienteApellido         string  `json:"cliente_apellido"`
	ClienteAvatarURL        *string `json:"cliente_avatar_url"`
}

func (o Oferta) rules() domain.Offer {
	return domain.Offer{ClienteID: o.ClienteID, ProfesionalID: o.ProfesionalID, Estado: o.Estado, ExpiresAt: o.ExpiresAt}
}

const ofertaCols = `id::text, profesional_id::text, cliente_id::text, chat_id::text, servicio_id::text, descripcion, precio_centavos, estado, expires_at, fecha_creacion, fecha_actualizacion`

func scanOferta(row pgx.Row) (Oferta, error) {
	var o Oferta
	err := row.Scan(&o.ID, &o.ProfesionalID, &o.ClienteID, &o.ChatID, &o.ServicioID, &o.Descripcion, &o.PrecioFinal, &o.Estado, &o.ExpiresAt, &o.FechaCreacion, &o.FechaActualizacion)
	o.FechaCreacion, o.FechaActualizacion = o.FechaCreacion.UTC(), o.FechaActualizacion.UTC()
	o.CreatedAt, o.UpdatedAt, o.Precio = o.FechaCreacion, o.FechaActualizacion, o.PrecioFinal
	if o.ExpiresAt != nil {
		t := o.ExpiresAt.UTC()
		o.ExpiresAt = &t
	}
	return o, err
}

func (m *Market) getOffer(ctx context.Context, q querier, id string, lock bool) (Oferta, error) {
	sql := `SELECT ` + ofertaCols + ` FROM ofertas WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	o, err := scanOferta(q.QueryRow(ctx, sql, id))
	return o, notFound(err, "oferta")
}

func (m *Market) listOffers(ctx context.Context, where string, args []any, skip, limit int) ([]Oferta, error) {
	rows, err := m.pool.Query(ctx, `SELECT `+ofertaCols+` FROM ofertas WHERE `+where+
		fmt.Sprintf(` ORDER BY fecha_creacion DESC, id DESC OFFSET %d LIMIT %d`, skip, limit), args...)
	if err != nil {
		return nil, fmt.Errorf("list offers: %w", err)
	}
	defer rows.Close()
	out := []Oferta{}
	for rows.Next() {
		o, err := scanOferta(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// Trabajo is TrabajoRead, plus the work-step fields the frontend renders.
type Trabajo struct {
	ID                   string          `json:"id"`
	ClienteID            string          `json:"cliente_id"`
	ProfesionalID        string          `json:"profesional_id"`
	OfertaID             *string         `json:"oferta_id"`
	ServicioID           *string         `json:"servicio_id"`
	ChatID               *string         `json:"chat_id"`
	Descripcion          string          `json:"descripcion"`
	PrecioFinal          money.Centavos  `json:"precio_final"`
	ComisionPlataforma   *money.Centavos `json:"comision_plataforma"`
	MontoLiberado        *money.Centavos `json:"monto_liberado"`
	EstadoEscrow         string          `json:"estado_escrow" jsonschema:"enum=PENDIENTE_PAGO,enum=PAGADO_EN_ESCROW,enum=LIBERADO,enum=CANCELADO_REEMBOLSADO,enum=CANCELADO"`
	Estado               string          `json:"estado" jsonschema:"enum=PENDIENTE_PAGO,enum=PAGADO,enum=EN_PROCESO,enum=COMPLETADO,enum=APROBADO,enum=CANCELADO,enum=DISPUTADO"`
	MercadopagoPaymentID *string         `json:"mercadopago_payment_id"`
	PaymentPreferenceID  *string         `json:"payment_preference_id"`
	PaymentURL           *string         `json:"payment_url"`
	PayoutID             *string         `json:"payout_id"`
	RefundID             *string         `json:"refund_id"`
	NotasProfesional     *string         `json:"notas_profesional"`
	NotasCliente         *string         `json:"notas_cliente"`
	Imagenes             []string        `json:"imagenes"`
	MotivoCancelacion    *string         `json:"motivo_cancelacion"`
	FechaInicio          *time.Time      `json:"fecha_inicio"`
	FechaFin             *time.Time      `json:"fecha_fin"`
	FechaAprobacion      *time.Time      `json:"fecha_aprobacion"`
	AprobacionAutomatica *time.Time      `json:"fecha_aprobacion_automatica"`
	FechaCreacion        time.Time       `json:"fecha_creacion"`
	FechaActualizacion   time.Time       `json:"fecha_actualizacion"`
	CreatedAt            time.Time       `json:"created_at"`
	UpdatedAt            time.Time       `json:"updated_at"`
	// EnDisputa is true while a dispute freezes the job (estado DISPUTADO here; on the
	// web frontend's paths estado shows the work state from before the dispute).
	EnDisputa bool `json:"en_disputa"`
	// EstadoTrabajo is the work state, set only where estado carries the escrow words
	// (GET /admin/trabajos).
	EstadoTrabajo *string `json:"estado_trabajo,omitempty"`

	checkoutEstado string
	checkoutError  *string
}

func (t Trabajo) rules() domain.Job {
	return domain.Job{ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID, Estado: t.Estado, EstadoEscrow: t.EstadoEscrow}
}

const trabajoCols = `id::text, cliente_id::text, profesional_id::text, oferta_id::text, servicio_id::text, chat_id::text, descripcion,
	precio_centavos, comision_centavos, liberado_centavos, estado_escrow, estado, mercadopago_payment_id, payment_preference_id,
	payment_url, payout_id, refund_id, notas_profesional, notas_cliente, imagenes, motivo_cancelacion, fecha_inicio, fecha_fin,
	fecha_aprobacion, auto_approve_at, fecha_creacion, fecha_actualizacion, checkout_estado, checkout_error`

func utcp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func scanTrabajo(row pgx.Row) (Trabajo, error) {
	var t Trabajo
	err := row.Scan(&t.ID, &t.ClienteID, &t.ProfesionalID, &t.OfertaID, &t.ServicioID, &t.ChatID, &t.Descripcion,
		&t.PrecioFinal, &t.ComisionPlataforma, &t.MontoLiberado, &t.EstadoEscrow, &t.Estado, &t.MercadopagoPaymentID, &t.PaymentPreferenceID,
		&t.PaymentURL, &t.PayoutID, &t.RefundID, &t.NotasProfesional, &t.NotasCliente, &t.Imagenes, &t.MotivoCancelacion, &t.FechaInicio, &t.FechaFin,
		&t.FechaAprobacion, &t.AprobacionAutomatica, &t.FechaCreacion, &t.FechaActualizacion, &t.checkoutEstado, &t.checkoutError)
	t.FechaCreacion, t.FechaActualizacion = t.FechaCreacion.UTC(), t.FechaActualizacion.UTC()
	t.CreatedAt, t.UpdatedAt = t.FechaCreacion, t.FechaActualizacion
	t.EnDisputa = t.Estado == domain.EstadoDisputado
	t.FechaInicio, t.FechaFin, t.FechaAprobacion, t.AprobacionAutomatica = utcp(t.FechaInicio), utcp(t.FechaFin), utcp(t.FechaAprobacion), utcp(t.AprobacionAutomatica)
	if t.Imagenes == nil {
		t.Imagenes = []string{}
	}
	return t, err
}

func (m *Market) getJob(ctx context.Context, q querier, id string) (Trabajo, error) {
	t, err := scanTrabajo(q.QueryRow(ctx, `SELECT `+trabajoCols+` FROM trabajos WHERE id = $1`, id))
	return t, notFound(err, "trabajo")
}

func (m *Market) lockJob(ctx context.Context, tx pgx.Tx, id string) (Trabajo, error) {
	t, err := scanTrabajo(tx.QueryRow(ctx, `SELECT `+trabajoCols+` FROM trabajos WHERE id = $1 FOR UPDATE`, id))
	return t, notFound(err, "trabajo")
}

func (m *Market) listJobs(ctx context.Context, where string, args []any, skip, limit int) ([]Trabajo, int, error) {
	var total int
	if err := m.pool.QueryRow(ctx, `SELECT count(*) FROM trabajos WHERE `+where, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("count jobs: %w", err)
	}
	rows, err := m.pool.Query(ctx, `SELECT `+trabajoCols+` FROM trabajos WHERE `+where+
		fmt.Sprintf(` ORDER BY fecha_creacion DESC, id DESC OFFSET %d LIMIT %d`, skip, limit), args...)
	if err != nil {
		return nil, 0, fmt.Errorf("list jobs: %w", err)
	}
	defer rows.Close()
	out := []Trabajo{}
	for rows.Next() {
		t, err := scanTrabajo(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, t)
	}
	return out, total, rows.Err()
}

// timeline appends one entry to the job's timeline.
func timeline(ctx context.Context, tx pgx.Tx, jobID, tipo, desc string, from, to *string, userID *string) error {
	if from != nil && to != nil && *from == *to {
		from, to = nil, nil // not a state change (e.g. the release of an approved job)
	}
	_, err := tx.Exec(ctx, `INSERT INTO trabajo_eventos (trabajo_id, tipo, descripcion, estado_anterior, estado_nuevo, usuario_id) VALUES ($1,$2,$3,$4,$5,$6)`,
		jobID, tipo, desc, from, to, userID)
	if err != nil {
		return fmt.Errorf("timeline %s: %w", jobID, err)
	}
	return nil
}

func sp(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/services/payments/ledger"
)

// Escrow states (trabajos.estado_escrow).
const (
	EstadoPendientePago = "PENDIENTE_PAGO"
	EstadoEnEscrow      = "PAGADO_EN_ESCROW"
	EstadoLiberado      = "LIBERADO"
	EstadoReembolsado   = "CANCELADO_REEMBOLSADO"
	EstadoCancelado     = "CANCELADO"
)

// Refund states (refunds.estado).
const (
	RefundPendiente = "PENDIENTE" // queued for MercadoPago's refunds API
	RefundFallido   = "FALLIDO"   // the API failed or refused; tried again with a growing delay
	RefundEmitido   = "EMITIDO"   // the money went back to the client
	// RefundManual cannot go through MercadoPago (the payment was charged back, then
	// given back): an admin transfers the money and records it.
	RefundManual = "MANUAL"
	// RefundContracargo is owed while a chargeback has the money (a refund under way when
	// it came, or a cancellation during it): nothing is sent, and it becomes MANUAL should
	// the chargeback be reversed.
	RefundContracargo = "CONTRACARGO"
)

// Checkout states (trabajos.checkout_estado).
const (
	CheckoutPendiente = "PENDIENTE"
	CheckoutCreado    = "CREADO"
	CheckoutFallido   = "FALLIDO"
	CheckoutVencido   = "VENCIDO" // the link went unpaid past its deadline (expiry.go)
)

// job is payments' row for a trabajo.
type job struct {
	ID                  string
	OfertaID            string
	ClienteID           string
	ClienteEmail        string
	ProfesionalID       string
	Descripcion         string
	Precio              int64
	Estado              string
	Checkout            string
	PreferenceID        string
	PaymentURL          string
	SandboxURL          string
	PaymentID           string
	Congelado           bool
	LiberacionPendiente bool
	Alerta              string
	TasaBP              *int
	Comision            *int64
	Liberado            *int64
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

const jobCols = `trabajo_id, COALESCE(oferta_id,''), cliente_id, cliente_email, profesional_id, descripcion,
	precio_centavos, estado_escrow, checkout_estado, COALESCE(preference_id,''), COALESCE(payment_url,''),
	COALESCE(sandbox_url,''), COALESCE(payment_id,''), congelado, liberacion_pendiente, COALESCE(alerta,''),
	tasa_comision_bp, comision_centavos, liberado_centavos, created_at, updated_at`

func scanJob(row pgx.Row) (job, error) {
	var j job
	err := row.Scan(&j.ID, &j.OfertaID, &j.ClienteID, &j.ClienteEmail, &j.ProfesionalID, &j.Descripcion,
		&j.Precio, &j.Estado, &j.Checkout, &j.PreferenceID, &j.PaymentURL, &j.SandboxURL, &j.PaymentID,
		&j.Congelado, &j.LiberacionPendiente, &j.Alerta, &j.TasaBP, &j.Comision, &j.Liberado, &j.CreatedAt, &j.UpdatedAt)
	return j, err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// getJob reads a job; lock takes the row lock that serializes every money move of a job.
func getJob(ctx context.Context, q querier, id string, lock bool) (job, bool, error) {
	sql := "SELECT " + jobCols + " FROM trabajos WHERE trabajo_id = $1"
	if lock {
		sql += " FOR UPDATE"
	}
	j, err := scanJob(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return j, false, nil
	}
	if err != nil {
		return j, false, fmt.Errorf("read job %s: %w", id, err)
	}
	return j, true, nil
}

// ledgerOwner is what a ledger transaction belongs to: a job, or (Retiro set) a withdrawal.
type ledgerOwner struct {
	Trabajo string
	Retiro  *uuid.UUID
}

func (o ledgerOwner) String() string {
	if o.Retiro != nil {
		return "retiro " + o.Retiro.String()
	}
	return "trabajo " + o.Trabajo
}

// post writes one ledger transaction of kind for the job, unless the job already has one
// of that kind (then it returns false and writes nothing).
func post(ctx context.Context, tx pgx.Tx, trabajoID, kind, ref string, userOf map[string]string, ps []ledger.Posting) (bool, error) {
	return postFor(ctx, tx, ledgerOwner{Trabajo: trabajoID}, kind, ref, userOf, ps)
}

// postFor writes one ledger transaction of kind for owner, unless owner already has one of
// that kind (then it returns false and writes nothing): the (owner, kind) uniqueness is
// what makes every money move happen at most once.
func postFor(ctx context.Context, tx pgx.Tx, owner ledgerOwner, kind, ref string, userOf map[string]string, ps []ledger.Posting) (bool, error) {
	if err := ledger.Check(ps); err != nil {
		return false, fmt.Errorf("post %s for %s: %w", kind, owner, err)
	}
	// One statement, one round trip: the transaction row, and its entries only if that
	// row was written. A conflict on (owner, kind) inserts no entry, which is how the
	// caller learns the move was made before.
	var sb strings.Builder
	args := []any{uuid.Must(uuid.NewV7()), owner.Trabajo, owner.Retiro, kind, ref}
	sb.WriteString(`WITH t AS (INSERT INTO ledger_txns (id, trabajo_id, retiro_id, tipo, referencia)
		VALUES ($1, NULLIF($2, ''), $3, $4, NULLIF($5, '')) ON CONFLICT DO NOTHING RETURNING id)
	INSERT INTO ledger_entries (txn_id, trabajo_id, retiro_id, cuenta, usuario_id, monto_centavos)
	SELECT t.id, NULLIF($2, ''), $3, e.cuenta, e.usuario_id, e.monto FROM t, (VALUES `)
	for i, p := range ps {
		var user any
		if u := userOf[p.Account]; u != "" {
			user = u
		}
		if i > 0 {
			sb.WriteString(",")
		}
		n := len(args)
		fmt.Fprintf(&sb, "($%d::text, $%d::text, $%d::bigint)", n+1, n+2, n+3)
		args = append(args, p.Account, user, p.Amount)
	}
	sb.WriteString(") AS e (cuenta, usuario_id, monto)")
	tag, err := tx.Exec(ctx, sb.String(), args...)
	if err != nil {
		return false, fmt.Errorf("post %s for %s: %w", kind, owner, err)
	}
	// Check refused fewer than two postings: no entry means the transaction existed.
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	return true, nil
}

// emit appends events to the outbox in tx.
func (a *App) emit(ctx context.Context, tx pgx.Tx, aggregate string, meta events.Meta, evs ...events.Event) error {
	envs := make([]events.Envelope, 0, len(evs))
	for _, e := range evs {
		env, err := events.New(Name, aggregate, e, meta, a.now())
		if err != nil {
			return err
		}
		envs = append(envs, env)
	}
	return outbox.Append(ctx, tx, envs...)
}

// LedgerReport is the result of CheckLedger.
type LedgerReport struct {
	Transactions int64            `json:"transacciones"`
	Entries      int64            `json:"asientos"`
	Balances     map[string]int64 `json:"saldos"`
	Problems     []string         `json:"problemas"`
	// Debts are what professionals owe after chargebacks of released money; their next
	// releases pay them first.
	Debts []ProfessionalDebt `json:"deudas"`
}

// ProfessionalDebt is one professional's debt, in centavos.
type ProfessionalDebt struct {
	UsuarioID string `json:"usuario_id"`
	Monto     int64  `json:"monto_centavos"`
}

// CheckLedger verifies the ledger: every transaction balances, the whole ledger sums to
// zero, no liability is overdrawn (a professional's debt after a chargeback is listed
// apart), no withdrawal took more than the balance of its moment, and each job's escrow
// matches its state.
func CheckLedger(ctx context.Context, q interface {
	querier
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) (LedgerReport, error) {
	r := LedgerReport{Balances: map[string]int64{}, Problems: []string{}, Debts: []ProfessionalDebt{}}
	if err := q.QueryRow(ctx, "SELECT count(*) FROM ledger_txns").Scan(&r.Transactions); err != nil {
		return r, fmt.Errorf("check ledger: %w", err)
	}
	if err := q.QueryRow(ctx, "SELECT count(*) FROM ledger_entries").Scan(&r.Entries); err != nil {
		return r, fmt.Errorf("check ledger: %w", err)
	}
	collect := func(sql string, f func(rows pgx.Rows) error) error {
		rows, err := q.Query(ctx, sql)
		if err != nil {
			return fmt.Errorf("check ledger: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			if err := f(rows); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	err := collect("SELECT cuenta, sum(monto_centavos)::bigint FROM ledger_entries GROUP BY cuenta", func(rows pgx.Rows) error {
		var c string
		var s int64
		if err := rows.Scan(&c, &s); err != nil {
			return err
		}
		r.Balances[c] = s
		return nil
	})
	if err != nil {
		return r, err
	}
	var total int64
	for _, v := range r.Balances {
		total += v
	}
	if total != 0 {
		r.Problems = append(r.Problems, fmt.Sprintf("el libro no suma cero: %d", total))
	}
	// The professionals' accounts are checked one by one below: a chargeback after release
	// may leave one of them owing money, which is a debt, not an overdraft.
	for _, liab := range []string{ledger.Escrow, ledger.ProfessionalReserved} {
		if r.Balances[liab] > 0 {
			r.Problems = append(r.Problems, fmt.Sprintf("cuenta %s con saldo deudor %d", liab, r.Balances[liab]))
		}
	}
	// Per professional: no withdrawal asked for more than the balance at the time (the
	// running balance, in the order the entries were written under the professional's
	// lock, stays a credit at every reservation), and nobody has more reserved than asked.
	// A chargeback after release may leave a professional owing money: a debt, reported
	// apart, which their next releases pay first.
	err = collect(`WITH p AS (
			SELECT e.usuario_id, t.tipo, e.monto_centavos,
				sum(e.monto_centavos) OVER (PARTITION BY e.usuario_id ORDER BY e.id) AS running
			FROM ledger_entries e JOIN ledger_txns t ON t.id = e.txn_id WHERE e.cuenta = 'professional_payable')
		SELECT COALESCE(usuario_id,''), count(*) FILTER (WHERE tipo = 'RESERVE' AND running > 0),
			sum(monto_centavos)::bigint, bool_or(tipo = 'CHARGEBACK')
		FROM p GROUP BY usuario_id
		HAVING count(*) FILTER (WHERE tipo = 'RESERVE' AND running > 0) > 0 OR sum(monto_centavos) > 0`,
		func(rows pgx.Rows) error {
			var u string
			var overdrawn, owed int64
			var chargedBack bool
			if err := rows.Scan(&u, &overdrawn, &owed, &chargedBack); err != nil {
				return err
			}
			// An overdrawn withdrawal and what the professional owes now are reported apart:
			// one does not hide the other.
			if overdrawn > 0 {
				r.Problems = append(r.Problems, fmt.Sprintf("profesional %q pidió %d retiros por encima de su saldo", u, overdrawn))
			}
			switch {
			case owed > 0 && !chargedBack:
				r.Problems = append(r.Problems, fmt.Sprintf("profesional %q con saldo deudor %d en %s", u, owed, ledger.ProfessionalPayable))
			case owed > 0:
				r.Debts = append(r.Debts, ProfessionalDebt{UsuarioID: u, Monto: owed})
			}
			return nil
		})
	if err != nil {
		return r, err
	}
	err = collect(`SELECT COALESCE(usuario_id,''), sum(monto_centavos)::bigint FROM ledger_entries
		WHERE cuenta = 'professional_reserved' GROUP BY usuario_id HAVING sum(monto_centavos) > 0`,
		func(rows pgx.Rows) error {
			var u string
			var s int64
			if err := rows.Scan(&u, &s); err != nil {
				return err
			}
			r.Problems = append(r.Problems, fmt.Sprintf("profesional %q con saldo deudor %d en %s", u, s, ledger.ProfessionalReserved))
			return nil
		})
	if err != nil {
		return r, err
	}
	// Per withdrawal: its amount stays reserved exactly while it waits for review or payout.
	err = collect(`SELECT w.id::text, w.estado, w.monto_centavos,
			COALESCE((SELECT -sum(e.monto_centavos) FROM ledger_entries e WHERE e.retiro_id = w.id AND e.cuenta = 'professional_reserved'),0)::bigint
		FROM retiros w`, func(rows pgx.Rows) error {
		var id, estado string
		var monto, reserved int64
		if err := rows.Scan(&id, &estado, &monto, &reserved); err != nil {
			return err
		}
		want := int64(0)
		if estado == RetiroPendiente || estado == RetiroAprobado {
			want = monto
		}
		if reserved != want {
			r.Problems = append(r.Problems, fmt.Sprintf("retiro %s en %s tiene %d reservado (esperado %d)", id, estado, reserved, want))
		}
		return nil
	})
	if err != nil {
		return r, err
	}
	err = collect(`SELECT t.id::text, sum(e.monto_centavos)::bigint, count(e.id) FROM ledger_txns t
		LEFT JOIN ledger_entries e ON e.txn_id = t.id GROUP BY t.id HAVING COALESCE(sum(e.monto_centavos),0) <> 0 OR count(e.id) < 2`,
		func(rows pgx.Rows) error {
			var id string
			var s *int64
			var n int64
			if err := rows.Scan(&id, &s, &n); err != nil {
				return err
			}
			r.Problems = append(r.Problems, fmt.Sprintf("transacción %s desbalanceada (%d asientos)", id, n))
			return nil
		})
	if err != nil {
		return r, err
	}
	// Per job: money in escrow only while PAGADO_EN_ESCROW, and then exactly the price.
	err = collect(`SELECT t.trabajo_id, t.estado_escrow, t.precio_centavos,
			COALESCE((SELECT -sum(e.monto_centavos) FROM ledger_entries e WHERE e.trabajo_id = t.trabajo_id AND e.cuenta = 'escrow'),0)::bigint
		FROM trabajos t`, func(rows pgx.Rows) error {
		var id, estado string
		var precio, held int64
		if err := rows.Scan(&id, &estado, &precio, &held); err != nil {
			return err
		}
		want := int64(0)
		if estado == EstadoEnEscrow {
			want = precio
		}
		if held != want {
			r.Problems = append(r.Problems, fmt.Sprintf("trabajo %s en %s tiene %d en escrow (esperado %d)", id, estado, held, want))
		}
		return nil
	})
	return r, err
}

package payments

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/payments/ledger"
)

// A "transaction" is the frontend's view of one job's payment; its id is the job's id.

// transactionEscrow translates our escrow states into the transaction card's words
// (frontend-shapes §1): PENDIENTE, DEPOSITADO, LIBERADO, REEMBOLSADO. A job cancelled
// before anyone paid has no word there and is shown as CANCELADO. Marketplace answers the
// card's release and refund (POST /pagos/transacciones/{id}/liberar and …/reembolso are
// job commands it owns) with the same words from its own table
// (services/marketplace/transaction.go); a test in each service pins the same table.
var transactionEscrow = map[string]string{
	EstadoPendientePago: "PENDIENTE", EstadoEnEscrow: "DEPOSITADO", EstadoLiberado: "LIBERADO",
	EstadoReembolsado: "REEMBOLSADO", EstadoCancelado: "CANCELADO",
}

// escrowStatesFor reads a ?estado filter in either vocabulary.
func escrowStatesFor(v string) ([]string, bool) {
	v = strings.ToUpper(strings.TrimSpace(v))
	for ours, theirs := range transactionEscrow {
		if v == ours || v == theirs {
			return []string{ours}, true
		}
	}
	return nil, false
}

// transaction is a job with what its view needs besides the row.
type transaction struct {
	job
	Estado            string // movement vocabulary
	ClienteNombre     string
	ProfesionalNombre string
	TasaReplica       *int
	Reembolsando      bool
	LiberadoAt        *time.Time
}

const transactionCols = jobCols + `, ` + movementEstadoSQL + `, ` + clienteNombreSQL + `, ` + profesionalNombreSQL + `,
	(SELECT p.tasa_comision_bp FROM profesionales p WHERE p.usuario_id = t.profesional_id),
	EXISTS (SELECT 1 FROM refunds r WHERE r.trabajo_id = t.trabajo_id), t.liberado_at`

func scanTransaction(row pgx.Row) (transaction, error) {
	var t transaction
	j := &t.job
	err := row.Scan(&j.ID, &j.OfertaID, &j.ClienteID, &j.ClienteEmail, &j.ProfesionalID, &j.Descripcion,
		&j.Precio, &j.Estado, &j.Checkout, &j.PreferenceID, &j.PaymentURL, &j.SandboxURL, &j.PaymentID,
		&j.Congelado, &j.LiberacionPendiente, &j.Alerta, &j.TasaBP, &j.Comision, &j.Liberado, &j.CreatedAt, &j.UpdatedAt,
		&t.Estado, &t.ClienteNombre, &t.ProfesionalNombre, &t.TasaReplica, &t.Reembolsando, &t.LiberadoAt)
	return t, err
}

// view is the frontend's Transaction. Before the release the commission is what the
// professional's current rate would charge (the figure is fixed at release); refunded,
// being refunded or cancelled, nothing is charged and nothing goes to the professional.
func (t transaction) view(viewer authn.Claims) Transaction {
	comision, neto := int64(0), int64(0)
	switch {
	case t.Comision != nil && t.Liberado != nil:
		comision, neto = *t.Comision, *t.Liberado
	case t.Reembolsando:
		// The held money is going back to the client.
	case t.job.Estado == EstadoPendientePago || t.job.Estado == EstadoEnEscrow:
		neto = t.Precio
		bp := ledger.DefaultBP
		if t.TasaReplica != nil {
			bp = *t.TasaReplica
		}
		if s, err := ledger.Commission(t.Precio, bp); err == nil {
			comision, neto = s.Commission, s.Net
		}
	}
	esCliente := viewer.UserID() == t.ClienteID
	held := t.job.Estado == EstadoEnEscrow && !t.Congelado
	return Transaction{
		ID: t.ID, TrabajoID: t.ID, ClienteID: t.ClienteID, ProfesionalID: t.ProfesionalID,
		Monto: money.Centavos(t.Precio), Estado: t.Estado, EstadoEscrow: transactionEscrow[t.job.Estado],
		MetodoPago: "mercadopago", MercadopagoPreferenceID: nullStr(t.PreferenceID),
		MercadopagoPaymentID: nullStr(t.PaymentID), FechaCreacion: t.CreatedAt.UTC(), CreatedAt: t.CreatedAt.UTC(),
		FechaLiberacion: utcPtr(t.LiberadoAt), Descripcion: t.Descripcion,
		ClienteNombre: t.ClienteNombre, ProfesionalNombre: t.ProfesionalNombre,
		PuedeLiberar: esCliente && held, PuedeSolicitarReembolso: esCliente && held && !t.Reembolsando,
		ComisionPlataforma: money.Centavos(comision), MontoNetoProfesional: money.Centavos(neto),
		PaymentURL: nullStr(t.PaymentURL),
	}
}

// loadTransaction reads job id for a party of it (or an admin).
func (a *App) loadTransaction(ctx context.Context, cl authn.Claims, id string) (transaction, error) {
	t, err := scanTransaction(a.svc.Deps.Pool.QueryRow(ctx, `SELECT `+transactionCols+` FROM trabajos t WHERE t.trabajo_id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return t, apperr.NotFound("transaccion_not_found", "Transacción no encontrada")
	}
	if err != nil {
		return t, fmt.Errorf("read transaction %s: %w", id, err)
	}
	if cl.Rol != authn.RoleAdmin && cl.UserID() != t.ClienteID && cl.UserID() != t.ProfesionalID {
		return t, apperr.Forbidden("not_party", "No participás de este trabajo")
	}
	return t, nil
}

// getTransaction answers GET /pagos/transacciones/{id}.
func (a *App) getTransaction(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	t, err := a.loadTransaction(c.Context(), cl, c.Params("id"))
	if err != nil {
		return err
	}
	return c.JSON(t.view(cl))
}

// myTransactions answers GET /pagos/mis-transacciones?estado&page&limit: the caller's jobs
// as a client or as a professional (an admin sees all), newest first.
func (a *App) myTransactions(c *fiber.Ctx) error {
	cl, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	page, err := httpx.Paging(c, 20)
	if err != nil {
		return err
	}
	var estados []string
	if v := c.Query("estado"); strings.TrimSpace(v) != "" {
		var ok bool
		if estados, ok = escrowStatesFor(v); !ok {
			return apperr.Invalid("invalid_state", "El estado debe ser PENDIENTE, DEPOSITADO, LIBERADO, REEMBOLSADO o CANCELADO")
		}
	}
	var user *string
	if cl.Rol != authn.RoleAdmin {
		u := cl.UserID()
		user = &u
	}
	where := ` WHERE ($1::text IS NULL OR t.cliente_id = $1 OR t.profesional_id = $1) AND ($2::text[] IS NULL OR t.estado_escrow = ANY($2))`
	var total int
	if err := a.svc.Deps.Pool.QueryRow(c.Context(), `SELECT count(*) FROM trabajos t`+where, user, estados).Scan(&total); err != nil {
		return fmt.Errorf("transactions count: %w", err)
	}
	rows, err := a.svc.Deps.Pool.Query(c.Context(), `SELECT `+transactionCols+` FROM trabajos t`+where+
		` ORDER BY t.created_at DESC, t.trabajo_id DESC LIMIT $3 OFFSET $4`, user, estados, page.Limit, page.Skip)
	if err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Transaction, error) {
		t, err := scanTransaction(r)
		return t.view(cl), err
	})
	if err != nil {
		return fmt.Errorf("transactions: %w", err)
	}
	return c.JSON(TransactionPage{Transacciones: list, Total: total, Page: page.Page, Limit: page.Limit})
}

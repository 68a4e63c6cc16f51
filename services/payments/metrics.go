package payments

import (
	"context"
	"fmt"
)

// Webhook outcomes, as business_outcomes_total{what="webhook"} counts them.
const (
	webhookStored      = "stored"       // authenticated and queued for the workers
	webhookRefused     = "refused"      // bad or stale signature
	webhookInvalid     = "invalid"      // signed but unreadable
	webhookIgnored     = "ignored"      // a topic other than payment
	webhookStoreFailed = "store_failed" // not stored: answered 5xx so MercadoPago retries
	webhookHint        = "hint"         // an unsigned /pagos/webhook/mercadopago id, queued to be read from the API
	webhookHintLimited = "hint_limited" // an unsigned hint refused by the rate limit
)

// Webhook worker outcomes, as business_outcomes_total{what="webhook_worker"} counts them.
const (
	workerDeferred = "burst_deferred" // a worker began leaving a burst of deliveries to the answers
	workerBounded  = "burst_bounded"  // it did so for maxBurstDefer while the burst went on, and applied anyway
)

// registerMetrics adds the operator's payment series to the service's registry: webhook
// outcomes (counted as they happen), and, read from the database at scrape time, the
// money held in escrow and MercadoPago payments, payouts and refunds by state. Reading
// at scrape time keeps the figures exact across restarts and replicas.
func (a *App) registerMetrics() {
	m := a.svc.Metrics
	a.webhookOutcome = m.Outcomes("webhook", webhookStored, webhookRefused, webhookInvalid, webhookIgnored, webhookStoreFailed,
		webhookHint, webhookHintLimited)
	a.workerOutcome = m.Outcomes("webhook_worker", workerDeferred, workerBounded)
	pool := a.svc.Deps.Pool
	m.GaugeFunc("escrow_held_centavos", "Money held in escrow (ARS centavos), the escrow account's ledger balance.",
		func(ctx context.Context) (float64, error) {
			held, err := a.escrowBalance(ctx)
			return float64(held), err
		})
	countBy := func(query string) func(ctx context.Context) (map[string]float64, error) {
		return func(ctx context.Context) (map[string]float64, error) {
			rows, err := pool.Query(ctx, query)
			if err != nil {
				return nil, fmt.Errorf("metrics: %w", err)
			}
			defer rows.Close()
			out := map[string]float64{}
			for rows.Next() {
				var k string
				var n int64
				if err := rows.Scan(&k, &n); err != nil {
					return nil, fmt.Errorf("metrics: %w", err)
				}
				out[k] = float64(n)
			}
			return out, rows.Err()
		}
	}
	m.GaugeVecFunc("payments_by_status", "MercadoPago payments by their last known status.", "status",
		[]string{"approved", "rejected", "cancelled", "refunded", "charged_back", "in_mediation"},
		countBy(`SELECT status, count(*) FROM pagos_mp GROUP BY status`))
	m.GaugeVecFunc("payouts_by_state", "Payouts to professionals by state.", "estado",
		[]string{"PENDIENTE", "ENVIADO", "FALLIDO", "RECHAZADO"},
		countBy(`SELECT estado, count(*) FROM payouts GROUP BY estado`))
	m.GaugeVecFunc("refunds_by_state", "Refunds to clients by state.", "estado",
		[]string{"PENDIENTE", "EMITIDO", "FALLIDO"},
		countBy(`SELECT estado, count(*) FROM refunds GROUP BY estado`))
}

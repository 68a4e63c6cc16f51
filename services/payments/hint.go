package payments

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
)

// postPaymentHint answers POST /pagos/webhook/mercadopago {payment_id}, the earlier
// frontend's unsigned notification. Nothing in it is trusted: it is only a hint that
// payment X may have changed. The id goes into the same inbox the signed webhook fills,
// and the workers read the payment from MercadoPago's API and apply it through the one
// idempotent path (amount, currency and job checked there). A payment already waiting in
// the inbox is not queued twice, and hints share a rate limit so nobody can make us hammer
// MercadoPago's API.
func (a *App) postPaymentHint(c *fiber.Ctx) error {
	var in paymentHintBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	var id string
	switch v := in.PaymentID.(type) {
	case string:
		id = strings.TrimSpace(v)
	case json.Number:
		id = v.String()
	}
	if !validPaymentID(id) {
		a.webhookOutcome(webhookInvalid)
		return apperr.Invalid("invalid_payment_id", "payment_id debe ser el número de pago de MercadoPago")
	}
	if !a.hintLimit.Allow() {
		a.webhookOutcome(webhookHintLimited)
		return apperr.New(apperr.KindRateLimited, "rate_limited", "Demasiadas notificaciones; intentá de nuevo en unos segundos")
	}
	if _, err := a.svc.Deps.Pool.Exec(c.Context(), `INSERT INTO webhook_inbox (request_id, topic, data_id, action)
		SELECT 'hint', 'payment', $1, 'hint' WHERE NOT EXISTS (SELECT 1 FROM webhook_inbox WHERE data_id = $1 AND processed_at IS NULL)`,
		id); err != nil {
		return fmt.Errorf("store payment hint: %w", err)
	}
	a.webhookOutcome(webhookHint)
	wake(a.webhookWake)
	return c.Status(fiber.StatusAccepted).JSON(StatusMessage{Status: "recibido",
		Mensaje: "Consultaremos el estado del pago en MercadoPago"})
}

// validPaymentID: MercadoPago payment ids are positive integers.
func validPaymentID(s string) bool {
	if s == "" || len(s) > 20 || s[0] == '0' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

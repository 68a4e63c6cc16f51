package main

import (
	"context"
	"fmt"

	"github.com/conectarpro/conectar/services/payments/mpsim"
)

// paymentsDevExtra starts the MercadoPago simulator in-process on a free port (owned by
// the payments work) and points the payments service at it: base URL, token, webhook
// secret, the gateway's public webhook path as notification_url, and sandbox mode (which
// enables POST /api/v1/admin/trabajo/{id}/simular-pago).
func paymentsDevExtra() devExtra {
	return devExtra{name: "mercadopago-simulator", start: startMPSim}
}

func startMPSim(_ context.Context, d devContext) (map[string]string, func(), error) {
	token := d.getenv("MP_ACCESS_TOKEN")
	if token != "" && d.getenv("MP_BASE_URL") == "" && d.getenv("MP_SANDBOX") != "true" {
		// A real token without a base URL means the real MercadoPago: no simulator.
		fmt.Fprintln(d.stdout, "MercadoPago: using the real API (MP_ACCESS_TOKEN set)")
		return nil, nil, nil
	}
	if token == "" {
		token = "TEST-dev-sim-token"
	}
	secret := d.getenv("MP_WEBHOOK_SECRET")
	if secret == "" {
		secret = "dev-webhook-secret"
	}
	sim := mpsim.New(mpsim.Config{AccessToken: token, WebhookSecret: secret})
	u, err := sim.Start("127.0.0.1:0")
	if err != nil {
		return nil, nil, err
	}
	notify := d.getenv("MP_NOTIFICATION_URL")
	if notify == "" {
		notify = fmt.Sprintf("http://%s:%d/api/v1/webhook/mercadopago", d.settings.Host, d.settings.Ports["gateway"])
	}
	fmt.Fprintf(d.stdout, "MercadoPago simulator on %s (checkout pages at %s/checkout/v1/redirect, control API under %s/_sim/)\n", u, u, u)
	return map[string]string{
		"MP_BASE_URL":         u,
		"MP_ACCESS_TOKEN":     token,
		"MP_WEBHOOK_SECRET":   secret,
		"MP_NOTIFICATION_URL": notify,
		"MP_SANDBOX":          "true",
	}, sim.Close, nil
}

// Package payments owns payments, the escrow ledger, payouts and refunds, and talks to MercadoPago.
package payments

import (
	"context"

	"github.com/conectarpro/conectar/platform/kit"
)

// Name is the service's name, schema and role suffix.
const Name = "payments"

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	return s, nil
}

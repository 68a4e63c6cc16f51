// Package professionals owns professional profiles, trades, KYC, portfolios, published services and the geographic search index.
package professionals

import (
	"context"

	"github.com/conectarpro/conectar/platform/kit"
)

// Name is the service's name, schema and role suffix.
const Name = "professionals"

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Package auth owns accounts, credentials, sessions, password-reset tokens and the token signing keys.
package auth

import (
	"context"

	"github.com/conectarpro/conectar/platform/kit"
)

// Name is the service's name, schema and role suffix.
const Name = "auth"

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	return s, nil
}

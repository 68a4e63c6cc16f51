package main

import (
	"context"
	"fmt"

	"github.com/conectarpro/conectar/services/auth"
)

// authDevExtra creates the admin from ADMIN_EMAIL/ADMIN_PASSWORD (an existing admin with
// that email is left as it is). It runs at start, after the migrations and before any
// component listens: /health turning green must mean the admin can already sign in, so
// the account cannot be created after the gateway answers. A bad ADMIN_PASSWORD stops
// dev with the reason instead of a healthy system nobody can administer.
func authDevExtra() devExtra {
	return devExtra{name: "admin-bootstrap", start: func(ctx context.Context, d devContext) (map[string]string, func(), error) {
		email, password := d.getenv("ADMIN_EMAIL"), d.getenv("ADMIN_PASSWORD")
		if email == "" || password == "" {
			return nil, nil, nil
		}
		id, created, err := createAdmin(ctx, d.settings.DatabaseURL, d.getenv, auth.AdminInput{Email: email, Password: password,
			Nombre: d.getenv("ADMIN_NOMBRE"), Apellido: d.getenv("ADMIN_APELLIDO")})
		if err != nil {
			return nil, nil, err
		}
		if created {
			fmt.Fprintf(d.stdout, "  admin          %s created (id %s)\n", email, id)
		}
		return nil, nil, nil
	}}
}

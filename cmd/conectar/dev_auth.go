package main

import (
	"context"
	"fmt"

	"github.com/conectarpro/conectar/services/auth"
)

// authDevExtra creates the admin from ADMIN_EMAIL/ADMIN_PASSWORD once every component
// listens (an existing admin with that email is left as it is).
func authDevExtra() devExtra {
	return devExtra{name: "admin-bootstrap", afterStart: func(ctx context.Context, d devContext) error {
		email, password := d.getenv("ADMIN_EMAIL"), d.getenv("ADMIN_PASSWORD")
		if email == "" || password == "" {
			return nil
		}
		id, created, err := createAdmin(ctx, d.settings.DatabaseURL, d.getenv, auth.AdminInput{Email: email, Password: password,
			Nombre: d.getenv("ADMIN_NOMBRE"), Apellido: d.getenv("ADMIN_APELLIDO")})
		if err != nil {
			return err
		}
		if created {
			fmt.Fprintf(d.stdout, "  admin          %s created (id %s)\n", email, id)
		}
		return nil
	}}
}

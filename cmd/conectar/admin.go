package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/services/auth"
)

// runAdmin is the operator's admin tool. Admin accounts are never created through the
// public API: `conectar admin create` connects to DATABASE_URL (a superuser or the auth
// role) and creates the account through auth.CreateAdmin, which also appends
// UserRegistered to auth's outbox; the auth service's relay publishes it, so users and
// professionals build the profile as for any account.
func runAdmin(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "create" {
		return fmt.Errorf("usage: conectar admin create --email E --password P [--nombre N --apellido A]: %w", errUsage)
	}
	fs := flag.NewFlagSet("admin create", flag.ContinueOnError)
	fs.SetOutput(stdout)
	email := fs.String("email", "", "admin email (login id)")
	password := fs.String("password", "", "admin password (at least 8 characters)")
	nombre := fs.String("nombre", "Admin", "first name")
	apellido := fs.String("apellido", "Conectar", "last name")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *password == "" {
		return errors.New("admin create: --email and --password are required")
	}
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	id, created, err := createAdmin(ctx, s.DatabaseURL, getenv, auth.AdminInput{Email: *email, Password: *password, Nombre: *nombre, Apellido: *apellido})
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "admin %s created (id %s)\n", *email, id)
	} else {
		fmt.Fprintf(stdout, "admin %s already exists (id %s)\n", *email, id)
	}
	return nil
}

// createAdmin connects to dsn and creates the admin.
func createAdmin(ctx context.Context, dsn string, getenv config.Getenv, in auth.AdminInput) (string, bool, error) {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return "", false, fmt.Errorf("admin: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	id, created, err := auth.CreateAdmin(ctx, conn, getenv, in, time.Now())
	if err != nil {
		return "", false, fmt.Errorf("admin: %w", err)
	}
	return id, created, nil
}

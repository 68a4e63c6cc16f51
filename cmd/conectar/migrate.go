package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/config"
)

func runMigrate(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	s, err := loadSettings(getenv)
	if err != nil {
		return err
	}
	if len(args) == 0 {
		return errors.New("migrate: up or status")
	}
	conn, err := pgx.Connect(ctx, s.DatabaseURL)
	if err != nil {
		return fmt.Errorf("migrate: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	switch args[0] {
	case "up":
		if err := migrations.Up(ctx, conn, migrations.Options{Passwords: rolePasswords(getenv)}, args[1:]...); err != nil {
			return err
		}
		fmt.Fprintln(stdout, "migrations applied")
		return nil
	case "status":
		st, err := migrations.StatusOf(ctx, conn, args[1:]...)
		if err != nil {
			return err
		}
		for _, x := range st {
			fmt.Fprintf(stdout, "%-14s applied %v pending %v\n", x.Service, x.Applied, x.Pending)
		}
		return nil
	}
	return fmt.Errorf("migrate: unknown subcommand %q", args[0])
}

func rolePasswords(getenv config.Getenv) map[string]string {
	out := map[string]string{}
	for _, svc := range migrations.Services() {
		if p := getenv("DB_PASSWORD_" + strings.ToUpper(svc)); p != "" {
			out[svc] = p
		}
	}
	return out
}

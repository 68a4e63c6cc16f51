package auth

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/config"
	"github.com/conectarpro/conectar/platform/pg"
)

// AdminInput is an operator's request for an admin account.
type AdminInput struct {
	Email    string
	Password string
	Nombre   string
	Apellido string
}

// CreateAdmin creates an ADMIN account: the operator path (conectar admin create, and
// ADMIN_EMAIL/ADMIN_PASSWORD in dev), never the public API. db is a connection as the
// auth role or a superuser; the transaction pins search_path to the auth schema. It
// appends UserRegistered, so users and professionals build the profile from the event
// as for any account. When the email already belongs to an admin it returns that id
// with created=false; when it belongs to another role it fails.
func CreateAdmin(ctx context.Context, db pg.Beginner, getenv config.Getenv, in AdminInput, now time.Time) (id string, created bool, err error) {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		return "", false, fmt.Errorf("auth config: %w", err)
	}
	reg := RegisterInput{Email: normalizeEmail(in.Email), Password: in.Password,
		Nombre: strings.TrimSpace(in.Nombre), Apellido: strings.TrimSpace(in.Apellido), Rol: authn.RoleAdmin}
	if reg.Nombre == "" {
		reg.Nombre = "Admin"
	}
	if reg.Apellido == "" {
		reg.Apellido = "Conectar"
	}
	var ck apperr.Checker
	ck.Add(!validEmail(reg.Email), "email", "email inválido")
	checkPassword(&ck, "password", reg.Password)
	ck.Len("nombre", reg.Nombre, 1, 100)
	ck.Len("apellido", reg.Apellido, 1, 100)
	if err := ck.Err(); err != nil {
		if e, ok := apperr.As(err); ok && len(e.Fields) > 0 {
			return "", false, fmt.Errorf("create admin: %s %s", e.Fields[0].Field, e.Fields[0].Msg)
		}
		return "", false, err
	}
	hasher, err := NewHasher(cfg)
	if err != nil {
		return "", false, err
	}
	hash, err := hasher.Hash(ctx, reg.Password)
	if err != nil {
		return "", false, err
	}
	err = pg.WithTx(ctx, db, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL search_path = "+Name+", public"); err != nil {
			return fmt.Errorf("search_path: %w", err)
		}
		existing, found, err := accountByEmail(ctx, tx, reg.Email)
		if err != nil {
			return err
		}
		if found {
			if existing.Rol != authn.RoleAdmin {
				return fmt.Errorf("create admin: %s already belongs to a %s account", reg.Email, existing.Rol)
			}
			id = existing.ID.String()
			return nil
		}
		acc, err := insertAccount(ctx, tx, reg, hash, now)
		if err != nil {
			return err
		}
		id, created = acc.ID.String(), true
		return nil
	})
	if err != nil {
		return "", false, err
	}
	return id, created, nil
}

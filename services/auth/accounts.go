package auth

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/pg"
)

// account is one row of accounts.
type account struct {
	ID             uuid.UUID
	Email          string
	PasswordHash   string
	Nombre         string
	Apellido       string
	Rol            string
	IsActive       bool
	OficioID       *uuid.UUID
	FechaCreacion  time.Time
	FechaActualiza time.Time
	AvatarURL      *string // replica of users' avatar path (UserProfileUpdated)
}

const accountCols = `id, email, password_hash, nombre, apellido, rol, is_active, oficio_id, fecha_creacion, fecha_actualizacion, avatar_url`

func scanAccount(row pgx.Row) (account, error) {
	var a account
	err := row.Scan(&a.ID, &a.Email, &a.PasswordHash, &a.Nombre, &a.Apellido, &a.Rol, &a.IsActive, &a.OficioID,
		&a.FechaCreacion, &a.FechaActualiza, &a.AvatarURL)
	return a, err
}

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// accountByEmail returns the account with email, or found=false.
func accountByEmail(ctx context.Context, q querier, email string) (account, bool, error) {
	a, err := scanAccount(q.QueryRow(ctx, `SELECT `+accountCols+` FROM accounts WHERE lower(email) = lower($1)`, email))
	return pg.Lookup(a, err, "account by email")
}

// accountByID returns the account, or found=false. forUpdate locks the row.
func accountByID(ctx context.Context, q querier, id uuid.UUID, forUpdate bool) (account, bool, error) {
	sql := `SELECT ` + accountCols + ` FROM accounts WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	a, err := scanAccount(q.QueryRow(ctx, sql, id))
	return pg.Lookup(a, err, "account "+id.String())
}

// UserRead is the SPEC's user shape. Auth answers it at registration, before users has
// the profile (so avatar and strikes are their defaults).
type UserRead struct {
	ID               string    `json:"id"`
	Email            string    `json:"email"`
	Nombre           string    `json:"nombre"`
	Apellido         string    `json:"apellido"`
	Rol              string    `json:"rol"`
	IsActive         bool      `json:"is_active"`
	FechaCreacion    time.Time `json:"fecha_creacion"`
	AvatarURL        *string   `json:"avatar_url"`
	InfraccionesChat int       `json:"infracciones_chat"`
	IsChatBanned     bool      `json:"is_chat_banned"`
	EsAdmin          bool      `json:"es_admin"`
	EsProfesional    bool      `json:"es_profesional"`
	EsCliente        bool      `json:"es_cliente"`
}

func (a account) userRead() UserRead {
	return UserRead{ID: a.ID.String(), Email: a.Email, Nombre: a.Nombre, Apellido: a.Apellido, Rol: a.Rol,
		IsActive: a.IsActive, FechaCreacion: a.FechaCreacion.UTC(),
		EsAdmin: a.Rol == authn.RoleAdmin, EsProfesional: a.Rol == authn.RoleProfesional, EsCliente: a.Rol == authn.RoleCliente}
}

// UserSearchResult is an entry of the admin listing and search.
type UserSearchResult struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Nombre        string    `json:"nombre"`
	Apellido      string    `json:"apellido"`
	Rol           string    `json:"rol"`
	IsActive      bool      `json:"is_active"`
	FechaCreacion time.Time `json:"fecha_creacion"`
	AvatarURL     *string   `json:"avatar_url"`
}

// searchResult is the admin shape; base is the gateway's public URL, which makes the
// avatar path a URL the browser can load (the page puts it straight into img src).
func (a account) searchResult(base string) UserSearchResult {
	out := UserSearchResult{ID: a.ID.String(), Email: a.Email, Nombre: a.Nombre, Apellido: a.Apellido, Rol: a.Rol,
		IsActive: a.IsActive, FechaCreacion: a.FechaCreacion.UTC(), AvatarURL: a.AvatarURL}
	if a.AvatarURL != nil && base != "" && strings.HasPrefix(*a.AvatarURL, "/") {
		u := strings.TrimRight(base, "/") + *a.AvatarURL
		out.AvatarURL = &u
	}
	return out
}

// InternalAccount is the agreed internal read shape (/internal/accounts/{id}).
type InternalAccount struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Nombre        string    `json:"nombre"`
	Apellido      string    `json:"apellido"`
	Rol           string    `json:"rol"`
	IsActive      bool      `json:"is_active"`
	OficioID      *string   `json:"oficio_id"`
	FechaCreacion time.Time `json:"fecha_creacion"`
}

func (a account) internal() InternalAccount {
	out := InternalAccount{ID: a.ID.String(), Email: a.Email, Nombre: a.Nombre, Apellido: a.Apellido, Rol: a.Rol,
		IsActive: a.IsActive, FechaCreacion: a.FechaCreacion.UTC()}
	if a.OficioID != nil {
		s := a.OficioID.String()
		out.OficioID = &s
	}
	return out
}

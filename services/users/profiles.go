package users

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/pg"
)

// profile is one row of profiles.
type profile struct {
	ID               uuid.UUID
	Email            string
	Nombre           string
	Apellido         string
	Rol              string
	IsActive         bool
	AvatarURL        *string
	AvatarName       *string
	InfraccionesChat int
	IsChatBanned     bool
	FechaCreacion    time.Time
	Telefono         *string
	Direccion        *string
	KYCVerificado    bool // from the kyc_states replica
}

// profileCols reads a profile row; kyc_verificado comes from the event-fed replica.
const profileCols = `id, email, nombre, apellido, rol, is_active, avatar_url, avatar_name, infracciones_chat, is_chat_banned,
	fecha_creacion, telefono, direccion,
	EXISTS (SELECT 1 FROM kyc_states k WHERE k.usuario_id = profiles.id AND k.estado = 'APROBADO')`

func scanProfile(row pgx.Row) (profile, error) {
	var p profile
	err := row.Scan(&p.ID, &p.Email, &p.Nombre, &p.Apellido, &p.Rol, &p.IsActive, &p.AvatarURL, &p.AvatarName,
		&p.InfraccionesChat, &p.IsChatBanned, &p.FechaCreacion, &p.Telefono, &p.Direccion, &p.KYCVerificado)
	return p, err
}

type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func profileByID(ctx context.Context, q querier, id uuid.UUID, forUpdate bool) (profile, bool, error) {
	sql := `SELECT ` + profileCols + ` FROM profiles WHERE id = $1`
	if forUpdate {
		sql += ` FOR UPDATE`
	}
	p, err := scanProfile(q.QueryRow(ctx, sql, id))
	return pg.Lookup(p, err, "profile "+id.String())
}

// newProfile is what a profile starts from: UserRegistered or auth's internal answer.
type newProfile struct {
	ID            uuid.UUID
	Email         string
	Nombre        string
	Apellido      string
	Rol           string
	IsActive      bool
	FechaCreacion time.Time
}

// insertProfile creates the profile unless it exists (the event and a read-your-writes
// fill may race; the first wins and both carry the same data).
func insertProfile(ctx context.Context, tx pgx.Tx, n newProfile) error {
	if _, err := tx.Exec(ctx, `INSERT INTO profiles (id, email, nombre, apellido, rol, is_active, fecha_creacion, fecha_actualizacion)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (id) DO NOTHING`,
		n.ID, n.Email, n.Nombre, n.Apellido, n.Rol, n.IsActive, n.FechaCreacion); err != nil {
		return pg.Translate(fmt.Errorf("insert profile %s: %w", n.ID, err))
	}
	return nil
}

// UserRead is the SPEC's user shape.
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
	Telefono         *string   `json:"telefono"`
	Direccion        *string   `json:"direccion"`
	// KYCVerificado is true once the user's professional KYC is APROBADO.
	KYCVerificado bool `json:"kyc_verificado"`
}

// absolute turns a stored avatar path into the URL a browser loads: the frontend puts
// avatar_url straight into img src, and a path would resolve against the frontend's own
// origin. base is the gateway's public URL (kit.Deps.PublicURL); without one the path
// is all there is.
func absolute(base string, path *string) *string {
	if path == nil || base == "" || strings.HasPrefix(*path, "http://") || strings.HasPrefix(*path, "https://") {
		return path
	}
	u := strings.TrimRight(base, "/") + *path
	return &u
}

func (p profile) read(base string) UserRead {
	return UserRead{ID: p.ID.String(), Email: p.Email, Nombre: p.Nombre, Apellido: p.Apellido, Rol: p.Rol,
		IsActive: p.IsActive, FechaCreacion: p.FechaCreacion.UTC(), AvatarURL: absolute(base, p.AvatarURL),
		InfraccionesChat: p.InfraccionesChat, IsChatBanned: p.IsChatBanned,
		EsAdmin: p.Rol == authn.RoleAdmin, EsProfesional: p.Rol == authn.RoleProfesional, EsCliente: p.Rol == authn.RoleCliente,
		Telefono: p.Telefono, Direccion: p.Direccion, KYCVerificado: p.KYCVerificado}
}

// UserBrief is the search and internal shape.
type UserBrief struct {
	ID        string  `json:"id"`
	Email     string  `json:"email"`
	Nombre    string  `json:"nombre"`
	Apellido  string  `json:"apellido"`
	AvatarURL *string `json:"avatar_url"`
	Rol       string  `json:"rol"`
	IsActive  bool    `json:"is_active"`
}

func (p profile) brief(base string) UserBrief {
	return UserBrief{ID: p.ID.String(), Email: p.Email, Nombre: p.Nombre, Apellido: p.Apellido, AvatarURL: absolute(base, p.AvatarURL),
		Rol: p.Rol, IsActive: p.IsActive}
}

// authAccount is auth's internal answer (/internal/accounts/{id}).
type authAccount struct {
	ID            string    `json:"id"`
	Email         string    `json:"email"`
	Nombre        string    `json:"nombre"`
	Apellido      string    `json:"apellido"`
	Rol           string    `json:"rol"`
	IsActive      bool      `json:"is_active"`
	FechaCreacion time.Time `json:"fecha_creacion"`
}

var errProfileNotFound = apperr.NotFound("user_not_found", "Usuario no encontrado")

// load returns the profile of id, filling it from auth when UserRegistered has not
// arrived yet (read-your-writes).
func (u *Users) load(ctx context.Context, id uuid.UUID) (profile, error) {
	p, found, err := profileByID(ctx, u.svc.Deps.Pool, id, false)
	if err != nil || found {
		return p, err
	}
	var acc authAccount
	if err := u.svc.InternalGet(ctx, "auth", "/internal/accounts/"+id.String(), &acc); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return profile{}, errProfileNotFound
		}
		return profile{}, err
	}
	if acc.ID != id.String() {
		return profile{}, apperr.Unavailable("auth_mismatch", "Servicio no disponible", fmt.Errorf("auth answered %s for %s", acc.ID, id))
	}
	err = pg.WithTx(ctx, u.svc.Deps.Pool, func(tx pgx.Tx) error {
		return insertProfile(ctx, tx, newProfile{ID: id, Email: acc.Email, Nombre: acc.Nombre, Apellido: acc.Apellido,
			Rol: acc.Rol, IsActive: acc.IsActive, FechaCreacion: acc.FechaCreacion})
	})
	if err != nil {
		return profile{}, err
	}
	p, found, err = profileByID(ctx, u.svc.Deps.Pool, id, false)
	if err == nil && !found {
		err = errProfileNotFound
	}
	return p, err
}

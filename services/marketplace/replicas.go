package marketplace

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/money"
)

// querier is what both the pool and a transaction offer.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// userRow is the local replica of a user.
type userRow struct {
	ID, Email, Nombre, Apellido, Rol string
	IsActive, ChatBanned             bool
}

func (u userRow) nombreCompleto() string { return strings.TrimSpace(u.Nombre + " " + u.Apellido) }

// proRow is the local replica of a professional, keyed by user id.
type proRow struct {
	UsuarioID, ProfesionalID, EstadoVerificacion, PayoutAccount string
}

// user reads the replica of id; on a miss (the registration event is still in flight)
// it asks users once and stores the answer.
func (m *Market) user(ctx context.Context, id string) (userRow, error) {
	var u userRow
	err := m.pool.QueryRow(ctx, `SELECT id, email, nombre, apellido, rol, is_active, chat_banned FROM usuarios WHERE id = $1`, id).
		Scan(&u.ID, &u.Email, &u.Nombre, &u.Apellido, &u.Rol, &u.IsActive, &u.ChatBanned)
	if err == nil && u.Rol != "" {
		return u, nil
	}
	if err != nil && err != pgx.ErrNoRows {
		return u, fmt.Errorf("read user %s: %w", id, err)
	}
	var out struct {
		ID        string  `json:"id"`
		Email     string  `json:"email"`
		Nombre    string  `json:"nombre"`
		Apellido  string  `json:"apellido"`
		Rol       string  `json:"rol"`
		IsActive  bool    `json:"is_active"`
		AvatarURL *string `json:"avatar_url"`
	}
	if err := m.s.InternalGet(ctx, "users", "/internal/users/"+id, &out); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return u, apperr.NotFound("usuario_no_encontrado", "Usuario no encontrado")
		}
		return u, err
	}
	// Events win over this answer: only fill what no event has written yet.
	_, err = m.pool.Exec(ctx, `INSERT INTO usuarios (id, email, nombre, apellido, rol, is_active, avatar_url) VALUES ($1,$2,$3,$4,$5,$6,$7)
		ON CONFLICT (id) DO UPDATE SET email = CASE WHEN usuarios.email = '' THEN EXCLUDED.email ELSE usuarios.email END,
		  avatar_url = coalesce(usuarios.avatar_url, EXCLUDED.avatar_url),
		  rol = CASE WHEN usuarios.rol = '' THEN EXCLUDED.rol ELSE usuarios.rol END,
		  nombre = CASE WHEN usuarios.nombre = '' THEN EXCLUDED.nombre ELSE usuarios.nombre END,
		  apellido = CASE WHEN usuarios.apellido = '' THEN EXCLUDED.apellido ELSE usuarios.apellido END`,
		id, out.Email, out.Nombre, out.Apellido, out.Rol, out.IsActive, out.AvatarURL)
	if err != nil {
		return u, fmt.Errorf("store user %s: %w", id, err)
	}
	return userRow{ID: id, Email: out.Email, Nombre: out.Nombre, Apellido: out.Apellido, Rol: out.Rol, IsActive: out.IsActive, ChatBanned: u.ChatBanned}, nil
}

// professional reads the replica of the professional with user id; on a miss it asks
// professionals once and stores the answer.
func (m *Market) professional(ctx context.Context, userID string) (proRow, error) {
	p, _, err := m.lookupProfessional(ctx, userID)
	return p, err
}

// professionalWhere reads the professional like professional, but a replica that fails
// want (no payout account, KYC not approved yet) is confirmed with professionals before
// anyone is refused: the replica trails the owner by an event, and an account set or a
// KYC approved a moment ago (or whose event waits on a restarted consumer) must already
// count.
func (m *Market) professionalWhere(ctx context.Context, userID string, want func(proRow) bool) (proRow, error) {
	p, fromOwner, err := m.lookupProfessional(ctx, userID)
	if err != nil || fromOwner || want(p) {
		return p, err
	}
	return m.fetchProfessional(ctx, userID)
}

func hasPayout(p proRow) bool { return strings.TrimSpace(p.PayoutAccount) != "" }

func kycApproved(p proRow) bool { return p.EstadoVerificacion == "APROBADO" }

// lookupProfessional is professional, and says whether the answer came from the owner.
func (m *Market) lookupProfessional(ctx context.Context, userID string) (p proRow, fromOwner bool, err error) {
	var profID *string
	err = m.pool.QueryRow(ctx, `SELECT usuario_id, profesional_id, estado_verificacion, payout_account FROM profesionales WHERE usuario_id = $1`, userID).
		Scan(&p.UsuarioID, &profID, &p.EstadoVerificacion, &p.PayoutAccount)
	if err == nil {
		if profID != nil {
			p.ProfesionalID = *profID
		}
		return p, false, nil
	}
	if err != pgx.ErrNoRows {
		return p, false, fmt.Errorf("read professional %s: %w", userID, err)
	}
	if p, err = m.fetchProfessional(ctx, userID); err != nil {
		return p, true, err
	}
	var pid any
	if p.ProfesionalID != "" {
		pid = p.ProfesionalID
	}
	_, err = m.pool.Exec(ctx, `INSERT INTO profesionales (usuario_id, profesional_id, estado_verificacion, payout_account) VALUES ($1,$2,$3,$4)
		ON CONFLICT (usuario_id) DO NOTHING`, userID, pid, p.EstadoVerificacion, p.PayoutAccount)
	if err != nil {
		return p, true, fmt.Errorf("store professional %s: %w", userID, err)
	}
	return p, true, nil
}

// fetchProfessional asks professionals, the owner, for the professional with user id.
func (m *Market) fetchProfessional(ctx context.Context, userID string) (proRow, error) {
	var out struct {
		ID                 string `json:"id"`
		UsuarioID          string `json:"usuario_id"`
		EstadoVerificacion string `json:"estado_verificacion"`
		PayoutAccount      string `json:"payout_account"`
	}
	if err := m.s.InternalGet(ctx, "professionals", "/internal/professionals/by-user/"+userID, &out); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return proRow{}, apperr.NotFound("profesional_no_encontrado", "Profesional no encontrado")
		}
		return proRow{}, err
	}
	return proRow{UsuarioID: userID, ProfesionalID: out.ID, EstadoVerificacion: out.EstadoVerificacion, PayoutAccount: out.PayoutAccount}, nil
}

// servicioRow is a fixed-price service of a professional.
type servicioRow struct {
	ID, ProfesionalUsuarioID, Nombre, Descripcion string
	Precio                                        money.Centavos
}

// servicio reads a fixed-price service, from the cache or from professionals.
func (m *Market) servicio(ctx context.Context, id string) (servicioRow, error) {
	var s servicioRow
	err := m.pool.QueryRow(ctx, `SELECT id, profesional_usuario_id, nombre, descripcion, precio_centavos FROM servicios WHERE id = $1`, id).
		Scan(&s.ID, &s.ProfesionalUsuarioID, &s.Nombre, &s.Descripcion, &s.Precio)
	if err == nil {
		return s, nil
	}
	if err != pgx.ErrNoRows {
		return s, fmt.Errorf("read servicio %s: %w", id, err)
	}
	var out struct {
		ID                   string         `json:"id"`
		ProfesionalUsuarioID string         `json:"profesional_usuario_id"`
		Nombre               string         `json:"nombre"`
		Descripcion          string         `json:"descripcion"`
		PrecioFijo           money.Centavos `json:"precio_fijo"`
	}
	if err := m.s.InternalGet(ctx, "professionals", "/internal/servicios/"+id, &out); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return s, apperr.NotFound("servicio_no_encontrado", "Servicio no encontrado")
		}
		return s, err
	}
	if out.ProfesionalUsuarioID == "" || out.PrecioFijo <= 0 {
		return s, apperr.Invalid("servicio_invalido", "El servicio no tiene profesional o precio válido")
	}
	// The price is read fresh on every hire miss; the cache row only saves the lookup.
	_, err = m.pool.Exec(ctx, `INSERT INTO servicios (id, profesional_usuario_id, nombre, descripcion, precio_centavos) VALUES ($1,$2,$3,$4,$5)
		ON CONFLICT (id) DO UPDATE SET nombre = EXCLUDED.nombre, descripcion = EXCLUDED.descripcion, precio_centavos = EXCLUDED.precio_centavos, updated_at = now()`,
		id, out.ProfesionalUsuarioID, out.Nombre, out.Descripcion, int64(out.PrecioFijo))
	if err != nil {
		return s, fmt.Errorf("store servicio %s: %w", id, err)
	}
	return servicioRow{ID: id, ProfesionalUsuarioID: out.ProfesionalUsuarioID, Nombre: out.Nombre, Descripcion: out.Descripcion, Precio: out.PrecioFijo}, nil
}

// nombres returns display names of ids from the replica (missing ones are empty).
func nombres(ctx context.Context, q querier, ids ...string) (map[string]string, error) {
	out := map[string]string{}
	rows, err := q.Query(ctx, `SELECT id::text, trim(nombre || ' ' || apellido) FROM usuarios WHERE id = ANY($1::uuid[])`, ids)
	if err != nil {
		return nil, fmt.Errorf("read names: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, n string
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// replicaConsumers keep the replicas of users and professionals.
func (m *Market) replicaConsumers() []consumer.Spec {
	return []consumer.Spec{
		{Name: "marketplace-auth", Stream: events.StreamAuth,
			Subjects: []string{events.SubjUserRegistered, events.SubjUserBanned, events.SubjUserUnbanned}, Handle: m.onIdentity},
		{Name: "marketplace-users", Stream: events.StreamUsers,
			Subjects: []string{events.SubjUserProfileUpdated, events.SubjUserChatBanned}, Handle: m.onIdentity},
		{Name: "marketplace-professionals", Stream: events.StreamProfessionals,
			Subjects: []string{events.SubjProfessionalProfileUpdated, events.SubjKYCApproved, events.SubjKYCRejected}, Handle: m.onProfessional},
	}
}

func (m *Market) onIdentity(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	var err error
	switch env.Type {
	case events.UserRegisteredV1{}.EventType():
		e, derr := events.Decode[events.UserRegisteredV1](env)
		if derr != nil {
			return derr
		}
		_, err = tx.Exec(ctx, `INSERT INTO usuarios (id, email, nombre, apellido, rol) VALUES ($1,$2,$3,$4,$5)
			ON CONFLICT (id) DO UPDATE SET email = EXCLUDED.email, rol = EXCLUDED.rol,
			  nombre = CASE WHEN usuarios.nombre = '' THEN EXCLUDED.nombre ELSE usuarios.nombre END,
			  apellido = CASE WHEN usuarios.apellido = '' THEN EXCLUDED.apellido ELSE usuarios.apellido END, updated_at = now()`,
			e.UserID, e.Email, e.Nombre, e.Apellido, e.Rol)
	case events.UserProfileUpdatedV1{}.EventType():
		e, derr := events.Decode[events.UserProfileUpdatedV1](env)
		if derr != nil {
			return derr
		}
		// An event without an avatar keeps the one we have (a name change says nothing
		// about the picture).
		_, err = tx.Exec(ctx, `INSERT INTO usuarios (id, nombre, apellido, avatar_url) VALUES ($1,$2,$3,nullif($4, ''))
			ON CONFLICT (id) DO UPDATE SET nombre = EXCLUDED.nombre, apellido = EXCLUDED.apellido,
			  avatar_url = coalesce(EXCLUDED.avatar_url, usuarios.avatar_url), updated_at = now()`,
			e.UserID, e.Nombre, e.Apellido, e.AvatarURL)
	case events.UserBannedV1{}.EventType(), events.UserUnbannedV1{}.EventType():
		var e events.UserBannedV1
		if env.Type == (events.UserBannedV1{}).EventType() {
			e, err = events.Decode[events.UserBannedV1](env)
		} else {
			var u events.UserUnbannedV1
			u, err = events.Decode[events.UserUnbannedV1](env)
			e.UserID = u.UserID
		}
		if err != nil {
			return err
		}
		active := env.Type == (events.UserUnbannedV1{}).EventType()
		_, err = tx.Exec(ctx, `INSERT INTO usuarios (id, is_active) VALUES ($1,$2)
			ON CONFLICT (id) DO UPDATE SET is_active = EXCLUDED.is_active, updated_at = now()`, e.UserID, active)
	case events.UserChatBannedV1{}.EventType():
		e, derr := events.Decode[events.UserChatBannedV1](env)
		if derr != nil {
			return derr
		}
		_, err = tx.Exec(ctx, `INSERT INTO usuarios (id, chat_banned) VALUES ($1, true)
			ON CONFLICT (id) DO UPDATE SET chat_banned = true, updated_at = now()`, e.UserID)
	default:
		return nil
	}
	if err != nil {
		return fmt.Errorf("apply %s: %w", env.Type, err)
	}
	return nil
}

func (m *Market) onProfessional(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	var userID, profID, estado string
	var payout *string
	switch env.Type {
	case events.ProfessionalProfileUpdatedV1{}.EventType():
		e, err := events.Decode[events.ProfessionalProfileUpdatedV1](env)
		if err != nil {
			return err
		}
		userID, profID, estado = e.UsuarioID, e.ProfesionalID, e.EstadoVerificacion
		payout = &e.PayoutAccount
	case events.KYCApprovedV1{}.EventType():
		e, err := events.Decode[events.KYCApprovedV1](env)
		if err != nil {
			return err
		}
		userID, profID, estado = e.UsuarioID, e.ProfesionalID, "APROBADO"
	case events.KYCRejectedV1{}.EventType():
		e, err := events.Decode[events.KYCRejectedV1](env)
		if err != nil {
			return err
		}
		userID, profID, estado = e.UsuarioID, e.ProfesionalID, "RECHAZADO"
	default:
		return nil
	}
	if userID == "" {
		return apperr.Permanent("sin_usuario", "event without usuario_id", nil)
	}
	var pid any
	if profID != "" {
		pid = profID
	}
	// The KYC state and the profile fields each move only forward in event time, so an
	// older event delivered late never undoes a newer one.
	_, err := tx.Exec(ctx, `INSERT INTO profesionales (usuario_id, profesional_id, estado_verificacion, payout_account, kyc_at, profile_at)
		VALUES ($1, $2, COALESCE(NULLIF($3, ''), 'PENDIENTE'), COALESCE($4, ''), $5,
		        CASE WHEN $4::text IS NULL THEN '-infinity'::timestamptz ELSE $5 END)
		ON CONFLICT (usuario_id) DO UPDATE SET
		  profesional_id = COALESCE(EXCLUDED.profesional_id, profesionales.profesional_id),
		  estado_verificacion = CASE WHEN $3 <> '' AND $5 >= profesionales.kyc_at THEN $3 ELSE profesionales.estado_verificacion END,
		  kyc_at = CASE WHEN $3 <> '' AND $5 >= profesionales.kyc_at THEN $5 ELSE profesionales.kyc_at END,
		  payout_account = CASE WHEN $4::text IS NOT NULL AND $5 >= profesionales.profile_at THEN $4 ELSE profesionales.payout_account END,
		  profile_at = CASE WHEN $4::text IS NOT NULL AND $5 >= profesionales.profile_at THEN $5 ELSE profesionales.profile_at END,
		  updated_at = now()`,
		userID, pid, estado, payout, env.OccurredAt)
	if err != nil {
		return fmt.Errorf("apply %s: %w", env.Type, err)
	}
	return nil
}

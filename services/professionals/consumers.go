package professionals

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// consumers keep the local replicas (names, bans, ratings, levels, medals) and create
// profiles at registration. Each handler changes state only through the tx it is given,
// so a redelivered event is applied once (the inbox), and compares versions so an older
// event never overwrites newer data.
func (s *svc) consumers() []consumer.Spec {
	return []consumer.Spec{
		{Name: "professionals-identity", Stream: events.StreamAuth,
			Subjects: []string{events.SubjUserRegistered, events.SubjUserBanned, events.SubjUserUnbanned}, Handle: s.handle},
		{Name: "professionals-users", Stream: events.StreamUsers,
			Subjects: []string{events.SubjUserProfileUpdated}, Handle: s.handle},
		{Name: "professionals-reviews", Stream: events.StreamMarketplace,
			Subjects: []string{events.SubjReviewPosted, events.SubjReviewUpdated, events.SubjReviewDeleted}, Handle: s.handle},
		// Completed jobs feed the profile's trabajos_completados.
		{Name: "professionals-jobs", Stream: events.StreamMarketplace,
			Subjects: []string{events.SubjJobCompleted}, Handle: s.handle},
		{Name: "professionals-engagement", Stream: events.StreamEngagement,
			Subjects: []string{events.SubjXPAwarded, events.SubjLevelChanged, events.SubjMedalAwarded}, Handle: s.handle},
	}
}

// reviewPosted reads ReviewPosted plus the optional text and client name, which the
// public profile shows when the marketplace includes them.
type reviewPosted struct {
	events.ReviewPostedV1
	TextoResena   *string `json:"texto_resena"`
	NombreCliente *string `json:"nombre_cliente"`
	// What the job was, when the marketplace includes it (the public profile shows it).
	TrabajoDescripcion *string `json:"trabajo_descripcion"`
}

func permanent(env events.Envelope, err error) error {
	return apperr.Permanent("bad_event", "evento inválido", fmt.Errorf("%s %s: %w", env.Type, env.ID, err))
}

func (s *svc) handle(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	at := env.OccurredAt
	switch env.Type {
	case events.UserRegisteredV1{}.EventType():
		e, err := events.Decode[events.UserRegisteredV1](env)
		if err != nil || !isUUID(e.UserID) {
			return permanent(env, err)
		}
		a := account{ID: e.UserID, Email: e.Email, Nombre: e.Nombre, Apellido: e.Apellido, Rol: e.Rol, OficioID: e.OficioID, At: at}
		if e.Rol != authn.RoleProfesional {
			return upsertUser(ctx, tx, a)
		}
		return s.ensureProfile(ctx, tx, a, env.Caused())

	case events.UserBannedV1{}.EventType(), events.UserUnbannedV1{}.EventType():
		var userID string
		active := env.Type == events.UserUnbannedV1{}.EventType()
		if active {
			e, err := events.Decode[events.UserUnbannedV1](env)
			if err != nil {
				return permanent(env, err)
			}
			userID = e.UserID
		} else {
			e, err := events.Decode[events.UserBannedV1](env)
			if err != nil {
				return permanent(env, err)
			}
			userID = e.UserID
		}
		if !isUUID(userID) {
			return permanent(env, fmt.Errorf("user id %q", userID))
		}
		if _, err := tx.Exec(ctx, `INSERT INTO usuarios (usuario_id, is_active, activo_at) VALUES ($1, $2, $3)
			ON CONFLICT (usuario_id) DO UPDATE SET is_active = EXCLUDED.is_active, activo_at = EXCLUDED.activo_at
			WHERE usuarios.activo_at IS NULL OR usuarios.activo_at < EXCLUDED.activo_at`, userID, active, at); err != nil {
			return fmt.Errorf("apply ban state of %s: %w", userID, err)
		}
		return s.syncAndRefresh(ctx, tx, userID, true, env)

	case events.UserProfileUpdatedV1{}.EventType():
		e, err := events.Decode[events.UserProfileUpdatedV1](env)
		if err != nil || !isUUID(e.UserID) {
			return permanent(env, err)
		}
		var avatar *string
		if e.AvatarURL != "" {
			avatar = &e.AvatarURL
		}
		if _, err := tx.Exec(ctx, `INSERT INTO usuarios (usuario_id, nombre, apellido, avatar_url, perfil_at) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (usuario_id) DO UPDATE SET nombre = EXCLUDED.nombre, apellido = EXCLUDED.apellido,
				avatar_url = coalesce(EXCLUDED.avatar_url, usuarios.avatar_url), perfil_at = EXCLUDED.perfil_at
			WHERE usuarios.perfil_at IS NULL OR usuarios.perfil_at < EXCLUDED.perfil_at`, e.UserID, e.Nombre, e.Apellido, avatar, at); err != nil {
			return fmt.Errorf("apply profile of %s: %w", e.UserID, err)
		}
		return s.syncAndRefresh(ctx, tx, e.UserID, false, env)

	case events.ReviewPostedV1{}.EventType():
		e, err := events.Decode[reviewPosted](env)
		if err != nil || !isUUID(e.ResenaID) || !isUUID(e.ProfesionalID) {
			return permanent(env, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO resenas (id, profesional_ref, rating, texto_resena, nombre_cliente, fecha_creacion,
				cliente_id, trabajo_id, trabajo_descripcion)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`,
			e.ResenaID, e.ProfesionalID, e.Rating, e.TextoResena, e.NombreCliente, at,
			uuidOrNil(e.ClienteID), uuidOrNil(e.TrabajoID), e.TrabajoDescripcion); err != nil {
			return fmt.Errorf("record review %s: %w", e.ResenaID, err)
		}
		// The event carries the new aggregate; reviews only accumulate, so a higher
		// total is newer and a lower or equal one is stale.
		var id string
		var exists bool
		err = tx.QueryRow(ctx, `SELECT id::text, true FROM profesionales WHERE id = $1 OR usuario_id = $1 LIMIT 1 FOR UPDATE`, e.ProfesionalID).Scan(&id, &exists)
		if err == pgx.ErrNoRows {
			// The profile is created by UserRegistered, which may still be in flight:
			// retry later rather than lose the rating.
			return fmt.Errorf("review %s for unknown professional %s", e.ResenaID, e.ProfesionalID)
		}
		if err != nil {
			return fmt.Errorf("find professional %s: %w", e.ProfesionalID, err)
		}
		tag, err := tx.Exec(ctx, `UPDATE profesionales SET rating_promedio = $2, total_resenas = $3
			WHERE id = $1 AND total_resenas < $3`, id, e.RatingPromedio, e.TotalResenas)
		if err != nil {
			return fmt.Errorf("apply rating of %s: %w", id, err)
		}
		if tag.RowsAffected() == 0 {
			return nil
		}
		return s.changed(ctx, tx, id, false, env.Caused())

	case events.ReviewUpdatedV1{}.EventType():
		e, err := events.Decode[events.ReviewUpdatedV1](env)
		if err != nil || !isUUID(e.ResenaID) || !isUUID(e.ProfesionalID) || e.Rating < 1 || e.Rating > 5 {
			return permanent(env, err)
		}
		var texto *string
		if e.TextoResena != "" {
			texto = &e.TextoResena
		}
		if _, err := tx.Exec(ctx, `UPDATE resenas SET rating = $2, texto_resena = $3 WHERE id = $1`, e.ResenaID, e.Rating, texto); err != nil {
			return fmt.Errorf("update review %s: %w", e.ResenaID, err)
		}
		return s.applyRating(ctx, tx, env, e.ProfesionalID, e.RatingPromedio, e.TotalResenas)

	case events.ReviewDeletedV1{}.EventType():
		e, err := events.Decode[events.ReviewDeletedV1](env)
		if err != nil || !isUUID(e.ResenaID) || !isUUID(e.ProfesionalID) {
			return permanent(env, err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM resenas WHERE id = $1`, e.ResenaID); err != nil {
			return fmt.Errorf("delete review %s: %w", e.ResenaID, err)
		}
		return s.applyRating(ctx, tx, env, e.ProfesionalID, e.RatingPromedio, e.TotalResenas)

	case events.JobCompletedV1{}.EventType():
		e, err := events.Decode[events.JobCompletedV1](env)
		if err != nil || !isUUID(e.TrabajoID) || !isUUID(e.ProfesionalID) {
			return permanent(env, err)
		}
		// One row per job: a redelivered or replayed event counts once. The count is
		// read per profile, so the profile need not exist yet.
		if _, err := tx.Exec(ctx, `INSERT INTO trabajos_completados (trabajo_id, profesional_ref, fecha) VALUES ($1, $2, $3)
			ON CONFLICT (trabajo_id) DO NOTHING`, e.TrabajoID, e.ProfesionalID, at); err != nil {
			return fmt.Errorf("record completed job %s: %w", e.TrabajoID, err)
		}
		return nil

	case events.XPAwardedV1{}.EventType():
		e, err := events.Decode[events.XPAwardedV1](env)
		if err != nil || !isUUID(e.UsuarioID) {
			return permanent(env, err)
		}
		// XP only grows: the maximum is right whatever the arrival order.
		if _, err := tx.Exec(ctx, `INSERT INTO usuarios (usuario_id, puntos_experiencia) VALUES ($1, $2)
			ON CONFLICT (usuario_id) DO UPDATE SET puntos_experiencia = greatest(usuarios.puntos_experiencia, EXCLUDED.puntos_experiencia)`,
			e.UsuarioID, e.PuntosExperiencia); err != nil {
			return fmt.Errorf("apply xp of %s: %w", e.UsuarioID, err)
		}
		return s.syncAndRefresh(ctx, tx, e.UsuarioID, false, env)

	case events.LevelChangedV1{}.EventType():
		e, err := events.Decode[events.LevelChangedV1](env)
		if err != nil || !isUUID(e.UsuarioID) || !validNivel(e.Nivel) {
			return permanent(env, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO usuarios (usuario_id, nivel, tasa_comision_bp, nivel_at, puntos_experiencia) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (usuario_id) DO UPDATE SET
				nivel = CASE WHEN usuarios.nivel_at IS NULL OR usuarios.nivel_at < EXCLUDED.nivel_at THEN EXCLUDED.nivel ELSE usuarios.nivel END,
				tasa_comision_bp = CASE WHEN usuarios.nivel_at IS NULL OR usuarios.nivel_at < EXCLUDED.nivel_at THEN EXCLUDED.tasa_comision_bp ELSE usuarios.tasa_comision_bp END,
				nivel_at = greatest(usuarios.nivel_at, EXCLUDED.nivel_at),
				puntos_experiencia = greatest(usuarios.puntos_experiencia, EXCLUDED.puntos_experiencia)`,
			e.UsuarioID, e.Nivel, e.TasaComisionBP, at, e.PuntosExperiencia); err != nil {
			return fmt.Errorf("apply level of %s: %w", e.UsuarioID, err)
		}
		return s.syncAndRefresh(ctx, tx, e.UsuarioID, false, env)

	case events.MedalAwardedV1{}.EventType():
		e, err := events.Decode[events.MedalAwardedV1](env)
		if err != nil || !isUUID(e.UsuarioID) || e.Medalla == "" {
			return permanent(env, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO medallas (usuario_id, medalla, nombre, fecha_creacion) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING`, e.UsuarioID, e.Medalla, e.Nombre, at); err != nil {
			return fmt.Errorf("record medal of %s: %w", e.UsuarioID, err)
		}
		return nil
	}
	return nil
}

// applyRating sets the professional's rating aggregate carried by a review edit or
// deletion. Unlike ReviewPosted's total these may go down, so there is no "newer"
// test: marketplace publishes one professional's review events in commit order with
// the professional as aggregate id, and the runner applies one aggregate's events in
// stream order.
func (s *svc) applyRating(ctx context.Context, tx pgx.Tx, env events.Envelope, proRef string, avg float64, total int) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id::text FROM profesionales WHERE id = $1 OR usuario_id = $1 LIMIT 1 FOR UPDATE`, proRef).Scan(&id)
	if err == pgx.ErrNoRows {
		return fmt.Errorf("%s for unknown professional %s", env.Type, proRef) // the profile may still be in flight: retry
	}
	if err != nil {
		return fmt.Errorf("find professional %s: %w", proRef, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE profesionales SET rating_promedio = $2, total_resenas = $3 WHERE id = $1`, id, avg, total); err != nil {
		return fmt.Errorf("apply rating of %s: %w", id, err)
	}
	return s.changed(ctx, tx, id, false, env.Caused())
}

// uuidOrNil is id when it is a UUID, else NULL (optional ids of an event).
func uuidOrNil(id string) *string {
	if !isUUID(id) {
		return nil
	}
	return &id
}

// syncAndRefresh copies the replica into the user's profile, if there is one, and
// rebuilds its search rows (publishing ProfessionalProfileUpdated when publish).
func (s *svc) syncAndRefresh(ctx context.Context, tx pgx.Tx, userID string, publish bool, env events.Envelope) error {
	id, err := syncFromReplica(ctx, tx, userID)
	if err != nil || id == "" {
		return err
	}
	return s.changed(ctx, tx, id, publish, env.Caused())
}

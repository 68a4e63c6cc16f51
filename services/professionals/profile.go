package professionals

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
)

// account is what creating a profile needs to know about the user, from UserRegistered
// or, on a read-your-writes miss, from auth's internal API.
type account struct {
	ID       string `json:"id"`
	Email    string `json:"email"`
	Nombre   string `json:"nombre"`
	Apellido string `json:"apellido"`
	Rol      string `json:"rol"`
	IsActive *bool  `json:"is_active"`
	OficioID string `json:"oficio_id"`
	// At orders this data against later profile events.
	At time.Time `json:"fecha_creacion"`
}

// upsertUser records identity data in the users replica unless newer data is there.
func upsertUser(ctx context.Context, tx pgx.Tx, a account) error {
	_, err := tx.Exec(ctx, `INSERT INTO usuarios (usuario_id, email, nombre, apellido, perfil_at) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (usuario_id) DO UPDATE SET
			email = coalesce(usuarios.email, EXCLUDED.email),
			nombre = CASE WHEN usuarios.perfil_at IS NULL OR usuarios.perfil_at < EXCLUDED.perfil_at THEN EXCLUDED.nombre ELSE usuarios.nombre END,
			apellido = CASE WHEN usuarios.perfil_at IS NULL OR usuarios.perfil_at < EXCLUDED.perfil_at THEN EXCLUDED.apellido ELSE usuarios.apellido END,
			perfil_at = greatest(usuarios.perfil_at, EXCLUDED.perfil_at)`,
		a.ID, a.Email, a.Nombre, a.Apellido, a.At)
	if err != nil {
		return fmt.Errorf("upsert user %s: %w", a.ID, err)
	}
	if a.IsActive != nil {
		// Only when no ban event was applied yet: events are newer than a snapshot.
		if _, err := tx.Exec(ctx, `UPDATE usuarios SET is_active = $2 WHERE usuario_id = $1 AND activo_at IS NULL`, a.ID, *a.IsActive); err != nil {
			return fmt.Errorf("set active of %s: %w", a.ID, err)
		}
	}
	return nil
}

// syncFromReplica copies the users replica into the user's profile (if any) and returns
// the profile id ("" when the user has no profile).
func syncFromReplica(ctx context.Context, tx pgx.Tx, usuarioID string) (string, error) {
	var id string
	err := tx.QueryRow(ctx, `UPDATE profesionales p SET
			email = coalesce(nullif(u.email, ''), p.email),
			nombre = coalesce(u.nombre, p.nombre),
			apellido = coalesce(u.apellido, p.apellido),
			avatar_url = coalesce(u.avatar_url, p.avatar_url),
			is_active = u.is_active,
			nivel = coalesce(u.nivel, p.nivel),
			tasa_comision_bp = coalesce(u.tasa_comision_bp, p.tasa_comision_bp),
			puntos_experiencia = greatest(p.puntos_experiencia, u.puntos_experiencia)
		FROM usuarios u WHERE u.usuario_id = p.usuario_id AND p.usuario_id = $1
		RETURNING p.id::text`, usuarioID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("sync profile of %s: %w", usuarioID, err)
	}
	return id, nil
}

// ensureProfile creates the profile of a PROFESIONAL account once (the consumer of
// UserRegistered and the read-your-writes path may both try: the unique usuario_id
// makes the second a no-op).
func (s *svc) ensureProfile(ctx context.Context, tx pgx.Tx, a account, m events.Meta) error {
	if err := upsertUser(ctx, tx, a); err != nil {
		return err
	}
	var id string
	err := tx.QueryRow(ctx, `INSERT INTO profesionales (usuario_id) VALUES ($1)
		ON CONFLICT (usuario_id) DO NOTHING RETURNING id::text`, a.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		// Already there: still refresh names, an older copy may have created it, and
		// the search rows that show them. A rebuild of the replicas (vaciar_replicas,
		// then `events rebuild`) needs this: the profiles stay, so every professional's
		// names come back through here and nowhere else is sure to refresh its rows.
		id, err := syncFromReplica(ctx, tx, a.ID)
		if err != nil || id == "" {
			return err
		}
		return s.changed(ctx, tx, id, false, m)
	}
	if err != nil {
		return fmt.Errorf("create profile of %s: %w", a.ID, err)
	}
	if isUUID(a.OficioID) {
		// An unknown or disabled trade is ignored rather than failing the registration.
		if _, err := tx.Exec(ctx, `INSERT INTO profesional_oficios (profesional_id, oficio_id)
			SELECT $1, id FROM oficios WHERE id = $2 AND activo ON CONFLICT DO NOTHING`, id, a.OficioID); err != nil {
			return fmt.Errorf("link oficio: %w", err)
		}
	}
	if _, err := syncFromReplica(ctx, tx, a.ID); err != nil {
		return err
	}
	return s.changed(ctx, tx, id, true, m)
}

// myProfile loads the caller's profile; on a miss (UserRegistered still in flight) it
// asks auth for the account and creates the profile, so a professional reads their
// profile right after registering.
func (s *svc) myProfile(ctx context.Context, usuarioID string) (profile, error) {
	p, err := profileByUser(ctx, s.pool, usuarioID, false)
	if !errors.Is(err, errNoProfile) {
		return p, err
	}
	var a account
	if err := s.k.InternalGet(ctx, "auth", "/internal/accounts/"+usuarioID, &a); err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return p, errNoProfile
		}
		return p, err
	}
	if a.Rol != authn.RoleProfesional || a.ID != usuarioID {
		return p, errNoProfile
	}
	if err := s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error { return s.ensureProfile(ctx, tx, a, events.Meta{}) }); err != nil {
		return p, err
	}
	return profileByUser(ctx, s.pool, usuarioID, false)
}

// callerProfile is myProfile for the authenticated caller of a request.
func (s *svc) callerProfile(c *fiber.Ctx) (profile, error) {
	u, err := authn.MustUser(c)
	if err != nil {
		return profile{}, err
	}
	return s.myProfile(c.UserContext(), u.UserID())
}

func (s *svc) getMe(c *fiber.Ctx) error {
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	return s.respondProfile(c, p)
}

// mutateMine locks the caller's profile (creating it on a miss), runs fn, and finishes
// with changed (search rows and, when publish, ProfessionalProfileUpdated).
func (s *svc) mutateMine(c *fiber.Ctx, publish bool, fn func(ctx context.Context, tx pgx.Tx, p profile) error) (profile, error) {
	u, err := authn.MustUser(c)
	if err != nil {
		return profile{}, err
	}
	ctx := c.UserContext()
	if _, err := s.myProfile(ctx, u.UserID()); err != nil {
		return profile{}, err
	}
	var out profile
	err = s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		p, err := profileByUser(ctx, tx, u.UserID(), true)
		if err != nil {
			return err
		}
		if err := fn(ctx, tx, p); err != nil {
			return err
		}
		if err := s.changed(ctx, tx, p.ID, publish, events.Meta{}); err != nil {
			return err
		}
		out, err = profileByID(ctx, tx, p.ID, false)
		return err
	})
	return out, err
}

func (s *svc) respondProfile(c *fiber.Ctx, p profile) error {
	out, err := s.readProfile(c.UserContext(), s.pool, p)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

// parseIDs validates a list of UUIDs (deduplicated, sorted).
func parseIDs(field string, ids []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, id := range ids {
		id = strings.ToLower(strings.TrimSpace(id))
		if !isUUID(id) {
			return nil, apperr.Validation(apperr.FieldError{Field: field, Msg: "cada id debe ser un UUID"})
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

// missing returns the ids of want not present in table.
func missing(ctx context.Context, tx pgx.Tx, table string, want []string) ([]string, error) {
	rows, err := tx.Query(ctx, `SELECT x::text FROM unnest($1::uuid[]) x WHERE NOT EXISTS (SELECT 1 FROM `+table+` t WHERE t.id = x) ORDER BY 1`, want)
	if err != nil {
		return nil, fmt.Errorf("check ids in %s: %w", table, err)
	}
	return pgx.CollectRows(rows, pgx.RowTo[string])
}

// servicioIDsBody replaces the instant services a professional offers.
type servicioIDsBody struct {
	ServicioIDs []string `json:"servicio_ids" jsonschema:"required"`
}

// updateServiciosInstant answers PUT /professional/profile/servicios-instant.
func (s *svc) updateServiciosInstant(c *fiber.Ctx) error {
	var in servicioIDsBody
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	ids, err := parseIDs("servicio_ids", in.ServicioIDs)
	if err != nil {
		return err
	}
	p, err := s.mutateMine(c, false, func(ctx context.Context, tx pgx.Tx, p profile) error {
		miss, err := missing(ctx, tx, "servicios_instantaneos", ids)
		if err != nil {
			return err
		}
		if len(miss) > 0 {
			return apperr.NotFound("servicios_not_found", fmt.Sprintf("Servicios no encontrados: %v", miss))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM profesional_servicios_instant WHERE profesional_id = $1`, p.ID); err != nil {
			return fmt.Errorf("replace servicios: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO profesional_servicios_instant (profesional_id, servicio_id) SELECT $1, unnest($2::uuid[])`, p.ID, ids); err != nil {
			return fmt.Errorf("replace servicios: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	rows, err := s.pool.Query(c.UserContext(), `SELECT si.id::text, si.nombre, si.descripcion, si.oficio_id::text, si.fecha_creacion
		FROM profesional_servicios_instant ps JOIN servicios_instantaneos si ON si.id = ps.servicio_id
		WHERE ps.profesional_id = $1 ORDER BY si.nombre, si.id`, p.ID)
	if err != nil {
		return fmt.Errorf("list servicios instant: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanServicioInstant)
	if err != nil {
		return fmt.Errorf("list servicios instant: %w", err)
	}
	return c.JSON(out)
}

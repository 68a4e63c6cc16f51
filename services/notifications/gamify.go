package notifications

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/services/notifications/gamification"
)

// Reasons recorded with XP grants (and published in XPAwarded.motivo).
const (
	motivoTrabajo  = "trabajo_completado"
	motivoResena   = "resena_recibida"
	motivoKYC      = "kyc_verificado"
	refKYC         = "kyc"
	producerEngage = "notifications"
)

// profile is a professional's gamification row.
type profile struct {
	UsuarioID           string
	Puntos              int
	Nivel               string
	TrabajosCompletados int
	Resenas5            int
	TotalResenas        int
	RatingPromedio      float64
	KYC                 bool
}

// lockProfile creates the professional's row when missing and locks it for this
// transaction, so concurrent grants for one professional serialize.
func lockProfile(ctx context.Context, tx pgx.Tx, usuarioID string) (profile, error) {
	p := profile{UsuarioID: usuarioID}
	if _, err := tx.Exec(ctx, `INSERT INTO gamification_profiles (usuario_id) VALUES ($1) ON CONFLICT DO NOTHING`, usuarioID); err != nil {
		return p, fmt.Errorf("create gamification profile %s: %w", usuarioID, err)
	}
	err := tx.QueryRow(ctx, `SELECT puntos_experiencia, nivel, trabajos_completados, resenas_5_estrellas, total_resenas,
		rating_promedio::float8, kyc_verificado FROM gamification_profiles WHERE usuario_id = $1 FOR UPDATE`, usuarioID).
		Scan(&p.Puntos, &p.Nivel, &p.TrabajosCompletados, &p.Resenas5, &p.TotalResenas, &p.RatingPromedio, &p.KYC)
	if err != nil {
		return p, fmt.Errorf("lock gamification profile %s: %w", usuarioID, err)
	}
	return p, nil
}

// claimFact records that (usuario, motivo, referencia) was applied, with its points.
// It returns false when it was applied before: a job's release or a review counts once
// even if a second, different event about it ever arrived.
func claimFact(ctx context.Context, tx pgx.Tx, env events.Envelope, usuarioID, motivo, ref string, puntos int) (bool, error) {
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO xp_awards (usuario_id, puntos, motivo, referencia, event_id) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (usuario_id, motivo, referencia) DO NOTHING RETURNING id`, usuarioID, puntos, motivo, ref, env.ID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("record %s %s for %s: %w", motivo, ref, usuarioID, err)
	}
	return true, nil
}

// apply adds points to p (already changed counters included), saves it, and appends
// XPAwarded, LevelChanged and MedalAwarded events to the outbox, all in tx.
func (s *svc) apply(ctx context.Context, tx pgx.Tx, env events.Envelope, p profile, puntos int, motivo string) error {
	award := gamification.AddXP(p.Puntos, puntos)
	// The stored level only ever moves up with the points; recompute from the total so a
	// threshold change in the rules is picked up on the next grant.
	nivelAnterior := p.Nivel
	nivel := award.Nivel
	if cur, ok := gamification.LevelByName(p.Nivel); ok && cur.Rank > nivel.Rank {
		nivel = cur
	}
	p.Puntos, p.Nivel = award.Despues, nivel.Nombre
	if _, err := tx.Exec(ctx, `UPDATE gamification_profiles SET puntos_experiencia = $2, nivel = $3, trabajos_completados = $4,
		resenas_5_estrellas = $5, total_resenas = $6, rating_promedio = $7, kyc_verificado = $8, updated_at = now()
		WHERE usuario_id = $1`, p.UsuarioID, p.Puntos, p.Nivel, p.TrabajosCompletados, p.Resenas5, p.TotalResenas,
		p.RatingPromedio, p.KYC); err != nil {
		return fmt.Errorf("save gamification profile %s: %w", p.UsuarioID, err)
	}
	meta := env.Caused()
	now := s.now()
	var out []events.Envelope
	if award.Despues > award.Antes {
		ev, err := events.New(producerEngage, p.UsuarioID, events.XPAwardedV1{UsuarioID: p.UsuarioID, Puntos: puntos,
			PuntosExperiencia: p.Puntos, Motivo: motivo}, meta, now)
		if err != nil {
			return err
		}
		out = append(out, ev)
	}
	if nivelAnterior != nivel.Nombre {
		ev, err := events.New(producerEngage, p.UsuarioID, events.LevelChangedV1{UsuarioID: p.UsuarioID, NivelAnterior: nivelAnterior,
			Nivel: nivel.Nombre, PuntosExperiencia: p.Puntos, TasaComisionBP: nivel.TasaComisionBP}, meta, now)
		if err != nil {
			return err
		}
		out = append(out, ev)
	}
	medals, err := s.awardMedals(ctx, tx, p, nivel)
	if err != nil {
		return err
	}
	for _, m := range medals {
		ev, err := events.New(producerEngage, p.UsuarioID, events.MedalAwardedV1{UsuarioID: p.UsuarioID, Medalla: m.Codigo, Nombre: m.Nombre}, meta, now)
		if err != nil {
			return err
		}
		out = append(out, ev)
	}
	if err := outbox.Append(ctx, tx, out...); err != nil {
		return fmt.Errorf("publish gamification events for %s: %w", p.UsuarioID, err)
	}
	return nil
}

// awardMedals grants every catalogue medal p now qualifies for and has not got yet.
func (s *svc) awardMedals(ctx context.Context, tx pgx.Tx, p profile, nivel gamification.Level) ([]gamification.Medal, error) {
	catalogue, err := loadMedals(ctx, tx)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	rows, err := tx.Query(ctx, `SELECT codigo FROM user_medals WHERE usuario_id = $1`, p.UsuarioID)
	if err != nil {
		return nil, fmt.Errorf("read medals of %s: %w", p.UsuarioID, err)
	}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			rows.Close()
			return nil, fmt.Errorf("scan medal: %w", err)
		}
		have[c] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read medals of %s: %w", p.UsuarioID, err)
	}
	earned := gamification.NewMedals(catalogue, gamification.Stats{TrabajosCompletados: p.TrabajosCompletados,
		Resenas5: p.Resenas5, KYCVerificado: p.KYC, Nivel: nivel}, have)
	var out []gamification.Medal
	for _, m := range earned {
		tag, err := tx.Exec(ctx, `INSERT INTO user_medals (usuario_id, codigo, awarded_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
			p.UsuarioID, m.Codigo, s.now())
		if err != nil {
			return nil, fmt.Errorf("award medal %s to %s: %w", m.Codigo, p.UsuarioID, err)
		}
		if tag.RowsAffected() == 1 {
			out = append(out, m)
		}
	}
	return out, nil
}

func loadMedals(ctx context.Context, q interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}) ([]gamification.Medal, error) {
	rows, err := q.Query(ctx, `SELECT codigo, nombre, descripcion, icono, metrica, umbral FROM medals WHERE activa ORDER BY orden, codigo`)
	if err != nil {
		return nil, fmt.Errorf("read medal catalogue: %w", err)
	}
	defer rows.Close()
	var out []gamification.Medal
	for rows.Next() {
		var m gamification.Medal
		if err := rows.Scan(&m.Codigo, &m.Nombre, &m.Descripcion, &m.Icono, &m.Metrica, &m.Umbral); err != nil {
			return nil, fmt.Errorf("scan medal: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// gamifyPayments: a released escrow is a job completed and paid: +100 XP, one more job.
// EscrowReleased (not JobCompleted) is the trigger because it means the money really
// moved; a job approved but never released earns nothing.
func (s *svc) gamifyPayments(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	if env.Type != (events.EscrowReleasedV1{}).EventType() {
		return nil
	}
	e, err := decode[events.EscrowReleasedV1](env)
	if err != nil {
		return err
	}
	if !isUUID(e.ProfesionalID) || e.TrabajoID == "" {
		return decodeMissing(env, "profesional_id/trabajo_id")
	}
	fresh, err := claimFact(ctx, tx, env, e.ProfesionalID, motivoTrabajo, e.TrabajoID, gamification.XPJobReleased)
	if err != nil || !fresh {
		return err
	}
	p, err := lockProfile(ctx, tx, e.ProfesionalID)
	if err != nil {
		return err
	}
	p.TrabajosCompletados++
	return s.apply(ctx, tx, env, p, gamification.XPJobReleased, motivoTrabajo)
}

// gamifyMarketplace: a review updates the rating shown on the profile and pays XP for
// 4★ and 5★.
func (s *svc) gamifyMarketplace(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	if env.Type != (events.ReviewPostedV1{}).EventType() {
		return nil
	}
	e, err := decode[events.ReviewPostedV1](env)
	if err != nil {
		return err
	}
	if !isUUID(e.ProfesionalID) || e.ResenaID == "" || e.Rating < 1 || e.Rating > 5 {
		return decodeMissing(env, "profesional_id/resena_id/rating")
	}
	puntos := gamification.XPForReview(e.Rating)
	fresh, err := claimFact(ctx, tx, env, e.ProfesionalID, motivoResena, e.ResenaID, puntos)
	if err != nil || !fresh {
		return err
	}
	p, err := lockProfile(ctx, tx, e.ProfesionalID)
	if err != nil {
		return err
	}
	if e.Rating == 5 {
		p.Resenas5++
	}
	// The event carries the aggregate after this review; an older one arriving late
	// must not roll it back.
	if e.TotalResenas >= p.TotalResenas {
		p.TotalResenas, p.RatingPromedio = e.TotalResenas, e.RatingPromedio
	}
	return s.apply(ctx, tx, env, p, puntos, motivoResena)
}

// gamifyProfessionals: KYC approval is worth a medal (no XP).
func (s *svc) gamifyProfessionals(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	if env.Type != (events.KYCApprovedV1{}).EventType() {
		return nil
	}
	e, err := decode[events.KYCApprovedV1](env)
	if err != nil {
		return err
	}
	if !isUUID(e.UsuarioID) {
		return decodeMissing(env, "usuario_id")
	}
	fresh, err := claimFact(ctx, tx, env, e.UsuarioID, motivoKYC, refKYC, 0)
	if err != nil || !fresh {
		return err
	}
	p, err := lockProfile(ctx, tx, e.UsuarioID)
	if err != nil {
		return err
	}
	p.KYC = true
	return s.apply(ctx, tx, env, p, 0, motivoKYC)
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil
}

// decodeMissing dead-letters an event whose payload lacks what gamification needs.
func decodeMissing(env events.Envelope, fields string) error {
	return apperr.Permanent("bad_payload", "payload incompleto", fmt.Errorf("%s %s: missing or invalid %s", env.Type, env.ID, fields))
}

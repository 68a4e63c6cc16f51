package professionals

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/platform/pg"
)

// querier is a pool or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// profile is one row of profesionales.
type profile struct {
	ID, UsuarioID      string
	Email              string
	Nombre, Apellido   string
	AvatarURL          *string
	IsActive           bool
	Estado             string
	MotivoRechazo      *string
	KYCRonda           int
	Lat, Lng           *float64
	Radio              int
	AceptaInstant      bool
	Tarifa             *int64
	Descripcion        *string
	Payout             *string
	Nivel              string
	Puntos             int
	TasaBP             int
	RatingPromedio     float64
	TotalResenas       int
	FechaCreacion      pgTime
	FechaActualizacion pgTime
	Biografia          *string
	ExperienciaAnos    *int
	Disponible         bool
	Habilidades        []string
	Certificaciones    []string
	ImagenesTrabajos   []string // API paths of the professional's own portfolio images
}

const profileCols = `id::text, usuario_id::text, email, nombre, apellido, avatar_url, is_active, estado_verificacion,
	motivo_rechazo, kyc_ronda, ST_Y(base_location::geometry), ST_X(base_location::geometry), radio_cobertura_km,
	acepta_instant, tarifa_por_hora, descripcion, payout_account, nivel, puntos_experiencia, tasa_comision_bp,
	rating_promedio::float8, total_resenas, fecha_creacion, fecha_actualizacion, biografia, experiencia_anos,
	disponible, habilidades, certificaciones, imagenes_trabajos`

func scanProfile(row pgx.Row) (profile, error) {
	var p profile
	err := row.Scan(&p.ID, &p.UsuarioID, &p.Email, &p.Nombre, &p.Apellido, &p.AvatarURL, &p.IsActive, &p.Estado,
		&p.MotivoRechazo, &p.KYCRonda, &p.Lat, &p.Lng, &p.Radio, &p.AceptaInstant, &p.Tarifa, &p.Descripcion,
		&p.Payout, &p.Nivel, &p.Puntos, &p.TasaBP, &p.RatingPromedio, &p.TotalResenas, &p.FechaCreacion.T,
		&p.FechaActualizacion.T, &p.Biografia, &p.ExperienciaAnos, &p.Disponible, &p.Habilidades, &p.Certificaciones,
		&p.ImagenesTrabajos)
	return p, err
}

var errNoProfile = apperr.NotFound("profile_not_found", "Perfil profesional no encontrado")

// profileByUser loads the profile of a user; lock takes the row lock for an update.
func profileByUser(ctx context.Context, q querier, usuarioID string, lock bool) (profile, error) {
	sql := `SELECT ` + profileCols + ` FROM profesionales WHERE usuario_id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	p, err := scanProfile(q.QueryRow(ctx, sql, usuarioID))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, errNoProfile
	}
	if err != nil {
		return p, fmt.Errorf("load profile of user %s: %w", usuarioID, pg.Translate(err))
	}
	return p, nil
}

// profileByID loads a profile by its id.
func profileByID(ctx context.Context, q querier, id string, lock bool) (profile, error) {
	if !isUUID(id) {
		return profile{}, errNoProfile
	}
	sql := `SELECT ` + profileCols + ` FROM profesionales WHERE id = $1`
	if lock {
		sql += ` FOR UPDATE`
	}
	p, err := scanProfile(q.QueryRow(ctx, sql, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return p, errNoProfile
	}
	if err != nil {
		return p, fmt.Errorf("load profile %s: %w", id, pg.Translate(err))
	}
	return p, nil
}

// oficiosOf lists a professional's trades by name, disabled ones included (they stay
// linked; the flag says so).
func oficiosOf(ctx context.Context, q querier, profID string) ([]oficioRead, error) {
	rows, err := q.Query(ctx, `SELECT `+oficioCols+` FROM profesional_oficios po
		JOIN oficios o ON o.id = po.oficio_id WHERE po.profesional_id = $1 ORDER BY o.nombre`, profID)
	if err != nil {
		return nil, fmt.Errorf("oficios of %s: %w", profID, err)
	}
	out, err := pgx.CollectRows(rows, scanOficio)
	if err != nil {
		return nil, fmt.Errorf("oficios of %s: %w", profID, err)
	}
	return out, nil
}

// profileRead is ProfessionalProfileRead of SPEC §4 (the owner's view), with the names
// the frontend's profile pages read: kyc_status (= estado_verificacion), verificado,
// foto_perfil (= avatar_url) and the fields the profile page edits.
type profileRead struct {
	ID                  string          `json:"id"`
	UsuarioID           string          `json:"usuario_id"`
	EstadoVerificacion  string          `json:"estado_verificacion"`
	KYCStatus           string          `json:"kyc_status"`
	Verificado          bool            `json:"verificado"`
	MotivoRechazo       *string         `json:"motivo_rechazo"`
	Nivel               string          `json:"nivel"`
	RadioCoberturaKm    int             `json:"radio_cobertura_km"`
	AceptaInstant       bool            `json:"acepta_instant"`
	TarifaPorHora       *money.Centavos `json:"tarifa_por_hora"`
	TasaComision        float64         `json:"tasa_comision_actual"`
	RatingPromedio      float64         `json:"rating_promedio"`
	TotalResenas        int             `json:"total_resenas"`
	TrabajosCompletados int             `json:"trabajos_completados"`
	PuntosExperiencia   int             `json:"puntos_experiencia"`
	Nombre              string          `json:"nombre"`
	Apellido            string          `json:"apellido"`
	Email               string          `json:"email"`
	AvatarURL           *string         `json:"avatar_url"`
	FotoPerfil          *string         `json:"foto_perfil"`
	Latitude            *float64        `json:"latitude"`
	Longitude           *float64        `json:"longitude"`
	Descripcion         *string         `json:"descripcion"`
	Biografia           *string         `json:"biografia"`
	ExperienciaAnos     *int            `json:"experiencia_anos"`
	Disponible          bool            `json:"disponible"`
	Habilidades         []string        `json:"habilidades"`
	Certificaciones     []string        `json:"certificaciones"`
	ImagenesTrabajos    []string        `json:"imagenes_trabajos"`
	PayoutAccount       *string         `json:"payout_account"`
	IsActive            bool            `json:"is_active"`
	Oficios             []oficioRead    `json:"oficios"`
	FechaCreacion       pgTime          `json:"fecha_creacion"`
}

func centavosPtr(v *int64) *money.Centavos {
	if v == nil {
		return nil
	}
	c := money.Centavos(*v)
	return &c
}

// completedJobs counts the professional's completed jobs (JobCompleted may name the
// profile or the user).
func completedJobs(ctx context.Context, q querier, p profile) (int, error) {
	var n int
	if err := q.QueryRow(ctx, `SELECT count(*) FROM trabajos_completados WHERE profesional_ref = ANY (ARRAY[$1::uuid, $2::uuid])`,
		p.ID, p.UsuarioID).Scan(&n); err != nil {
		return 0, fmt.Errorf("completed jobs of %s: %w", p.ID, err)
	}
	return n, nil
}

// absAll is abs over a list (never nil, so it encodes as []).
func (s *svc) absAll(us []string) []string {
	out := make([]string, 0, len(us))
	for _, u := range us {
		out = append(out, s.abs(u))
	}
	return out
}

func (s *svc) readProfile(ctx context.Context, q querier, p profile) (profileRead, error) {
	ofs, err := oficiosOf(ctx, q, p.ID)
	if err != nil {
		return profileRead{}, err
	}
	done, err := completedJobs(ctx, q, p)
	if err != nil {
		return profileRead{}, err
	}
	avatar := s.absPtr(p.AvatarURL)
	return profileRead{
		ID: p.ID, UsuarioID: p.UsuarioID, EstadoVerificacion: p.Estado, KYCStatus: p.Estado, Verificado: p.Estado == EstadoAprobado,
		MotivoRechazo: p.MotivoRechazo, Nivel: p.Nivel, RadioCoberturaKm: p.Radio, AceptaInstant: p.AceptaInstant,
		TarifaPorHora: centavosPtr(p.Tarifa), TasaComision: float64(p.TasaBP) / 10000, RatingPromedio: p.RatingPromedio,
		TotalResenas: p.TotalResenas, TrabajosCompletados: done, PuntosExperiencia: p.Puntos, Nombre: p.Nombre,
		Apellido: p.Apellido, Email: p.Email, AvatarURL: avatar, FotoPerfil: avatar, Latitude: p.Lat, Longitude: p.Lng,
		Descripcion: p.Descripcion, Biografia: p.Biografia, ExperienciaAnos: p.ExperienciaAnos, Disponible: p.Disponible,
		Habilidades: nonNil(p.Habilidades), Certificaciones: nonNil(p.Certificaciones), ImagenesTrabajos: s.absAll(p.ImagenesTrabajos),
		PayoutAccount: p.Payout, IsActive: p.IsActive, Oficios: ofs, FechaCreacion: p.FechaCreacion,
	}, nil
}

// nonNil makes a nil list encode as [] rather than null.
func nonNil(v []string) []string {
	if v == nil {
		return []string{}
	}
	return v
}

// changed runs after every change of a professional inside the same transaction: it
// rebuilds the professional's search rows and, when publish is set, publishes
// ProfessionalProfileUpdated with the current state.
func (s *svc) changed(ctx context.Context, tx pgx.Tx, profID string, publish bool, m events.Meta) error {
	if _, err := tx.Exec(ctx, `UPDATE profesionales SET fecha_actualizacion = now() WHERE id = $1`, profID); err != nil {
		return fmt.Errorf("touch %s: %w", profID, err)
	}
	if _, err := tx.Exec(ctx, `SELECT refrescar_busqueda(ARRAY[$1::uuid])`, profID); err != nil {
		return fmt.Errorf("refresh search rows of %s: %w", profID, err)
	}
	if !publish {
		return nil
	}
	p, err := profileByID(ctx, tx, profID, false)
	if err != nil {
		return err
	}
	ids := []string{}
	rows, err := tx.Query(ctx, `SELECT oficio_id::text FROM profesional_oficios WHERE profesional_id = $1 ORDER BY oficio_id`, profID)
	if err != nil {
		return fmt.Errorf("oficio ids of %s: %w", profID, err)
	}
	ids, err = pgx.AppendRows(ids, rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("oficio ids of %s: %w", profID, err)
	}
	ev := events.ProfessionalProfileUpdatedV1{
		ProfesionalID: p.ID, UsuarioID: p.UsuarioID, EstadoVerificacion: p.Estado, OficioIDs: ids,
		RadioCoberturaKm: p.Radio, AceptaInstant: p.AceptaInstant, TarifaPorHoraCentavos: p.Tarifa,
		Nivel: p.Nivel, TasaComisionBP: p.TasaBP, IsActive: p.IsActive,
	}
	if p.Tarifa != nil {
		ev.TarifaPorHora = float64(*p.Tarifa) / 100
	}
	if p.Payout != nil {
		ev.PayoutAccount = *p.Payout
	}
	return s.emit(ctx, tx, p.ID, ev, m)
}

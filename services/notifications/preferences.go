package notifications

import (
	"context"
	"errors"
	"fmt"

	"github.com/gofiber/fiber/v2"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
)

// Preferences are a user's channel choices per category. The defaults are what the
// earlier system advertised, everything on, except the two chat-message channels: a
// push or an email per chat line is noise unless the person asks for it.
type Preferences struct {
	EmailOfertas      bool   `json:"email_ofertas"`
	EmailTrabajos     bool   `json:"email_trabajos"`
	EmailPagos        bool   `json:"email_pagos"`
	EmailResenas      bool   `json:"email_resenas"`
	EmailSistema      bool   `json:"email_sistema"`
	EmailMensajes     bool   `json:"email_mensajes"`
	PushOfertas       bool   `json:"push_ofertas"`
	PushTrabajos      bool   `json:"push_trabajos"`
	PushPagos         bool   `json:"push_pagos"`
	PushResenas       bool   `json:"push_resenas"`
	PushSistema       bool   `json:"push_sistema"`
	PushMensajes      bool   `json:"push_mensajes"`
	FrecuenciaResumen string `json:"frecuencia_resumen" jsonschema:"enum=nunca,enum=diario,enum=semanal"`
}

// DefaultPreferences applies to users who never changed theirs.
func DefaultPreferences() Preferences {
	return Preferences{EmailOfertas: true, EmailTrabajos: true, EmailPagos: true, EmailResenas: true, EmailSistema: true,
		EmailMensajes: false, PushOfertas: true, PushTrabajos: true, PushPagos: true, PushResenas: true, PushSistema: true,
		PushMensajes: false, FrecuenciaResumen: "nunca"}
}

// email reports whether category tipo may be emailed.
func (p Preferences) email(tipo string) bool {
	switch tipo {
	case TipoOferta:
		return p.EmailOfertas
	case TipoTrabajo:
		return p.EmailTrabajos
	case TipoPago:
		return p.EmailPagos
	case TipoResena:
		return p.EmailResenas
	case TipoSistema:
		return p.EmailSistema
	case TipoMensaje:
		return p.EmailMensajes
	}
	return false
}

// push reports whether category tipo may be pushed.
func (p Preferences) push(tipo string) bool {
	switch tipo {
	case TipoOferta:
		return p.PushOfertas
	case TipoTrabajo:
		return p.PushTrabajos
	case TipoPago:
		return p.PushPagos
	case TipoResena:
		return p.PushResenas
	case TipoSistema:
		return p.PushSistema
	case TipoMensaje:
		return p.PushMensajes
	}
	return false
}

const prefColumns = `email_ofertas, email_trabajos, email_pagos, email_resenas, email_sistema, email_mensajes,
	push_ofertas, push_trabajos, push_pagos, push_resenas, push_sistema, push_mensajes, frecuencia_resumen`

func (p *Preferences) fields() []any {
	return []any{&p.EmailOfertas, &p.EmailTrabajos, &p.EmailPagos, &p.EmailResenas, &p.EmailSistema, &p.EmailMensajes,
		&p.PushOfertas, &p.PushTrabajos, &p.PushPagos, &p.PushResenas, &p.PushSistema, &p.PushMensajes, &p.FrecuenciaResumen}
}

func loadPreferences(ctx context.Context, q pgxQuerier, userID string) (Preferences, error) {
	p := DefaultPreferences()
	err := q.QueryRow(ctx, `SELECT `+prefColumns+` FROM preferences WHERE user_id = $1`, userID).Scan(p.fields()...)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return p, fmt.Errorf("load preferences of %s: %w", userID, err)
	}
	return p, nil
}

func savePreferences(ctx context.Context, q pgxQuerier, userID string, p Preferences) error {
	args := append([]any{userID}, p.fields()...)
	for i := 1; i < len(args); i++ {
		// Scan targets are pointers; Exec wants values.
		switch v := args[i].(type) {
		case *bool:
			args[i] = *v
		case *string:
			args[i] = *v
		}
	}
	_, err := q.Exec(ctx, `INSERT INTO preferences (user_id, `+prefColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		ON CONFLICT (user_id) DO UPDATE SET email_ofertas = EXCLUDED.email_ofertas, email_trabajos = EXCLUDED.email_trabajos,
			email_pagos = EXCLUDED.email_pagos, email_resenas = EXCLUDED.email_resenas, email_sistema = EXCLUDED.email_sistema,
			email_mensajes = EXCLUDED.email_mensajes,
			push_ofertas = EXCLUDED.push_ofertas, push_trabajos = EXCLUDED.push_trabajos, push_pagos = EXCLUDED.push_pagos,
			push_resenas = EXCLUDED.push_resenas, push_sistema = EXCLUDED.push_sistema, push_mensajes = EXCLUDED.push_mensajes,
			frecuencia_resumen = EXCLUDED.frecuencia_resumen, updated_at = now(),
			-- A new frequency starts a new period (see digest.go).
			last_digest_at = CASE WHEN preferences.frecuencia_resumen = EXCLUDED.frecuencia_resumen
				THEN preferences.last_digest_at END`, args...)
	if err != nil {
		return fmt.Errorf("save preferences of %s: %w", userID, err)
	}
	return nil
}

func (s *svc) getPreferences(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	p, err := loadPreferences(c.UserContext(), s.pool, u.UserID())
	if err != nil {
		return err
	}
	return c.JSON(p)
}

// preferencesPatch is a partial update: absent fields keep their value.
type preferencesPatch struct {
	EmailOfertas      *bool   `json:"email_ofertas"`
	EmailTrabajos     *bool   `json:"email_trabajos"`
	EmailPagos        *bool   `json:"email_pagos"`
	EmailResenas      *bool   `json:"email_resenas"`
	EmailSistema      *bool   `json:"email_sistema"`
	EmailMensajes     *bool   `json:"email_mensajes"`
	PushOfertas       *bool   `json:"push_ofertas"`
	PushTrabajos      *bool   `json:"push_trabajos"`
	PushPagos         *bool   `json:"push_pagos"`
	PushResenas       *bool   `json:"push_resenas"`
	PushSistema       *bool   `json:"push_sistema"`
	PushMensajes      *bool   `json:"push_mensajes"`
	FrecuenciaResumen *string `json:"frecuencia_resumen" jsonschema:"enum=nunca,enum=diario,enum=semanal"`
}

func (s *svc) putPreferences(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	var in preferencesPatch
	if err := httpx.BindJSON(c, &in); err != nil {
		return err
	}
	if in.FrecuenciaResumen != nil {
		switch *in.FrecuenciaResumen {
		case "nunca", "diario", "semanal":
		default:
			return apperr.Validation(apperr.FieldError{Field: "frecuencia_resumen", Msg: "debe ser nunca, diario o semanal"})
		}
	}
	ctx := c.UserContext()
	var out Preferences
	err = pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error {
		// Lock the row (or the absence of it) so two concurrent partial updates merge.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtext('prefs:' || $1::text))`, u.UserID()); err != nil {
			return pg.Translate(err)
		}
		p, err := loadPreferences(ctx, tx, u.UserID())
		if err != nil {
			return err
		}
		set := func(dst *bool, v *bool) {
			if v != nil {
				*dst = *v
			}
		}
		set(&p.EmailOfertas, in.EmailOfertas)
		set(&p.EmailTrabajos, in.EmailTrabajos)
		set(&p.EmailPagos, in.EmailPagos)
		set(&p.EmailResenas, in.EmailResenas)
		set(&p.EmailSistema, in.EmailSistema)
		set(&p.EmailMensajes, in.EmailMensajes)
		set(&p.PushOfertas, in.PushOfertas)
		set(&p.PushTrabajos, in.PushTrabajos)
		set(&p.PushPagos, in.PushPagos)
		set(&p.PushResenas, in.PushResenas)
		set(&p.PushSistema, in.PushSistema)
		set(&p.PushMensajes, in.PushMensajes)
		if in.FrecuenciaResumen != nil {
			p.FrecuenciaResumen = *in.FrecuenciaResumen
		}
		out = p
		return savePreferences(ctx, tx, u.UserID(), p)
	})
	if err != nil {
		return err
	}
	return c.JSON(out)
}

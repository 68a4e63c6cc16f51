package payments

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
)

// handleNames keeps the names replica (usuarios) that history and transactions show. The
// two events come from two streams, so the replica keeps the newest by occurred_at: a
// redelivered registration never overwrites a later profile edit.
func (a *App) handleNames(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	var id, nombre, apellido string
	switch env.Type {
	case events.UserRegisteredV1{}.EventType():
		e, err := events.Decode[events.UserRegisteredV1](env)
		if err != nil {
			return apperr.Permanent("bad_event", "evento inválido", err)
		}
		id, nombre, apellido = e.UserID, e.Nombre, e.Apellido
	case events.UserProfileUpdatedV1{}.EventType():
		e, err := events.Decode[events.UserProfileUpdatedV1](env)
		if err != nil {
			return apperr.Permanent("bad_event", "evento inválido", err)
		}
		id, nombre, apellido = e.UserID, e.Nombre, e.Apellido
	default:
		return nil
	}
	if id == "" {
		return apperr.Permanent("bad_event", "evento sin usuario", fmt.Errorf("%s %s without user id", env.Type, env.ID))
	}
	if _, err := tx.Exec(ctx, `INSERT INTO usuarios (usuario_id, nombre, apellido, updated_at) VALUES ($1,$2,$3,$4)
		ON CONFLICT (usuario_id) DO UPDATE SET nombre = EXCLUDED.nombre, apellido = EXCLUDED.apellido, updated_at = EXCLUDED.updated_at
		WHERE usuarios.updated_at <= EXCLUDED.updated_at`, id, nombre, apellido, env.OccurredAt); err != nil {
		return fmt.Errorf("store name of %s: %w", id, err)
	}
	return nil
}

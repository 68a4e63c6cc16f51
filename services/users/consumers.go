package users

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/pg"
)

func (u *Users) consumers() []consumer.Spec {
	return []consumer.Spec{
		// One at a time, in stream order: a ban must not overtake the registration.
		{Name: "users-accounts", Stream: events.StreamAuth, MaxAckPending: 1,
			Subjects: []string{events.SubjUserRegistered, events.SubjUserBanned, events.SubjUserUnbanned},
			Handle:   u.applyAccount},
		{Name: "users-chat-strikes", Stream: events.StreamMarketplace,
			Subjects: []string{events.SubjChatInfractionDetected}, Handle: u.applyStrike},
		{Name: "users-kyc", Stream: events.StreamProfessionals,
			Subjects: []string{events.SubjKYCSubmitted, events.SubjKYCApproved, events.SubjKYCRejected}, Handle: u.applyKYC},
	}
}

// applyKYC keeps the replica kyc_verificado is read from. The state is written with the
// event's time and only over an older one, so a late redelivery of an earlier event
// cannot undo an approval (and a repeated event changes nothing).
func (u *Users) applyKYC(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	userID, estado, ok, err := events.KYCState(env)
	if err != nil {
		return permanent(err)
	}
	if !ok {
		return nil
	}
	id, err := parseID(userID)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO kyc_states (usuario_id, estado, occurred_at) VALUES ($1, $2, $3)
		ON CONFLICT (usuario_id) DO UPDATE SET estado = EXCLUDED.estado, occurred_at = EXCLUDED.occurred_at
		WHERE kyc_states.occurred_at <= EXCLUDED.occurred_at`, id, estado, env.OccurredAt); err != nil {
		return pg.Translate(fmt.Errorf("kyc state %s: %w", id, err))
	}
	return nil
}

func permanent(err error) error { return apperr.Permanent("bad_event", "undecodable event", err) }

func parseID(s string) (uuid.UUID, error) {
	id, err := uuid.Parse(s)
	if err != nil {
		return uuid.Nil, permanent(fmt.Errorf("user id %q: %w", s, err))
	}
	return id, nil
}

// applyAccount keeps the profile and its replica of is_active in step with auth.
func (u *Users) applyAccount(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	switch env.Type {
	case events.UserRegisteredV1{}.EventType():
		e, err := events.Decode[events.UserRegisteredV1](env)
		if err != nil {
			return permanent(err)
		}
		id, err := parseID(e.UserID)
		if err != nil {
			return err
		}
		return insertProfile(ctx, tx, newProfile{ID: id, Email: e.Email, Nombre: e.Nombre, Apellido: e.Apellido,
			Rol: e.Rol, IsActive: true, FechaCreacion: env.OccurredAt})
	case events.UserBannedV1{}.EventType(), events.UserUnbannedV1{}.EventType():
		var userID string
		active := env.Type == events.UserUnbannedV1{}.EventType()
		if active {
			e, err := events.Decode[events.UserUnbannedV1](env)
			if err != nil {
				return permanent(err)
			}
			userID = e.UserID
		} else {
			e, err := events.Decode[events.UserBannedV1](env)
			if err != nil {
				return permanent(err)
			}
			userID = e.UserID
		}
		id, err := parseID(userID)
		if err != nil {
			return err
		}
		// A missing profile is filled from auth later, with the current flag.
		if _, err := tx.Exec(ctx, `UPDATE profiles SET is_active = $2, fecha_actualizacion = $3 WHERE id = $1`,
			id, active, env.OccurredAt); err != nil {
			return pg.Translate(fmt.Errorf("set is_active %s: %w", id, err))
		}
	}
	return nil
}

// applyStrike counts a chat infraction; the strike that reaches the limit bans the user
// from chatting and publishes UserChatBanned (once: later strikes only count).
func (u *Users) applyStrike(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	e, err := events.Decode[events.ChatInfractionDetectedV1](env)
	if err != nil {
		return permanent(err)
	}
	id, err := parseID(e.UserID)
	if err != nil {
		return err
	}
	var n int
	var banned bool
	err = tx.QueryRow(ctx, `UPDATE profiles SET infracciones_chat = infracciones_chat + 1, fecha_actualizacion = $2
		WHERE id = $1 RETURNING infracciones_chat, is_chat_banned`, id, env.OccurredAt).Scan(&n, &banned)
	if errors.Is(err, pgx.ErrNoRows) {
		// The registration is still in flight: fill the profile from auth and count again.
		if _, lerr := u.load(ctx, id); lerr != nil {
			if apperr.KindOf(lerr) == apperr.KindNotFound {
				return apperr.Permanent("unknown_user", "strike for an unknown user", lerr)
			}
			return lerr
		}
		err = tx.QueryRow(ctx, `UPDATE profiles SET infracciones_chat = infracciones_chat + 1, fecha_actualizacion = $2
			WHERE id = $1 RETURNING infracciones_chat, is_chat_banned`, id, env.OccurredAt).Scan(&n, &banned)
	}
	if err != nil {
		return pg.Translate(fmt.Errorf("count strike %s: %w", id, err))
	}
	if n < ChatStrikeLimit || banned {
		return nil
	}
	if _, err := tx.Exec(ctx, `UPDATE profiles SET is_chat_banned = true WHERE id = $1`, id); err != nil {
		return pg.Translate(fmt.Errorf("chat ban %s: %w", id, err))
	}
	out, err := events.New(Name, id.String(), events.UserChatBannedV1{UserID: id.String(), Infracciones: n}, env.Caused(), u.svc.Deps.Now())
	if err != nil {
		return err
	}
	if err := outbox.Append(ctx, tx, out); err != nil {
		return err
	}
	consumer.AfterCommit(ctx, u.svc.Relay.Notify)
	return nil
}

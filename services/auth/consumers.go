package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/natsx"
)

func (a *Auth) consumers() []consumer.Spec {
	return []consumer.Spec{
		{Name: "auth-banlist", Stream: events.StreamAuth, Subjects: []string{events.SubjUserBanned, events.SubjUserUnbanned},
			Handle: a.syncBan},
		{Name: "auth-names", Stream: events.StreamUsers, Subjects: []string{events.SubjUserProfileUpdated},
			Handle: a.applyProfile},
		{Name: "auth-kyc", Stream: events.StreamProfessionals,
			Subjects: []string{events.SubjKYCSubmitted, events.SubjKYCApproved, events.SubjKYCRejected}, Handle: a.applyKYC},
	}
}

// applyKYC keeps the KYC replica the user-growth metrics count. The state is written
// with the event's time and only over an older one, so a late redelivery of an earlier
// event cannot undo an approval (and a repeated event changes nothing).
func (a *Auth) applyKYC(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	userID, estado, ok, err := events.KYCState(env)
	if err != nil {
		return apperr.Permanent("bad_event", "undecodable KYC event", err)
	}
	if !ok {
		return nil
	}
	id, err := uuid.Parse(userID)
	if err != nil {
		return apperr.Permanent("bad_event", "user id is not a uuid", err)
	}
	if _, err := tx.Exec(ctx, `INSERT INTO kyc_states (usuario_id, estado, occurred_at) VALUES ($1, $2, $3)
		ON CONFLICT (usuario_id) DO UPDATE SET estado = EXCLUDED.estado, occurred_at = EXCLUDED.occurred_at
		WHERE kyc_states.occurred_at <= EXCLUDED.occurred_at`, id, estado, env.OccurredAt); err != nil {
		return fmt.Errorf("kyc state %s: %w", id, err)
	}
	return nil
}

// syncBan writes the replicated ban list from UserBanned/UserUnbanned. It writes the
// account's current state rather than the event's, so a ban and an unban delivered out
// of order still leave the list right. A failed KV write is retried by the runner.
func (a *Auth) syncBan(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	var userID string
	switch env.Type {
	case events.UserBannedV1{}.EventType():
		e, err := events.Decode[events.UserBannedV1](env)
		if err != nil {
			return apperr.Permanent("bad_event", "undecodable UserBanned", err)
		}
		userID = e.UserID
	case events.UserUnbannedV1{}.EventType():
		e, err := events.Decode[events.UserUnbannedV1](env)
		if err != nil {
			return apperr.Permanent("bad_event", "undecodable UserUnbanned", err)
		}
		userID = e.UserID
	default:
		return nil
	}
	id, err := uuid.Parse(userID)
	if err != nil {
		return apperr.Permanent("bad_event", "user id is not a uuid", err)
	}
	var active bool
	if err := tx.QueryRow(ctx, `SELECT is_active FROM accounts WHERE id = $1`, id).Scan(&active); errors.Is(err, pgx.ErrNoRows) {
		return apperr.Permanent("unknown_account", "ban event for an unknown account", err)
	} else if err != nil {
		return fmt.Errorf("ban state %s: %w", id, err)
	}
	kv, err := a.bansKV(ctx)
	if err != nil {
		return err
	}
	return natsx.SetBanned(ctx, kv, id.String(), !active)
}

func (a *Auth) bansKV(ctx context.Context) (jetstream.KeyValue, error) {
	a.kvMu.Lock()
	defer a.kvMu.Unlock()
	if a.kv == nil {
		kv, err := natsx.BansKV(ctx, a.svc.Deps.JS)
		if err != nil {
			return nil, err
		}
		a.kv = kv
	}
	return a.kv, nil
}

// applyProfile keeps the names and avatar replica the admin listing shows.
func (a *Auth) applyProfile(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	e, err := events.Decode[events.UserProfileUpdatedV1](env)
	if err != nil {
		return apperr.Permanent("bad_event", "undecodable UserProfileUpdated", err)
	}
	id, err := uuid.Parse(e.UserID)
	if err != nil {
		return apperr.Permanent("bad_event", "user id is not a uuid", err)
	}
	if e.Nombre == "" || e.Apellido == "" {
		return nil
	}
	// The event carries the avatar whenever there is one: an empty one means none.
	if _, err := tx.Exec(ctx, `UPDATE accounts SET nombre = $2, apellido = $3, avatar_url = NULLIF($4, '') WHERE id = $1`,
		id, e.Nombre, e.Apellido, e.AvatarURL); err != nil {
		return fmt.Errorf("apply profile %s: %w", id, err)
	}
	return nil
}

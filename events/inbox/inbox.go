// Package inbox makes event handlers idempotent: a handler's transaction first claims
// (consumer, event id); a second delivery of the same event finds the claim and is
// skipped. Because the claim commits with the handler's own changes, an event is applied
// exactly once per consumer name, and a replay under a new name applies it again.
package inbox

import (
	"context"
	"fmt"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Claim records (consumer, eventID) in the transaction's schema and reports whether this
// is the first time.
func Claim(ctx context.Context, tx pgx.Tx, consumer string, eventID uuid.UUID) (bool, error) {
	tag, err := tx.Exec(ctx, `INSERT INTO inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING`, consumer, eventID)
	if err != nil {
		return false, fmt.Errorf("inbox claim %s/%s: %w", consumer, eventID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ClaimAll claims a batch of events in one statement and reports, position by position,
// whether each is the first delivery. An id repeated within the batch is fresh only at
// its first position, so a copy delivered next to its original is skipped like any
// other duplicate.
func ClaimAll(ctx context.Context, tx pgx.Tx, consumer string, eventIDs []uuid.UUID) ([]bool, error) {
	rows, err := tx.Query(ctx, `INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])
		ON CONFLICT DO NOTHING RETURNING event_id`, consumer, eventIDs)
	if err != nil {
		return nil, fmt.Errorf("inbox claim %d events for %s: %w", len(eventIDs), consumer, err)
	}
	inserted := make(map[uuid.UUID]bool, len(eventIDs))
	for rows.Next() {
		var id uuid.UUID
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("inbox claim %s: %w", consumer, err)
		}
		inserted[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("inbox claim %d events for %s: %w", len(eventIDs), consumer, err)
	}
	fresh := make([]bool, len(eventIDs))
	for i, id := range eventIDs {
		fresh[i] = inserted[id]
		delete(inserted, id)
	}
	return fresh, nil
}

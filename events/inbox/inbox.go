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

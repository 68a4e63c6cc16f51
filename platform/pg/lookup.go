package pg

import (
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// Lookup finishes a single-row read (v, err from scanning a QueryRow) as (value, found,
// error): no row is not an error but found=false, so callers choose their own 404 or
// fallback; any other error is wrapped with what and translated.
func Lookup[T any](v T, err error, what string) (T, bool, error) {
	var zero T
	if errors.Is(err, pgx.ErrNoRows) {
		return zero, false, nil
	}
	if err != nil {
		return zero, false, Translate(fmt.Errorf("%s: %w", what, err))
	}
	return v, true, nil
}

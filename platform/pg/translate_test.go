package pg

import (
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/conectarpro/conectar/platform/apperr"
)

// TestTranslateUnavailable pins that a database that cannot serve (too many clients,
// shutting down, connection exceptions) answers 503, never a 500 for the client.
func TestTranslateUnavailable(t *testing.T) {
	for code, want := range map[string]apperr.Kind{
		"53300": apperr.KindUnavailable, // too_many_connections
		"53100": apperr.KindUnavailable, // disk_full
		"57P03": apperr.KindUnavailable, // cannot_connect_now
		"08006": apperr.KindUnavailable, // connection_failure
		"40001": apperr.KindUnavailable, // serialization_failure
		"23505": apperr.KindConflict,
	} {
		err := Translate(fmt.Errorf("query: %w", &pgconn.PgError{Code: code}))
		e, ok := apperr.As(err)
		if !ok || e.Kind != want {
			t.Errorf("Translate(SQLSTATE %s) = %v, want kind %v", code, err, want)
		}
	}
	if _, ok := apperr.As(Translate(&pgconn.PgError{Code: "42P01"})); ok {
		t.Error("an undefined table (a bug) must stay a 500, not be dressed as a client error")
	}
}

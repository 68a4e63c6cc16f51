package tests

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

// pgConn opens a superuser connection to the test database, for assertions on what is
// (not) stored.
func pgConn(t *testing.T, h *harness) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), h.env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

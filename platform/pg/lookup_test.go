package pg

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestLookup(t *testing.T) {
	if v, found, err := Lookup(7, nil, "x"); v != 7 || !found || err != nil {
		t.Fatalf("row: %v %v %v", v, found, err)
	}
	if v, found, err := Lookup(7, fmt.Errorf("scan: %w", pgx.ErrNoRows), "x"); v != 0 || found || err != nil {
		t.Fatalf("no row: %v %v %v", v, found, err)
	}
	boom := errors.New("boom")
	if v, found, err := Lookup(7, boom, "thing 1"); v != 0 || found || !errors.Is(err, boom) || err.Error() == "boom" {
		t.Fatalf("error: %v %v %v", v, found, err)
	}
}

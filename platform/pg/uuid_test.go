package pg

import (
	"bytes"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
)

func TestEncodeUUIDs(t *testing.T) {
	m := pgtype.NewMap()
	EncodeUUIDs(m)
	for _, u := range []uuid.UUID{uuid.Nil, uuid.MustParse("6ba7b810-9dad-11d1-80b4-00c04fd430c8")} {
		if _, ok := m.PlanEncode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u).(*uuidEncodePlan); !ok {
			t.Fatalf("%s: not encoded by the direct plan", u)
		}
		bin, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, u, nil)
		if err != nil || !bytes.Equal(bin, u[:]) {
			t.Fatalf("%s binary: %x %v", u, bin, err)
		}
		txt, err := m.Encode(pgtype.UUIDOID, pgtype.TextFormatCode, u, nil)
		if err != nil || string(txt) != u.String() {
			t.Fatalf("%s text: %q %v", u, txt, err)
		}
		// Through a pointer (an optional id) too.
		bin, err = m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, &u, nil)
		if err != nil || !bytes.Equal(bin, u[:]) {
			t.Fatalf("%s via pointer: %x %v", u, bin, err)
		}
	}
	var none *uuid.UUID
	if bin, err := m.Encode(pgtype.UUIDOID, pgtype.BinaryFormatCode, none, nil); err != nil || bin != nil {
		t.Fatalf("nil pointer must be NULL: %x %v", bin, err)
	}
}

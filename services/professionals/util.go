package professionals

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// pgTime renders timestamps as RFC 3339 UTC.
type pgTime struct{ T time.Time }

func (t pgTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.T.UTC().Format(time.RFC3339Nano))
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

package professionals

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/invopop/jsonschema"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
)

// pgTime renders timestamps as RFC 3339 UTC.
type pgTime struct{ T time.Time }

// JSONSchema describes pgTime as MarshalJSON writes it (platform/api reflects it).
func (pgTime) JSONSchema() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "string", Format: "date-time"}
}

func (t pgTime) MarshalJSON() ([]byte, error) {
	return json.Marshal(t.T.UTC().Format(time.RFC3339Nano))
}

func isUUID(s string) bool {
	_, err := uuid.Parse(s)
	return err == nil && len(s) == 36
}

// checkedInput is a request body that validates (and normalizes) itself; create says
// whether the fields a new record needs must be present (updates are partial).
type checkedInput interface{ check(create bool) error }

// bindChecked decodes the JSON body into in and validates it.
func bindChecked(c *fiber.Ctx, in checkedInput, create bool) error {
	if err := httpx.BindJSON(c, in); err != nil {
		return err
	}
	return in.check(create)
}

// trimmedName trims a name-like field and checks its length (1..max); an absent one is
// an error only on create, where it is required.
func trimmedName(ck *apperr.Checker, field string, v *string, max int, create bool) *string {
	if v == nil {
		ck.Add(create, field, "es obligatorio")
		return nil
	}
	t := strings.TrimSpace(*v)
	ck.Len(field, t, 1, max)
	return &t
}

// abs makes a path of this API ("/api/v1/…") absolute with the gateway's public base
// URL: the frontend puts image and document URLs straight into the page, where a path
// would resolve against the frontend's own origin. Absolute URLs (and "") pass through.
func (s *svc) abs(u string) string {
	if strings.HasPrefix(u, "/") && !strings.HasPrefix(u, "//") {
		return s.publicURL + u
	}
	return u
}

// absPtr is abs for an optional URL.
func (s *svc) absPtr(u *string) *string {
	if u == nil {
		return nil
	}
	v := s.abs(*u)
	return &v
}

// rel is the inverse of abs: the API path of a URL of ours given either way ("" when it
// is not one of ours), so stored paths can be matched whatever form the client sends.
func (s *svc) rel(u string) string {
	switch {
	case strings.HasPrefix(u, "/api/"):
		return u
	case s.publicURL != "" && strings.HasPrefix(u, s.publicURL+"/api/"):
		return strings.TrimPrefix(u, s.publicURL)
	}
	return ""
}

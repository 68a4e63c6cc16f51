package kit

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
)

// HeaderInternalKey authenticates service-to-service reads. Internal routes live under
// /internal/, which the gateway never forwards.
const HeaderInternalKey = "X-Internal-Key"

// DefaultInternalKey is the development value of INTERNAL_API_KEY.
const DefaultInternalKey = "dev-internal-key"

func (s *Service) internalKey() string {
	if k := s.Deps.Env("INTERNAL_API_KEY"); k != "" {
		return k
	}
	return DefaultInternalKey
}

// Internal refuses requests without the internal key (constant-time compare).
func (s *Service) Internal() fiber.Handler {
	key := []byte(s.internalKey())
	return func(c *fiber.Ctx) error {
		if subtle.ConstantTimeCompare([]byte(c.Get(HeaderInternalKey)), key) != 1 {
			return apperr.Unauthorized("internal_only", "Solo para servicios internos")
		}
		return c.Next()
	}
}

// InternalGet reads path from another service's internal API into out. It is only for
// read-your-writes misses (an event still in flight); changes always travel as events.
func (s *Service) InternalGet(ctx context.Context, service, path string, out any) error {
	base, ok := s.Deps.ServiceURLs[service]
	if !ok {
		return apperr.Unavailable("service_unknown", "Servicio no disponible", fmt.Errorf("no URL for %s", service))
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, base+path, nil)
	if err != nil {
		return fmt.Errorf("internal get %s%s: %w", service, path, err)
	}
	req.Header.Set(HeaderInternalKey, s.internalKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return apperr.Unavailable("service_unavailable", "Servicio no disponible", fmt.Errorf("internal get %s%s: %w", service, path, err))
	}
	defer resp.Body.Close()
	switch {
	case resp.StatusCode == http.StatusNotFound:
		return apperr.NotFound("not_found", "Recurso no encontrado")
	case resp.StatusCode != http.StatusOK:
		return apperr.Unavailable("service_unavailable", "Servicio no disponible", fmt.Errorf("internal get %s%s: status %d", service, path, resp.StatusCode))
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("internal get %s%s: decode: %w", service, path, err)
	}
	return nil
}

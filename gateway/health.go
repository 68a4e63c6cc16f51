package gateway

import (
	"encoding/json"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// healthNames are the service names GET /health reports, as the earlier system and the
// frontend spell them (SPEC §1).
var healthNames = map[string]string{
	SvcAuth:          "autenticacion",
	SvcUsers:         "usuarios",
	SvcProfessionals: "profesionales",
	SvcMarketplace:   "chat_ofertas",
	SvcPayments:      "pagos",
	SvcNotifications: "notificaciones",
}

// allServices lists the six services every gateway fronts.
var allServices = []string{SvcAuth, SvcUsers, SvcProfessionals, SvcMarketplace, SvcPayments, SvcNotifications}

// HealthReport is the body of the gateway's GET /health.
type HealthReport struct {
	Status       string                       `json:"status"` // healthy | degraded
	Gateway      string                       `json:"gateway"`
	Services     map[string]string            `json:"services"` // healthy | unhealthy | unreachable
	Dependencies map[string]map[string]string `json:"dependencies"`
}

// serviceHealth is what each service's /health answers (platform/health.Report).
type serviceHealth struct {
	Status       string            `json:"status"`
	Service      string            `json:"service"`
	Dependencies map[string]string `json:"dependencies"`
}

// health asks every service concurrently, bypassing the circuit breakers (health is how
// operators see a service come back, it must not wait for a breaker to half-open), and
// answers 200 even when degraded: the gateway itself is up and still serves the healthy
// services, so a load balancer must keep sending it traffic. "status" says the rest.
func (g *Gateway) health(c *fiber.Ctx) error {
	rep := HealthReport{Status: "healthy", Gateway: "ok", Services: map[string]string{}, Dependencies: map[string]map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, name := range allServices {
		u := g.upstreams[name]
		wg.Add(1)
		go func() {
			defer wg.Done()
			state, deps := g.probe(u)
			mu.Lock()
			defer mu.Unlock()
			rep.Services[healthNames[name]] = state
			rep.Dependencies[healthNames[name]] = deps
			if state != "healthy" {
				rep.Status = "degraded"
			}
		}()
	}
	wg.Wait()
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.JSON(rep)
}

// probe fetches one service's /health. A service answers 503 with its report when a
// dependency is down, so the body is read whatever the status.
func (g *Gateway) probe(u *upstream) (string, map[string]string) {
	unknown := map[string]string{"postgres": "unknown", "nats": "unknown"}
	req := fasthttp.AcquireRequest()
	resp := fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.SetRequestURI(u.base + "/health")
	req.Header.SetMethod(fiber.MethodGet)
	if err := u.client.DoTimeout(req, resp, g.cfg.HealthTimeout); err != nil {
		return "unreachable", unknown
	}
	var sh serviceHealth
	if err := json.Unmarshal(resp.Body(), &sh); err != nil || sh.Status == "" {
		return "unhealthy", unknown
	}
	if sh.Dependencies == nil {
		sh.Dependencies = map[string]string{}
	}
	if sh.Status == "healthy" && resp.StatusCode() == fiber.StatusOK {
		return "healthy", sh.Dependencies
	}
	return "unhealthy", sh.Dependencies
}

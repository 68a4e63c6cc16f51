// Package health answers GET /health for a component: liveness plus the state of each
// dependency (PostgreSQL, NATS), with "healthy" only when every check passes.
package health

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// Check reports a dependency's problem, or nil.
type Check func(ctx context.Context) error

// Report is the body of GET /health.
type Report struct {
	Status       string            `json:"status"`
	Service      string            `json:"service"`
	Dependencies map[string]string `json:"dependencies"`
}

// Run executes checks concurrently with a shared timeout.
func Run(ctx context.Context, service string, checks map[string]Check) Report {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	rep := Report{Status: "healthy", Service: service, Dependencies: map[string]string{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	names := make([]string, 0, len(checks))
	for n := range checks {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		wg.Add(1)
		go func(name string, c Check) {
			defer wg.Done()
			state := "ok"
			if err := c(ctx); err != nil {
				state = "error: " + err.Error()
			}
			mu.Lock()
			rep.Dependencies[name] = state
			if state != "ok" {
				rep.Status = "unhealthy"
			}
			mu.Unlock()
		}(n, checks[n])
	}
	wg.Wait()
	return rep
}

// Handler serves the report: 200 when healthy, 503 otherwise.
func Handler(service string, checks map[string]Check) fiber.Handler {
	return func(c *fiber.Ctx) error {
		rep := Run(c.UserContext(), service, checks)
		status := fiber.StatusOK
		if rep.Status != "healthy" {
			status = fiber.StatusServiceUnavailable
		}
		return c.Status(status).JSON(rep)
	}
}

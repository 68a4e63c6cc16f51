package main

import (
	"context"
	"slices"
	"testing"

	"github.com/conectarpro/conectar/deploy"
	"github.com/conectarpro/conectar/platform/testkit"
)

// TestNATSUsersMatchConsumers builds every service as serve does and compares the
// streams its consumers read with what deploy.NATSUsers (the table nats.conf is written
// from, and deploy's tests enforce on a real server) lets it consume: a stream missing
// there would be refused in production; one listed but no longer read is a permission
// nobody needs.
func TestNATSUsersMatchConsumers(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every service on a database")
	}
	env := testkit.NewEnv(t)
	allowed := map[string][]string{}
	for _, u := range deploy.NATSUsers() {
		allowed[u.Name] = slices.Sorted(slices.Values(u.Consumes))
	}
	for _, d := range serviceDefs() {
		deps := env.Deps(t, d.name, nil)
		deps.PublicURL = "http://127.0.0.1:8000"
		deps.ServiceURLs = map[string]string{}
		for _, o := range serviceDefs() {
			deps.ServiceURLs[o.name] = "http://127.0.0.1:1"
		}
		svc, err := d.new(context.Background(), deps)
		if err != nil {
			t.Fatalf("build %s: %v", d.name, err)
		}
		var read []string
		for _, sp := range svc.Runner.Specs {
			if !slices.Contains(read, sp.Stream) {
				read = append(read, sp.Stream)
			}
		}
		slices.Sort(read)
		want, ok := allowed[d.name]
		if !ok {
			t.Errorf("%s: no NATS user in deploy.NATSUsers", d.name)
			continue
		}
		if !slices.Equal(read, want) {
			t.Errorf("%s consumes %v; deploy.NATSUsers (and nats.conf) allow %v", d.name, read, want)
		}
	}
}

package main

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/testkit"
)

// dropRounds is how many times every backend is terminated, a second apart. Longer
// flapping eventually dead-letters events on purpose: a consumer retries a failing
// event 8 times over about a minute (MaxDeliver, backoff from 250 ms doubling), and
// then parks it in the DLQ for an operator; this test is about drops, not an outage.
const dropRounds = 8

// TestFaultPostgresConnectionsDropped terminates every PostgreSQL backend of the test
// database once a second, eight times, while hire-and-pay journeys are mid-flow: HTTP
// handlers, consumers' transactions, outbox relays and their LISTEN connections, the
// webhook worker and the email sender all lose their connection, some mid-statement,
// and every pool is left full of dead idle connections.
func TestFaultPostgresConnectionsDropped(t *testing.T) {
	sys := startSystem(t, faultEnv(nil))
	adminTok, _, _ := sys.login("admin@conectar.test", "admin-password-1")
	cfg, err := pgx.ParseConfig(sys.set.DatabaseURL)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := pgx.Connect(context.Background(), testkit.BaseDSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close(context.Background()) })

	var start sync.Once
	stop := make(chan struct{})
	var killed, rounds atomic.Int64
	var wg sync.WaitGroup
	// Registered after the admin connection's cleanup, so it runs first: the killer
	// stops before its connection closes, even when a journey fails the test.
	halt := sync.OnceFunc(func() { close(stop); wg.Wait() })
	t.Cleanup(halt)
	killer := func() {
		defer wg.Done()
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for first := true; ; first = false {
			if !first {
				select {
				case <-stop:
					return
				case <-tick.C:
				}
			}
			var n int64
			if err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
				WHERE datname = $1 AND pid <> pg_backend_pid()`, cfg.Database).Scan(&n); err != nil {
				t.Errorf("terminate backends: %v", err)
				return
			}
			killed.Add(n)
			if rounds.Add(1) == dropRounds {
				return
			}
		}
	}
	// waitRounds holds a journey at a stage until n rounds of drops have happened (or the
	// killer gave up), so the drops land between its steps however fast the machine is.
	waitRounds := func(n int64) {
		deadline := time.Now().Add(2 * dropRounds * time.Second)
		for rounds.Load() < n && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
	}
	// The drops start once the first professional is verified; journeys wait for some at
	// the acceptance and at the hold, so offers, the checkout saga, webhooks, escrow,
	// release, XP and emails all run through them.
	js := sys.runJourneys(t, adminTok, "pg", 6, func(_ *journey, stage string) {
		switch stage {
		case "verified":
			start.Do(func() { wg.Add(1); go killer() })
		case "accepted":
			waitRounds(3)
		case "held":
			waitRounds(6)
		}
	})
	// Journeys may finish before the killer's last rounds on a fast machine; let it
	// finish its schedule (bounded) so the check below is about the fault, not the pace.
	waitRounds(dropRounds)
	halt()
	t.Logf("%d backends terminated in %d rounds", killed.Load(), rounds.Load())
	if rounds.Load() < dropRounds || killed.Load() == 0 {
		t.Fatalf("the fault hardly happened: %d rounds, %d backends", rounds.Load(), killed.Load())
	}
	sys.checkBooks(t, adminTok, js, func(*journey) books { return releasedBooks })
	sys.checkGamificationRebuild(t)
	sys.checkSearchRebuild(t, js)
}

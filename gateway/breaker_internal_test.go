package gateway

import (
	"errors"
	"reflect"
	"sync"
	"testing"
	"time"
)

// testBreaker opens after 3 failures in a row for 10s of a clock the test moves.
func testBreaker() (*breaker, *time.Time, *[]string) {
	now := time.Unix(1_700_000_000, 0)
	var changes []string
	b := &breaker{
		name: "svc", failures: 3, open: 10 * time.Second,
		now:      func() time.Time { return now },
		excluded: func(err error) bool { return errors.Is(err, errClient) },
		changed:  func(name string, to breakerState) { changes = append(changes, name+" "+to.String()) },
	}
	return b, &now, &changes
}

var (
	errDown   = errors.New("down")
	errClient = errors.New("client")
)

func run(b *breaker, err error) error {
	ran := false
	got := b.Execute(func() error { ran = true; return err })
	if !ran && got == nil {
		panic("refused without an error")
	}
	return got
}

func TestBreakerOpensOnFailuresInARowAndProbesAfterItsPeriod(t *testing.T) {
	b, now, changes := testBreaker()
	// A success in between starts the count again; a client's fault does not count.
	for _, err := range []error{errDown, errDown, nil, errDown, errDown, errClient} {
		_ = run(b, err)
	}
	if b.State() != breakerClosed {
		t.Fatalf("open after 2 failures in a row: %v", b.State())
	}
	if err := run(b, errDown); !errors.Is(err, errDown) || b.State() != breakerOpen {
		t.Fatalf("third failure in a row: %v, %v", err, b.State())
	}
	if err := run(b, nil); !errors.Is(err, errBreakerOpen) {
		t.Fatalf("open breaker: %v", err)
	}
	*now = now.Add(10 * time.Second)
	if b.State() != breakerHalfOpen {
		t.Fatalf("after the open period: %v", b.State())
	}
	// One probe at a time; its failure opens the breaker for another period.
	g, err := b.allow()
	if err != nil {
		t.Fatal(err)
	}
	if err := run(b, nil); !errors.Is(err, errProbeOut) {
		t.Fatalf("second probe: %v", err)
	}
	b.done(g, errDown)
	if err := run(b, nil); !errors.Is(err, errBreakerOpen) {
		t.Fatalf("after a failed probe: %v", err)
	}
	*now = now.Add(10 * time.Second)
	// A probe that failed through the client's fault frees the slot; a success closes.
	if err := run(b, errClient); !errors.Is(err, errClient) || b.State() != breakerHalfOpen {
		t.Fatalf("client's fault: %v, %v", err, b.State())
	}
	if err := run(b, nil); err != nil || b.State() != breakerClosed {
		t.Fatalf("probe succeeded: %v, %v", err, b.State())
	}
	want := []string{"svc open", "svc half-open", "svc open", "svc half-open", "svc closed"}
	if !reflect.DeepEqual(*changes, want) {
		t.Fatalf("changes %q, want %q", *changes, want)
	}
	// The count starts from zero after closing.
	_ = run(b, errDown)
	_ = run(b, errDown)
	if b.State() != breakerClosed {
		t.Fatal("a closed breaker kept failures from before it opened")
	}
}

// A request that started before a change of state does not count after it.
func TestBreakerIgnoresResultsOfAnEarlierState(t *testing.T) {
	b, now, _ := testBreaker()
	slow, err := b.allow()
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_ = run(b, errDown)
	}
	*now = now.Add(10 * time.Second)
	probe, err := b.allow()
	if err != nil {
		t.Fatal(err)
	}
	b.done(slow, nil) // from the closed breaker: must not close the half-open one
	if b.State() != breakerHalfOpen {
		t.Fatalf("a stale success changed the state: %v", b.State())
	}
	b.done(probe, nil)
	late, _ := b.allow()
	for range 2 {
		_ = run(b, errDown)
	}
	b.done(slow, errDown) // stale again: must not be the third failure
	if b.State() != breakerClosed {
		t.Fatal("a stale failure counted")
	}
	b.done(late, errDown)
	if b.State() != breakerOpen {
		t.Fatal("three failures in a row of this state did not open it")
	}
}

// A panicking request counts as a failure and the panic goes on.
func TestBreakerCountsAPanic(t *testing.T) {
	b, _, _ := testBreaker()
	for range 3 {
		func() {
			defer func() { _ = recover() }()
			_ = b.Execute(func() error { panic("boom") })
		}()
	}
	if b.State() != breakerOpen {
		t.Fatalf("after 3 panics: %v", b.State())
	}
}

// Concurrent requests keep the count consistent (run with -race).
func TestBreakerConcurrent(t *testing.T) {
	b, _, _ := testBreaker()
	b.failures = 1 << 30
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 1000 {
				var err error
				if (i+j)%3 == 0 {
					err = errDown
				}
				_ = run(b, err)
				_ = b.State()
			}
		}()
	}
	wg.Wait()
	if b.State() != breakerClosed {
		t.Fatal("opened")
	}
}

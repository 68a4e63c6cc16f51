package webhook

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/jackc/pgx/v5/pgconn"
)

// fakeDB records each INSERT's rows; gate, when set, holds every INSERT until closed.
type fakeDB struct {
	mu      sync.Mutex
	batches [][]string // data ids per INSERT
	fail    error
	gate    chan struct{}
	started chan struct{}
}

func (f *fakeDB) Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error) {
	if f.started != nil {
		f.started <- struct{}{}
	}
	if f.gate != nil {
		<-f.gate
	}
	if len(args) != 4 {
		return pgconn.CommandTag{}, fmt.Errorf("want 4 arrays, got %d args", len(args))
	}
	ids := append([]string(nil), args[2].([]string)...)
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return pgconn.CommandTag{}, f.fail
	}
	f.batches = append(f.batches, ids)
	return pgconn.NewCommandTag(fmt.Sprintf("INSERT 0 %d", len(ids))), nil
}

func (f *fakeDB) rows() map[string]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int{}
	for _, b := range f.batches {
		for _, id := range b {
			out[id]++
		}
	}
	return out
}

// Alone, a delivery is written at once, by itself.
func TestInboxSingle(t *testing.T) {
	db := &fakeDB{}
	in := NewInbox(db, InboxConfig{})
	if err := in.Store(context.Background(), Notification{Type: "payment", DataID: "1", RequestID: "r"}); err != nil {
		t.Fatal(err)
	}
	if len(db.batches) != 1 || len(db.batches[0]) != 1 || db.batches[0][0] != "1" {
		t.Fatalf("batches = %v", db.batches)
	}
}

// Deliveries arriving while the flushers are busy share the next INSERT, each is written
// exactly once, and each Store returns only after its own row was written.
func TestInboxGroupsWhileBusy(t *testing.T) {
	db := &fakeDB{gate: make(chan struct{}), started: make(chan struct{}, 100)}
	in := NewInbox(db, InboxConfig{Flushers: 1, MaxBatch: 8})
	const n = 20
	errs := make(chan error, n)
	go func() { errs <- in.Store(context.Background(), Notification{Type: "payment", DataID: "first"}) }()
	<-db.started // the first INSERT is in flight and holds the only flusher
	for i := range n - 1 {
		go func() { errs <- in.Store(context.Background(), Notification{Type: "payment", DataID: fmt.Sprint(i)}) }()
	}
	// Let the others queue behind the held INSERT.
	deadline := time.Now().Add(5 * time.Second)
	for {
		in.mu.Lock()
		q := len(in.queue)
		in.mu.Unlock()
		if q == n-1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d queued", q)
		}
		time.Sleep(time.Millisecond)
	}
	select {
	case err := <-errs:
		t.Fatalf("a Store returned before its row was written: %v", err)
	default:
	}
	close(db.gate)
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	rows := db.rows()
	if len(rows) != n {
		t.Fatalf("%d distinct rows written, want %d", len(rows), n)
	}
	for id, c := range rows {
		if c != 1 {
			t.Fatalf("row %s written %d times", id, c)
		}
	}
	// 1 + ceil(19/8) INSERTs, not 20.
	if len(db.batches) != 4 {
		t.Fatalf("%d INSERTs for %d deliveries, want 4: %v", len(db.batches), n, db.batches)
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.flushers != 0 {
		t.Fatalf("%d flushers still counted after the queue drained", in.flushers)
	}
}

// A failed INSERT fails every delivery it carried (they answer 5xx and are sent again).
func TestInboxFailure(t *testing.T) {
	boom := errors.New("boom")
	db := &fakeDB{fail: boom}
	in := NewInbox(db, InboxConfig{})
	if err := in.Store(context.Background(), Notification{Type: "payment", DataID: "1"}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
}

// The stored strings do not alias the caller's: Fiber reuses request buffers.
func TestInboxCopiesStrings(t *testing.T) {
	db := &fakeDB{gate: make(chan struct{}), started: make(chan struct{}, 1)}
	in := NewInbox(db, InboxConfig{Flushers: 1})
	buf := []byte("12345")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	// The first Store holds the flusher; the second gives up while queued.
	go func() { done <- in.Store(context.Background(), Notification{Type: "payment", DataID: "0"}) }()
	<-db.started
	db.started = nil
	go func() {
		time.Sleep(10 * time.Millisecond)
		cancel()
	}()
	if err := in.Store(ctx, Notification{Type: "payment", DataID: unsafeString(buf)}); !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want canceled", err)
	}
	copy(buf, "xxxxx") // the request buffer is reused
	close(db.gate)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return db.rows()["12345"] == 1 })
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(time.Millisecond)
	}
}

// unsafeString aliases b the way fasthttp's byte-slice-to-string conversions do.
func unsafeString(b []byte) string { return unsafe.String(&b[0], len(b)) }

// Burst: arrivals at or above the rate in each of the last two whole windows; not in one
// window alone (a catch-up after a stall), not below the rate, not after a gap.
func TestInboxBurst(t *testing.T) {
	now := time.Unix(1_000_000, 0) // on a window boundary
	in := NewInbox(&fakeDB{}, InboxConfig{BurstRate: 200, now: func() time.Time { return now }})
	limit := 200 * int(burstWindow) / int(time.Second) // arrivals per window
	store := func(k int) {
		t.Helper()
		for i := range k {
			if err := in.Store(context.Background(), Notification{Type: "payment", DataID: fmt.Sprint(i), RequestID: "r"}); err != nil {
				t.Fatal(err)
			}
		}
	}
	next := func() { now = now.Add(burstWindow) }
	if in.Burst() {
		t.Fatal("a burst before any delivery")
	}
	store(limit)
	if in.Burst() {
		t.Fatal("a burst judged on a window not yet whole")
	}
	next()
	if in.Burst() {
		t.Fatal("one whole window at the rate is a burst")
	}
	store(limit)
	next()
	if !in.Burst() {
		t.Fatalf("two whole windows of %d arrivals are not a burst", limit)
	}
	store(limit - 1)
	next()
	if in.Burst() {
		t.Fatal("still a burst after a whole window below the rate")
	}
	// A catch-up: twice the rate for one window, then the rate's half.
	store(2 * limit)
	next()
	store(limit / 2)
	next()
	if in.Burst() {
		t.Fatal("a catch-up of one window is a burst")
	}
	// A gap: two windows at the rate, then nothing for a while.
	store(limit)
	next()
	store(limit)
	now = now.Add(3 * burstWindow)
	if in.Burst() {
		t.Fatal("a burst after a gap of quiet windows")
	}
	// A paced rate just below the limit never is one.
	for range 10 {
		store(limit - 1)
		next()
		if in.Burst() {
			t.Fatal("a paced rate below the limit is a burst")
		}
	}
	// Nor is one window with no arrivals between two at the rate.
	store(limit)
	now = now.Add(2 * burstWindow)
	store(limit)
	next()
	if in.Burst() {
		t.Fatal("windows at the rate around a quiet one are a burst")
	}
}

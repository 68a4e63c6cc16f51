package webhook

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Execer runs one statement; a *pgxpool.Pool is one.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

// InboxConfig tunes an Inbox; zero values take the defaults.
type InboxConfig struct {
	// MaxBatch bounds the rows of one INSERT (default 256).
	MaxBatch int
	// Flushers bounds the INSERTs in flight at once (default 4): while they all run, new
	// notifications queue and go together in the next one. Below that a delivery waits
	// for no other's INSERT, as when each took a connection of its own.
	Flushers int
	// Timeout bounds one INSERT (default 5s).
	Timeout time.Duration
	// BurstRate is the arrival rate, per second, from which Burst reports a burst
	// (default DefaultBurstRate).
	BurstRate int
	// now is the clock (tests); time.Now when nil.
	now func() time.Time
}

// DefaultBurstRate is the arrival rate from which Burst reports a burst: about what a
// two-core replica's workers apply per second (2,200–2,700 deliveries/s in the webhooks
// bench), so that in a burst the backlog grows whatever they do.
const DefaultBurstRate = 2000

// burstWindow is how long arrivals are counted for Burst: long enough that a paced
// sender's ticks never look like a burst, short enough that the end of one is seen at
// once.
const burstWindow = 50 * time.Millisecond

// Inbox stores authenticated notifications in webhook_inbox with group commit: a Store
// call returns only once its row is committed (a delivery answered 200 must survive a
// crash, so synchronous_commit stays on), but notifications arriving while an INSERT
// is in flight wait and share the next one. At a low rate each row is its own INSERT
// and waits for nothing; under a burst one commit (one WAL flush, one pool connection)
// serves many deliveries instead of each taking a connection and a flush of its own.
//
// There is no background goroutine: the caller that finds a free flusher slot becomes
// the flusher, and when it is done with its own row it hands the remaining queue to a
// goroutine that keeps the slot until the queue is empty.
type Inbox struct {
	db  Execer
	cfg InboxConfig

	mu       sync.Mutex
	queue    []*pending
	flushers int // flushes running; at most cfg.Flushers
	// Arrivals in the current burstWindow (number window) and in the two before it.
	window                   int64
	arrived, before, before2 int
}

type pending struct {
	n    Notification
	done chan error // buffered: the flusher never blocks on a caller that gave up
}

// NewInbox returns an Inbox writing through db.
func NewInbox(db Execer, cfg InboxConfig) *Inbox {
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = 256
	}
	if cfg.Flushers <= 0 {
		cfg.Flushers = 4
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.BurstRate <= 0 {
		cfg.BurstRate = DefaultBurstRate
	}
	if cfg.now == nil {
		cfg.now = time.Now
	}
	return &Inbox{db: db, cfg: cfg}
}

// insertSQL is one statement whatever the batch size (so it is prepared once).
const insertSQL = `INSERT INTO webhook_inbox (request_id, topic, data_id, action)
	SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[])`

// Store commits n to the inbox. An error means it may not be stored: answer 5xx so the
// sender delivers it again (a duplicate row is harmless, the workers coalesce them).
func (in *Inbox) Store(ctx context.Context, n Notification) error {
	// The row may be written after a caller that gave up has returned, and a caller's
	// strings may alias a request buffer that is reused then (Fiber): keep copies.
	n.RequestID, n.Type, n.DataID, n.Action = strings.Clone(n.RequestID), strings.Clone(n.Type), strings.Clone(n.DataID), strings.Clone(n.Action)
	p := &pending{n: n, done: make(chan error, 1)}
	in.mu.Lock()
	in.count()
	in.arrived++
	in.queue = append(in.queue, p)
	lead := in.flushers < in.cfg.Flushers
	if lead {
		in.flushers++
	}
	in.mu.Unlock()
	if lead {
		in.flush(p)
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("store webhook: %w", ctx.Err())
	}
}

// Burst reports whether deliveries have been arriving at cfg.BurstRate or faster for the
// last two whole burstWindows. Two, because senders that fell behind for a moment catch
// up at once: a paced 1,000/s whose answers stalled for 50 ms arrives at twice that for
// the next 50, and taking that for a burst made the workers stop and then catch up in
// turn, which slowed the answers more.
func (in *Inbox) Burst() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.count()
	limit := max(1, int(int64(in.cfg.BurstRate)*int64(burstWindow)/int64(time.Second)))
	return in.before >= limit && in.before2 >= limit
}

// count moves the arrival counts to the current window. The caller holds mu.
func (in *Inbox) count() {
	w := in.cfg.now().UnixNano() / int64(burstWindow)
	switch {
	case w == in.window:
		return
	case w == in.window+1:
		in.before, in.before2 = in.arrived, in.before
	default:
		in.before, in.before2 = 0, 0
	}
	in.window, in.arrived = w, 0
}

// flush writes batches until own is written (own == nil: until the queue is empty), then
// leaves the rest to a goroutine so a caller's answer never waits for other callers'
// rows. The caller holds a flusher slot; flush releases it.
func (in *Inbox) flush(own *pending) {
	for {
		in.mu.Lock()
		if len(in.queue) == 0 {
			in.flushers--
			in.mu.Unlock()
			return
		}
		if own != nil && len(own.done) > 0 {
			in.mu.Unlock()
			go in.flush(nil) // the slot goes with it
			return
		}
		k := min(len(in.queue), in.cfg.MaxBatch)
		batch := make([]*pending, k)
		copy(batch, in.queue)
		in.queue = append(in.queue[:0:0], in.queue[k:]...)
		in.mu.Unlock()

		err := in.insert(batch)
		for _, p := range batch {
			p.done <- err
		}
	}
}

func (in *Inbox) insert(batch []*pending) error {
	reqIDs, topics, dataIDs, actions := make([]string, len(batch)), make([]string, len(batch)), make([]string, len(batch)), make([]string, len(batch))
	for i, p := range batch {
		reqIDs[i], topics[i], dataIDs[i], actions[i] = p.n.RequestID, p.n.Type, p.n.DataID, p.n.Action
	}
	// Not the request's context: the batch carries other callers' rows too.
	ctx, cancel := context.WithTimeout(context.Background(), in.cfg.Timeout)
	defer cancel()
	if _, err := in.db.Exec(ctx, insertSQL, reqIDs, topics, dataIDs, actions); err != nil {
		return fmt.Errorf("store %d webhooks: %w", len(batch), err)
	}
	return nil
}

// Package consumer runs durable JetStream pull consumers with explicit acks. Each
// delivery runs in a PostgreSQL transaction that first claims the event in the inbox, so
// a redelivered event is acknowledged and skipped. Errors are classified by apperr kind:
// "already applied" is acknowledged, permanent failures go to the dead-letter stream at
// once, transient ones are retried with NakWithDelay and a growing delay, and the last
// attempt goes to the dead-letter stream too, always with the reason, the original
// subject, the stream sequence and the delivery count, followed by TermWithReason.
package consumer

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/inbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/trace"
)

// Handler applies one event inside tx. It may append follow-up events to the outbox in
// the same tx. Use AfterCommit for effects that must wait for the commit.
type Handler func(ctx context.Context, tx pgx.Tx, env events.Envelope) error

// Spec describes one durable consumer.
type Spec struct {
	Name string // durable name: <service>-<purpose>, no dots
	// InboxName is the name events are claimed under in the inbox; empty means Name. A
	// replay durable keeps its handler's inbox name to be a no-op, or takes a new one to
	// reprocess (read-model rebuilds).
	InboxName     string
	Stream        string   // events.Stream* name
	Subjects      []string // filter subjects; empty means the whole stream
	Handle        Handler
	MaxDeliver    int           // default 8
	AckWait       time.Duration // default 30s
	MaxAckPending int           // default 256; 1 gives strict order
	// StartTime, when set, creates the consumer to deliver from that time (replays).
	StartTime *time.Time
	// InactiveThreshold, when set, lets the server delete the consumer after it is idle.
	InactiveThreshold time.Duration
	// Workers is how many events are handled concurrently (default DefaultWorkers).
	// Events of one aggregate always go to the same worker, so they are applied in
	// stream order. A handler that waits on something slower than PostgreSQL (an API)
	// wants more.
	Workers int
	// Batch is the most events a worker applies in one transaction (default 128; 1
	// applies each alone). A worker batches only what is already waiting in its queue,
	// so at a low rate each event still goes alone and at once; under load the events
	// that queued up share one inbox claim and one commit instead of paying each. The
	// default is sized for catching up: after the disk stalls a commit for tens of
	// milliseconds, a worker has 50–100 events waiting, and taking them in one commit
	// instead of three or four fsync-bound ones is what keeps the p99 down. On a machine
	// with a slow disk, nine interleaved pairs of events bench runs gave an 8-writer p99
	// of median 31 ms (22–56) with 32 and a queue of 64, median 24 ms (21–31, and one
	// 111 ms stall) with 128.
	Batch int
}

// DefaultWorkers is a consumer's workers unless its Spec says otherwise. Handlers that
// only write to PostgreSQL gain nothing from more transactions at once than the database
// runs in parallel, and each worker commits on its own: under load, 8 workers split the
// events into 8 streams of small batches, so the consumer committed nearly once per event
// and competed with the writers it was following. With 2, the events bench's 8 writers
// committed 2,400–2,700 events/s instead of 1,500–2,100, and the median of the commit →
// consumer commit p99 over 6–8 runs fell from 36 to 26 ms (two cores).
const DefaultWorkers = 2

// Headers on dead letters.
const (
	HdrReason     = "Dlq-Reason"
	HdrSubject    = "Dlq-Original-Subject"
	HdrStream     = "Dlq-Original-Stream"
	HdrStreamSeq  = "Dlq-Stream-Seq"
	HdrDeliveries = "Dlq-Deliveries"
	HdrConsumer   = "Dlq-Consumer"
	HdrEventID    = "Dlq-Event-Id"
)

// Metrics is what the runner reports; nil functions are skipped.
type Metrics struct {
	Handled     func(consumer, outcome string)
	Redelivered func(consumer string)
	DeadLetter  func(consumer string)
	Lag         func(consumer string, pending float64)
	Latency     func(consumer string, seconds float64)
}

// Runner runs a set of consumers against one service schema.
type Runner struct {
	Pool    *pgxpool.Pool
	JS      jetstream.JetStream
	Log     *slog.Logger
	Metrics Metrics
	Specs   []Spec
	// Backoff gives the delay before delivery n+1 after an explicit failure of delivery n.
	Backoff func(n uint64) time.Duration
	Now     func() time.Time
	// Committed runs after every committed handler transaction, before the handlers'
	// own after-commit functions (a service wakes its outbox relay with it, so events
	// the handlers appended leave at once).
	Committed func()

	mu       sync.Mutex
	contexts []jetstream.ConsumeContext
	queues   []chan jetstream.Msg
	workers  sync.WaitGroup
}

// DefaultBackoff grows 250ms, 500ms, 1s … up to 1 minute.
func DefaultBackoff(n uint64) time.Duration {
	d := 250 * time.Millisecond
	for i := uint64(1); i < n && d < time.Minute; i++ {
		d *= 2
	}
	return min(d, time.Minute)
}

type afterKey struct{}

type deliveryKey struct{}

// Delivery returns the JetStream metadata of the message a handler is applying: when the
// stream stored it, its stream sequence, which delivery this is. ok is false outside a
// handler. The events benchmark splits its latency with it (relay: commit → stored;
// consumer: stored → consumer commit).
func Delivery(ctx context.Context) (meta *jetstream.MsgMetadata, ok bool) {
	meta, ok = ctx.Value(deliveryKey{}).(*jetstream.MsgMetadata)
	return meta, ok
}

// AfterCommit registers fn to run after the handler's transaction commits (realtime
// pushes, in-process signals). Outside a runner-managed context it runs fn at once.
func AfterCommit(ctx context.Context, fn func()) {
	if list, ok := ctx.Value(afterKey{}).(*[]func()); ok {
		*list = append(*list, fn)
		return
	}
	fn()
}

// WithAfterCommit returns a context that collects AfterCommit functions, and a function
// that runs them. HTTP handlers use it around their own transactions.
func WithAfterCommit(ctx context.Context) (context.Context, func()) {
	var list []func()
	return context.WithValue(ctx, afterKey{}, &list), func() {
		for _, fn := range list {
			fn()
		}
	}
}

// Ensure creates or updates the durable consumer of spec.
func Ensure(ctx context.Context, js jetstream.JetStream, s Spec) (jetstream.Consumer, error) {
	s = s.withDefaults()
	cfg := jetstream.ConsumerConfig{
		Durable:           s.Name,
		AckPolicy:         jetstream.AckExplicitPolicy,
		AckWait:           s.AckWait,
		MaxDeliver:        s.MaxDeliver,
		MaxAckPending:     s.MaxAckPending,
		InactiveThreshold: s.InactiveThreshold,
		// No server-side BackOff: nats-server lets it override NakWithDelay on later
		// deliveries, and the runner's own growing delays are what retries should follow.
		// Crashes (no answer at all) are redelivered after AckWait.
	}
	if s.StartTime != nil {
		cfg.DeliverPolicy = jetstream.DeliverByStartTimePolicy
		cfg.OptStartTime = s.StartTime
	}
	switch len(s.Subjects) {
	case 0:
	case 1:
		cfg.FilterSubject = s.Subjects[0]
	default:
		cfg.FilterSubjects = s.Subjects
	}
	c, err := js.CreateOrUpdateConsumer(ctx, s.Stream, cfg)
	if err != nil {
		return nil, fmt.Errorf("ensure consumer %s on %s: %w", s.Name, s.Stream, err)
	}
	return c, nil
}

func (s Spec) inboxName() string {
	if s.InboxName != "" {
		return s.InboxName
	}
	return s.Name
}

func (s Spec) withDefaults() Spec {
	if s.MaxDeliver == 0 {
		s.MaxDeliver = 8
	}
	if s.AckWait == 0 {
		s.AckWait = 30 * time.Second
	}
	if s.MaxAckPending == 0 {
		s.MaxAckPending = 256
	}
	if s.Workers == 0 {
		s.Workers = DefaultWorkers
	}
	if s.Batch == 0 {
		s.Batch = 128
	}
	return s
}

// Start ensures every consumer and starts consuming. It returns once all are running.
func (r *Runner) Start(ctx context.Context) error {
	if r.Backoff == nil {
		r.Backoff = DefaultBackoff
	}
	if r.Now == nil {
		r.Now = time.Now
	}
	for _, s := range r.Specs {
		s = s.withDefaults()
		c, err := Ensure(ctx, r.JS, s)
		if err != nil {
			return err
		}
		spec := s
		dispatch := r.startWorkers(ctx, spec)
		cc, err := c.Consume(dispatch,
			jetstream.PullMaxMessages(min(spec.MaxAckPending, 256)),
			jetstream.PullExpiry(5*time.Second),
			jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
				if ctx.Err() == nil && !errors.Is(err, nats.ErrConnectionClosed) {
					r.Log.Debug("consume", "consumer", spec.Name, "err", err)
				}
			}))
		if err != nil {
			return fmt.Errorf("consume %s: %w", spec.Name, err)
		}
		r.mu.Lock()
		r.contexts = append(r.contexts, cc)
		r.mu.Unlock()
		if r.Metrics.Lag != nil {
			go r.watchLag(ctx, c, spec.Name)
		}
	}
	return nil
}

// Stop drains every consumer: no new messages, in-flight handlers finish.
func (r *Runner) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, cc := range r.contexts {
		cc.Drain()
	}
	drained := true
	for _, cc := range r.contexts {
		select {
		case <-cc.Closed():
		case <-time.After(10 * time.Second):
			drained = false
		}
	}
	// Closing a queue that a still-running consume callback may write to would panic;
	// after a drain timeout the workers are left to end with the process instead.
	if drained {
		for _, q := range r.queues {
			close(q)
		}
		r.workers.Wait()
	}
	r.contexts, r.queues = nil, nil
}

// startWorkers starts spec's workers and returns the Consume callback that routes each
// message to the worker owning its aggregate. Routing reads only the aggregate id, so
// an undecodable message still reaches a worker, which dead-letters it.
func (r *Runner) startWorkers(ctx context.Context, s Spec) func(jetstream.Msg) {
	qs := make([]chan jetstream.Msg, s.Workers)
	hs := make([]*held, s.Workers)
	for i := range qs {
		// Room for two batches, and for every message the server lets the consumer hold
		// unacknowledged: a full queue would block the consume callback, which starves the
		// other workers, and leave the messages behind it in the client's buffer, where
		// no keep-alive reaches them.
		q, h := make(chan jetstream.Msg, max(2*s.Batch, s.MaxAckPending)), &held{}
		qs[i], hs[i] = q, h
		r.workers.Add(2)
		stop := make(chan struct{})
		go func() {
			defer r.workers.Done()
			h.keepAlive(s.AckWait/3, stop)
		}()
		go func() {
			defer r.workers.Done()
			defer close(stop)
			batch := make([]jetstream.Msg, 0, s.Batch)
			for m := range q {
				// Take what else is already queued, without waiting for more.
				batch = append(batch[:0], m)
			more:
				for len(batch) < s.Batch {
					select {
					case m, ok := <-q:
						if !ok {
							break more
						}
						batch = append(batch, m)
					default:
						break more
					}
				}
				r.handleBatch(ctx, s, batch)
				// Every message of the batch was acked, nacked or terminated.
				h.release(len(batch))
			}
		}()
	}
	r.mu.Lock()
	r.queues = append(r.queues, qs...)
	r.mu.Unlock()
	return func(m jetstream.Msg) {
		i := partition(m.Data(), len(qs))
		hs[i].hold(m)
		qs[i] <- m
	}
}

// held is what one worker holds and has not answered yet: its current batch and its
// queue, in queue order (one consume callback appends, the one worker releases from the
// front). A message waiting behind a long transaction counts against AckWait as much as
// the transaction's own messages: without a keep-alive for it too, the server would
// redeliver it meanwhile, to this process or another replica, and count a delivery.
type held struct {
	mu   sync.Mutex
	msgs []jetstream.Msg
	buf  []jetstream.Msg // keepAlive's copy, so the lock is not held while it publishes
}

func (h *held) hold(m jetstream.Msg) {
	h.mu.Lock()
	h.msgs = append(h.msgs, m)
	h.mu.Unlock()
}

// release drops the n oldest messages: the batch the worker just answered.
func (h *held) release(n int) {
	h.mu.Lock()
	k := copy(h.msgs, h.msgs[n:])
	clear(h.msgs[k:])
	h.msgs = h.msgs[:k]
	h.mu.Unlock()
}

// keepAlive tells the server every interval, until stop closes, that the held messages
// are still being worked on.
func (h *held) keepAlive(interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-stop:
			return
		case <-t.C:
			h.mu.Lock()
			h.buf = append(h.buf[:0], h.msgs...)
			h.mu.Unlock()
			for _, m := range h.buf {
				_ = m.InProgress() // one acked meanwhile answers ErrMsgAlreadyAckd, unsent
			}
			clear(h.buf)
		}
	}
}

// partition hashes the envelope's aggregate id without decoding the whole envelope.
func partition(data []byte, n int) int {
	var probe struct {
		AggregateID string `json:"aggregate_id"`
	}
	_ = json.Unmarshal(data, &probe)
	h := fnv.New32a()
	h.Write([]byte(probe.AggregateID))
	return int(h.Sum32() % uint32(n))
}

var errDuplicate = errors.New("duplicate delivery")

// item is a message of a batch with what the batch path needs from it.
type item struct {
	m    jetstream.Msg
	meta *jetstream.MsgMetadata
	env  events.Envelope
}

// handleBatch applies msgs (one worker's queue, so in stream order per aggregate). The
// ordinary first deliveries share one transaction; a message without metadata, an
// undecodable one or a redelivery (it failed before) takes the one-by-one path, which
// knows how to retry and dead-letter, after the messages ahead of it.
func (r *Runner) handleBatch(ctx context.Context, s Spec, msgs []jetstream.Msg) {
	if len(msgs) == 1 {
		r.handle(ctx, s, msgs[0])
		return
	}
	items := make([]item, 0, len(msgs))
	for _, m := range msgs {
		meta, err := m.Metadata()
		var env events.Envelope
		if err == nil && meta.NumDelivered == 1 {
			env, err = events.Parse(m.Data())
		}
		if err != nil || meta.NumDelivered != 1 {
			r.applyBatch(ctx, s, items)
			items = items[:0]
			r.handle(ctx, s, m)
			continue
		}
		items = append(items, item{m: m, meta: meta, env: env})
	}
	r.applyBatch(ctx, s, items)
}

// applyBatch applies items in one transaction: one inbox claim for all, each fresh event's
// handler in order, one commit, then the acks. If any handler fails, the transaction
// (claims included) rolls back and every item is handled again on its own, which gives
// each its usual outcome: applied, retried, dead-lettered. A failing event's handler thus
// runs once more than its deliveries; handlers are idempotent under the inbox anyway.
func (r *Runner) applyBatch(ctx context.Context, s Spec, items []item) {
	switch len(items) {
	case 0:
		return
	case 1:
		r.handle(ctx, s, items[0].m)
		return
	}
	bctx, runAfter := WithAfterCommit(ctx)
	ids := make([]uuid.UUID, len(items))
	for i, it := range items {
		ids[i] = it.env.ID
	}
	var fresh []bool
	err := pg.WithTx(bctx, r.Pool, func(tx pgx.Tx) error {
		var err error
		if fresh, err = inbox.ClaimAll(bctx, tx, s.inboxName(), ids); err != nil {
			return pg.Translate(err)
		}
		for i, it := range items {
			if !fresh[i] {
				continue
			}
			hctx := context.WithValue(bctx, deliveryKey{}, it.meta)
			if tp := it.env.Trace[trace.Header]; tp != "" {
				hctx = trace.With(hctx, tp)
			}
			if err := s.Handle(hctx, tx, it.env); err != nil {
				return fmt.Errorf("event %s: %w", it.env.ID, err)
			}
		}
		return nil
	})
	if err != nil {
		r.Log.Debug("batch failed; applying its events one by one", "consumer", s.Name, "events", len(items), "err", err)
		for _, it := range items {
			r.handle(ctx, s, it.m)
		}
		return
	}
	r.committed()
	runAfter()
	for i, it := range items {
		if !fresh[i] {
			r.ack(it.m, s.Name, "duplicate")
			continue
		}
		r.ack(it.m, s.Name, "ok")
		if r.Metrics.Latency != nil {
			r.Metrics.Latency(s.Name, r.Now().Sub(it.env.OccurredAt).Seconds())
		}
	}
}

func (r *Runner) handle(ctx context.Context, s Spec, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		r.Log.Error("message without metadata", "consumer", s.Name, "err", err)
		_ = m.Term()
		return
	}
	if meta.NumDelivered > 1 && r.Metrics.Redelivered != nil {
		r.Metrics.Redelivered(s.Name)
	}
	env, err := events.Parse(m.Data())
	if err != nil {
		r.deadLetter(ctx, s, m, meta, "undecodable envelope: "+err.Error())
		return
	}
	hctx, runAfter := WithAfterCommit(context.WithValue(ctx, deliveryKey{}, meta))
	if tp := env.Trace[trace.Header]; tp != "" {
		hctx = trace.With(hctx, tp)
	}
	err = pg.WithTx(hctx, r.Pool, func(tx pgx.Tx) error {
		fresh, err := inbox.Claim(hctx, tx, s.inboxName(), env.ID)
		if err != nil {
			return pg.Translate(err)
		}
		if !fresh {
			return errDuplicate
		}
		return s.Handle(hctx, tx, env)
	})
	log := r.Log.With("consumer", s.Name, "event_id", env.ID, "type", env.Type, "delivery", meta.NumDelivered,
		"trace_id", trace.ID(env.Trace[trace.Header]))
	switch {
	case err == nil:
		r.committed()
		runAfter()
		r.ack(m, s.Name, "ok")
		if r.Metrics.Latency != nil {
			r.Metrics.Latency(s.Name, r.Now().Sub(env.OccurredAt).Seconds())
		}
	case errors.Is(err, errDuplicate):
		r.ack(m, s.Name, "duplicate")
	case isPermanent(err):
		log.Warn("event can never succeed; dead-lettering", "err", err)
		r.deadLetter(ctx, s, m, meta, err.Error())
	case apperr.KindOf(err) == apperr.KindConflict:
		// Someone else already made this change (a unique key held): nothing left to do.
		r.ack(m, s.Name, "already_applied")
	case int(meta.NumDelivered) >= s.MaxDeliver:
		log.Error("event failed on its last attempt; dead-lettering", "err", err)
		r.deadLetter(ctx, s, m, meta, fmt.Sprintf("failed after %d attempts: %v", meta.NumDelivered, err))
	default:
		log.Warn("event failed; retrying", "err", err)
		if r.Metrics.Handled != nil {
			r.Metrics.Handled(s.Name, "retry")
		}
		_ = m.NakWithDelay(r.Backoff(meta.NumDelivered))
	}
}

func (r *Runner) committed() {
	if r.Committed != nil {
		r.Committed()
	}
}

func isPermanent(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.KindPermanent, apperr.KindInvalid, apperr.KindValidation, apperr.KindForbidden:
		return true
	}
	return errors.Is(err, events.ErrWrongType)
}

func (r *Runner) ack(m jetstream.Msg, consumer, outcome string) {
	if err := m.Ack(); err != nil {
		r.Log.Warn("ack failed; the inbox will absorb the redelivery", "consumer", consumer, "err", err)
	}
	if r.Metrics.Handled != nil {
		r.Metrics.Handled(consumer, outcome)
	}
}

// deadLetter publishes the message to dlq.<consumer> with its metadata, then terminates
// it. If the DLQ publish fails the message is left to redeliver, so nothing is lost.
func (r *Runner) deadLetter(ctx context.Context, s Spec, m jetstream.Msg, meta *jetstream.MsgMetadata, reason string) {
	if len(reason) > 1000 {
		reason = reason[:1000]
	}
	dl := &nats.Msg{Subject: events.DLQSubject(s.Name), Data: m.Data(), Header: nats.Header{}}
	dl.Header.Set(HdrReason, reason)
	dl.Header.Set(HdrSubject, m.Subject())
	dl.Header.Set(HdrStream, meta.Stream)
	dl.Header.Set(HdrStreamSeq, strconv.FormatUint(meta.Sequence.Stream, 10))
	dl.Header.Set(HdrDeliveries, strconv.FormatUint(meta.NumDelivered, 10))
	dl.Header.Set(HdrConsumer, s.Name)
	if id := m.Headers().Get(jetstream.MsgIDHeader); id != "" {
		dl.Header.Set(HdrEventID, id)
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	msgID := s.Name + ":" + strconv.FormatUint(meta.Sequence.Stream, 10)
	if _, err := r.JS.PublishMsg(pctx, dl, jetstream.WithMsgID(msgID)); err != nil {
		r.Log.Error("dead-letter publish failed; leaving the message for redelivery", "consumer", s.Name, "err", err)
		_ = m.NakWithDelay(r.Backoff(meta.NumDelivered))
		return
	}
	if r.Metrics.DeadLetter != nil {
		r.Metrics.DeadLetter(s.Name)
	}
	if r.Metrics.Handled != nil {
		r.Metrics.Handled(s.Name, "dead_letter")
	}
	_ = m.TermWithReason(reason)
}

func (r *Runner) watchLag(ctx context.Context, c jetstream.Consumer, name string) {
	t := time.NewTicker(5 * time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if info, err := c.Info(ctx); err == nil {
				r.Metrics.Lag(name, float64(info.NumPending+uint64(info.NumAckPending)))
			}
		}
	}
}

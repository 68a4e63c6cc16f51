package marketplace

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// inTx runs fn in a transaction and, after the commit, the collected post-commit effects
// (realtime pushes, waking waiters) and the outbox relay.
func (m *Market) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, after := m.s.AfterCommit(ctx)
	if err := pg.WithTx(ctx, m.pool, func(tx pgx.Tx) error { return fn(ctx, tx) }); err != nil {
		return err
	}
	after()
	return nil
}

// every is a background loop that runs scan at once and then each ScanEvery until ctx
// ends; a failure is logged (as what) and retried on the next tick.
func (m *Market) every(what string, scan func(context.Context) error) func(context.Context) {
	return func(ctx context.Context) { kit.Every(ctx, m.cfg.ScanEvery, m.s.Deps.Log, what, scan) }
}

// sqlList writes states of the lifecycle table as SQL literals. Literals rather than
// parameters, so that a scan's `estado IN ('OFERTADO')` still matches the partial index
// declared for that state; the states are our constants, quoted all the same.
func sqlList(states []string) string {
	q := make([]string, len(states))
	for i, s := range states {
		q[i] = "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return strings.Join(q, ", ")
}

// inBatches runs batch in its own transaction until it handles fewer than size rows, so
// a long backlog is worked off in short transactions.
func (m *Market) inBatches(ctx context.Context, size int, batch func(ctx context.Context, tx pgx.Tx) (int, error)) error {
	for {
		n := 0
		err := m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
			var err error
			n, err = batch(ctx, tx)
			return err
		})
		if err != nil || n < size {
			return err
		}
	}
}

// emit appends ev to the outbox in tx.
func (m *Market) emit(ctx context.Context, tx pgx.Tx, aggregateID string, ev events.Event, meta events.Meta) error {
	env, err := events.New(Name, aggregateID, ev, meta, m.now())
	if err != nil {
		return err
	}
	if err := outbox.Append(ctx, tx, env); err != nil {
		return fmt.Errorf("emit %s: %w", ev.EventType(), err)
	}
	return nil
}

// push sends a realtime update to users once the current transaction commits.
func (m *Market) push(ctx context.Context, typ string, data any, users ...string) {
	consumer.AfterCommit(ctx, func() {
		if err := m.s.Realtime.Send(realtime.Push{Type: typ, Data: data}, users...); err != nil {
			m.s.Deps.Log.Warn("realtime push failed", "type", typ, "err", err)
		}
	})
}

func newID() string {
	id, err := uuid.NewV7()
	if err != nil {
		return uuid.NewString()
	}
	return id.String()
}

// pathID reads a UUID path parameter; anything else cannot name a resource (404).
func pathID(c *fiber.Ctx, name, what string) (string, error) {
	id, err := uuid.Parse(c.Params(name))
	if err != nil {
		return "", apperr.NotFound(what+"_no_encontrado", notFoundMsg(what))
	}
	return id.String(), nil
}

// pathOrBodyID is the id of the earlier API's two forms of one endpoint: in the path
// (":id", a bad one is a 404) or, when the path has none, in a body field (a bad one is
// a 422). Both come back normalised.
func pathOrBodyID(c *fiber.Ctx, what, field, fromBody string) (string, error) {
	if c.Params("id") != "" {
		return pathID(c, "id", what)
	}
	return parseUUID(field, fromBody)
}

func notFoundMsg(what string) string {
	switch what {
	case "oferta":
		return "Oferta no encontrada"
	case "trabajo":
		return "Trabajo no encontrado"
	case "chat":
		return "Conversación no encontrada"
	case "disputa":
		return "Disputa no encontrada"
	case "servicio":
		return "Servicio no encontrado"
	case "usuario":
		return "Usuario no encontrado"
	case "profesional":
		return "Profesional no encontrado"
	}
	return "Recurso no encontrado"
}

// notFound turns pgx.ErrNoRows into the 404 of what; other errors pass wrapped.
func notFound(err error, what string) error {
	if err == nil {
		return nil
	}
	if apperr.KindOf(pg.Translate(err)) == apperr.KindNotFound {
		return apperr.NotFound(what+"_no_encontrado", notFoundMsg(what))
	}
	return pg.Translate(err)
}

func actorOf(c *fiber.Ctx) (domain.Actor, authn.Claims, error) {
	cl, err := authn.MustUser(c)
	if err != nil {
		return domain.Actor{}, cl, err
	}
	return domain.Actor{ID: cl.UserID(), Rol: cl.Rol}, cl, nil
}

// actorAndID reads the caller and the UUID path parameter "id" naming a what (404 when
// malformed).
func actorAndID(c *fiber.Ctx, what string) (domain.Actor, string, error) {
	a, _, err := actorOf(c)
	if err != nil {
		return a, "", err
	}
	id, err := pathID(c, "id", what)
	return a, id, err
}

// parseUUID validates an id from a body field (422 when malformed).
func parseUUID(field, v string) (string, error) {
	id, err := uuid.Parse(v)
	if err != nil {
		return "", apperr.Validation(apperr.FieldError{Field: field, Msg: "debe ser un UUID"})
	}
	return id.String(), nil
}

func setTotal(c *fiber.Ctx, total int) { c.Set("X-Total-Count", strconv.Itoa(total)) }

// wrapf adds what to err as context; nil stays nil.
func wrapf(err error, what string) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", what, err)
}

// waiters wakes handlers waiting for a saga reply in this process. Handlers also poll
// the row, so a reply consumed by another replica is seen too.
type waiters struct {
	mu sync.Mutex
	m  map[string][]chan struct{}
}

func newWaiters() *waiters { return &waiters{m: map[string][]chan struct{}{}} }

func (w *waiters) add(id string) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	w.m[id] = append(w.m[id], ch)
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		list := w.m[id]
		for i, c := range list {
			if c == ch {
				list = append(list[:i], list[i+1:]...)
				break
			}
		}
		if len(list) == 0 {
			delete(w.m, id)
		} else {
			w.m[id] = list
		}
	}
}

func (w *waiters) wake(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, ch := range w.m[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// awaitJob waits up to SagaWait until done holds for the job, re-reading the row when
// woken and every 200 ms. It returns the last job read and whether done held.
func (m *Market) awaitJob(ctx context.Context, id string, done func(Trabajo) bool) (Trabajo, bool, error) {
	ch, cancel := m.waiters.add(id)
	defer cancel()
	deadline := time.NewTimer(m.cfg.SagaWait)
	defer deadline.Stop()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		t, err := m.getJob(ctx, m.pool, id)
		if err != nil {
			return t, false, err
		}
		if done(t) {
			return t, true, nil
		}
		select {
		case <-ch:
		case <-tick.C:
		case <-deadline.C:
			return t, false, nil
		case <-ctx.Done():
			return t, false, nil
		}
	}
}

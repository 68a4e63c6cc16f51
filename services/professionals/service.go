// Package professionals owns professional profiles, trades, KYC, portfolios, published services and the geographic search index.
package professionals

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/objstore"
	"github.com/conectarpro/conectar/platform/pg"
)

// Name is the service's name, schema and role suffix.
const Name = "professionals"

// Object Store buckets: KYC documents are private (served only to the owner and admins
// through kycDocument); portfolio images are public.
const (
	BucketKYC       = "professionals-kyc"
	BucketPortfolio = "professionals-portfolio"
)

// svc holds the service's dependencies; handlers and consumers are its methods.
type svc struct {
	k      *kit.Service
	pool   *pgxpool.Pool
	docs   *objstore.Store
	images *objstore.Store
	now    func() time.Time
	// publicURL is the gateway's public base URL without a trailing slash: the prefix
	// of every image and document link we answer.
	publicURL string
	index     *searchIndex
}

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	k, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	docs, err := objstore.Open(ctx, d.JS, BucketKYC)
	if err != nil {
		return nil, fmt.Errorf("professionals: %w", err)
	}
	images, err := objstore.Open(ctx, d.JS, BucketPortfolio)
	if err != nil {
		return nil, fmt.Errorf("professionals: %w", err)
	}
	// The index's rounds are timed by the wall clock, not the service's (tests move that
	// one by days).
	s := &svc{k: k, pool: d.Pool, docs: docs, images: images, now: k.Deps.Now, publicURL: strings.TrimRight(d.PublicURL, "/"),
		index: newSearchIndex(d.Pool, d.Log, time.Now)}
	k.Background = append(k.Background, s.index.Run)
	s.index.outcome = k.Metrics.Outcomes("search_index_round", "unchanged", "delta", "full", "failed")
	k.Metrics.GaugeFunc("search_index_professionals", "Professionals in this process's in-memory search index.",
		func(context.Context) (float64, error) { return float64(s.index.Size()), nil })
	k.Metrics.GaugeFunc("search_index_age_seconds", "Seconds since this process's search index last synced with the busqueda table (0 before the first sync).",
		func(context.Context) (float64, error) { return s.index.Age().Seconds(), nil })
	if err := s.routes(); err != nil {
		return nil, err
	}
	k.Consume(s.consumers()...)
	return k, nil
}

// tx runs fn in a transaction and, after a successful commit, wakes the outbox relay.
func (s *svc) tx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, after := s.k.AfterCommit(ctx)
	if err := pg.WithTx(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) }); err != nil {
		return err
	}
	after()
	return nil
}

// emit appends an event to the outbox inside tx.
func (s *svc) emit(ctx context.Context, tx pgx.Tx, aggregateID string, e events.Event, m events.Meta) error {
	env, err := events.New(Name, aggregateID, e, m, s.now())
	if err != nil {
		return err
	}
	if err := outbox.Append(ctx, tx, env); err != nil {
		return fmt.Errorf("append %s: %w", e.EventType(), err)
	}
	return nil
}

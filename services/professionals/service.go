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
	"github.com/conectarpro/conectar/platform/authn"
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
	s := &svc{k: k, pool: d.Pool, docs: docs, images: images, now: k.Deps.Now, publicURL: strings.TrimRight(d.PublicURL, "/")}
	s.routes()
	k.Consume(s.consumers()...)
	return k, nil
}

func (s *svc) routes() {
	app := s.k.App
	auth := s.k.Auth()
	pro := authn.Require(authn.RoleProfesional)
	admin := authn.Require(authn.RoleAdmin)
	const v1 = "/api/v1"

	// Catalogue.
	app.Get(v1+"/public/oficios", s.listOficios)
	app.Get(v1+"/admin/oficios", auth, s.listOficiosAdmin)
	app.Post(v1+"/admin/oficios", auth, admin, s.createOficio)
	app.Put(v1+"/admin/oficios/:id", auth, admin, s.updateOficio)
	app.Patch(v1+"/admin/oficios/:id/toggle", auth, admin, s.toggleOficio)
	app.Post(v1+"/admin/servicios-instant", auth, admin, s.createServicioInstant)
	app.Get(v1+"/admin/oficios/:id/servicios-instant", auth, s.listServiciosInstant)

	// Self-service profile.
	app.Get(v1+"/professional/me", auth, pro, s.getMe)
	app.Put(v1+"/professional/me", auth, pro, s.updateProfile)
	app.Put(v1+"/professional/profile", auth, pro, s.updateProfile)
	app.Put(v1+"/professional/profile/location", auth, pro, s.updateLocation)
	app.Put(v1+"/professional/profile/oficios", auth, pro, s.updateOficios)
	app.Put(v1+"/professional/profile/servicios-instant", auth, pro, s.updateServiciosInstant)
	app.Put(v1+"/professional/payout-info", auth, pro, s.updatePayout)
	app.Put(v1+"/professional/payout", auth, pro, s.updatePayout)
	app.Get(v1+"/professional/oficios", auth, pro, s.listMyOficios)
	app.Post(v1+"/professional/oficios", auth, pro, s.addMyOficio)
	app.Delete(v1+"/professional/oficios/:id", auth, pro, s.removeMyOficio)

	// KYC.
	app.Post(v1+"/professional/kyc/upload", auth, pro, s.kycUpload)
	app.Post(v1+"/professional/kyc/submit", auth, pro, s.kycSubmit)
	app.Get(v1+"/professional/kyc/status", auth, pro, s.kycStatus)
	app.Get(v1+"/professional/kyc/documentos/:id", auth, s.kycDocument)
	app.Get(v1+"/admin/kyc/pendientes", auth, admin, s.kycPending)
	app.Get(v1+"/admin/kyc/pending", auth, admin, s.kycPending)
	app.Post(v1+"/admin/kyc/approve/:id", auth, admin, s.kycApprove)
	app.Put(v1+"/admin/kyc/:id/approve", auth, admin, s.kycApprove)
	app.Post(v1+"/admin/kyc/reject/:id", auth, admin, s.kycReject)
	app.Put(v1+"/admin/kyc/:id/reject", auth, admin, s.kycReject)

	// Portfolio.
	app.Get(v1+"/professional/portfolio", auth, pro, s.listMyPortfolio)
	app.Post(v1+"/professional/portfolio", auth, pro, s.createPortfolioItem)
	app.Put(v1+"/professional/portfolio/:id", auth, pro, s.updatePortfolioItem)
	app.Delete(v1+"/professional/portfolio/:id", auth, pro, s.deletePortfolioItem)
	app.Post(v1+"/professional/portfolio/:id/image", auth, pro, s.addPortfolioImage)
	app.Post(v1+"/professional/portfolio/:id/images", auth, pro, s.addPortfolioImages)
	app.Delete(v1+"/professional/portfolio/:id/image/:image_id", auth, pro, s.deletePortfolioImage)
	app.Delete(v1+"/professional/portfolio/:id/images/:image_id", auth, pro, s.deletePortfolioImage)
	app.Get(v1+"/public/portfolio/imagenes/:name", s.servePortfolioImage)

	// Published fixed-price services.
	app.Post(v1+"/profesional/servicios", auth, pro, s.createServicio)
	app.Get(v1+"/profesional/servicios/me", auth, pro, s.listMyServicios)
	app.Put(v1+"/profesional/servicios/:id", auth, pro, s.updateServicio)
	app.Delete(v1+"/profesional/servicios/:id", auth, pro, s.deleteServicio)
	app.Get(v1+"/servicios", s.listServiciosPublic)

	// Public profile and search.
	app.Get(v1+"/public/professional/:id", s.publicProfile)
	app.Get(v1+"/public/professional/:id/portfolio", s.publicPortfolio)
	app.Get(v1+"/search/professionals", s.searchCoverage)
	app.Post(v1+"/search", s.searchRadius)
	app.Post(v1+"/search/", s.searchRadius)

	// Internal reads for other services.
	in := s.k.Internal()
	app.Get("/internal/professionals/by-user/:usuario_id", in, s.internalByUser)
	app.Get("/internal/servicios/:id", in, s.internalServicio)
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

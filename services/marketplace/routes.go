package marketplace

import (
	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/authn"
)

// routes registers the public paths (both the seed's and the earlier monolith's; paths
// that do the same thing share one handler) and the internal read API.
func (m *Market) routes() {
	app := m.s.App
	auth := m.s.Auth()
	admin := authn.Require(authn.RoleAdmin)
	v1 := app.Group("/api/v1")

	// Chat.
	chat := v1.Group("/chat", auth)
	chat.Post("/conversations", m.createChat)
	chat.Post("/create", m.createChat)
	chat.Get("/conversations", m.listChats)
	chat.Get("/my-chats", m.listChats)
	chat.Get("/unread-count", m.unreadCount)
	chat.Post("/send-message", m.sendMessage)
	chat.Post("/mark-read/:id", m.markRead)
	chat.Get("/messages/:id", m.listMessages)
	chat.Get("/:id/messages", m.listMessages)
	chat.Post("/:id/messages", m.sendMessage)
	chat.Post("/:id/read", m.markRead)
	v1.Post("/webhook/chat/infraction", m.infractionWebhook)

	// Client flow (earlier paths).
	cli := v1.Group("/cliente", auth)
	cli.Post("/chat/create", m.createChat)
	cli.Get("/ofertas", m.listOffersHandler("cliente"))
	cli.Get("/ofertas/:id", m.getOfferHandler)
	cli.Post("/ofertas/:id/accept", m.acceptOffer)
	cli.Post("/ofertas/:id/reject", m.rejectOffer)
	cli.Get("/trabajos", m.listJobsHandler("cliente"))
	cli.Get("/trabajo/:id", m.getJobHandler)
	cli.Post("/trabajo/:id/finalizar", m.finalizar)
	cli.Post("/trabajo/:id/cancelar", m.cancelHandler)
	cli.Post("/trabajo/:id/resena", m.postReview)
	cli.Post("/servicios/:id/contratar", m.hireService)

	// A professional's own lists (registered before the shared offer group, which would
	// otherwise answer GET /professional/ofertas with "mine").
	v1.Get("/professional/ofertas", auth, m.listOffersHandler("profesional"))
	v1.Get("/professional/trabajos", auth, m.listJobsHandler("profesional"))

	// Offers.
	for _, g := range []fiber.Router{v1.Group("/ofertas", auth), v1.Group("/professional/ofertas", auth)} {
		g.Post("/", m.createOffer)
		g.Get("/", m.listOffersHandler("mine"))
		g.Get("/:id", m.getOfferHandler)
		g.Put("/:id/accept", m.acceptOffer)
		g.Post("/:id/accept", m.acceptOffer)
		g.Post("/:id/reject", m.rejectOffer)
		g.Put("/:id/reject", m.rejectOffer)
		g.Post("/:id/retirar", m.withdrawOffer)
		g.Post("/:id/withdraw", m.withdrawOffer)
		g.Delete("/:id", m.withdrawOffer)
	}
	// Jobs.
	jobs := v1.Group("/trabajos", auth)
	jobs.Get("/", m.listJobsHandler("mine"))
	jobs.Get("/:id", m.getJobHandler)
	jobs.Get("/:id/timeline", m.jobTimeline)
	jobs.Put("/:id/status", m.jobStatus)
	jobs.Put("/:id/cancel", m.cancelHandler)
	jobs.Post("/:id/cancel", m.cancelHandler)
	jobs.Post("/:id/finalizar", m.finalizar)

	// Admin.
	v1.Get("/admin/trabajos", auth, admin, m.listJobsHandler("admin"))
	v1.Post("/admin/trabajo/:id/cancelar", auth, admin, m.cancelHandler)

	// Disputes.
	disp := v1.Group("/disputas", auth)
	disp.Post("/", m.openDispute)
	disp.Get("/", m.listDisputes)
	disp.Post("/:id/resolver", admin, m.resolveDispute)

	// Reviews.
	v1.Post("/resenas", auth, m.postReview)
	v1.Get("/resenas/professional/:id", m.listReviews)
	v1.Get("/resenas/profesional/:id", m.listReviews)
	v1.Get("/resenas/professional/:id/estadisticas", m.reviewStats)
	v1.Get("/resenas/profesional/:id/estadisticas", m.reviewStats)

	// Internal reads.
	app.Get("/internal/trabajos/:id", m.s.Internal(), m.internalJob)
}

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

	// The web frontend's prefix for offers and jobs: the same handlers, with answers
	// shaped for its pages (present.go).
	web := v1.Group("/chat_ofertas", auth, withView(viewWeb))

	// Offers.
	for _, g := range []fiber.Router{v1.Group("/ofertas", auth), v1.Group("/professional/ofertas", auth), web.Group("/ofertas")} {
		g.Post("/", m.createOffer)
		g.Get("/", m.listOffersHandler("mine"))
		g.Get("/chat/:id", m.listChatOffers)
		g.Get("/:id", m.getOfferHandler)
		g.Get("/:id/timeline", m.offerTimeline)
		g.Put("/:id", m.updateOffer)
		g.Put("/:id/accept", m.acceptOffer)
		g.Post("/:id/accept", m.acceptOffer)
		g.Post("/:id/reject", m.rejectOffer)
		g.Put("/:id/reject", m.rejectOffer)
		g.Post("/:id/retirar", m.withdrawOffer)
		g.Post("/:id/withdraw", m.withdrawOffer)
		g.Delete("/:id", m.withdrawOffer)
	}
	// Jobs.
	for _, g := range []fiber.Router{v1.Group("/trabajos", auth), web.Group("/trabajos")} {
		g.Get("/", m.listJobsHandler("mine"))
		g.Get("/:id", m.getJobHandler)
		g.Get("/:id/timeline", m.jobTimeline)
		g.Put("/:id", m.jobStatus)
		g.Put("/:id/status", m.jobStatus)
		g.Put("/:id/cancel", m.cancelHandler)
		g.Post("/:id/cancel", m.cancelHandler)
		g.Post("/:id/cancelar", m.cancelHandler)
		g.Post("/:id/finalizar", m.finalizar)
	}

	// The web frontend's payment card: releasing a "transaction" (its id is the job's) is
	// the client's approval and a refund is the client's cancel of the paid job, so the
	// same handlers and rules serve them and only the answer is the card's Transaction
	// (transaction.go). The gateway routes just these two /pagos paths here.
	tx := v1.Group("/pagos/transacciones", auth, withView(viewTransaction))
	tx.Post("/:id/liberar", m.finalizar)
	tx.Post("/:id/reembolso", m.cancelHandler)

	// Admin.
	v1.Get("/admin/trabajos", auth, admin, withView(viewAdmin), m.listJobsHandler("admin"))
	v1.Post("/admin/trabajo/:id/cancelar", auth, admin, m.cancelHandler)

	// Disputes: ours speak our words; the web frontend's paths (withView(viewWeb)) its
	// lower-case ones. POST /disputas answers in the words its tipo came in.
	disp := v1.Group("/disputas", auth)
	disp.Post("/", m.openDispute)
	disp.Get("/", m.listDisputesHandler(false))
	disp.Post("/:id/resolver", admin, m.resolveDispute)
	front := withView(viewWeb)
	disp.Get("/mis-disputas", front, m.listDisputesHandler(true))
	disp.Get("/:id", front, m.getDispute)
	disp.Post("/:id/evidencias", front, m.addEvidenceHandler)
	disp.Get("/:id/mensajes", front, m.disputeMessages)
	disp.Post("/:id/mensajes", front, m.postDisputeMessage)
	disp.Post("/:id/cancelar", front, m.cancelDispute)
	v1.Get("/admin/disputas", auth, admin, front, m.listDisputesHandler(true))
	v1.Post("/admin/disputas/:id/resolver", auth, admin, front, m.resolveDispute)

	// Reviews. Literal paths before /resenas/:id.
	v1.Post("/resenas", auth, m.postReview)
	v1.Get("/resenas/professional/:id", m.listReviews)
	v1.Get("/resenas/profesional/:id", m.listReviews)
	v1.Get("/public/professional/:id/resenas", m.listReviews)
	v1.Get("/resenas/mis-resenas", auth, m.myReviews)
	v1.Get("/resenas/reportadas", auth, admin, m.reportedReviews)
	v1.Get("/resenas/puede-resenar/:id", auth, m.canReview)
	v1.Get("/resenas/:id", m.s.OptionalAuth(), m.getReview)
	v1.Put("/resenas/:id", auth, m.updateReview)
	v1.Delete("/resenas/:id", auth, m.deleteReview)
	v1.Post("/resenas/:id/responder", auth, m.replyReview)
	v1.Post("/resenas/:id/reportar", auth, m.reportReview)
	v1.Get("/resenas/professional/:id/estadisticas", m.reviewStats)
	v1.Get("/resenas/profesional/:id/estadisticas", m.reviewStats)

	// Internal reads.
	app.Get("/internal/trabajos/:id", m.s.Internal(), m.internalJob)
}

package marketplace

import (
	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/services/marketplace/domain"
)

// Path, query and header parameters.

type idPath struct {
	ID string `path:"id" jsonschema:"format=uuid"`
}

// pageQuery is httpx.Paging's query: page (≥ 1) wins over skip.
type pageQuery struct {
	Skip  int `query:"skip" jsonschema:"minimum=0"`
	Page  int `query:"page" jsonschema:"minimum=1"`
	Limit int `query:"limit" jsonschema:"minimum=1,maximum=100"`
}

type offersQuery struct {
	pageQuery
	Estado string `query:"estado" doc:"only offers in this state (on /chat_ofertas, EXPIRADO also matches withdrawn offers)"`
}

type jobsQuery struct {
	pageQuery
	Estado string `query:"estado" doc:"only jobs whose work state (estado) or money state (estado_escrow) is this"`
}

type disputesQuery struct {
	pageQuery
	Estado string `query:"estado" doc:"a dispute state, in either vocabulary"`
	Tipo   string `query:"tipo" doc:"a dispute type, in either vocabulary"`
}

type messagesQuery struct {
	Limit  int    `query:"limit" jsonschema:"minimum=1,maximum=100" doc:"default 50"`
	Before string `query:"before" doc:"a message id, an RFC 3339 time or Unix milliseconds: only older messages"`
}

type infractionHeader struct {
	APIKey string `header:"X-API-Key" doc:"CHAT_WEBHOOK_API_KEY (a missing one answers 422, a wrong one 401)"`
}

// Errors the declarations share. Messages are the handlers'; the document lists codes.
var (
	errChatNotFound    = apperr.NotFound("chat_no_encontrado", "")
	errOfferNotFound   = apperr.NotFound("oferta_no_encontrado", "")
	errJobNotFound     = apperr.NotFound("trabajo_no_encontrado", "")
	errDisputeNotFound = apperr.NotFound("disputa_no_encontrado", "")
	errChatNotYours    = apperr.Forbidden("chat_ajeno", "")
	errOfferNotYours   = apperr.Forbidden("oferta_ajena", "")
	errJobNotYours     = apperr.Forbidden("trabajo_ajeno", "")
	errDisputeNotYours = apperr.Forbidden("disputa_ajena", "")
	errDisputeClosed   = apperr.Invalid("disputa_cerrada", "")
	// A malformed review id is refused by pathID (masculine); a missing review by
	// getResena (feminine).
	errReviewNotFound = []*apperr.Error{apperr.NotFound("resena_no_encontrada", ""), apperr.NotFound("resena_no_encontrado", "")}
	errProNotFound    = apperr.NotFound("profesional_no_encontrado", "")
	errNoPayout       = apperr.Invalid("sin_cuenta_de_pago", "")
	errCheckout       = apperr.New(apperr.KindBadGateway, "checkout_fallido", "")
	// A replica miss asks the owner's internal API (replicas.go).
	errReplica = []*apperr.Error{apperr.NotFound("usuario_no_encontrado", ""), apperr.Unavailable("service_unavailable", "", nil),
		apperr.Unavailable("service_unknown", "", nil)}
	// A query the handler reads itself (paging, filters): 422 names the field.
	errQuery = apperr.Validation()
)

// errs joins error lists.
func errs(lists ...[]*apperr.Error) []*apperr.Error {
	var out []*apperr.Error
	for _, l := range lists {
		out = append(out, l...)
	}
	return out
}

func list(e ...*apperr.Error) []*apperr.Error { return e }

// offerMoveErrors are the refusals of the offer lifecycle's moves (domain.CheckOffer):
// read from the table, so a new refusal there is documented here.
func offerMoveErrors(moves ...string) []*apperr.Error {
	out := list(apperr.Invalid("oferta_estado_invalido", ""))
	for _, mv := range moves {
		t, ok := domain.OfferMachine().Move(mv)
		if !ok {
			panic("marketplace: no offer move " + mv)
		}
		out = append(out, apperr.Forbidden(t.NotYours.Code, ""))
		if t.BeforeExpiry {
			out = append(out, apperr.Invalid("oferta_expirada", ""))
		}
	}
	return out
}

// jobMoveErrors are the refusals of the job lifecycle's moves (domain.CheckJob).
func jobMoveErrors(moves ...string) []*apperr.Error {
	out := list(apperr.Invalid("estado_invalido", ""))
	for _, mv := range moves {
		t, ok := domain.JobMachine().Move(mv)
		if !ok {
			panic("marketplace: no job move " + mv)
		}
		out = append(out, apperr.Forbidden(t.NotYours.Code, ""))
		frozen := "trabajo_en_disputa"
		if t.Frozen != nil {
			frozen = t.Frozen.Code
		}
		out = append(out, apperr.Invalid(frozen, ""))
		if t.Unpaid != nil {
			out = append(out, apperr.Invalid(t.Unpaid.Code, ""))
		}
	}
	return out
}

// routes declares every operation once: the registry mounts it (with the middleware
// chain the hand-written table had) and describes it, served at /openapi.json for the
// gateway to merge. Paths that do the same thing share one handler: the seed's, the
// earlier monolith's and the web frontend's. Where a path's view (present.go) changes
// the answer's shape, its declaration says so. Order matters as in any Fiber table:
// literal paths come before the parameters that would swallow them.
func (m *Market) routes() error {
	reg := api.New(m.s.App, api.Config{Service: Name, Title: "marketplace: chat, offers, jobs, reviews, disputes",
		Auth: m.s.Auth(), Optional: m.s.OptionalAuth(), Internal: m.s.Internal(), Common: api.StoreErrors()})
	admin := []string{authn.RoleAdmin}
	web := withView(viewWeb)
	m.lifecycleRoutes(reg) // public, so before the /ofertas and /trabajos groups (lifecycle.go)

	// Chat.
	createChat := api.Op{Summary: "Open (or find) the conversation between a client and a professional",
		Description: "The caller is one side; the body names the other (or both). 201 when it is new, 200 when it existed.",
		Body:        createChatReq{}, Answers: []api.Answer{api.JSON(200, Chat{}, "the existing conversation"),
			api.JSON(201, Chat{}, "the new conversation")},
		Errors: errs(list(errChatNotYours, apperr.Invalid("chat_consigo_mismo", ""), errProNotFound,
			apperr.Invalid("no_es_profesional", "")), errReplica), Handler: m.createChat}
	listChats := api.Op{Summary: "The caller's conversations, latest activity first",
		Answers: []api.Answer{api.JSON(200, ChatList{}, "")}, Handler: m.listChats}
	send := api.Op{Summary: "Send a message (contact data is censored and counted as an infraction)",
		Body: sendReq{}, Answers: []api.Answer{api.JSON(201, Message{}, "the message as stored")},
		Errors: list(errChatNotFound, errChatNotYours, apperr.Forbidden("chat_bloqueado", "")), Handler: m.sendMessage}
	read := api.Op{Summary: "Mark the conversation's messages to the caller as read",
		Params: idPath{}, Answers: []api.Answer{{Status: 204, Description: "done"}},
		Errors: list(errChatNotFound, errChatNotYours), Handler: m.markRead}
	messages := api.Op{Summary: "A conversation's messages, newest first (keyset paging by before)",
		Params: struct {
			idPath
			messagesQuery
		}{}, Answers: []api.Answer{api.JSON(200, []Message{}, "")},
		Errors: list(errChatNotFound, errChatNotYours, errQuery), Handler: m.listMessages}

	chat := reg.Group("/api/v1/chat", api.Authenticated)
	chat.Add(at("POST", "/conversations", createChat))
	chat.Add(at("POST", "/create", createChat))
	chat.Add(at("GET", "/conversations", listChats))
	chat.Add(at("GET", "/my-chats", listChats))
	chat.Add(api.Op{Method: "GET", Path: "/unread-count", Summary: "How many messages wait for the caller",
		Answers: []api.Answer{api.JSON(200, UnreadCount{}, "")}, Handler: m.unreadCount})
	chat.Add(at("POST", "/send-message", send))
	chat.Add(at("POST", "/mark-read/:id", read))
	chat.Add(at("GET", "/messages/:id", messages))
	chat.Add(at("GET", "/:id/messages", messages))
	sendTo := send
	sendTo.Params = idPath{}
	chat.Add(at("POST", "/:id/messages", sendTo))
	chat.Add(at("POST", "/:id/read", read))
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/webhook/chat/infraction", Access: api.Public,
		Summary:     "An external moderator reports a chat infraction (a strike, counted by users)",
		Description: "Authenticated by the X-API-Key header, not by a token.", Params: infractionHeader{}, Body: infractionReq{},
		Answers: []api.Answer{api.JSON(202, InfractionAck{}, "reported")},
		Errors:  errs(list(apperr.Unauthorized("api_key_invalida", "")), errReplica), Handler: m.infractionWebhook})

	// Offers and jobs: the operations, declared once and added under each prefix.
	createOffer := api.Op{Summary: "Send an offer in a conversation (professionals with KYC approved)",
		Description: "cliente_id may be empty: the conversation names the client.",
		Body:        createOfferReq{}, Answers: []api.Answer{api.JSON(201, Oferta{}, "the open offer")},
		Errors: errs(list(apperr.Forbidden("solo_profesional", ""), apperr.Forbidden("kyc_no_aprobado", ""),
			apperr.Invalid("oferta_a_si_mismo", ""), errChatNotFound, errChatNotYours, apperr.Invalid("chat_no_corresponde", "")), errReplica),
		Handler: m.createOffer}
	listOffers := func(h fiber.Handler, summary string, extra ...*apperr.Error) api.Op {
		return api.Op{Summary: summary, Params: offersQuery{}, Answers: []api.Answer{api.JSON(200, []Oferta{}, "newest first")},
			Errors: append(list(errQuery), extra...), Handler: h}
	}
	chatOffers := api.Op{Summary: "The offers of one conversation (its participants)",
		Params: struct {
			idPath
			pageQuery
		}{}, Answers: []api.Answer{api.JSON(200, []Oferta{}, "newest first")},
		Errors: list(errChatNotFound, errChatNotYours, errQuery), Handler: m.listChatOffers}
	getOffer := api.Op{Summary: "An offer (its parties and admins)", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, Oferta{}, "")}, Errors: list(errOfferNotFound, errOfferNotYours), Handler: m.getOfferHandler}
	offerTimeline := api.Op{Summary: "An offer's history, oldest step first", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, OfferTimeline{}, "")}, Errors: list(errOfferNotFound, errOfferNotYours), Handler: m.offerTimeline}
	updateOffer := api.Op{Summary: "Change an open offer's description and/or price (its professional)",
		Description: "The expiry stays. Nothing changes (and nothing is announced) when both are as they were.",
		Params:      idPath{}, Body: updateOfferReq{}, Answers: []api.Answer{api.JSON(200, Oferta{}, "the offer as it is now")},
		Errors: errs(list(errOfferNotFound), offerMoveErrors(domain.OfertaModificar)), Handler: m.updateOffer}
	accept := api.Op{Summary: "Accept an offer (its client): the job is created and payments makes the checkout",
		Description: "Waits a bounded time for payments' checkout: 200 with the payment link, 202 while it is still being made, " +
			"502 when it failed (the acceptance is undone and the offer is open again).",
		Params: idPath{}, Answers: []api.Answer{api.JSON(200, AcceptResponse{}, "accepted, with the payment link"),
			api.JSON(202, AcceptResponse{}, "accepted; the payment link is not ready yet")},
		Errors: errs(list(errOfferNotFound, errCheckout), offerMoveErrors(domain.OfertaAceptar), errReplica), Handler: m.acceptOffer}
	reject := api.Op{Summary: "Reject an open offer (its client)", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, Oferta{}, "the rejected offer")},
		Errors:  errs(list(errOfferNotFound), offerMoveErrors(domain.OfertaRechazar)), Handler: m.rejectOffer}
	withdraw := api.Op{Summary: "Withdraw an open offer (its professional)", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, Oferta{}, "the withdrawn offer")},
		Errors:  errs(list(errOfferNotFound), offerMoveErrors(domain.OfertaRetirar)), Handler: m.withdrawOffer}

	listJobs := func(h fiber.Handler, summary string, extra ...*apperr.Error) api.Op {
		return api.Op{Summary: summary, Params: jobsQuery{}, Answers: []api.Answer{api.JSON(200, []Trabajo{}, "newest first (X-Total-Count: all that match)")},
			Errors: append(list(errQuery), extra...), Handler: h}
	}
	getJob := api.Op{Summary: "A job (its parties and admins)", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, Trabajo{}, "")}, Errors: list(errJobNotFound, errJobNotYours), Handler: m.getJobHandler}
	jobTimeline := api.Op{Summary: "A job's history, oldest first", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, []TimelineEntry{}, "")}, Errors: list(errJobNotFound, errJobNotYours), Handler: m.jobTimeline}
	jobStatus := api.Op{Summary: "Move a job: start (EN_PROCESO), deliver (COMPLETADO), approve (APROBADO) or cancel (CANCELADO)",
		Description: "Approving releases the escrow and cancelling a paid job refunds it: both wait a bounded time for payments " +
			"and answer 202 when it has not replied yet.",
		Params: idPath{}, Body: statusReq{}, Answers: []api.Answer{api.JSON(200, Trabajo{}, "the job as it is now"),
			api.JSON(202, Trabajo{}, "approved or cancelled; payments has not released or refunded yet")},
		Errors: errs(list(errJobNotFound, errNoPayout), jobMoveErrors(domain.TrabajoIniciar, domain.TrabajoCompletar,
			domain.TrabajoAprobar, domain.TrabajoCancelar, domain.TrabajoCancelarPagado), errReplica[1:]),
		Handler: m.jobStatus}
	// finalizar and cancel answer in the view's shape: {trabajo, …, mensaje} on our paths,
	// the bare job on the web's (its page replaces its copy), the payment card's
	// Transaction on /pagos/transacciones.
	finalizar := func(body any, what string) api.Op {
		return api.Op{Summary: "Approve a paid job (its client) and release the escrow to the professional",
			Description: "From any paid state. Waits a bounded time for payments' release: 200 once released, 202 before.",
			Params:      idPath{}, Body: finalizarReq{}, BodyOptional: true,
			Answers: []api.Answer{api.JSON(200, body, what+", released"), api.JSON(202, body, what+", approved; the release is under way")},
			Errors:  errs(list(errJobNotFound, errNoPayout), jobMoveErrors(domain.TrabajoFinalizar), errReplica[1:]), Handler: m.finalizar}
	}
	cancel := func(body any, what string) api.Op {
		return api.Op{Summary: "Cancel a job (its parties or an admin); a paid one is refunded in full",
			Description: "Before payment it is final at once. After payment it waits a bounded time for payments' refund: 200 once refunded, 202 before.",
			Params:      idPath{}, Body: cancelReq{}, BodyOptional: true,
			Answers: []api.Answer{api.JSON(200, body, what+", cancelled"), api.JSON(202, body, what+", cancelled; the refund is under way")},
			Errors:  errs(list(errJobNotFound), jobMoveErrors(domain.TrabajoCancelar, domain.TrabajoCancelarPagado)), Handler: m.cancelHandler}
	}
	review := api.Op{Summary: "Review a finished job (its client, once)", Body: reviewReq{},
		Answers: []api.Answer{api.JSON(201, ReviewPosted{}, "the review and the professional's rating now")},
		Errors: list(errJobNotFound, apperr.Forbidden("solo_cliente", ""), apperr.Invalid("trabajo_no_liberado", ""),
			apperr.Invalid("resena_duplicada", "")), Handler: m.postReview}

	// Client flow (earlier paths).
	cli := reg.Group("/api/v1/cliente", api.Authenticated)
	cli.Add(at("POST", "/chat/create", createChat))
	cli.Add(at("GET", "/ofertas", listOffers(m.listOffersHandler("cliente"), "The offers the caller received as a client")))
	cli.Add(at("GET", "/ofertas/:id", getOffer))
	cli.Add(at("POST", "/ofertas/:id/accept", accept))
	cli.Add(at("POST", "/ofertas/:id/reject", reject))
	cli.Add(at("GET", "/trabajos", listJobs(m.listJobsHandler("cliente"), "The caller's jobs as a client")))
	cli.Add(at("GET", "/trabajo/:id", getJob))
	cli.Add(at("POST", "/trabajo/:id/finalizar", finalizar(FinalizarResponse{}, "the job")))
	cli.Add(at("POST", "/trabajo/:id/cancelar", cancel(CancelResponse{}, "the job")))
	reviewJob := review
	reviewJob.Params = idPath{}
	cli.Add(at("POST", "/trabajo/:id/resena", reviewJob))
	cli.Add(api.Op{Method: "POST", Path: "/servicios/:id/contratar", Summary: "Hire a professional's fixed-price service (clients)",
		Description: "An offer at the service's price, accepted at once: answers as accepting an offer does.",
		Params:      idPath{}, Answers: []api.Answer{api.JSON(200, AcceptResponse{}, "hired, with the payment link"),
			api.JSON(202, AcceptResponse{}, "hired; the payment link is not ready yet")},
		Errors: errs(list(apperr.Forbidden("solo_cliente", ""), apperr.NotFound("servicio_no_encontrado", ""),
			apperr.Invalid("servicio_invalido", ""), apperr.Invalid("contratar_propio", ""), errProNotFound,
			apperr.Invalid("profesional_no_verificado", ""), errCheckout), errReplica), Handler: m.hireService})

	// A professional's own lists (registered before the shared offer group, which would
	// otherwise answer GET /professional/ofertas with "mine").
	notPro := apperr.Forbidden("solo_profesional", "")
	reg.Add(at("GET", "/api/v1/professional/ofertas", withAccess(api.Authenticated,
		listOffers(m.listOffersHandler("profesional"), "The offers the caller sent (professionals)", notPro))))
	reg.Add(at("GET", "/api/v1/professional/trabajos", withAccess(api.Authenticated,
		listJobs(m.listJobsHandler("profesional"), "The caller's jobs as a professional (professionals)", notPro))))

	// The web frontend's prefix for offers and jobs: the same handlers, with answers
	// shaped for its pages (present.go). Its token check is mounted here, on the whole
	// prefix, before the offer groups, as before.
	webGroup := reg.Group("/api/v1/chat_ofertas", api.Authenticated)

	// Offers.
	type prefix struct {
		g    *api.Registry
		view []fiber.Handler
		v    view
	}
	proOffers := reg.Group("/api/v1/professional/ofertas", api.Authenticated)
	for _, p := range []prefix{{reg.Group("/api/v1/ofertas", api.Authenticated), nil, viewAPI}, {proOffers, nil, viewAPI},
		{webGroup.Group("/ofertas", ""), []fiber.Handler{web}, viewWeb}} {
		add := func(method, path string, op api.Op) {
			op = inView(at(method, path, op), p.v)
			op.Before = p.view
			p.g.Add(op)
		}
		add("POST", "", createOffer)
		if p.g != proOffers {
			// GET /professional/ofertas is the professional's list above; a second
			// declaration there would never be reached (the hand-written table mounted
			// one that never ran).
			add("GET", "", listOffers(m.listOffersHandler("mine"), "The caller's offers, sent or received (all, for admins)"))
		}
		add("GET", "/chat/:id", chatOffers)
		add("GET", "/:id", getOffer)
		add("GET", "/:id/timeline", offerTimeline)
		add("PUT", "/:id", updateOffer)
		add("PUT", "/:id/accept", accept)
		add("POST", "/:id/accept", accept)
		add("POST", "/:id/reject", reject)
		add("PUT", "/:id/reject", reject)
		add("POST", "/:id/retirar", withdraw)
		add("POST", "/:id/withdraw", withdraw)
		add("DELETE", "/:id", withdraw)
	}
	// Jobs.
	for _, p := range []struct {
		prefix
		finalizar, cancel any
	}{{prefix{reg.Group("/api/v1/trabajos", api.Authenticated), nil, viewAPI}, FinalizarResponse{}, CancelResponse{}},
		{prefix{webGroup.Group("/trabajos", ""), []fiber.Handler{web}, viewWeb}, Trabajo{}, Trabajo{}}} {
		add := func(method, path string, op api.Op) {
			op = inView(at(method, path, op), p.v)
			op.Before = p.view
			p.g.Add(op)
		}
		add("GET", "", listJobs(m.listJobsHandler("mine"), "The caller's jobs, either side (all, for admins)"))
		add("GET", "/:id", getJob)
		add("GET", "/:id/timeline", jobTimeline)
		add("PUT", "/:id", jobStatus)
		add("PUT", "/:id/status", jobStatus)
		add("PUT", "/:id/cancel", cancel(p.cancel, "the job"))
		add("POST", "/:id/cancel", cancel(p.cancel, "the job"))
		add("POST", "/:id/cancelar", cancel(p.cancel, "the job"))
		add("POST", "/:id/finalizar", finalizar(p.finalizar, "the job"))
	}

	// The web frontend's payment card: releasing a "transaction" (its id is the job's) is
	// the client's approval and a refund is the client's cancel of the paid job, so the
	// same handlers and rules serve them and only the answer is the card's Transaction
	// (transaction.go). The gateway routes just these two /pagos paths here.
	tx := reg.Group("/api/v1/pagos/transacciones", api.Authenticated)
	card := []fiber.Handler{withView(viewTransaction)}
	release := finalizar(Transaction{}, "the payment card")
	release.Summary, release.Before = "Release a transaction (the job's id): the client approves the job", card
	tx.Add(at("POST", "/:id/liberar", release))
	refund := cancel(Transaction{}, "the payment card")
	refund.Summary, refund.Before = "Refund a transaction (the job's id): the client cancels the paid job", card
	tx.Add(at("POST", "/:id/reembolso", refund))

	// Admin.
	adminJobs := listJobs(m.listJobsHandler("admin"), "Every job, for the admin's jobs page")
	adminJobs.Description = "estado is in escrow words (PENDIENTE_PAGO, PAGADO_EN_ESCROW, LIBERADO, CANCELADO: a refund is a " +
		"cancellation here, estado_escrow keeps the difference) and estado_trabajo carries the work state."
	adminJobs.Roles, adminJobs.Before = admin, []fiber.Handler{withView(viewAdmin)}
	reg.Add(inView(at("GET", "/api/v1/admin/trabajos", adminJobs), viewAdmin))
	adminCancel := cancel(CancelResponse{}, "the job")
	adminCancel.Roles = admin
	reg.Add(at("POST", "/api/v1/admin/trabajo/:id/cancelar", adminCancel))

	// Disputes: ours speak our words; the web frontend's paths (withView(viewWeb)) its
	// lower-case ones. POST /disputas answers in the words its tipo came in.
	disp := reg.Group("/api/v1/disputas", api.Authenticated)
	disp.Add(api.Op{Method: "POST", Path: "", Summary: "Open a dispute on a paid job (its parties): the escrow freezes",
		Description: "tipo in either vocabulary; the answer speaks the same one.", Body: openDisputeReq{},
		Answers: []api.Answer{api.JSON(201, Disputa{}, "the open dispute, in the words its tipo came in")},
		Errors:  errs(list(errJobNotFound), jobMoveErrors(domain.TrabajoDisputar)), Handler: m.openDispute})
	disp.Add(api.Op{Method: "GET", Path: "", Summary: "The caller's disputes (all, for admins), in our words", Params: disputesQuery{},
		Answers: []api.Answer{api.JSON(200, []DisputaAPI{}, "newest first (X-Total-Count: all that match)")},
		Errors:  list(errQuery), Handler: m.listDisputesHandler(false)})
	resolve := api.Op{Summary: "Resolve an open dispute: release to the professional, refund the client, or dismiss it",
		Params: idPath{}, Body: resolveReq{},
		Errors: list(errDisputeNotFound, apperr.Invalid("disputa_resuelta", "")), Roles: admin}
	ours := resolve
	ours.Answers, ours.Handler = []api.Answer{api.JSON(200, DisputeResolutionAPI{}, "the dispute, its job and what happened")}, m.resolveDispute
	disp.Add(at("POST", "/:id/resolver", ours))
	front := []fiber.Handler{web}
	disputeOp := func(method, path string, op api.Op) api.Op {
		op.Method, op.Path, op.Before = method, path, front
		if op.Params == nil {
			op.Params = idPath{}
		}
		return inView(op, viewWeb)
	}
	page := api.Op{Summary: "The caller's disputes (all, for admins), in the web's words", Params: disputesQuery{},
		Answers: []api.Answer{api.JSON(200, DisputaPage{}, "newest first")}, Errors: list(errQuery), Handler: m.listDisputesHandler(true)}
	disp.Add(disputeOp("GET", "/mis-disputas", page))
	disp.Add(disputeOp("GET", "/:id", api.Op{Summary: "A dispute (its parties and admins), in the web's words",
		Answers: []api.Answer{api.JSON(200, Disputa{}, "")}, Errors: list(errDisputeNotFound, errDisputeNotYours), Handler: m.getDispute}))
	disp.Add(disputeOp("POST", "/:id/evidencias", api.Op{Summary: "Add an evidence URL to an open dispute (its parties)",
		Body: evidenceReq{}, Answers: []api.Answer{api.JSON(201, Disputa{}, "the dispute with the evidence")},
		Errors:  list(errDisputeNotFound, errDisputeNotYours, errDisputeClosed, apperr.Invalid("demasiadas_evidencias", "")),
		Handler: m.addEvidenceHandler}))
	disp.Add(disputeOp("GET", "/:id/mensajes", api.Op{Summary: "A dispute's conversation, oldest first",
		Answers: []api.Answer{api.JSON(200, []MensajeDisputa{}, "")}, Errors: list(errDisputeNotFound, errDisputeNotYours),
		Handler: m.disputeMessages}))
	disp.Add(disputeOp("POST", "/:id/mensajes", api.Op{Summary: "Write in an open dispute's conversation (its parties and admins)",
		Body: disputeMessageReq{}, Answers: []api.Answer{api.JSON(201, MensajeDisputa{}, "the message as stored")},
		Errors: list(errDisputeNotFound, errDisputeNotYours, errDisputeClosed), Handler: m.postDisputeMessage}))
	disp.Add(disputeOp("POST", "/:id/cancelar", api.Op{Summary: "Withdraw an open dispute (whoever opened it): the job resumes",
		Answers: []api.Answer{api.JSON(200, Disputa{}, "the cancelled dispute")},
		Errors:  list(errDisputeNotFound, apperr.Forbidden("solo_iniciador", ""), errDisputeClosed), Handler: m.cancelDispute}))
	adminPage := disputeOp("GET", "/api/v1/admin/disputas", page)
	adminPage.Summary, adminPage.Roles = "Every dispute, for the admin's page, in the web's words", admin
	reg.Add(adminPage)
	theirs := resolve
	theirs.Answers, theirs.Handler = []api.Answer{api.JSON(200, Disputa{}, "the resolved dispute, in the web's words")}, m.resolveDispute
	reg.Add(disputeOp("POST", "/api/v1/admin/disputas/:id/resolver", theirs))

	// Reviews. Literal paths before /resenas/:id.
	reg.Add(withAccess(api.Authenticated, at("POST", "/api/v1/resenas", review)))
	reviews := api.Op{Summary: "A professional's reviews (by profile or user id), newest first", Access: api.Public,
		Params: struct {
			idPath
			pageQuery
		}{}, Answers: []api.Answer{api.JSON(200, []Resena{}, "X-Total-Count: all of them")},
		Errors: list(errProNotFound, errQuery), Handler: m.listReviews}
	reg.Add(at("GET", "/api/v1/resenas/professional/:id", reviews))
	reg.Add(at("GET", "/api/v1/resenas/profesional/:id", reviews))
	reg.Add(at("GET", "/api/v1/public/professional/:id/resenas", reviews))
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/resenas/mis-resenas", Access: api.Authenticated,
		Summary: "The reviews a client wrote, a professional received, or (admins) every review", Params: pageQuery{},
		Answers: []api.Answer{api.JSON(200, ResenaPage{}, "newest first")}, Errors: list(errQuery), Handler: m.myReviews})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/resenas/reportadas", Roles: admin,
		Summary: "Reviews users reported, most recently reported first", Params: pageQuery{},
		Answers: []api.Answer{api.JSON(200, ResenaReportadaPage{}, "")}, Errors: list(errQuery), Handler: m.reportedReviews})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/resenas/puede-resenar/:id", Access: api.Authenticated,
		Summary: "Whether the caller may review the job now, and if not why", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, CanReview{}, "")}, Errors: list(errJobNotFound, errJobNotYours), Handler: m.canReview})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/resenas/:id", Access: api.Optional,
		Summary: "A review (reportes only for admins)", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, Resena{}, "")}, Errors: errReviewNotFound[:1], Handler: m.getReview})
	reg.Add(api.Op{Method: "PUT", Path: "/api/v1/resenas/:id", Access: api.Authenticated,
		Summary: "Change one's review within 24 hours of posting it", Params: idPath{}, Body: updateReviewReq{},
		Answers: []api.Answer{api.JSON(200, Resena{}, "the review as it is now")},
		Errors:  errs(errReviewNotFound, list(apperr.Forbidden("resena_ajena", ""), apperr.Invalid("plazo_vencido", ""))), Handler: m.updateReview})
	reg.Add(api.Op{Method: "DELETE", Path: "/api/v1/resenas/:id", Access: api.Authenticated,
		Summary: "Delete a review: its author within 24 hours, or an admin", Params: idPath{},
		Answers: []api.Answer{api.JSON(200, ReviewDeleted{}, "")},
		Errors:  errs(errReviewNotFound, list(apperr.Forbidden("resena_ajena", ""), apperr.Invalid("plazo_vencido", ""))), Handler: m.deleteReview})
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/resenas/:id/responder", Access: api.Authenticated,
		Summary: "Reply to a review (the reviewed professional; the reply can be reworded for 24 hours)", Params: idPath{}, Body: replyReq{},
		Answers: []api.Answer{api.JSON(200, Resena{}, "the review with its reply")},
		Errors:  errs(errReviewNotFound, list(apperr.Forbidden("resena_ajena", ""), apperr.Invalid("respuesta_existente", ""))), Handler: m.replyReview})
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/resenas/:id/reportar", Access: api.Authenticated,
		Summary: "Report a review to the admins (once per user)", Params: idPath{}, Body: reportReq{},
		Answers: []api.Answer{api.JSON(201, ReviewReported{}, "")},
		Errors:  errs(errReviewNotFound, list(apperr.Invalid("resena_propia", ""), apperr.Invalid("resena_ya_reportada", ""))), Handler: m.reportReview})
	stats := api.Op{Summary: "A professional's rating: average, count, distribution", Access: api.Public, Params: idPath{},
		Answers: []api.Answer{api.JSON(200, ReviewStats{}, "")}, Errors: list(errProNotFound), Handler: m.reviewStats}
	reg.Add(at("GET", "/api/v1/resenas/professional/:id/estadisticas", stats))
	reg.Add(at("GET", "/api/v1/resenas/profesional/:id/estadisticas", stats))

	// Internal reads.
	reg.Add(api.Op{Method: "GET", Path: "/internal/trabajos/:id", Access: api.Internal, Summary: "A job, as stored (for other services)",
		Params: idPath{}, Answers: []api.Answer{api.JSON(200, Trabajo{}, "")}, Errors: list(errJobNotFound), Handler: m.internalJob})
	return reg.Serve("/openapi.json")
}

// at returns op declared at method and path.
func at(method, path string, op api.Op) api.Op {
	op.Method, op.Path = method, path
	return op
}

// withAccess returns op with its access level (for the operations declared outside a
// group that sets one).
func withAccess(a api.Access, op api.Op) api.Op {
	op.Access = a
	return op
}

package events

// Subjects of the marketplace context. Ids of clients and professionals in this context
// are user ids (as in the earlier system's ofertas and trabajos).
const (
	SubjConversationStarted    = "marketplace.conversation.started"
	SubjMessageSent            = "marketplace.message.sent"
	SubjChatInfractionDetected = "marketplace.chat.infraction_detected"
	SubjOfferCreated           = "marketplace.offer.created"
	SubjOfferAccepted          = "marketplace.offer.accepted"
	SubjOfferRejected          = "marketplace.offer.rejected"
	SubjOfferExpired           = "marketplace.offer.expired"
	SubjOfferWithdrawn         = "marketplace.offer.withdrawn"
	SubjOfferUpdated           = "marketplace.offer.updated"
	SubjJobStarted             = "marketplace.job.started"
	SubjJobDelivered           = "marketplace.job.delivered"
	SubjJobCompleted           = "marketplace.job.completed"
	SubjJobCancelled           = "marketplace.job.cancelled"
	SubjDisputeOpened          = "marketplace.dispute.opened"
	SubjDisputeResolved        = "marketplace.dispute.resolved"
	SubjReviewPosted           = "marketplace.review.posted"
	SubjDisputeCancelled       = "marketplace.dispute.cancelled"
	SubjReviewUpdated          = "marketplace.review.updated"
	SubjReviewDeleted          = "marketplace.review.deleted"
	SubjReviewReplied          = "marketplace.review.replied"
)

// ConversationStartedV1 is published when a client–professional pair first talks.
type ConversationStartedV1 struct {
	ChatID        string `json:"chat_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
}

func (ConversationStartedV1) EventType() string { return "ConversationStarted" }
func (ConversationStartedV1) EventVersion() int { return 1 }
func (ConversationStartedV1) Subject() string   { return SubjConversationStarted }

// MessageSentV1 is published for every stored chat message. Text is the stored (possibly
// censored) text, never the original of a censored message.
type MessageSentV1 struct {
	MessageID   string `json:"message_id"`
	ChatID      string `json:"chat_id"`
	SenderID    string `json:"sender_id"`
	RecipientID string `json:"recipient_id"`
	Tipo        string `json:"type"`
	Text        string `json:"text"`
}

func (MessageSentV1) EventType() string { return "MessageSent" }
func (MessageSentV1) EventVersion() int { return 1 }
func (MessageSentV1) Subject() string   { return SubjMessageSent }

// ChatInfractionDetectedV1 is published when moderation blocks a message (or an external
// moderator reports one); users counts it as a strike.
type ChatInfractionDetectedV1 struct {
	UserID    string `json:"user_id"`
	ChatID    string `json:"chat_id,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Motivo    string `json:"motivo"`
}

func (ChatInfractionDetectedV1) EventType() string { return "ChatInfractionDetected" }
func (ChatInfractionDetectedV1) EventVersion() int { return 1 }
func (ChatInfractionDetectedV1) Subject() string   { return SubjChatInfractionDetected }

// OfferCreatedV1 is published when a professional sends a formal offer.
type OfferCreatedV1 struct {
	OfertaID       string `json:"oferta_id"`
	ChatID         string `json:"chat_id"`
	ClienteID      string `json:"cliente_id"`
	ProfesionalID  string `json:"profesional_id"`
	Descripcion    string `json:"descripcion"`
	PrecioCentavos int64  `json:"precio_centavos"`
	ExpiresAt      string `json:"expires_at,omitempty"`
}

func (OfferCreatedV1) EventType() string { return "OfferCreated" }
func (OfferCreatedV1) EventVersion() int { return 1 }
func (OfferCreatedV1) Subject() string   { return SubjOfferCreated }

// OfferAcceptedV1 is published together with the new job (PENDIENTE_PAGO). Payments
// reacts by creating the checkout; it carries everything the checkout needs.
type OfferAcceptedV1 struct {
	OfertaID       string `json:"oferta_id"`
	TrabajoID      string `json:"trabajo_id"`
	ChatID         string `json:"chat_id"`
	ClienteID      string `json:"cliente_id"`
	ClienteEmail   string `json:"cliente_email"`
	ProfesionalID  string `json:"profesional_id"`
	ServicioID     string `json:"servicio_id,omitempty"`
	Descripcion    string `json:"descripcion"`
	PrecioCentavos int64  `json:"precio_centavos"`
}

func (OfferAcceptedV1) EventType() string { return "OfferAccepted" }
func (OfferAcceptedV1) EventVersion() int { return 1 }
func (OfferAcceptedV1) Subject() string   { return SubjOfferAccepted }

// OfferRejectedV1 is published when the client rejects an offer.
type OfferRejectedV1 struct {
	OfertaID      string `json:"oferta_id"`
	ChatID        string `json:"chat_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
}

func (OfferRejectedV1) EventType() string { return "OfferRejected" }
func (OfferRejectedV1) EventVersion() int { return 1 }
func (OfferRejectedV1) Subject() string   { return SubjOfferRejected }

// OfferExpiredV1 is published when an offer passes its expiry unanswered.
type OfferExpiredV1 struct {
	OfertaID      string `json:"oferta_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
}

func (OfferExpiredV1) EventType() string { return "OfferExpired" }
func (OfferExpiredV1) EventVersion() int { return 1 }
func (OfferExpiredV1) Subject() string   { return SubjOfferExpired }

// OfferWithdrawnV1 is published when the professional withdraws an open offer.
type OfferWithdrawnV1 struct {
	OfertaID      string `json:"oferta_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
}

func (OfferWithdrawnV1) EventType() string { return "OfferWithdrawn" }
func (OfferWithdrawnV1) EventVersion() int { return 1 }
func (OfferWithdrawnV1) Subject() string   { return SubjOfferWithdrawn }

// OfferUpdatedV1 is published when the professional changes an open offer's description
// or price before the client answers it. The values are the offer's new ones.
type OfferUpdatedV1 struct {
	OfertaID               string `json:"oferta_id"`
	ChatID                 string `json:"chat_id"`
	ClienteID              string `json:"cliente_id"`
	ProfesionalID          string `json:"profesional_id"`
	Descripcion            string `json:"descripcion"`
	PrecioCentavos         int64  `json:"precio_centavos"`
	PrecioAnteriorCentavos int64  `json:"precio_anterior_centavos"`
}

func (OfferUpdatedV1) EventType() string { return "OfferUpdated" }
func (OfferUpdatedV1) EventVersion() int { return 1 }
func (OfferUpdatedV1) Subject() string   { return SubjOfferUpdated }

// JobStepV1 is the payload shared by the work-step events of a job.
type JobStepV1 struct {
	TrabajoID     string `json:"trabajo_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
	Nota          string `json:"nota,omitempty"`
}

// JobStartedV1 is published when the professional starts a paid job.
type JobStartedV1 JobStepV1

func (JobStartedV1) EventType() string { return "JobStarted" }
func (JobStartedV1) EventVersion() int { return 1 }
func (JobStartedV1) Subject() string   { return SubjJobStarted }

// JobDeliveredV1 is published when the professional marks the job done (COMPLETADO).
type JobDeliveredV1 JobStepV1

func (JobDeliveredV1) EventType() string { return "JobDelivered" }
func (JobDeliveredV1) EventVersion() int { return 1 }
func (JobDeliveredV1) Subject() string   { return SubjJobDelivered }

// JobCompletedV1 is published when the client (or the automatic timer, or an admin's
// dispute resolution) approves the job: payments releases the escrow.
type JobCompletedV1 struct {
	TrabajoID      string `json:"trabajo_id"`
	ClienteID      string `json:"cliente_id"`
	ProfesionalID  string `json:"profesional_id"`
	PrecioCentavos int64  `json:"precio_centavos"`
	Motivo         string `json:"motivo"` // "cliente" | "automatico" | "disputa"
}

func (JobCompletedV1) EventType() string { return "JobCompleted" }
func (JobCompletedV1) EventVersion() int { return 1 }
func (JobCompletedV1) Subject() string   { return SubjJobCompleted }

// JobCancelledV1 is published when a job is cancelled. Paid says whether the money was
// already held, in which case payments refunds it in full.
type JobCancelledV1 struct {
	TrabajoID      string `json:"trabajo_id"`
	ClienteID      string `json:"cliente_id"`
	ProfesionalID  string `json:"profesional_id"`
	PrecioCentavos int64  `json:"precio_centavos"`
	Paid           bool   `json:"paid"`
	Motivo         string `json:"motivo,omitempty"`
	By             string `json:"by"`
}

func (JobCancelledV1) EventType() string { return "JobCancelled" }
func (JobCancelledV1) EventVersion() int { return 1 }
func (JobCancelledV1) Subject() string   { return SubjJobCancelled }

// DisputeOpenedV1 freezes the job's escrow.
type DisputeOpenedV1 struct {
	DisputaID     string `json:"disputa_id"`
	TrabajoID     string `json:"trabajo_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
	AbiertaPor    string `json:"abierta_por"`
	Tipo          string `json:"tipo"`
}

func (DisputeOpenedV1) EventType() string { return "DisputeOpened" }
func (DisputeOpenedV1) EventVersion() int { return 1 }
func (DisputeOpenedV1) Subject() string   { return SubjDisputeOpened }

// DisputeResolvedV1 is published by an admin's resolution; AFavor is "cliente" (refund),
// "profesional" (release) or "ninguno" (claim dismissed: the job resumes the state it had
// before, the escrow is unfrozen and stays held).
type DisputeResolvedV1 struct {
	DisputaID      string `json:"disputa_id"`
	TrabajoID      string `json:"trabajo_id"`
	ClienteID      string `json:"cliente_id"`
	ProfesionalID  string `json:"profesional_id"`
	AFavor         string `json:"a_favor"`
	Resolucion     string `json:"resolucion"`
	PrecioCentavos int64  `json:"precio_centavos"`
}

func (DisputeResolvedV1) EventType() string { return "DisputeResolved" }
func (DisputeResolvedV1) EventVersion() int { return 1 }
func (DisputeResolvedV1) Subject() string   { return SubjDisputeResolved }

// ReviewPostedV1 carries the professional's new rating aggregate so read models can
// apply it without recomputing.
type ReviewPostedV1 struct {
	ResenaID       string  `json:"resena_id"`
	TrabajoID      string  `json:"trabajo_id"`
	ClienteID      string  `json:"cliente_id"`
	ProfesionalID  string  `json:"profesional_id"`
	Rating         int     `json:"rating"`
	RatingPromedio float64 `json:"rating_promedio"`
	TotalResenas   int     `json:"total_resenas"`
	// The review's public text and the client's display name, so read models (the
	// public profile) can show it without asking marketplace.
	TextoResena   string `json:"texto_resena,omitempty"`
	NombreCliente string `json:"nombre_cliente,omitempty"`
	// What the job was (its description), which the public profile shows with the review.
	TrabajoDescripcion string `json:"trabajo_descripcion,omitempty"`
}

func (ReviewPostedV1) EventType() string { return "ReviewPosted" }
func (ReviewPostedV1) EventVersion() int { return 1 }
func (ReviewPostedV1) Subject() string   { return SubjReviewPosted }

// DisputeCancelledV1 is published when whoever opened a dispute withdraws it: the job
// resumes EstadoTrabajo (its state before the dispute) and the escrow is unfrozen and
// stays held; no money moves.
type DisputeCancelledV1 struct {
	DisputaID     string `json:"disputa_id"`
	TrabajoID     string `json:"trabajo_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
	CanceladaPor  string `json:"cancelada_por"`
	EstadoTrabajo string `json:"estado_trabajo"`
}

func (DisputeCancelledV1) EventType() string { return "DisputeCancelled" }
func (DisputeCancelledV1) EventVersion() int { return 1 }
func (DisputeCancelledV1) Subject() string   { return SubjDisputeCancelled }

// ReviewUpdatedV1 is published when the author edits a review (within 24 h). Like
// ReviewPosted it carries the professional's rating aggregate after the change. Review
// events use the professional's user id as aggregate id, so a consumer applies one
// professional's changes in order.
type ReviewUpdatedV1 struct {
	ResenaID       string  `json:"resena_id"`
	TrabajoID      string  `json:"trabajo_id"`
	ClienteID      string  `json:"cliente_id"`
	ProfesionalID  string  `json:"profesional_id"`
	Rating         int     `json:"rating"`
	RatingAnterior int     `json:"rating_anterior"`
	TextoResena    string  `json:"texto_resena,omitempty"`
	RatingPromedio float64 `json:"rating_promedio"`
	TotalResenas   int     `json:"total_resenas"`
}

func (ReviewUpdatedV1) EventType() string { return "ReviewUpdated" }
func (ReviewUpdatedV1) EventVersion() int { return 1 }
func (ReviewUpdatedV1) Subject() string   { return SubjReviewUpdated }

// ReviewDeletedV1 is published when a review is removed (by its author within 24 h or by
// an admin), with the professional's rating aggregate without it.
type ReviewDeletedV1 struct {
	ResenaID       string  `json:"resena_id"`
	TrabajoID      string  `json:"trabajo_id"`
	ClienteID      string  `json:"cliente_id"`
	ProfesionalID  string  `json:"profesional_id"`
	EliminadaPor   string  `json:"eliminada_por"`
	PorAdmin       bool    `json:"por_admin"`
	RatingPromedio float64 `json:"rating_promedio"`
	TotalResenas   int     `json:"total_resenas"`
}

func (ReviewDeletedV1) EventType() string { return "ReviewDeleted" }
func (ReviewDeletedV1) EventVersion() int { return 1 }
func (ReviewDeletedV1) Subject() string   { return SubjReviewDeleted }

// ReviewRepliedV1 is published when the reviewed professional first replies to a review
// (edits of the reply are not announced), so the client can be notified.
type ReviewRepliedV1 struct {
	ResenaID      string `json:"resena_id"`
	TrabajoID     string `json:"trabajo_id"`
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
	Respuesta     string `json:"respuesta"`
}

func (ReviewRepliedV1) EventType() string { return "ReviewReplied" }
func (ReviewRepliedV1) EventVersion() int { return 1 }
func (ReviewRepliedV1) Subject() string   { return SubjReviewReplied }

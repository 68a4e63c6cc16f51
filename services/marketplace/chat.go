package marketplace

import (
	"context"
	"crypto/subtle"
	"fmt"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/realtime"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/money"
	"github.com/conectarpro/conectar/services/marketplace/moderation"
)

// Chat is ChatRead.
type Chat struct {
	ID                string     `json:"id"`
	ChatID            string     `json:"chat_id"`
	ClienteID         string     `json:"cliente_id"`
	ProfesionalID     string     `json:"profesional_id"`
	ClienteNombre     string     `json:"cliente_nombre"`
	ProfesionalNombre string     `json:"profesional_nombre"`
	LastMessage       *string    `json:"last_message"`
	LastMessageTime   *time.Time `json:"last_message_time"`
	UnreadCount       int        `json:"unread_count"`
	CreatedAt         time.Time  `json:"created_at"`
}

// Message is MessageRead.
type Message struct {
	ID           string          `json:"id"`
	ChatID       string          `json:"chat_id"`
	SenderID     *string         `json:"sender_id"`
	SenderNombre string          `json:"sender_nombre"`
	Type         string          `json:"type"`
	Text         string          `json:"text"`
	OfertaID     *string         `json:"oferta_id,omitempty"`
	Descripcion  *string         `json:"descripcion,omitempty"`
	PrecioFinal  *money.Centavos `json:"precio_final,omitempty"`
	Censurado    bool            `json:"censurado"`
	CreatedAt    time.Time       `json:"created_at"`
	Timestamp    int64           `json:"timestamp"`
	Read         bool            `json:"read"`
}

type conv struct {
	ID, ClienteID, ProfesionalID string
}

func (c conv) other(userID string) string {
	if userID == c.ClienteID {
		return c.ProfesionalID
	}
	return c.ClienteID
}

func (m *Market) getConv(ctx context.Context, q querier, id string) (conv, error) {
	var c conv
	err := q.QueryRow(ctx, `SELECT id::text, cliente_id::text, profesional_id::text FROM conversaciones WHERE id = $1`, id).Scan(&c.ID, &c.ClienteID, &c.ProfesionalID)
	return c, notFound(err, "chat")
}

// participantConv reads a conversation and refuses non-participants (403).
func (m *Market) participantConv(ctx context.Context, id, userID string) (conv, error) {
	c, err := m.getConv(ctx, m.pool, id)
	if err != nil {
		return c, err
	}
	if userID != c.ClienteID && userID != c.ProfesionalID {
		return c, apperr.Forbidden("chat_ajeno", "No participás de esta conversación")
	}
	return c, nil
}

// ensureConv returns the pair's conversation, creating it (and ConversationStarted) the
// first time. Concurrent first calls meet on the unique pair.
func (m *Market) ensureConv(ctx context.Context, tx pgx.Tx, clienteID, profesionalID string) (conv, bool, error) {
	id := newID()
	tag, err := tx.Exec(ctx, `INSERT INTO conversaciones (id, cliente_id, profesional_id) VALUES ($1,$2,$3) ON CONFLICT (cliente_id, profesional_id) DO NOTHING`,
		id, clienteID, profesionalID)
	if err != nil {
		return conv{}, false, fmt.Errorf("create conversation: %w", err)
	}
	created := tag.RowsAffected() == 1
	if created {
		if err := m.emit(ctx, tx, id, events.ConversationStartedV1{ChatID: id, ClienteID: clienteID, ProfesionalID: profesionalID}, events.Meta{}); err != nil {
			return conv{}, false, err
		}
		return conv{ID: id, ClienteID: clienteID, ProfesionalID: profesionalID}, true, nil
	}
	var c conv
	err = tx.QueryRow(ctx, `SELECT id::text, cliente_id::text, profesional_id::text FROM conversaciones WHERE cliente_id = $1 AND profesional_id = $2`,
		clienteID, profesionalID).Scan(&c.ID, &c.ClienteID, &c.ProfesionalID)
	return c, false, err
}

type createChatReq struct {
	ClienteID     string `json:"cliente_id" jsonschema_description:"the client's user id; empty or absent: the caller"`
	ProfesionalID string `json:"profesional_id" jsonschema_description:"the professional's user id; empty or absent: the caller"`
}

// createChat serves POST /chat/conversations, /chat/create and /cliente/chat/create:
// the caller is one side, the body names the other (or both).
func (m *Market) createChat(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	var req createChatReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	switch {
	case req.ClienteID == "" && req.ProfesionalID == "":
		return apperr.Validation(apperr.FieldError{Field: "profesional_id", Msg: "indicá profesional_id o cliente_id"})
	case req.ProfesionalID == "":
		req.ProfesionalID = a.ID
	case req.ClienteID == "":
		req.ClienteID = a.ID
	}
	cli, err := parseUUID("cliente_id", req.ClienteID)
	if err != nil {
		return err
	}
	pro, err := parseUUID("profesional_id", req.ProfesionalID)
	if err != nil {
		return err
	}
	if a.ID != cli && a.ID != pro {
		return apperr.Forbidden("chat_ajeno", "Solo podés crear conversaciones de las que participás")
	}
	if cli == pro {
		return apperr.Invalid("chat_consigo_mismo", "No podés iniciar una conversación con vos mismo")
	}
	proUser, err := m.user(c.UserContext(), pro)
	if err != nil {
		if apperr.KindOf(err) == apperr.KindNotFound {
			return apperr.NotFound("profesional_no_encontrado", "Profesional no encontrado")
		}
		return err
	}
	if proUser.Rol != authn.RoleProfesional {
		return apperr.Invalid("no_es_profesional", "El usuario indicado no es un profesional")
	}
	if _, err := m.user(c.UserContext(), cli); err != nil {
		return err
	}
	var cv conv
	var created bool
	err = m.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		var err error
		cv, created, err = m.ensureConv(ctx, tx, cli, pro)
		return err
	})
	if err != nil {
		return err
	}
	chats, _, err := m.chats(c.UserContext(), a.ID, cv.ID)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	if len(chats) == 0 {
		return fmt.Errorf("conversation %s vanished", cv.ID)
	}
	return c.Status(status).JSON(chats[0])
}

// chats lists the user's conversations (or one of them), newest activity first.
func (m *Market) chats(ctx context.Context, userID, only string) ([]Chat, int, error) {
	rows, err := m.pool.Query(ctx, `
		SELECT c.id::text, c.cliente_id::text, c.profesional_id::text,
		       coalesce(trim(uc.nombre || ' ' || uc.apellido), ''), coalesce(trim(up.nombre || ' ' || up.apellido), ''),
		       last.texto, last.created_at, c.created_at,
		       (SELECT count(*) FROM mensajes mm WHERE mm.chat_id = c.id AND mm.recipient_id = $1 AND NOT mm.leido)
		FROM conversaciones c
		LEFT JOIN usuarios uc ON uc.id = c.cliente_id
		LEFT JOIN usuarios up ON up.id = c.profesional_id
		-- The last message is read through the keyset index instead of being kept on the
		-- conversation row: a hot row would serialize every send in a busy chat.
		LEFT JOIN LATERAL (SELECT CASE WHEN tipo = 'oferta' THEN 'Oferta: ' || texto ELSE texto END AS texto, created_at
		                   FROM mensajes WHERE chat_id = c.id ORDER BY created_at DESC, id DESC LIMIT 1) last ON true
		WHERE (c.cliente_id = $1 OR c.profesional_id = $1) AND ($2 = '' OR c.id::text = $2)
		ORDER BY coalesce(last.created_at, c.created_at) DESC`, userID, only)
	if err != nil {
		return nil, 0, fmt.Errorf("list chats: %w", err)
	}
	defer rows.Close()
	out := []Chat{}
	total := 0
	for rows.Next() {
		var ch Chat
		if err := rows.Scan(&ch.ID, &ch.ClienteID, &ch.ProfesionalID, &ch.ClienteNombre, &ch.ProfesionalNombre,
			&ch.LastMessage, &ch.LastMessageTime, &ch.CreatedAt, &ch.UnreadCount); err != nil {
			return nil, 0, err
		}
		ch.ChatID = ch.ID
		ch.LastMessageTime = utcp(ch.LastMessageTime)
		ch.CreatedAt = ch.CreatedAt.UTC()
		total += ch.UnreadCount
		out = append(out, ch)
	}
	return out, total, rows.Err()
}

// listChats serves GET /chat/conversations and /chat/my-chats.
func (m *Market) listChats(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	chats, total, err := m.chats(c.UserContext(), a.ID, "")
	if err != nil {
		return err
	}
	return c.JSON(ChatList{Chats: chats, TotalUnread: total})
}

// ChatList is the answer of GET /chat/conversations: the caller's conversations and
// how many messages wait for them in all.
type ChatList struct {
	Chats       []Chat `json:"chats"`
	TotalUnread int    `json:"total_unread"`
}

// newMessage is a message about to be stored.
type newMessage struct {
	chat                  conv
	senderID, recipientID string // "" for none
	tipo, text            string
	ofertaID              string
	censored              bool
	hash                  string
	motivos               []string
	oferta                *Oferta
	senderNombre          *string // when known, saves a lookup
}

// storeMessage inserts a message and pushes it to both participants after commit.
func (m *Market) storeMessage(ctx context.Context, tx pgx.Tx, nm newMessage) (Message, error) {
	id := newID()
	now := m.now().UTC()
	var sender, recipient, oferta, hash any
	if nm.senderID != "" {
		sender = nm.senderID
	}
	if nm.recipientID != "" {
		recipient = nm.recipientID
	}
	if nm.ofertaID != "" {
		oferta = nm.ofertaID
	}
	if nm.hash != "" {
		hash = nm.hash
	}
	motivos := nm.motivos
	if motivos == nil {
		motivos = []string{}
	}
	_, err := tx.Exec(ctx, `INSERT INTO mensajes (id, chat_id, sender_id, recipient_id, tipo, texto, oferta_id, censurado, original_hash, motivos, leido, created_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
		id, nm.chat.ID, sender, recipient, nm.tipo, nm.text, oferta, nm.censored, hash, motivos, recipient == nil, now)
	if err != nil {
		return Message{}, fmt.Errorf("store message: %w", err)
	}
	msg := Message{ID: id, ChatID: nm.chat.ID, Type: nm.tipo, Text: nm.text, Censurado: nm.censored, CreatedAt: now, Timestamp: now.UnixMilli(), Read: recipient == nil}
	if nm.senderID != "" && nm.senderNombre != nil {
		msg.SenderID = &nm.senderID
		msg.SenderNombre = *nm.senderNombre
	} else if nm.senderID != "" {
		msg.SenderID = &nm.senderID
		names, err := nombres(ctx, tx, nm.senderID)
		if err != nil {
			return Message{}, err
		}
		msg.SenderNombre = names[nm.senderID]
	}
	if nm.oferta != nil {
		msg.OfertaID = &nm.oferta.ID
		msg.Descripcion = &nm.oferta.Descripcion
		p := nm.oferta.PrecioFinal
		msg.PrecioFinal = &p
	}
	m.push(ctx, "message", msg, nm.chat.ClienteID, nm.chat.ProfesionalID)
	return msg, nil
}

// info posts a system message to a conversation (chatID may be nil for jobs without one).
func (m *Market) info(ctx context.Context, tx pgx.Tx, chatID *string, text string) error {
	if chatID == nil || *chatID == "" {
		return nil
	}
	c, err := m.getConv(ctx, tx, *chatID)
	if err != nil {
		return err
	}
	_, err = m.storeMessage(ctx, tx, newMessage{chat: c, tipo: "info", text: text})
	return err
}

type sendReq struct {
	ChatID string `json:"chat_id" jsonschema_description:"the conversation; read only on POST /chat/send-message (elsewhere the path names it)"`
	Text   string `json:"text" jsonschema:"required,maxLength=2000" jsonschema_description:"1 to 2000 characters once trimmed; contact data is censored"`
}

// sendMessage serves POST /chat/{id}/messages and POST /chat/send-message.
func (m *Market) sendMessage(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	var req sendReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	chatID, err := pathOrBodyID(c, "chat", "chat_id", req.ChatID)
	if err != nil {
		return err
	}
	text := strings.TrimSpace(req.Text)
	var ck apperr.Checker
	ck.Len("text", text, 1, 2000)
	if err := ck.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	// One round trip reads the conversation, the sender's chat ban and name.
	cv := conv{ID: chatID}
	var banned bool
	var nombre string
	err = m.pool.QueryRow(ctx, `SELECT c.cliente_id::text, c.profesional_id::text, coalesce(u.chat_banned, false),
		coalesce(trim(u.nombre || ' ' || u.apellido), '')
		FROM conversaciones c LEFT JOIN usuarios u ON u.id = $2 WHERE c.id = $1`, chatID, a.ID).Scan(&cv.ClienteID, &cv.ProfesionalID, &banned, &nombre)
	if err != nil {
		return notFound(err, "chat")
	}
	if a.ID != cv.ClienteID && a.ID != cv.ProfesionalID {
		return apperr.Forbidden("chat_ajeno", "No participás de esta conversación")
	}
	if banned {
		return apperr.Forbidden("chat_bloqueado", "Tu cuenta fue bloqueada del chat por compartir datos de contacto reiteradamente")
	}
	verdict := moderation.Check(text)
	nm := newMessage{chat: cv, senderID: a.ID, recipientID: cv.other(a.ID), tipo: "text", text: text, senderNombre: &nombre}
	if verdict.Blocked {
		nm.text, nm.censored, nm.hash, nm.motivos = moderation.Censored, true, moderation.Hash(text), verdict.Reasons
	}
	var msg Message
	err = m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		var err error
		if msg, err = m.storeMessage(ctx, tx, nm); err != nil {
			return err
		}
		if err := m.emit(ctx, tx, cv.ID, events.MessageSentV1{MessageID: msg.ID, ChatID: cv.ID, SenderID: a.ID,
			RecipientID: nm.recipientID, Tipo: "text", Text: msg.Text}, events.Meta{}); err != nil {
			return err
		}
		if verdict.Blocked {
			return m.emit(ctx, tx, a.ID, events.ChatInfractionDetectedV1{UserID: a.ID, ChatID: cv.ID, MessageID: msg.ID,
				Motivo: strings.Join(verdict.Reasons, ",")}, events.Meta{})
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(msg)
}

// listMessages serves GET /chat/{id}/messages and /chat/messages/{id}: newest first,
// keyset paginated by `before` (a message id or an RFC 3339 time).
func (m *Market) listMessages(c *fiber.Ctx) error {
	a, chatID, err := actorAndID(c, "chat")
	if err != nil {
		return err
	}
	limit := c.QueryInt("limit", 50)
	if limit < 1 || limit > 100 {
		return apperr.Validation(apperr.FieldError{Field: "limit", Msg: "debe ser un entero entre 1 y 100"})
	}
	ctx := c.UserContext()
	if _, err := m.participantConv(ctx, chatID, a.ID); err != nil {
		return err
	}
	// The cursor is (created_at, id): a message id names its own position.
	var beforeAt *time.Time
	var beforeID *string
	if b := c.Query("before"); b != "" {
		if id, err := uuid.Parse(b); err == nil {
			var at time.Time
			if err := m.pool.QueryRow(ctx, `SELECT created_at FROM mensajes WHERE id = $1 AND chat_id = $2`, id, chatID).Scan(&at); err != nil {
				return apperr.Validation(apperr.FieldError{Field: "before", Msg: "mensaje desconocido"})
			}
			s := id.String()
			beforeAt, beforeID = &at, &s
		} else if at, err := time.Parse(time.RFC3339Nano, b); err == nil {
			beforeAt = &at
		} else if ms, err := parseMillis(b); err == nil {
			beforeAt = &ms
		} else {
			return apperr.Validation(apperr.FieldError{Field: "before", Msg: "debe ser un id de mensaje o una fecha RFC 3339"})
		}
	}
	rows, err := m.pool.Query(ctx, `
		SELECT mm.id::text, mm.chat_id::text, mm.sender_id::text, coalesce(trim(u.nombre || ' ' || u.apellido), ''), mm.tipo, mm.texto,
		       mm.oferta_id::text, o.descripcion, o.precio_centavos, mm.censurado, mm.created_at, mm.leido
		FROM mensajes mm
		LEFT JOIN usuarios u ON u.id = mm.sender_id
		LEFT JOIN ofertas o ON o.id = mm.oferta_id
		WHERE mm.chat_id = $1
		  AND ($2::timestamptz IS NULL OR (mm.created_at, mm.id) < ($2::timestamptz, coalesce($3::uuid, 'ffffffff-ffff-ffff-ffff-ffffffffffff'::uuid)))
		ORDER BY mm.created_at DESC, mm.id DESC LIMIT $4`, chatID, beforeAt, beforeID, limit)
	if err != nil {
		return fmt.Errorf("list messages: %w", err)
	}
	defer rows.Close()
	out := []Message{}
	for rows.Next() {
		var msg Message
		var precio *int64
		if err := rows.Scan(&msg.ID, &msg.ChatID, &msg.SenderID, &msg.SenderNombre, &msg.Type, &msg.Text, &msg.OfertaID,
			&msg.Descripcion, &precio, &msg.Censurado, &msg.CreatedAt, &msg.Read); err != nil {
			return err
		}
		if precio != nil {
			p := money.Centavos(*precio)
			msg.PrecioFinal = &p
		}
		if msg.Type != "oferta" {
			msg.Descripcion = nil
		}
		msg.CreatedAt = msg.CreatedAt.UTC()
		msg.Timestamp = msg.CreatedAt.UnixMilli()
		out = append(out, msg)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return c.JSON(out)
}

func parseMillis(s string) (time.Time, error) {
	var ms int64
	// At most the end of year 9999, like an RFC 3339 cursor: PostgreSQL refuses a
	// timestamp past year 294276 and the request failed with a 500.
	if _, err := fmt.Sscanf(s, "%d", &ms); err != nil || ms <= 0 || ms > 253402300799999 {
		return time.Time{}, fmt.Errorf("not millis: %q", s)
	}
	return time.UnixMilli(ms), nil
}

// markRead serves POST /chat/mark-read/{id} and POST /chat/{id}/read → 204.
func (m *Market) markRead(c *fiber.Ctx) error {
	a, chatID, err := actorAndID(c, "chat")
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	cv, err := m.participantConv(ctx, chatID, a.ID)
	if err != nil {
		return err
	}
	tag, err := m.pool.Exec(ctx, `UPDATE mensajes SET leido = true WHERE chat_id = $1 AND recipient_id = $2 AND NOT leido`, chatID, a.ID)
	if err != nil {
		return fmt.Errorf("mark read: %w", err)
	}
	if tag.RowsAffected() > 0 {
		// The sender's UI shows the double tick.
		_ = m.s.Realtime.Send(realtimeRead(chatID, a.ID), cv.other(a.ID))
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// unreadCount serves GET /chat/unread-count.
func (m *Market) unreadCount(c *fiber.Ctx) error {
	a, _, err := actorOf(c)
	if err != nil {
		return err
	}
	var n int
	if err := m.pool.QueryRow(c.UserContext(), `SELECT count(*) FROM mensajes WHERE recipient_id = $1 AND NOT leido`, a.ID).Scan(&n); err != nil {
		return fmt.Errorf("unread count: %w", err)
	}
	return c.JSON(UnreadCount{UnreadCount: n})
}

// UnreadCount is how many messages wait for the caller.
type UnreadCount struct {
	UnreadCount int `json:"unread_count"`
}

type infractionReq struct {
	UserID string `json:"user_id" jsonschema:"required,format=uuid"`
	Reason string `json:"reason" jsonschema:"maxLength=500"`
}

// InfractionAck is the webhook's answer: the strike is reported to users, which counts
// it, so is_chat_banned is the state before this infraction.
type InfractionAck struct {
	UserID       string `json:"user_id"`
	IsChatBanned bool   `json:"is_chat_banned"`
	Message      string `json:"message"`
}

// infractionWebhook serves POST /webhook/chat/infraction: an external moderator adds a
// strike. users counts strikes; this service only reports the infraction.
func (m *Market) infractionWebhook(c *fiber.Ctx) error {
	key := c.Get("X-API-Key")
	if key == "" {
		return apperr.Validation(apperr.FieldError{Field: "X-API-Key", Msg: "encabezado requerido"})
	}
	if subtle.ConstantTimeCompare([]byte(key), []byte(m.cfg.WebhookKey)) != 1 {
		return apperr.Unauthorized("api_key_invalida", "Invalid API Key")
	}
	var req infractionReq
	if err := httpx.BindJSON(c, &req); err != nil {
		return err
	}
	uid, err := parseUUID("user_id", req.UserID)
	if err != nil {
		return err
	}
	var ck apperr.Checker
	ck.Len("reason", req.Reason, 0, 500)
	if err := ck.Err(); err != nil {
		return err
	}
	ctx := c.UserContext()
	u, err := m.user(ctx, uid)
	if err != nil {
		return err
	}
	motivo := req.Reason
	if motivo == "" {
		motivo = "moderador externo"
	}
	err = m.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		return m.emit(ctx, tx, uid, events.ChatInfractionDetectedV1{UserID: uid, Motivo: motivo}, events.Meta{})
	})
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(InfractionAck{UserID: uid, IsChatBanned: u.ChatBanned, Message: "Infracción registrada"})
}

func realtimeRead(chatID, readerID string) realtime.Push {
	return realtime.Push{Type: realtime.TypeRead, Data: realtime.ReadReceipt{ChatID: chatID, ReaderID: readerID}}
}

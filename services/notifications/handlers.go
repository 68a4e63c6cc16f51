package notifications

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/services/notifications/gamification"
)

// Consumer names. Notifications and gamification use separate durables (and so
// separate inbox claims): a slow email path never delays XP, and each applies once.
const (
	consumerNotifyAuth          = "notifications-notify-auth"
	consumerNotifyUsers         = "notifications-notify-users"
	consumerNotifyProfessionals = "notifications-notify-professionals"
	consumerNotifyMarketplace   = "notifications-notify-marketplace"
	consumerNotifyPayments      = "notifications-notify-payments"
	consumerNotifyEngagement    = "notifications-notify-engagement"
	consumerGamifyMarketplace   = "notifications-gamify-marketplace"
	consumerGamifyPayments      = "notifications-gamify-payments"
	consumerGamifyProfessionals = "notifications-gamify-professionals"
)

func (s *svc) consumers() []consumer.Spec {
	return []consumer.Spec{
		{Name: consumerNotifyAuth, Stream: events.StreamAuth, Handle: s.onAuth, Subjects: []string{
			events.SubjUserRegistered, events.SubjPasswordResetRequested, events.SubjUserBanned, events.SubjUserUnbanned}},
		{Name: consumerNotifyUsers, Stream: events.StreamUsers, Handle: s.onUsers, Subjects: []string{
			events.SubjUserProfileUpdated}},
		{Name: consumerNotifyProfessionals, Stream: events.StreamProfessionals, Handle: s.onProfessionals, Subjects: []string{
			events.SubjKYCSubmitted, events.SubjKYCApproved, events.SubjKYCRejected}},
		{Name: consumerNotifyMarketplace, Stream: events.StreamMarketplace, Handle: s.onMarketplace, Subjects: []string{
			events.SubjOfferCreated, events.SubjOfferAccepted, events.SubjOfferRejected, events.SubjJobStarted,
			events.SubjJobDelivered, events.SubjJobCompleted, events.SubjJobCancelled, events.SubjReviewPosted,
			events.SubjMessageSent, events.SubjOfferExpired, events.SubjDisputeOpened, events.SubjDisputeResolved,
			events.SubjDisputeCancelled, events.SubjReviewReplied}},
		{Name: consumerNotifyPayments, Stream: events.StreamPayments, Handle: s.onPayments, Subjects: []string{
			events.SubjPaymentApproved, events.SubjPaymentCheckoutExpired, events.SubjPayoutSent, events.SubjEscrowReleased,
			events.SubjWithdrawalApproved, events.SubjWithdrawalRejected, events.SubjPaymentChargedBack,
			events.SubjPaymentChargebackReversed, events.SubjRefundIssued}},
		{Name: consumerNotifyEngagement, Stream: events.StreamEngagement, Handle: s.onEngagement, Subjects: []string{
			events.SubjLevelChanged, events.SubjMedalAwarded}},
		{Name: consumerGamifyPayments, Stream: events.StreamPayments, Handle: s.gamifyPayments, Subjects: []string{
			events.SubjEscrowReleased}, MaxAckPending: 1},
		{Name: consumerGamifyMarketplace, Stream: events.StreamMarketplace, Handle: s.gamifyMarketplace, Subjects: []string{
			events.SubjReviewPosted}, MaxAckPending: 1},
		{Name: consumerGamifyProfessionals, Stream: events.StreamProfessionals, Handle: s.gamifyProfessionals, Subjects: []string{
			events.SubjKYCApproved}, MaxAckPending: 1},
	}
}

// decode wraps events.Decode so a malformed payload is dead-lettered at once.
func decode[T events.Event](env events.Envelope) (T, error) {
	v, err := events.Decode[T](env)
	if err != nil {
		return v, apperr.Permanent("bad_payload", "payload inválido", err)
	}
	return v, nil
}

func (s *svc) onAuth(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	switch env.Type {
	case events.UserRegisteredV1{}.EventType():
		e, err := decode[events.UserRegisteredV1](env)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contacts (user_id, email, nombre, apellido, rol, names_at)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (user_id) DO UPDATE SET email = EXCLUDED.email, rol = EXCLUDED.rol,
				nombre = CASE WHEN EXCLUDED.names_at > contacts.names_at THEN EXCLUDED.nombre ELSE contacts.nombre END,
				apellido = CASE WHEN EXCLUDED.names_at > contacts.names_at THEN EXCLUDED.apellido ELSE contacts.apellido END,
				names_at = GREATEST(contacts.names_at, EXCLUDED.names_at), updated_at = now()`,
			e.UserID, e.Email, e.Nombre, e.Apellido, e.Rol, env.OccurredAt); err != nil {
			return fmt.Errorf("store contact %s: %w", e.UserID, err)
		}
		if e.Rol == "ADMIN" {
			return nil // admins are created by operators, not welcomed as customers
		}
		return s.deliver(ctx, tx, consumerNotifyAuth, env, welcomeNotice(s, e))
	case events.PasswordResetRequestedV1{}.EventType():
		e, err := decode[events.PasswordResetRequestedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, consumerNotifyAuth, env, resetNotice(s, e))
	case events.UserBannedV1{}.EventType(), events.UserUnbannedV1{}.EventType():
		var userID string
		active := env.Type == events.UserUnbannedV1{}.EventType()
		if active {
			e, err := decode[events.UserUnbannedV1](env)
			if err != nil {
				return err
			}
			userID = e.UserID
		} else {
			e, err := decode[events.UserBannedV1](env)
			if err != nil {
				return err
			}
			userID = e.UserID
		}
		if _, err := tx.Exec(ctx, `INSERT INTO contacts (user_id, is_active) VALUES ($1, $2)
			ON CONFLICT (user_id) DO UPDATE SET is_active = EXCLUDED.is_active, updated_at = now()`, userID, active); err != nil {
			return fmt.Errorf("store ban of %s: %w", userID, err)
		}
	}
	return nil
}

func (s *svc) onUsers(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	if env.Type != (events.UserProfileUpdatedV1{}).EventType() {
		return nil
	}
	e, err := decode[events.UserProfileUpdatedV1](env)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `INSERT INTO contacts (user_id, nombre, apellido, names_at) VALUES ($1, $2, $3, $4)
		ON CONFLICT (user_id) DO UPDATE SET
			nombre = CASE WHEN EXCLUDED.names_at > contacts.names_at THEN EXCLUDED.nombre ELSE contacts.nombre END,
			apellido = CASE WHEN EXCLUDED.names_at > contacts.names_at THEN EXCLUDED.apellido ELSE contacts.apellido END,
			names_at = GREATEST(contacts.names_at, EXCLUDED.names_at), updated_at = now()`,
		e.UserID, e.Nombre, e.Apellido, env.OccurredAt); err != nil {
		return fmt.Errorf("update contact %s: %w", e.UserID, err)
	}
	return nil
}

func (s *svc) onProfessionals(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	switch env.Type {
	case events.KYCSubmittedV1{}.EventType():
		e, err := decode[events.KYCSubmittedV1](env)
		if err != nil {
			return err
		}
		prof := s.displayName(ctx, tx, e.UsuarioID, "Un profesional")
		return s.toAdmins(ctx, tx, consumerNotifyProfessionals, env, notice{Tipo: TipoSistema, Evento: "kyc_pendiente",
			Titulo:  "Verificación para revisar",
			Mensaje: fmt.Sprintf("%s envió %d %s para verificar su identidad.", prof, e.Documentos, plural(e.Documentos, "documento", "documentos")),
			Link:    "/dashboard/admin/kyc", Data: map[string]any{"profesional_id": e.ProfesionalID, "usuario_id": e.UsuarioID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.KYCApprovedV1{}.EventType():
		e, err := decode[events.KYCApprovedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, consumerNotifyProfessionals, env, notice{UserID: e.UsuarioID, Tipo: TipoSistema, Evento: "kyc_aprobado",
			Titulo:  "Verificación aprobada",
			Mensaje: "Tu identidad fue verificada. Ya podés enviar ofertas y aparecer en las búsquedas de clientes.",
			Link:    "/dashboard/profesional", InApp: true, Email: emailByPreference, Push: true})
	case events.KYCRejectedV1{}.EventType():
		e, err := decode[events.KYCRejectedV1](env)
		if err != nil {
			return err
		}
		msg := "No pudimos verificar tu identidad. Podés subir tus documentos de nuevo."
		if m := strings.TrimSpace(e.Motivo); m != "" {
			msg = "No pudimos verificar tu identidad. Motivo: " + truncate(m, 300) + ". Podés subir tus documentos de nuevo."
		}
		return s.deliver(ctx, tx, consumerNotifyProfessionals, env, notice{UserID: e.UsuarioID, Tipo: TipoSistema, Evento: "kyc_rechazado",
			Titulo: "Verificación rechazada", Mensaje: msg, Link: "/dashboard/profesional/verificacion",
			Data: map[string]any{"motivo": e.Motivo}, InApp: true, Email: emailByPreference, Push: true})
	}
	return nil
}

// toAdmins delivers n to every active admin the contacts replica knows: work only an
// admin can do (a KYC review, a dispute) should not wait for someone to open the panel.
func (s *svc) toAdmins(ctx context.Context, tx pgx.Tx, consumerName string, env events.Envelope, n notice) error {
	rows, err := tx.Query(ctx, `SELECT user_id::text FROM contacts WHERE rol = $1 AND is_active ORDER BY user_id`, authn.RoleAdmin)
	if err != nil {
		return fmt.Errorf("list admins: %w", err)
	}
	admins, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("list admins: %w", err)
	}
	for _, id := range admins {
		one := n
		one.UserID, one.Data = id, maps.Clone(n.Data)
		if err := s.deliver(ctx, tx, consumerName, env, one); err != nil {
			return err
		}
	}
	return nil
}

// trabajoParties is the part of marketplace's TrabajoRead this service needs.
type trabajoParties struct {
	ClienteID     string `json:"cliente_id"`
	ProfesionalID string `json:"profesional_id"`
}

func (s *svc) onPayments(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	const c = consumerNotifyPayments
	switch env.Type {
	case events.PaymentApprovedV1{}.EventType():
		e, err := decode[events.PaymentApprovedV1](env)
		if err != nil {
			return err
		}
		if e.ClienteID == "" || e.ProfesionalID == "" {
			// Older payloads may lack the parties: ask marketplace once.
			var t trabajoParties
			if err := s.internalGet(ctx, "marketplace", "/internal/trabajos/"+url.PathEscape(e.TrabajoID), &t); err != nil {
				if apperr.KindOf(err) == apperr.KindNotFound {
					return apperr.Permanent("unknown_job", "trabajo desconocido", err)
				}
				return err
			}
			e.ClienteID, e.ProfesionalID = t.ClienteID, t.ProfesionalID
		}
		monto := formatARS(e.MontoCentavos)
		if err := s.deliver(ctx, tx, c, env, notice{UserID: e.ClienteID, Tipo: TipoPago, Evento: "pago_aprobado",
			Titulo:  "Pago aprobado",
			Mensaje: fmt.Sprintf("Recibimos tu pago de %s. El dinero queda protegido hasta que apruebes el trabajo.", monto),
			Link:    "/trabajos/" + e.TrabajoID, Data: map[string]any{"trabajo_id": e.TrabajoID, "payment_id": e.PaymentID},
			InApp: true, Email: emailByPreference, Push: true}); err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoPago, Evento: "pago_confirmado",
			Titulo:  "El cliente pagó el trabajo",
			Mensaje: fmt.Sprintf("El cliente pagó %s. Ya podés comenzar el trabajo.", monto),
			Link:    "/trabajos/" + e.TrabajoID, Data: map[string]any{"trabajo_id": e.TrabajoID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.PaymentCheckoutExpiredV1{}.EventType():
		// The client let the link lapse and the job was cancelled: they hear it in the app
		// and by email (what they would otherwise still try to pay); the professional, who
		// was waiting to start, in the app.
		e, err := decode[events.PaymentCheckoutExpiredV1](env)
		if err != nil {
			return err
		}
		if e.ClienteID == "" || e.ProfesionalID == "" {
			return apperr.Permanent("bad_payload", "PaymentCheckoutExpired sin partes", fmt.Errorf("job %s", e.TrabajoID))
		}
		data := map[string]any{"trabajo_id": e.TrabajoID, "oferta_id": e.OfertaID}
		if err := s.deliver(ctx, tx, c, env, notice{UserID: e.ClienteID, Tipo: TipoPago, Evento: "link_pago_vencido",
			Titulo: "Tu link de pago venció",
			Mensaje: fmt.Sprintf("No registramos tu pago de %s a tiempo, así que el trabajo se canceló. Si llegaste a pagar, te devolvemos "+
				"el dinero completo. Si todavía querés contratarlo, pedile al profesional una nueva oferta desde el chat.", formatARS(e.MontoCentavos)),
			Link: "/trabajos/" + e.TrabajoID, Data: data, InApp: true, Email: emailByPreference, Push: true}); err != nil {
			return err
		}
		cli := s.displayName(ctx, tx, e.ClienteID, "El cliente")
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoTrabajo, Evento: "trabajo_sin_pago",
			Titulo:  "El trabajo se canceló sin pago",
			Mensaje: cli + " no pagó a tiempo y el trabajo se canceló. Podés enviarle una nueva oferta desde el chat.",
			Link:    "/trabajos/" + e.TrabajoID, Data: data, InApp: true, Push: true})
	case events.PayoutSentV1{}.EventType():
		e, err := decode[events.PayoutSentV1](env)
		if err != nil {
			return err
		}
		msg := fmt.Sprintf("Transferimos %s a tu cuenta por el trabajo aprobado.", formatARS(e.MontoCentavos))
		if e.RetiroID != "" {
			msg = fmt.Sprintf("Transferimos %s a tu cuenta por el retiro que pediste.", formatARS(e.MontoCentavos))
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoPago, Evento: "pago_enviado",
			Titulo: "Te enviamos tu pago", Mensaje: msg, Link: "/dashboard/profesional/pagos",
			Data:  map[string]any{"trabajo_id": e.TrabajoID, "payout_id": e.PayoutID, "retiro_id": e.RetiroID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.EscrowReleasedV1{}.EventType():
		// Releases credit the professional's available balance (money leaves through a
		// withdrawal), so this is when they hear the money is theirs.
		e, err := decode[events.EscrowReleasedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoPago, Evento: "pago_acreditado",
			Titulo: "Se acreditó tu pago",
			Mensaje: fmt.Sprintf("Sumamos %s a tu saldo disponible (comisión de la plataforma: %s). Podés pedir el retiro cuando quieras.",
				formatARS(e.LiberadoCentavos), formatARS(e.ComisionCentavos)),
			Link: "/dashboard/profesional/pagos", Data: map[string]any{"trabajo_id": e.TrabajoID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.PaymentChargedBackV1{}.EventType():
		// Only a chargeback that took released money back concerns the professional's
		// balance; one of held money is the admins' and the client's bank's business.
		e, err := decode[events.PaymentChargedBackV1](env)
		if err != nil {
			return err
		}
		return s.deliverBalanceMove(ctx, tx, c, env, e.ProfesionalID, e.TrabajoID, e.PaymentID, e.DescontadoCentavos,
			"contracargo", "Contracargo de un pago", "El banco del cliente anuló el pago de un trabajo ya liberado. Descontamos %s de tu saldo; "+
				"si ya lo habías retirado, se descontará de tus próximos cobros.")
	case events.PaymentChargebackReversedV1{}.EventType():
		// The professional heard of the chargeback only if it took from their balance; so
		// of its reversal.
		e, err := decode[events.PaymentChargebackReversedV1](env)
		if err != nil {
			return err
		}
		return s.deliverBalanceMove(ctx, tx, c, env, e.ProfesionalID, e.TrabajoID, e.PaymentID, e.ReintegradoCentavos,
			"contracargo_revertido", "Se revirtió un contracargo", "El banco del cliente resolvió el contracargo a favor nuestro. "+
				"Devolvimos %s a tu saldo (primero cubre lo que se te había descontado).")
	case events.RefundIssuedV1{}.EventType():
		// The money went back (through MercadoPago, or by a transfer an admin recorded):
		// the client was told at the cancellation that it would; now that it did.
		e, err := decode[events.RefundIssuedV1](env)
		if err != nil {
			return err
		}
		if e.ClienteID == "" {
			return apperr.Permanent("bad_payload", "RefundIssued sin cliente", fmt.Errorf("job %s", e.TrabajoID))
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ClienteID, Tipo: TipoPago, Evento: "reembolso_emitido",
			Titulo: "Te devolvimos tu pago",
			Mensaje: fmt.Sprintf("Te devolvimos %s del trabajo cancelado. Según tu medio de pago, puede tardar unos días hábiles en verse en tu cuenta.",
				formatARS(e.MontoCentavos)),
			Link: "/trabajos/" + e.TrabajoID, Data: map[string]any{"trabajo_id": e.TrabajoID, "refund_id": e.RefundID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.WithdrawalApprovedV1{}.EventType():
		e, err := decode[events.WithdrawalApprovedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoPago, Evento: "retiro_aprobado",
			Titulo: "Aprobamos tu retiro", Mensaje: fmt.Sprintf("Tu retiro de %s fue aprobado y la transferencia está en camino.", formatARS(e.MontoCentavos)),
			Link: "/dashboard/profesional/pagos", Data: map[string]any{"retiro_id": e.RetiroID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.WithdrawalRejectedV1{}.EventType():
		e, err := decode[events.WithdrawalRejectedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoPago, Evento: "retiro_rechazado",
			Titulo: "Rechazamos tu retiro",
			Mensaje: fmt.Sprintf("Tu retiro de %s fue rechazado. Motivo: %s. El monto volvió a tu saldo disponible.",
				formatARS(e.MontoCentavos), truncate(e.Motivo, 300)),
			Link: "/dashboard/profesional/pagos", Data: map[string]any{"retiro_id": e.RetiroID},
			InApp: true, Email: emailByPreference, Push: true})
	}
	return nil
}

// deliverBalanceMove tells professional prof that a chargeback of job trabajo's payment
// took centavos from their balance or gave them back; nothing when it moved nothing of
// theirs. mensaje has one %s, the amount.
func (s *svc) deliverBalanceMove(ctx context.Context, tx pgx.Tx, consumerName string, env events.Envelope,
	prof, trabajo, payment string, centavos int64, evento, titulo, mensaje string) error {
	if centavos <= 0 || prof == "" {
		return nil
	}
	return s.deliver(ctx, tx, consumerName, env, notice{UserID: prof, Tipo: TipoPago, Evento: evento, Titulo: titulo,
		Mensaje: fmt.Sprintf(mensaje, formatARS(centavos)), Link: "/dashboard/profesional/pagos",
		Data:  map[string]any{"trabajo_id": trabajo, "payment_id": payment},
		InApp: true, Email: emailByPreference, Push: true})
}

func (s *svc) onEngagement(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	const c = consumerNotifyEngagement
	switch env.Type {
	case events.LevelChangedV1{}.EventType():
		e, err := decode[events.LevelChangedV1](env)
		if err != nil {
			return err
		}
		l, ok := gamification.LevelByName(e.Nivel)
		if !ok {
			return apperr.Permanent("unknown_level", "nivel desconocido", fmt.Errorf("level %q", e.Nivel))
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.UsuarioID, Tipo: TipoSistema, Evento: "nivel_subido",
			Titulo: "¡Subiste de nivel!",
			Mensaje: fmt.Sprintf("Ahora sos nivel %s. Tu comisión pasa a ser del %s.", levelLabel(l.Nombre),
				percent(e.TasaComisionBP)),
			Link: "/dashboard/profesional", Data: map[string]any{"nivel": e.Nivel, "nivel_anterior": e.NivelAnterior},
			InApp: true, Email: emailByPreference, Push: true})
	case events.MedalAwardedV1{}.EventType():
		e, err := decode[events.MedalAwardedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.UsuarioID, Tipo: TipoSistema, Evento: "medalla_ganada",
			Titulo: "¡Ganaste una medalla!", Mensaje: "Conseguiste la medalla «" + e.Nombre + "».",
			Link: "/dashboard/profesional", Data: map[string]any{"medalla": e.Medalla},
			InApp: true, Email: emailByPreference, Push: true})
	}
	return nil
}

func welcomeNotice(s *svc, e events.UserRegisteredV1) notice {
	parrafos := []string{"Tu cuenta ya está lista."}
	link := "/explorar"
	if e.Rol == "PROFESIONAL" {
		parrafos = append(parrafos, "Completá tu perfil y enviá tus documentos para verificar tu identidad: así vas a aparecer en las búsquedas y podrás enviar ofertas.")
		link = "/dashboard/profesional"
	} else {
		parrafos = append(parrafos, "Buscá profesionales cerca tuyo, chateá con ellos y pagá de forma protegida: el dinero se libera recién cuando apruebes el trabajo.")
	}
	titulo := "¡Bienvenido a ConectarProfesionales!"
	text, html := s.tmpl.render(emailView{Nombre: e.Nombre, Titulo: titulo, Parrafos: parrafos, Accion: "Empezar", Link: s.link(link)})
	return notice{UserID: e.UserID, Tipo: TipoSistema, Evento: "bienvenida", Titulo: titulo, Mensaje: strings.Join(parrafos, " "),
		Link: link, InApp: true, Email: emailAlways, EmailTo: e.Email, EmailName: joinName(e.Nombre, e.Apellido),
		EmailSubject: titulo, EmailText: text, EmailHTML: html}
}

func resetNotice(s *svc, e events.PasswordResetRequestedV1) notice {
	link := s.link("/reset-password?token=" + url.QueryEscape(e.Token))
	titulo := "Recuperación de contraseña"
	text, html := s.tmpl.render(emailView{Nombre: firstWord(e.Nombre), Titulo: titulo,
		Parrafos: []string{"Recibimos un pedido para restablecer la contraseña de tu cuenta.", "Para elegir una nueva contraseña, usá el siguiente enlace."},
		Accion:   "Restablecer contraseña", Link: link,
		Nota: "Este enlace expira en 1 hora y se puede usar una sola vez. Si no pediste el cambio, ignorá este correo: tu contraseña sigue siendo la misma."})
	// Email only: a reset is not an in-app notification, and it ignores preferences.
	return notice{UserID: e.UserID, Tipo: TipoSistema, Evento: "recuperar_contrasena", Titulo: titulo,
		Email: emailAlways, EmailTo: e.Email, EmailName: e.Nombre, EmailSubject: titulo, EmailText: text, EmailHTML: html}
}

// displayName is a person's name from the replica, or fallback. It never calls out:
// names are decoration, not worth delaying a notification for.
func (s *svc) displayName(ctx context.Context, q pgxQuerier, userID, fallback string) string {
	var nombre, apellido string
	err := q.QueryRow(ctx, `SELECT nombre, apellido FROM contacts WHERE user_id = $1`, userID).Scan(&nombre, &apellido)
	if err != nil {
		if !errors.Is(err, pgx.ErrNoRows) {
			s.log.Debug("display name", "user_id", userID, "err", err)
		}
		return fallback
	}
	if n := joinName(nombre, apellido); n != "" {
		return n
	}
	return fallback
}

func truncate(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return strings.TrimSpace(string(r[:n])) + "…"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func levelLabel(nivel string) string {
	switch nivel {
	case "BRONCE":
		return "Bronce"
	case "PLATA":
		return "Plata"
	case "ORO":
		return "Oro"
	case "DIAMANTE":
		return "Diamante"
	}
	return nivel
}

// percent renders basis points as "18 %" (or "12,5 %").
func percent(bp int) string {
	if bp%100 == 0 {
		return fmt.Sprintf("%d %%", bp/100)
	}
	return strings.Replace(fmt.Sprintf("%.2f %%", float64(bp)/100), ".", ",", 1)
}

package notifications

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
)

func (s *svc) onMarketplace(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	const c = consumerNotifyMarketplace
	switch env.Type {
	case events.OfferCreatedV1{}.EventType():
		e, err := decode[events.OfferCreatedV1](env)
		if err != nil {
			return err
		}
		prof := s.displayName(ctx, tx, e.ProfesionalID, "Un profesional")
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ClienteID, Tipo: TipoOferta, Evento: "oferta_recibida",
			Titulo:  "Nueva oferta recibida",
			Mensaje: fmt.Sprintf("%s te envió una oferta de %s: %s", prof, formatARS(e.PrecioCentavos), truncate(e.Descripcion, 140)),
			Link:    "/chat/" + e.ChatID, Data: map[string]any{"oferta_id": e.OfertaID, "chat_id": e.ChatID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.OfferAcceptedV1{}.EventType():
		e, err := decode[events.OfferAcceptedV1](env)
		if err != nil {
			return err
		}
		cli := s.displayName(ctx, tx, e.ClienteID, "El cliente")
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoOferta, Evento: "oferta_aceptada",
			Titulo:  "Tu oferta fue aceptada",
			Mensaje: fmt.Sprintf("%s aceptó tu oferta de %s. Te avisamos cuando el pago esté confirmado.", cli, formatARS(e.PrecioCentavos)),
			Link:    "/trabajos/" + e.TrabajoID, Data: map[string]any{"oferta_id": e.OfertaID, "trabajo_id": e.TrabajoID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.OfferRejectedV1{}.EventType():
		e, err := decode[events.OfferRejectedV1](env)
		if err != nil {
			return err
		}
		cli := s.displayName(ctx, tx, e.ClienteID, "El cliente")
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoOferta, Evento: "oferta_rechazada",
			Titulo: "Tu oferta fue rechazada", Mensaje: cli + " rechazó tu oferta.",
			Link: "/chat/" + e.ChatID, Data: map[string]any{"oferta_id": e.OfertaID, "chat_id": e.ChatID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.JobStartedV1{}.EventType():
		e, err := decode[events.JobStartedV1](env)
		if err != nil {
			return err
		}
		prof := s.displayName(ctx, tx, e.ProfesionalID, "El profesional")
		return s.deliver(ctx, tx, c, env, jobNotice(e.ClienteID, e.TrabajoID, "trabajo_iniciado",
			"Tu trabajo comenzó", prof+" comenzó a trabajar en tu pedido."))
	case events.JobDeliveredV1{}.EventType():
		e, err := decode[events.JobDeliveredV1](env)
		if err != nil {
			return err
		}
		prof := s.displayName(ctx, tx, e.ProfesionalID, "El profesional")
		return s.deliver(ctx, tx, c, env, jobNotice(e.ClienteID, e.TrabajoID, "trabajo_entregado",
			"Trabajo terminado: falta tu aprobación",
			prof+" marcó el trabajo como terminado. Revisalo y aprobalo para liberar el pago; si no respondés en 72 horas se aprueba automáticamente."))
	case events.JobCompletedV1{}.EventType():
		e, err := decode[events.JobCompletedV1](env)
		if err != nil {
			return err
		}
		msg := "El cliente aprobó el trabajo. Estamos liberando tu pago."
		switch e.Motivo {
		case "automatico":
			msg = "El trabajo se aprobó automáticamente al cumplirse el plazo. Estamos liberando tu pago."
		case "disputa":
			msg = "La disputa se resolvió a tu favor y el trabajo quedó aprobado. Estamos liberando tu pago."
		}
		return s.deliver(ctx, tx, c, env, jobNotice(e.ProfesionalID, e.TrabajoID, "trabajo_aprobado", "Trabajo aprobado", msg))
	case events.JobCancelledV1{}.EventType():
		e, err := decode[events.JobCancelledV1](env)
		if err != nil {
			return err
		}
		motivo := ""
		if m := strings.TrimSpace(e.Motivo); m != "" {
			motivo = " Motivo: " + truncate(m, 300) + "."
		}
		if e.By != e.ClienteID {
			msg := "El trabajo fue cancelado." + motivo
			if e.Paid {
				msg += fmt.Sprintf(" Te reembolsaremos el total de %s.", formatARS(e.PrecioCentavos))
			}
			if err := s.deliver(ctx, tx, c, env, jobNotice(e.ClienteID, e.TrabajoID, "trabajo_cancelado", "Trabajo cancelado", msg)); err != nil {
				return err
			}
		}
		if e.By != e.ProfesionalID {
			return s.deliver(ctx, tx, c, env, jobNotice(e.ProfesionalID, e.TrabajoID, "trabajo_cancelado", "Trabajo cancelado",
				"El trabajo fue cancelado."+motivo))
		}
	case events.ReviewPostedV1{}.EventType():
		e, err := decode[events.ReviewPostedV1](env)
		if err != nil {
			return err
		}
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoResena, Evento: "resena_recibida",
			Titulo:  "Nueva reseña recibida",
			Mensaje: fmt.Sprintf("Recibiste una reseña de %d %s. Tu calificación promedio es %.1f.", e.Rating, plural(e.Rating, "estrella", "estrellas"), e.RatingPromedio),
			Link:    "/trabajos/" + e.TrabajoID, Data: map[string]any{"resena_id": e.ResenaID, "trabajo_id": e.TrabajoID, "rating": e.Rating},
			InApp: true, Email: emailByPreference, Push: true})
	case events.OfferExpiredV1{}.EventType():
		e, err := decode[events.OfferExpiredV1](env)
		if err != nil {
			return err
		}
		cli := s.displayName(ctx, tx, e.ClienteID, "El cliente")
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ProfesionalID, Tipo: TipoOferta, Evento: "oferta_vencida",
			Titulo: "Tu oferta venció", Mensaje: cli + " no respondió tu oferta a tiempo. Podés enviarle una nueva desde el chat.",
			Data: map[string]any{"oferta_id": e.OfertaID}, InApp: true, Email: emailByPreference, Push: true})
	case events.DisputeOpenedV1{}.EventType(), events.DisputeResolvedV1{}.EventType(), events.DisputeCancelledV1{}.EventType():
		return s.onDispute(ctx, tx, env)
	case events.ReviewRepliedV1{}.EventType():
		e, err := decode[events.ReviewRepliedV1](env)
		if err != nil {
			return err
		}
		prof := s.displayName(ctx, tx, e.ProfesionalID, "El profesional")
		return s.deliver(ctx, tx, c, env, notice{UserID: e.ClienteID, Tipo: TipoResena, Evento: "resena_respondida",
			Titulo: prof + " respondió tu reseña", Mensaje: truncate(e.Respuesta, 200),
			Link: "/trabajos/" + e.TrabajoID, Data: map[string]any{"resena_id": e.ResenaID, "trabajo_id": e.TrabajoID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.MessageSentV1{}.EventType():
		e, err := decode[events.MessageSentV1](env)
		if err != nil {
			return err
		}
		if e.Tipo != "" && e.Tipo != "text" {
			return nil // offers and info lines have their own notifications
		}
		sender := s.displayName(ctx, tx, e.SenderID, "Alguien")
		// No in-app row (the chat itself shows it); push and email only for users who
		// turned push_mensajes / email_mensajes on.
		return s.deliver(ctx, tx, c, env, notice{UserID: e.RecipientID, Tipo: TipoMensaje, Evento: "mensaje_nuevo",
			Titulo: "Nuevo mensaje de " + sender, Mensaje: truncate(e.Text, 100), Link: "/chat/" + e.ChatID,
			Data: map[string]any{"chat_id": e.ChatID, "message_id": e.MessageID}, Push: true, Email: emailByPreference})
	}
	return nil
}

// onDispute tells each party what happened to a dispute over their job: the one who did
// not open (or withdraw) it, and both when an admin resolves it. The money itself moves
// on payments' events, which have their own notifications.
func (s *svc) onDispute(ctx context.Context, tx pgx.Tx, env events.Envelope) error {
	const c = consumerNotifyMarketplace
	switch env.Type {
	case events.DisputeOpenedV1{}.EventType():
		e, err := decode[events.DisputeOpenedV1](env)
		if err != nil {
			return err
		}
		other, quien := e.ProfesionalID, s.displayName(ctx, tx, e.ClienteID, "El cliente")
		if e.AbiertaPor == e.ProfesionalID {
			other, quien = e.ClienteID, s.displayName(ctx, tx, e.ProfesionalID, "El profesional")
		}
		n := jobNotice(other, e.TrabajoID, "disputa_abierta", "Se abrió una disputa",
			quien+" abrió una disputa por el trabajo. El pago queda retenido hasta que la resolvamos; podés aportar tu versión y evidencias.")
		n.Data["disputa_id"] = e.DisputaID
		if err := s.deliver(ctx, tx, c, env, n); err != nil {
			return err
		}
		return s.toAdmins(ctx, tx, c, env, notice{Tipo: TipoSistema, Evento: "disputa_para_revisar", Titulo: "Disputa para revisar",
			Mensaje: quien + " abrió una disputa (" + strings.ToLower(strings.ReplaceAll(e.Tipo, "_", " ")) + ") sobre un trabajo pagado.",
			Link:    "/dashboard/admin", Data: map[string]any{"disputa_id": e.DisputaID, "trabajo_id": e.TrabajoID},
			InApp: true, Email: emailByPreference, Push: true})
	case events.DisputeResolvedV1{}.EventType():
		e, err := decode[events.DisputeResolvedV1](env)
		if err != nil {
			return err
		}
		var cli, prof string
		switch e.AFavor {
		case "cliente":
			cli = fmt.Sprintf("La disputa se resolvió a tu favor: te reembolsaremos %s.", formatARS(e.PrecioCentavos))
			prof = "La disputa se resolvió a favor del cliente y el pago le será reembolsado."
		case "profesional":
			cli = "La disputa se resolvió a favor del profesional y se libera su pago."
			prof = "La disputa se resolvió a tu favor: se libera tu pago."
		default:
			cli = "La disputa fue desestimada: el trabajo sigue como estaba y el pago continúa protegido."
			prof = cli
		}
		if r := strings.TrimSpace(e.Resolucion); r != "" {
			cli += " Resolución: " + truncate(r, 300)
			prof += " Resolución: " + truncate(r, 300)
		}
		for _, to := range []struct{ user, msg string }{{e.ClienteID, cli}, {e.ProfesionalID, prof}} {
			n := jobNotice(to.user, e.TrabajoID, "disputa_resuelta", "Disputa resuelta", to.msg)
			n.Data["disputa_id"] = e.DisputaID
			n.Data["a_favor"] = e.AFavor
			if err := s.deliver(ctx, tx, c, env, n); err != nil {
				return err
			}
		}
	case events.DisputeCancelledV1{}.EventType():
		e, err := decode[events.DisputeCancelledV1](env)
		if err != nil {
			return err
		}
		other, quien := e.ProfesionalID, s.displayName(ctx, tx, e.ClienteID, "El cliente")
		if e.CanceladaPor == e.ProfesionalID {
			other, quien = e.ClienteID, s.displayName(ctx, tx, e.ProfesionalID, "El profesional")
		}
		n := jobNotice(other, e.TrabajoID, "disputa_retirada", "Disputa retirada", quien+" retiró la disputa: el trabajo sigue su curso.")
		n.Data["disputa_id"] = e.DisputaID
		return s.deliver(ctx, tx, c, env, n)
	}
	return nil
}

func jobNotice(userID, trabajoID, evento, titulo, msg string) notice {
	return notice{UserID: userID, Tipo: TipoTrabajo, Evento: evento, Titulo: titulo, Mensaje: msg,
		Link: "/trabajos/" + trabajoID, Data: map[string]any{"trabajo_id": trabajoID},
		InApp: true, Email: emailByPreference, Push: true}
}

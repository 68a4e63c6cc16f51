package domain

import (
	"time"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// ReviewWindow is how long after posting the author may edit or delete a review, and
// after replying the professional may edit the reply.
const ReviewWindow = 24 * time.Hour

// Review is what the review rules need.
type Review struct {
	ClienteID     string
	ProfesionalID string
	Creada        time.Time
	Respondida    *time.Time // when the professional first replied
}

// CanEditReview: the author, within ReviewWindow of posting.
func CanEditReview(r Review, a Actor, now time.Time) error {
	if a.ID != r.ClienteID {
		return apperr.Forbidden("resena_ajena", "Solo quien escribió la reseña puede modificarla")
	}
	if now.Sub(r.Creada) > ReviewWindow {
		return apperr.Invalid("plazo_vencido", "Las reseñas solo se pueden modificar o eliminar dentro de las 24 horas de publicadas")
	}
	return nil
}

// CanDeleteReview: the author within ReviewWindow, or an admin at any time.
func CanDeleteReview(r Review, a Actor, now time.Time) error {
	if a.ID != r.ClienteID && a.Rol == authn.RoleAdmin {
		return nil
	}
	return CanEditReview(r, a, now)
}

// CanReply: the reviewed professional, once; the reply can be edited within
// ReviewWindow of the first reply.
func CanReply(r Review, a Actor, now time.Time) error {
	if a.ID != r.ProfesionalID {
		return apperr.Forbidden("resena_ajena", "Solo el profesional reseñado puede responder")
	}
	if r.Respondida != nil && now.Sub(*r.Respondida) > ReviewWindow {
		return apperr.Invalid("respuesta_existente", "Ya respondiste esta reseña y el plazo de 24 horas para editar la respuesta venció")
	}
	return nil
}

// CanReport: anyone signed in except the review's author.
func CanReport(r Review, a Actor) error {
	if a.ID == r.ClienteID {
		return apperr.Invalid("resena_propia", "No podés reportar tu propia reseña")
	}
	return nil
}

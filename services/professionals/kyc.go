package professionals

import (
	"context"
	"fmt"
	"mime/multipart"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/upload"
)

// MaxKYCFiles is how many documents one KYC round may hold.
const MaxKYCFiles = 5

type kycDoc struct {
	ID            string `json:"id"`
	NombreArchivo string `json:"nombre_archivo"`
	ContentType   string `json:"content_type"`
	Tamano        int    `json:"tamano"`
	URL           string `json:"url"`
	FechaCreacion pgTime `json:"fecha_creacion"`
}

// docURL is the absolute link to a KYC document (served to its owner and admins only).
func (s *svc) docURL(id string) string { return s.abs("/api/v1/professional/kyc/documentos/" + id) }

// currentDocs lists the documents of the profile's current round, oldest first.
func (s *svc) currentDocs(ctx context.Context, q querier, profID string) ([]kycDoc, error) {
	rows, err := q.Query(ctx, `SELECT d.id::text, d.nombre_archivo, d.content_type, d.tamano, d.fecha_creacion
		FROM kyc_documentos d JOIN profesionales p ON p.id = d.profesional_id AND d.ronda = p.kyc_ronda
		WHERE d.profesional_id = $1 ORDER BY d.fecha_creacion, d.id`, profID)
	if err != nil {
		return nil, fmt.Errorf("kyc documents of %s: %w", profID, err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (kycDoc, error) {
		var d kycDoc
		err := r.Scan(&d.ID, &d.NombreArchivo, &d.ContentType, &d.Tamano, &d.FechaCreacion.T)
		d.URL = s.docURL(d.ID)
		return d, err
	})
}

// kycStatusRead is the verification state; kyc_status (= estado_verificacion) and
// verificado are the names the frontend reads.
type kycStatusRead struct {
	ProfesionalID      string   `json:"profesional_id"`
	EstadoVerificacion string   `json:"estado_verificacion"`
	KYCStatus          string   `json:"kyc_status"`
	Verificado         bool     `json:"verificado"`
	MotivoRechazo      *string  `json:"motivo_rechazo"`
	Documentos         []kycDoc `json:"documentos"`
	Status             string   `json:"status,omitempty"`
	Message            string   `json:"message,omitempty"`
}

func (s *svc) kycStatusOf(ctx context.Context, p profile) (kycStatusRead, error) {
	docs, err := s.currentDocs(ctx, s.pool, p.ID)
	if err != nil {
		return kycStatusRead{}, err
	}
	return kycStatusRead{ProfesionalID: p.ID, EstadoVerificacion: p.Estado, KYCStatus: p.Estado, Verificado: p.Estado == EstadoAprobado,
		MotivoRechazo: p.MotivoRechazo, Documentos: docs}, nil
}

// readKYCFiles reads and checks every file of the multipart field(s) before anything is
// stored: 1–5 documents, each a PDF or image of at most 10 MiB.
func readKYCFiles(c *fiber.Ctx) ([]upload.File, error) {
	form, err := c.MultipartForm()
	if err != nil {
		return nil, apperr.Validation(apperr.FieldError{Field: "files", Msg: "se esperaba un formulario multipart con archivos"})
	}
	var fhs []*multipart.FileHeader
	fhs = append(fhs, form.File["files"]...)
	fhs = append(fhs, form.File["file"]...)
	if len(fhs) == 0 {
		return nil, apperr.Validation(apperr.FieldError{Field: "files", Msg: "adjuntá al menos un documento"})
	}
	if len(fhs) > MaxKYCFiles {
		return nil, apperr.Validation(apperr.FieldError{Field: "files", Msg: fmt.Sprintf("como máximo %d documentos", MaxKYCFiles)})
	}
	out := make([]upload.File, 0, len(fhs))
	for _, fh := range fhs {
		f, err := upload.Read("files", fh, upload.MaxFile, upload.Documents)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func isMultipart(c *fiber.Ctx) bool {
	return strings.HasPrefix(strings.ToLower(c.Get(fiber.HeaderContentType)), fiber.MIMEMultipartForm)
}

// kycUpload answers POST /professional/kyc/upload: stores the documents and puts the
// profile in review.
func (s *svc) kycUpload(c *fiber.Ctx) error {
	if !isMultipart(c) {
		return apperr.New(apperr.KindUnsupported, "unsupported_media_type", "Se esperaba multipart/form-data con archivos")
	}
	files, err := readKYCFiles(c)
	if err != nil {
		return err
	}
	return s.submitKYC(c, files)
}

// kycSubmit answers POST /professional/kyc/submit: with files it behaves as upload;
// without, it sends the documents already uploaded in this round.
func (s *svc) kycSubmit(c *fiber.Ctx) error {
	var files []upload.File
	if isMultipart(c) {
		var err error
		if files, err = readKYCFiles(c); err != nil {
			return err
		}
	}
	return s.submitKYC(c, files)
}

func (s *svc) submitKYC(c *fiber.Ctx, files []upload.File) error {
	ctx := c.UserContext()
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	if _, err := s.myProfile(ctx, u.UserID()); err != nil {
		return err
	}
	// Objects are written before the rows that point at them: a failed transaction
	// leaves an unreferenced object at worst, never a row without its file.
	var stored []string
	var out profile
	err = s.tx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		p, err := profileByUser(ctx, tx, u.UserID(), true)
		if err != nil {
			return err
		}
		if p.Estado == EstadoAprobado {
			return apperr.Invalid("kyc_ya_aprobado", "Tu verificación ya fue aprobada")
		}
		ronda := p.KYCRonda
		if p.Estado == EstadoRechazado {
			ronda++ // a rejected professional starts a new set of documents
		}
		var have int
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM kyc_documentos WHERE profesional_id = $1 AND ronda = $2`, p.ID, ronda).Scan(&have); err != nil {
			return fmt.Errorf("count kyc documents: %w", err)
		}
		if have+len(files) > MaxKYCFiles {
			return apperr.Invalid("kyc_demasiados_documentos", fmt.Sprintf("Como máximo %d documentos por verificación", MaxKYCFiles))
		}
		if have+len(files) == 0 {
			return apperr.Invalid("kyc_sin_documentos", "Primero subí al menos un documento")
		}
		for _, f := range files {
			id := uuid.New()
			name := fmt.Sprintf("kyc/%s/%s%s", p.ID, id, upload.Ext(f.ContentType))
			if err := s.docs.Put(ctx, name, f.ContentType, f.Data); err != nil {
				return err
			}
			stored = append(stored, name)
			if _, err := tx.Exec(ctx, `INSERT INTO kyc_documentos (id, profesional_id, ronda, objeto, nombre_archivo, content_type, tamano, fecha_creacion)
				VALUES ($1, $2, $3, $4, $5, $6, $7, clock_timestamp())`, id, p.ID, ronda, name, truncate(f.Name, 255), f.ContentType, len(f.Data)); err != nil {
				return fmt.Errorf("record kyc document: %w", err)
			}
		}
		entering := p.Estado != EstadoEnRevision
		if entering {
			if _, err := tx.Exec(ctx, `UPDATE profesionales SET estado_verificacion = 'EN_REVISION', kyc_ronda = $2,
				motivo_rechazo = NULL, kyc_enviado_at = now() WHERE id = $1`, p.ID, ronda); err != nil {
				return fmt.Errorf("submit kyc %s: %w", p.ID, err)
			}
			if err := s.emit(ctx, tx, p.ID, events.KYCSubmittedV1{ProfesionalID: p.ID, UsuarioID: p.UsuarioID, Documentos: have + len(files)}, events.Meta{}); err != nil {
				return err
			}
		}
		if err := s.changed(ctx, tx, p.ID, entering, events.Meta{}); err != nil {
			return err
		}
		out, err = profileByID(ctx, tx, p.ID, false)
		return err
	})
	if err != nil {
		for _, name := range stored {
			_ = s.docs.Delete(context.WithoutCancel(ctx), name)
		}
		return err
	}
	st, err := s.kycStatusOf(ctx, out)
	if err != nil {
		return err
	}
	st.Status, st.Message = "ok", "Archivos recibidos, en revisión."
	return c.JSON(st)
}

func truncate(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}

// kycStatus answers GET /professional/kyc/status.
func (s *svc) kycStatus(c *fiber.Ctx) error {
	p, err := s.callerProfile(c)
	if err != nil {
		return err
	}
	st, err := s.kycStatusOf(c.UserContext(), p)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// kycDocument serves a KYC document to its owner or an admin; anyone else gets 404, so
// the document's existence is not revealed.
func (s *svc) kycDocument(c *fiber.Ctx) error {
	u, err := authn.MustUser(c)
	if err != nil {
		return err
	}
	notFound := apperr.NotFound("document_not_found", "Documento no encontrado")
	id := c.Params("id")
	if !isUUID(id) {
		return notFound
	}
	var objeto, owner string
	err = s.pool.QueryRow(c.UserContext(), `SELECT d.objeto, p.usuario_id::text FROM kyc_documentos d
		JOIN profesionales p ON p.id = d.profesional_id WHERE d.id = $1`, id).Scan(&objeto, &owner)
	if err == pgx.ErrNoRows {
		return notFound
	}
	if err != nil {
		return fmt.Errorf("load kyc document %s: %w", id, pg.Translate(err))
	}
	if u.Rol != authn.RoleAdmin && u.UserID() != owner {
		return notFound
	}
	return s.docs.Serve(c, objeto, false)
}

type kycPendingRead struct {
	ID                 string   `json:"id"`
	UsuarioID          string   `json:"usuario_id"`
	Email              string   `json:"email"`
	Nombre             string   `json:"nombre"`
	Apellido           string   `json:"apellido"`
	FechaCreacion      pgTime   `json:"fecha_creacion"`
	FechaEnvio         pgTime   `json:"fecha_envio"`
	EstadoVerificacion string   `json:"estado_verificacion"`
	Documentos         []kycDoc `json:"documentos"`
}

// kycPending answers GET /admin/kyc/pendientes and /admin/kyc/pending: profiles in
// review, oldest submission first, with links to their documents.
func (s *svc) kycPending(c *fiber.Ctx) error {
	pg_, err := httpx.Paging(c, 100)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	rows, err := s.pool.Query(ctx, `SELECT id::text, usuario_id::text, email, nombre, apellido, fecha_creacion,
		coalesce(kyc_enviado_at, fecha_creacion), estado_verificacion
		FROM profesionales WHERE estado_verificacion = 'EN_REVISION'
		ORDER BY kyc_enviado_at, id OFFSET $1 LIMIT $2`, pg_.Skip, pg_.Limit)
	if err != nil {
		return fmt.Errorf("kyc queue: %w", pg.Translate(err))
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (kycPendingRead, error) {
		var x kycPendingRead
		err := r.Scan(&x.ID, &x.UsuarioID, &x.Email, &x.Nombre, &x.Apellido, &x.FechaCreacion.T, &x.FechaEnvio.T, &x.EstadoVerificacion)
		return x, err
	})
	if err != nil {
		return fmt.Errorf("kyc queue: %w", err)
	}
	for i := range out {
		if out[i].Documentos, err = s.currentDocs(ctx, s.pool, out[i].ID); err != nil {
			return err
		}
	}
	return c.JSON(out)
}

// decideKYC moves a profile in review to APROBADO or RECHAZADO.
func (s *svc) decideKYC(c *fiber.Ctx, approve bool, reason string) (profile, error) {
	u, err := authn.MustUser(c)
	if err != nil {
		return profile{}, err
	}
	var out profile
	err = s.tx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		p, err := profileByID(ctx, tx, c.Params("id"), true)
		if err != nil {
			return err
		}
		if p.Estado != EstadoEnRevision {
			return apperr.Invalid("kyc_no_en_revision", fmt.Sprintf("Solo se pueden decidir verificaciones en revisión (estado actual: %s)", p.Estado))
		}
		var ev events.Event
		if approve {
			_, err = tx.Exec(ctx, `UPDATE profesionales SET estado_verificacion = 'APROBADO', motivo_rechazo = NULL WHERE id = $1`, p.ID)
			ev = events.KYCApprovedV1{ProfesionalID: p.ID, UsuarioID: p.UsuarioID, AdminID: u.UserID()}
		} else {
			_, err = tx.Exec(ctx, `UPDATE profesionales SET estado_verificacion = 'RECHAZADO', motivo_rechazo = $2 WHERE id = $1`, p.ID, reason)
			ev = events.KYCRejectedV1{ProfesionalID: p.ID, UsuarioID: p.UsuarioID, AdminID: u.UserID(), Motivo: reason}
		}
		if err != nil {
			return fmt.Errorf("decide kyc %s: %w", p.ID, err)
		}
		if err := s.emit(ctx, tx, p.ID, ev, events.Meta{}); err != nil {
			return err
		}
		if err := s.changed(ctx, tx, p.ID, true, events.Meta{}); err != nil {
			return err
		}
		out = p
		return nil
	})
	return out, err
}

// kycApprove answers POST /admin/kyc/approve/{id} and PUT /admin/kyc/{id}/approve.
func (s *svc) kycApprove(c *fiber.Ctx) error {
	p, err := s.decideKYC(c, true, "")
	if err != nil {
		return err
	}
	return c.JSON(kycDecision{Status: "aprobado", ProfesionalID: p.ID, Message: "KYC aprobado correctamente"})
}

// kycRejectBody is the optional reason of a rejection, under any of its three names.
type kycRejectBody struct {
	Reason *string `json:"reason" jsonschema:"minLength=1,maxLength=500"`
	Razon  *string `json:"razon" jsonschema:"minLength=1,maxLength=500"`
	Motivo *string `json:"motivo" jsonschema:"minLength=1,maxLength=500"`
}

// kycDecision is the answer of an approval or a rejection (reason only for the latter).
type kycDecision struct {
	Status        string `json:"status" jsonschema:"enum=aprobado,enum=rechazado"`
	ProfesionalID string `json:"profesional_id"`
	Message       string `json:"message"`
	Reason        string `json:"reason,omitempty"`
}

// DefaultRejectReason is the reason recorded when the admin rejects without one (the
// admin page sends no body): the professional still learns what to do next.
const DefaultRejectReason = "La documentación presentada no pudo verificarse. Revisala y volvé a enviarla."

// kycReject answers POST /admin/kyc/reject/{id} and PUT /admin/kyc/{id}/reject. The
// reason (`reason`, `razon` or `motivo`) is optional; when one is given it must be 1–500
// characters.
func (s *svc) kycReject(c *fiber.Ctx) error {
	var in kycRejectBody
	if err := httpx.BindOptionalJSON(c, &in); err != nil {
		return err
	}
	reason, given := DefaultRejectReason, false
	for _, r := range []*string{in.Reason, in.Razon, in.Motivo} {
		if r != nil {
			reason, given = strings.TrimSpace(*r), true
			break
		}
	}
	if given {
		var ck apperr.Checker
		ck.Len("reason", reason, 1, 500)
		if err := ck.Err(); err != nil {
			return err
		}
	}
	p, err := s.decideKYC(c, false, reason)
	if err != nil {
		return err
	}
	return c.JSON(kycDecision{Status: "rechazado", ProfesionalID: p.ID, Message: "KYC rechazado", Reason: reason})
}

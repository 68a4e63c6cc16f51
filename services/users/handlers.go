package users

import (
	"context"
	"fmt"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/outbox"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/pg"
	"github.com/conectarpro/conectar/platform/upload"
)

// me returns the caller's id and profile.
func (u *Users) me(c *fiber.Ctx) (profile, error) {
	cl, err := authn.MustUser(c)
	if err != nil {
		return profile{}, err
	}
	id, err := uuid.Parse(cl.UserID())
	if err != nil {
		return profile{}, errProfileNotFound
	}
	return u.load(c.UserContext(), id)
}

func (u *Users) getMe(c *fiber.Ctx) error {
	p, err := u.me(c)
	if err != nil {
		return err
	}
	return c.JSON(p.read(u.svc.Deps.PublicURL))
}

// updateBody is PUT /users/me. Absent fields are left as they are; telefono and
// direccion sent empty are cleared. email is read only to refuse a change: the settings
// page sends the whole form back, the same email included.
type updateBody struct {
	Nombre    *string `json:"nombre" jsonschema:"minLength=1,maxLength=100"`
	Apellido  *string `json:"apellido" jsonschema:"minLength=1,maxLength=100"`
	Telefono  *string `json:"telefono" jsonschema:"maxLength=30"`
	Direccion *string `json:"direccion" jsonschema:"maxLength=200"`
	Email     *string `json:"email"`
}

// telefonoPattern accepts what people type for a phone number: digits with spaces,
// dashes, dots, parentheses and a leading +.
var telefonoPattern = regexp.MustCompile(`^\+?[0-9(][0-9 ()./-]*[0-9]$`)

var errEmailChange = apperr.Invalid("email_change_not_allowed",
	"El email no se puede cambiar desde el perfil: es tu usuario para iniciar sesión. Escribí a soporte para cambiarlo.")

// checkContact trims the contact fields and validates them; an empty value clears.
func checkContact(ck *apperr.Checker, b *updateBody) {
	if b.Telefono != nil {
		*b.Telefono = strings.TrimSpace(*b.Telefono)
		digits := 0
		for _, r := range *b.Telefono {
			if r >= '0' && r <= '9' {
				digits++
			}
		}
		ck.Add(*b.Telefono != "" && (!telefonoPattern.MatchString(*b.Telefono) || digits < 6 || digits > 15 || len(*b.Telefono) > 30),
			"telefono", "El teléfono debe tener entre 6 y 15 dígitos (se permiten +, espacios, guiones y paréntesis)")
	}
	if b.Direccion != nil {
		*b.Direccion = strings.TrimSpace(*b.Direccion)
		ck.Add(utf8.RuneCountInString(*b.Direccion) > 200, "direccion", "La dirección no puede tener más de 200 caracteres")
	}
}

// orNil maps "" to nil: an empty contact field is stored as absent.
func orNil(s *string) *string {
	if s == nil || *s == "" {
		return nil
	}
	return s
}

func eqPtr(a, b *string) bool { return (a == nil && b == nil) || (a != nil && b != nil && *a == *b) }

// inTx runs fn in a transaction and wakes the relay after commit.
func (u *Users) inTx(ctx context.Context, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, after := u.svc.AfterCommit(ctx)
	if err := pg.WithTx(ctx, u.svc.Deps.Pool, func(tx pgx.Tx) error { return fn(ctx, tx) }); err != nil {
		return err
	}
	after()
	return nil
}

func (u *Users) profileUpdated(ctx context.Context, tx pgx.Tx, p profile) error {
	ev := events.UserProfileUpdatedV1{UserID: p.ID.String(), Nombre: p.Nombre, Apellido: p.Apellido}
	if p.AvatarURL != nil {
		ev.AvatarURL = *p.AvatarURL
	}
	env, err := events.New(Name, p.ID.String(), ev, events.Meta{}, u.svc.Deps.Now())
	if err != nil {
		return err
	}
	return outbox.Append(ctx, tx, env)
}

func (u *Users) updateMe(c *fiber.Ctx) error {
	var b updateBody
	if err := httpx.BindJSON(c, &b); err != nil {
		return err
	}
	var ck apperr.Checker
	if b.Nombre != nil {
		*b.Nombre = strings.TrimSpace(*b.Nombre)
		ck.Len("nombre", *b.Nombre, 1, 100)
	}
	if b.Apellido != nil {
		*b.Apellido = strings.TrimSpace(*b.Apellido)
		ck.Len("apellido", *b.Apellido, 1, 100)
	}
	checkContact(&ck, &b)
	if err := ck.Err(); err != nil {
		return err
	}
	p, err := u.me(c)
	if err != nil {
		return err
	}
	// The same email is accepted (the settings form sends it back); a different one is
	// refused rather than answered 200 and dropped: changing the login id is an auth
	// flow with its own verification, not a profile edit.
	if b.Email != nil && !strings.EqualFold(strings.TrimSpace(*b.Email), p.Email) {
		return errEmailChange
	}
	err = u.inTx(c.UserContext(), func(ctx context.Context, tx pgx.Tx) error {
		cur, found, err := profileByID(ctx, tx, p.ID, true)
		if err != nil {
			return err
		}
		if !found {
			return errProfileNotFound
		}
		next := cur
		if b.Nombre != nil {
			next.Nombre = *b.Nombre
		}
		if b.Apellido != nil {
			next.Apellido = *b.Apellido
		}
		if b.Telefono != nil {
			next.Telefono = orNil(b.Telefono)
		}
		if b.Direccion != nil {
			next.Direccion = orNil(b.Direccion)
		}
		p = next
		names := next.Nombre != cur.Nombre || next.Apellido != cur.Apellido
		if !names && eqPtr(next.Telefono, cur.Telefono) && eqPtr(next.Direccion, cur.Direccion) {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE profiles SET nombre = $2, apellido = $3, telefono = $4, direccion = $5,
			fecha_actualizacion = $6 WHERE id = $1`,
			p.ID, p.Nombre, p.Apellido, p.Telefono, p.Direccion, u.svc.Deps.Now()); err != nil {
			return pg.Translate(fmt.Errorf("update profile %s: %w", p.ID, err))
		}
		// Contact details are private to the profile: only a change other services show
		// (the names) is announced.
		if !names {
			return nil
		}
		return u.profileUpdated(ctx, tx, p)
	})
	if err != nil {
		return err
	}
	return c.JSON(p.read(u.svc.Deps.PublicURL))
}

func (u *Users) uploadAvatar(c *fiber.Ctx) error {
	mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
	if err != nil || mt != fiber.MIMEMultipartForm {
		return apperr.New(apperr.KindUnsupported, "unsupported_media_type", "Se esperaba multipart/form-data con el campo file")
	}
	fh, err := c.FormFile("file")
	if err != nil {
		return apperr.Validation(apperr.FieldError{Field: "file", Msg: "falta el archivo"})
	}
	f, err := upload.Read("file", fh, upload.MaxFile, upload.Images)
	if err != nil {
		return err
	}
	p, err := u.me(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	name := p.ID.String() + "-" + uuid.NewString() + upload.Ext(f.ContentType)
	if err := u.avatars.Put(ctx, name, f.ContentType, f.Data); err != nil {
		return err
	}
	url := AvatarPath + name
	var old *string
	err = u.inTx(ctx, func(ctx context.Context, tx pgx.Tx) error {
		cur, found, err := profileByID(ctx, tx, p.ID, true)
		if err != nil {
			return err
		}
		if !found {
			return errProfileNotFound
		}
		old = cur.AvatarName
		if _, err := tx.Exec(ctx, `UPDATE profiles SET avatar_url = $2, avatar_name = $3, fecha_actualizacion = $4 WHERE id = $1`,
			p.ID, url, name, u.svc.Deps.Now()); err != nil {
			return pg.Translate(fmt.Errorf("set avatar %s: %w", p.ID, err))
		}
		cur.AvatarURL, cur.AvatarName = &url, &name
		p = cur
		return u.profileUpdated(ctx, tx, p)
	})
	if err != nil {
		_ = u.avatars.Delete(context.WithoutCancel(ctx), name)
		return err
	}
	base := u.svc.Deps.PublicURL
	if old != nil && *old != name {
		// The old image is no longer referenced; a failed delete only leaves garbage.
		if err := u.avatars.Delete(context.WithoutCancel(ctx), *old); err != nil {
			u.svc.Deps.Log.Warn("delete old avatar failed", "name", *old, "err", err)
		}
	}
	return c.JSON(p.read(base))
}

var avatarName = regexp.MustCompile(`^[0-9a-f-]{36}-[0-9a-f-]{36}\.(jpg|png|gif|webp)$`)

func (u *Users) serveAvatar(c *fiber.Ctx) error {
	name := c.Params("name")
	if !avatarName.MatchString(name) {
		return apperr.NotFound("file_not_found", "Archivo no encontrado")
	}
	return u.avatars.Serve(c, name, true)
}

func (u *Users) search(c *fiber.Ctx) error {
	q := strings.TrimSpace(c.Query("q"))
	if n := len([]rune(q)); n < 2 || n > 100 {
		return apperr.Invalid("search_term_length", "La búsqueda debe tener entre 2 y 100 caracteres")
	}
	rows, err := u.svc.Deps.Pool.Query(c.UserContext(), `SELECT `+profileCols+` FROM profiles
		WHERE is_active AND lower(email || ' ' || nombre || ' ' || apellido) LIKE $1
		ORDER BY nombre, apellido, id LIMIT 20`, pg.LikePattern(strings.ToLower(q)))
	if err != nil {
		return pg.Translate(fmt.Errorf("search profiles: %w", err))
	}
	defer rows.Close()
	out := []UserBrief{}
	for rows.Next() {
		p, err := scanProfile(rows)
		if err != nil {
			return fmt.Errorf("scan profile: %w", err)
		}
		out = append(out, p.brief(u.svc.Deps.PublicURL))
	}
	if err := rows.Err(); err != nil {
		return pg.Translate(fmt.Errorf("search profiles: %w", err))
	}
	return c.JSON(out)
}

func (u *Users) internalUser(c *fiber.Ctx) error {
	id, err := uuid.Parse(c.Params("id"))
	if err != nil {
		return errProfileNotFound
	}
	p, err := u.load(c.UserContext(), id)
	if err != nil {
		return err
	}
	// Internal readers get the stored path, the same value UserProfileUpdated carries,
	// so a replica filled from either agrees.
	return c.JSON(p.brief(""))
}

package auth

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/url"
	"strings"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/httpx"
)

// Password length bounds. The upper bound keeps a single hash cheap to refuse.
const (
	minPassword = 8
	maxPassword = 128
)

// RegisterInput is a validated registration.
type RegisterInput struct {
	Email    string
	Password string
	Nombre   string
	Apellido string
	Rol      string
	OficioID *uuid.UUID
}

type registerBody struct {
	Email    string  `json:"email" jsonschema:"required,maxLength=254"`
	Password string  `json:"password" jsonschema:"required,minLength=8,maxLength=128"`
	Nombre   string  `json:"nombre" jsonschema:"required,minLength=1,maxLength=100"`
	Apellido string  `json:"apellido" jsonschema:"required,minLength=1,maxLength=100"`
	Rol      *string `json:"rol" jsonschema:"enum=CLIENTE,enum=PROFESIONAL" jsonschema_description:"CLIENTE when absent; case-insensitive"`
	OficioID *string `json:"oficio_id" jsonschema_description:"a trade's UUID, kept for a PROFESIONAL; empty means none"`
}

// normalizeEmail trims and lower-cases an email: the login id is case-insensitive.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// validEmail accepts a bare address (no display name) of at most 254 characters.
func validEmail(s string) bool {
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s {
		return false
	}
	at := strings.LastIndexByte(s, '@')
	return at > 0 && strings.Contains(s[at+1:], ".")
}

// DecodeRegister parses and validates a registration body: httpx.DecodeJSON (the decoder
// httpx.BindJSON runs after its media-type and size checks, which is how the handler
// reads it) and then the field rules. Errors are apperr values: 422 for bad fields, 403
// for a self-registered ADMIN.
func DecodeRegister(body []byte) (RegisterInput, error) {
	var b registerBody
	if err := httpx.DecodeJSON(body, &b); err != nil {
		return RegisterInput{}, err
	}
	return b.input()
}

// input validates and normalizes a decoded registration body.
func (b registerBody) input() (RegisterInput, error) {
	in := RegisterInput{Email: normalizeEmail(b.Email), Password: b.Password,
		Nombre: strings.TrimSpace(b.Nombre), Apellido: strings.TrimSpace(b.Apellido), Rol: authn.RoleCliente}
	var ck apperr.Checker
	ck.Add(!validEmail(in.Email), "email", "email inválido")
	checkPassword(&ck, "password", in.Password)
	ck.Len("nombre", in.Nombre, 1, 100)
	ck.Len("apellido", in.Apellido, 1, 100)
	if b.Rol != nil {
		r := strings.ToUpper(strings.TrimSpace(*b.Rol))
		switch r {
		case authn.RoleCliente, authn.RoleProfesional:
			in.Rol = r
		case authn.RoleAdmin:
			return RegisterInput{}, apperr.Forbidden("admin_registration_forbidden", "No se puede registrar una cuenta de administrador")
		default:
			ck.Add(true, "rol", "debe ser CLIENTE o PROFESIONAL")
		}
	}
	if b.OficioID != nil && *b.OficioID != "" {
		id, err := uuid.Parse(*b.OficioID)
		ck.Add(err != nil, "oficio_id", "debe ser un UUID")
		if err == nil && in.Rol == authn.RoleProfesional {
			in.OficioID = &id
		}
	}
	if err := ck.Err(); err != nil {
		return RegisterInput{}, err
	}
	return in, nil
}

// LoginInput is a parsed login.
type LoginInput struct {
	Email    string
	Password string
}

type loginBody struct {
	Email    string `json:"email" jsonschema_description:"the email (or username)"`
	Username string `json:"username"`
	Password string `json:"password" jsonschema:"required"`
}

// DecodeLogin parses a login in either form the API accepts: the OAuth2 password form
// (application/x-www-form-urlencoded or multipart, fields username and password) or JSON
// {email, password}. Errors: 415 other media types, 413 over 1 MiB, 422 missing fields.
func DecodeLogin(contentType string, body []byte) (LoginInput, error) {
	if len(body) > httpx.MaxJSONBody {
		return LoginInput{}, apperr.New(apperr.KindTooLarge, "body_too_large", "El cuerpo supera 1 MiB")
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "application/json", nil
	}
	if err != nil {
		return LoginInput{}, unsupportedLogin
	}
	var b loginBody
	switch {
	case mt == "application/json" || strings.HasSuffix(mt, "+json"):
		if err := httpx.DecodeJSON(body, &b); err != nil {
			return LoginInput{}, err
		}
	case mt == "application/x-www-form-urlencoded":
		v, err := url.ParseQuery(string(body))
		if err != nil {
			return LoginInput{}, apperr.Validation(apperr.FieldError{Field: "body", Msg: "formulario inválido"})
		}
		b.Username, b.Password = v.Get("username"), v.Get("password")
	case mt == "multipart/form-data":
		f, err := parseMultipart(body, params["boundary"])
		if err != nil {
			return LoginInput{}, err
		}
		b.Username, b.Password = f["username"], f["password"]
	default:
		return LoginInput{}, unsupportedLogin
	}
	in := LoginInput{Email: normalizeEmail(b.Email), Password: b.Password}
	if in.Email == "" {
		in.Email = normalizeEmail(b.Username)
	}
	var ck apperr.Checker
	ck.Add(in.Email == "" || len(in.Email) > 254, "username", "falta el email")
	// A form can carry a NUL, which PostgreSQL refuses in the account lookup (a 500).
	ck.Add(strings.ContainsRune(in.Email, 0), "username", "email inválido")
	ck.Add(in.Password == "" || len(in.Password) > 1024, "password", "falta la contraseña")
	if err := ck.Err(); err != nil {
		return LoginInput{}, err
	}
	return in, nil
}

var unsupportedLogin = apperr.New(apperr.KindUnsupported, "unsupported_media_type",
	"Se esperaba un formulario (username, password) o JSON (email, password)")

// parseMultipart reads the text fields of a small multipart form.
func parseMultipart(body []byte, boundary string) (map[string]string, error) {
	bad := apperr.Validation(apperr.FieldError{Field: "body", Msg: "formulario inválido"})
	if boundary == "" {
		return nil, bad
	}
	r := multipart.NewReader(bytes.NewReader(body), boundary)
	out := map[string]string{}
	for i := 0; i < 16; i++ {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, bad
		}
		v, err := io.ReadAll(io.LimitReader(p, 4096))
		if err != nil {
			return nil, bad
		}
		if name := p.FormName(); name != "" {
			out[name] = string(v)
		}
	}
	return out, nil
}

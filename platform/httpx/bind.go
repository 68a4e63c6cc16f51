package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
)

// MaxJSONBody is the SPEC's limit for JSON bodies.
const MaxJSONBody = 1 << 20

// BindJSON decodes the request body into dst. It refuses a non-JSON content type (415), a
// body over 1 MiB (413), malformed JSON and fields of the wrong type (422), and trailing
// data. Unknown fields are ignored, as the earlier API did.
func BindJSON(c *fiber.Ctx, dst any) error {
	ct := c.Get(fiber.HeaderContentType)
	if ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != fiber.MIMEApplicationJSON && !strings.HasSuffix(mt, "+json")) {
			return apperr.New(apperr.KindUnsupported, "unsupported_media_type", "Se esperaba un cuerpo application/json")
		}
	}
	body := c.Body()
	if len(body) > MaxJSONBody {
		return apperr.New(apperr.KindTooLarge, "body_too_large", "El cuerpo JSON supera 1 MiB")
	}
	return DecodeJSON(body, dst)
}

// BindOptionalJSON is BindJSON for endpoints whose body may be omitted altogether: an
// empty body leaves dst as it is.
func BindOptionalJSON(c *fiber.Ctx, dst any) error {
	if len(bytes.TrimSpace(c.Body())) == 0 {
		return nil
	}
	return BindJSON(c, dst)
}

// DecodeJSON decodes one JSON value into dst with the same error mapping as BindJSON.
func DecodeJSON(body []byte, dst any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return apperr.Validation(apperr.FieldError{Field: "body", Msg: "el cuerpo está vacío"})
	}
	if hasNUL(body) {
		return apperr.Validation(apperr.FieldError{Field: "body", Msg: "el texto no puede contener el carácter nulo (\\u0000)"})
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return apperr.Validation(apperr.FieldError{Field: "body", Msg: "datos extra después del JSON"})
	}
	return nil
}

// hasNUL reports a \u0000 escape in a JSON text (a raw NUL byte is invalid JSON anyway).
// PostgreSQL stores no U+0000 in text or jsonb: a string carrying it failed at the
// INSERT with a 500 (a chat message did) instead of being refused here with a 422.
func hasNUL(body []byte) bool {
	for i := 0; i < len(body); i++ {
		if body[i] == '\\' {
			if bytes.HasPrefix(body[i+1:], []byte("u0000")) {
				return true
			}
			i++ // skip the escaped character: in \\u0000 it is a backslash, then text
		}
	}
	return false
}

func jsonError(err error) error {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "body"
		}
		return apperr.Validation(apperr.FieldError{Field: field, Msg: fmt.Sprintf("tipo inválido, se esperaba %s", typeErr.Type)})
	}
	var fe *apperr.Error
	if errors.As(err, &fe) {
		return fe
	}
	var me interface{ FieldName() string }
	if errors.As(err, &me) {
		return apperr.Validation(apperr.FieldError{Field: me.FieldName(), Msg: err.Error()})
	}
	return apperr.Validation(apperr.FieldError{Field: "body", Msg: "JSON inválido"})
}

// Page is a parsed skip/limit or page/limit pair.
type Page struct {
	Skip  int
	Limit int
	Page  int
}

// MaxSkip bounds skip, and page × limit: nobody pages past a billion rows, and the bound
// keeps skip + limit inside a 32-bit integer, which SQL such as OFFSET $1::int assumes.
// Unbounded, a huge page overflowed into a negative OFFSET, which PostgreSQL refuses (a 500).
const MaxSkip = 1_000_000_000

// Paging reads skip/limit or page/limit (limit 1..100, default def). page wins over skip.
func Paging(c *fiber.Ctx, def int) (Page, error) {
	p := Page{Limit: def, Page: 1}
	var ck apperr.Checker
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		ck.Add(err != nil || n < 1 || n > 100, "limit", "debe ser un entero entre 1 y 100")
		p.Limit = n
	}
	if v := c.Query("skip"); v != "" {
		n, err := strconv.Atoi(v)
		ck.Add(err != nil || n < 0 || n > MaxSkip, "skip", "debe ser un entero entre 0 y 1000000000")
		p.Skip = n
	}
	if v := c.Query("page"); v != "" {
		n, err := strconv.Atoi(v)
		// Checked before multiplying: (n-1) × limit must not overflow nor pass MaxSkip.
		bad := err != nil || n < 1 || (p.Limit > 0 && n-1 > MaxSkip/p.Limit)
		ck.Add(bad, "page", "debe ser un entero ≥ 1 y page × limit no puede superar 1000000000")
		p.Page = n
		if !bad && p.Limit > 0 {
			p.Skip = (n - 1) * p.Limit
		}
	} else if p.Limit > 0 {
		p.Page = p.Skip/p.Limit + 1
	}
	return p, ck.Err()
}

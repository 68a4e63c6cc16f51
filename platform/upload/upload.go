// Package upload reads multipart files safely: a size limit per file, the type sniffed
// from the bytes (never trusted from the client's header or the file name), and one
// answer for each refusal, shared by every upload (avatar, portfolio image, KYC
// document): 413 too large, 400 `unsupported_file_type` for a file of a type not
// accepted (what the earlier system and its frontend expect), 422 missing or empty.
package upload

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strings"

	"github.com/conectarpro/conectar/platform/apperr"
)

// MaxFile is the SPEC's limit per uploaded file.
const MaxFile = 10 << 20

// Images are the accepted image types.
var Images = []string{"image/jpeg", "image/png", "image/gif", "image/webp"}

// Documents are the accepted KYC document types.
var Documents = []string{"image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf"}

// File is one accepted upload.
type File struct {
	Name        string
	ContentType string
	Data        []byte
}

// Read reads fh, refusing files over max bytes, empty files and types not in allowed.
func Read(field string, fh *multipart.FileHeader, max int64, allowed []string) (File, error) {
	if fh == nil {
		return File{}, apperr.Validation(apperr.FieldError{Field: field, Msg: "falta el archivo"})
	}
	if fh.Size > max {
		return File{}, apperr.New(apperr.KindTooLarge, "file_too_large", fmt.Sprintf("El archivo supera el máximo de %d MB", max>>20))
	}
	f, err := fh.Open()
	if err != nil {
		return File{}, apperr.Validation(apperr.FieldError{Field: field, Msg: "no se pudo leer el archivo"})
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return File{}, apperr.Validation(apperr.FieldError{Field: field, Msg: "no se pudo leer el archivo"})
	}
	if int64(len(data)) > max {
		return File{}, apperr.New(apperr.KindTooLarge, "file_too_large", fmt.Sprintf("El archivo supera el máximo de %d MB", max>>20))
	}
	if len(data) == 0 {
		return File{}, apperr.Validation(apperr.FieldError{Field: field, Msg: "el archivo está vacío"})
	}
	ct := Sniff(data)
	for _, a := range allowed {
		if ct == a {
			return File{Name: fh.Filename, ContentType: ct, Data: data}, nil
		}
	}
	// A file of the wrong type is a refused business input (400), not a request in a
	// media type the endpoint cannot parse (415 stays for a non-multipart request).
	return File{}, apperr.Invalid(CodeUnsupportedType, "Tipo de archivo no permitido: se aceptan "+describe(allowed))
}

// CodeUnsupportedType is the error code of a file whose sniffed type is not accepted.
const CodeUnsupportedType = "unsupported_file_type"

// describe names the accepted types for the refusal's detail, e.g. "JPEG, PNG o PDF".
func describe(allowed []string) string {
	names := make([]string, 0, len(allowed))
	for _, a := range allowed {
		switch a {
		case "image/webp":
			names = append(names, "WebP")
		case "image/jpeg", "image/png", "image/gif", "application/pdf":
			names = append(names, strings.ToUpper(a[strings.IndexByte(a, '/')+1:]))
		default:
			names = append(names, a)
		}
	}
	if len(names) <= 1 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " o " + names[len(names)-1]
}

// Sniff returns the content type of data by its magic bytes.
func Sniff(data []byte) string {
	if bytes.HasPrefix(data, []byte("%PDF-")) {
		return "application/pdf"
	}
	return http.DetectContentType(data)
}

// Ext is the file extension for an accepted content type.
func Ext(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "application/pdf":
		return ".pdf"
	}
	return ""
}

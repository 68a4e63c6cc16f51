package upload

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/conectarpro/conectar/platform/apperr"
)

// header builds a real multipart file header holding data.
func header(t *testing.T, name string, data []byte) *multipart.FileHeader {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	fw, err := w.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	w.Close()
	r := httptest.NewRequest(http.MethodPost, "/", &buf)
	r.Header.Set("Content-Type", w.FormDataContentType())
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		t.Fatal(err)
	}
	return r.MultipartForm.File["file"][0]
}

var png = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0}

func TestReadRefusals(t *testing.T) {
	for _, c := range []struct {
		name    string
		data    []byte
		max     int64
		allowed []string
		kind    apperr.Kind
		code    string
	}{
		{"text as image", []byte("esto no es una imagen"), MaxFile, Images, apperr.KindInvalid, CodeUnsupportedType},
		{"pdf as image", []byte("%PDF-1.4 hola"), MaxFile, Images, apperr.KindInvalid, CodeUnsupportedType},
		{"exe as document", []byte("MZ\x90\x00 binario"), MaxFile, Documents, apperr.KindInvalid, CodeUnsupportedType},
		{"too large", append(append([]byte{}, png...), make([]byte, 64)...), 32, Images, apperr.KindTooLarge, "file_too_large"},
		{"empty", nil, MaxFile, Images, apperr.KindValidation, "validation_error"},
	} {
		_, err := Read("file", header(t, "x.png", c.data), c.max, c.allowed)
		e, ok := apperr.As(err)
		if !ok || e.Kind != c.kind || e.Code != c.code {
			t.Errorf("%s: got %v, want kind %d code %s", c.name, err, c.kind, c.code)
		}
	}
	if _, err := Read("file", nil, MaxFile, Images); apperr.KindOf(err) != apperr.KindValidation {
		t.Errorf("missing file: %v", err)
	}
	f, err := Read("file", header(t, "a.bin", png), MaxFile, Images)
	if err != nil || f.ContentType != "image/png" || f.Name != "a.bin" {
		t.Fatalf("png accepted by its bytes whatever its name: %+v %v", f, err)
	}
	_, err = Read("file", header(t, "a.txt", []byte("hola")), MaxFile, Documents)
	if e, _ := apperr.As(err); e == nil || e.Msg != "Tipo de archivo no permitido: se aceptan JPEG, PNG, GIF, WebP o PDF" {
		t.Fatalf("detail names the accepted types: %v", err)
	}
}

package upload_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/httpx"
	"github.com/conectarpro/conectar/platform/upload"
)

// Magic-byte prefixes of every accepted type plus a few that must be refused, for seeds.
var (
	pngMagic  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00")
	jpegMagic = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
	gifMagic  = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!")
	webpMagic = []byte("RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00")
	pdfMagic  = []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n")
	svgText   = []byte(`<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>`)
	htmlText  = []byte("<!DOCTYPE html><script>alert(1)</script>")
	exeMagic  = []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")
	zipMagic  = []byte("PK\x03\x04\x14\x00\x00\x00\x08\x00")
)

// isCTL reports a control character, which no header value may carry.
func isCTL(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }

// fileHeader builds the multipart.FileHeader a server gets for one part carrying data,
// declared with name and partCT (both chosen by the client, both never to be trusted).
// ok is false when the fuzzer's name or type cannot be written as a part header.
func fileHeader(t *testing.T, name, partCT string, data []byte) (*multipart.FileHeader, bool) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{mime.FormatMediaType("form-data", map[string]string{"name": "file", "filename": name})}
	if partCT != "" {
		h["Content-Type"] = []string{partCT}
	}
	if h["Content-Disposition"][0] == "" || strings.ContainsFunc(partCT, isCTL) {
		return nil, false
	}
	pw, err := w.CreatePart(h)
	if err != nil {
		return nil, false
	}
	pw.Write(data)
	w.Close()
	r := httptest.NewRequest(http.MethodPost, "/", &buf)
	r.Header.Set("Content-Type", w.FormDataContentType())
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		t.Fatalf("a well-formed multipart body does not parse: %v", err)
	}
	fhs := r.MultipartForm.File["file"]
	if len(fhs) != 1 {
		return nil, false
	}
	return fhs[0], true
}

// FuzzRead checks the verdict on one uploaded file: a refusal is always a 4xx kind and
// the right one (413 over the limit, 422 empty, 400 wrong type); an accepted file keeps
// its bytes, has the type sniffed from them, and that type is allowed; and neither the
// file name nor the declared part type changes anything.
func FuzzRead(f *testing.F) {
	for _, s := range []struct {
		name, ct string
		data     []byte
		max      uint16
	}{
		{"foto.png", "image/png", pngMagic, 1000},
		{"foto.jpg", "image/jpeg", jpegMagic, 1000},
		{"anim.gif", "image/gif", gifMagic, 1000},
		{"x.webp", "image/webp", webpMagic, 1000},
		{"dni.pdf", "application/pdf", pdfMagic, 1000},
		{"dni.pdf", "application/pdf", pdfMagic, 10}, // too large
		{"a.svg", "image/svg+xml", svgText, 1000},
		{"a.png", "image/png", htmlText, 1000}, // lies about its type
		{"setup.exe", "application/octet-stream", exeMagic, 1000},
		{"a.zip", "", zipMagic, 1000},
		{"vacío.png", "image/png", nil, 1000},
		{"../../etc/passwd", "image/png", pngMagic, 1000},
		{"\"; filename*=UTF-8''x.png", "image/png; charset=\"", pngMagic, 1000},
		{"ñandú 📷.JPEG", "IMAGE/JPEG", jpegMagic, 0},
	} {
		f.Add(s.name, s.ct, s.data, s.max)
	}
	f.Fuzz(func(t *testing.T, name, partCT string, data []byte, max16 uint16) {
		max := int64(max16)
		fh, ok := fileHeader(t, name, partCT, data)
		if !ok {
			return
		}
		got, err := upload.Read("file", fh, max, upload.Documents)
		switch {
		case int64(len(data)) > max:
			if k := apperr.KindOf(err); k != apperr.KindTooLarge {
				t.Fatalf("%d bytes over a %d limit: kind %d (%v), want too large", len(data), max, k, err)
			}
		case len(data) == 0:
			if k := apperr.KindOf(err); k != apperr.KindValidation {
				t.Fatalf("empty file: kind %d (%v), want validation", k, err)
			}
		case err != nil:
			e, ok := apperr.As(err)
			if !ok || e.Kind != apperr.KindInvalid || e.Code != upload.CodeUnsupportedType {
				t.Fatalf("refused with %v, want unsupported_file_type", err)
			}
			if slices.Contains(upload.Documents, upload.Sniff(data)) {
				t.Fatalf("refused a %s file", upload.Sniff(data))
			}
		default:
			if !slices.Contains(upload.Documents, got.ContentType) || got.ContentType != upload.Sniff(data) {
				t.Fatalf("accepted as %q, sniffed %q", got.ContentType, upload.Sniff(data))
			}
			if !bytes.Equal(got.Data, data) || got.Name != fh.Filename || upload.Ext(got.ContentType) == "" {
				t.Fatalf("accepted file altered: %q %q", got.Name, got.Data)
			}
		}
		// What the client declares does not matter: the same bytes as "x.pdf" declared
		// application/pdf get the same verdict.
		fh2, _ := fileHeader(t, "x.pdf", "application/pdf", data)
		got2, err2 := upload.Read("file", fh2, max, upload.Documents)
		if apperr.KindOf(err2) != apperr.KindOf(err) || (err == nil) != (err2 == nil) || got2.ContentType != got.ContentType {
			t.Fatalf("verdict depends on the declared name/type: %v/%q vs %v/%q", err, got.ContentType, err2, got2.ContentType)
		}
		// Images are a subset of documents.
		if img, err := upload.Read("file", fh, max, upload.Images); err == nil && img.ContentType != got.ContentType {
			t.Fatalf("accepted as image %q but as document %q", img.ContentType, got.ContentType)
		}
	})
}

// uploadApp is a Fiber app built like every service's (httpx.NewApp: the one error
// handler, the body limit) with the two ways services take files: one "file" field
// (avatar, portfolio: users.uploadAvatar's steps) and up to five files (KYC:
// professionals.readKYCFiles' steps). The services' own handlers need a database and an
// object store; the multipart parsing and the refusals are these steps.
func uploadApp() *fiber.App {
	app := httpx.NewApp(httpx.Config{Name: "fuzz", BodyLimit: 1 << 20, Logger: nil})
	app.Post("/avatar", func(c *fiber.Ctx) error {
		mt, _, err := mime.ParseMediaType(c.Get(fiber.HeaderContentType))
		if err != nil || mt != fiber.MIMEMultipartForm {
			return apperr.New(apperr.KindUnsupported, "unsupported_media_type", "multipart expected")
		}
		fh, err := c.FormFile("file")
		if err != nil {
			return apperr.Validation(apperr.FieldError{Field: "file", Msg: "falta el archivo"})
		}
		f, err := upload.Read("file", fh, 4096, upload.Images)
		if err != nil {
			return err
		}
		return c.JSON(fiber.Map{"type": f.ContentType, "size": len(f.Data)})
	})
	app.Post("/kyc", func(c *fiber.Ctx) error {
		form, err := c.MultipartForm()
		if err != nil {
			return apperr.Validation(apperr.FieldError{Field: "files", Msg: "se esperaba un formulario multipart"})
		}
		fhs := append(append([]*multipart.FileHeader{}, form.File["files"]...), form.File["file"]...)
		if len(fhs) == 0 || len(fhs) > 5 {
			return apperr.Validation(apperr.FieldError{Field: "files", Msg: "de 1 a 5 documentos"})
		}
		var types []string
		for _, fh := range fhs {
			f, err := upload.Read("files", fh, 4096, upload.Documents)
			if err != nil {
				return err
			}
			types = append(types, f.ContentType)
		}
		return c.JSON(fiber.Map{"types": types})
	})
	return app
}

// seedBody is one request of the corpus.
type seedBody struct {
	ct   string
	body []byte
}

// multipartSeed is a well-formed body with one file part per data, under field.
func multipartSeed(boundary, field string, datas ...[]byte) seedBody {
	var b bytes.Buffer
	for i, d := range datas {
		fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=%q; filename=\"f%d\"\r\nContent-Type: image/png\r\n\r\n", boundary, field, i)
		b.Write(d)
		b.WriteString("\r\n")
	}
	fmt.Fprintf(&b, "--%s--\r\n", boundary)
	return seedBody{"multipart/form-data; boundary=" + boundary, b.Bytes()}
}

// FuzzUploadHTTP sends any body with any Content-Type to both upload endpoints: the
// answer is never a 5xx, every refusal has the error shape, and a 200 names only
// accepted types.
func FuzzUploadHTTP(f *testing.F) {
	for _, s := range []seedBody{
		multipartSeed("XyZ", "file", pngMagic),
		multipartSeed("XyZ", "files", pdfMagic, jpegMagic),
		multipartSeed("b", "files", pdfMagic, pdfMagic, pdfMagic, pdfMagic, pdfMagic, pdfMagic),
		multipartSeed("----WebKitFormBoundary7MA4YWxkTrZu0gW", "file", htmlText),
		multipartSeed("b", "file", bytes.Repeat(pngMagic, 200)),
		multipartSeed("b", "file", nil),
	} {
		f.Add(s.ct, s.body)
	}
	f.Add("multipart/form-data; boundary=b", []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n\x89PNG\r\n\x1a\n")) // no closing boundary
	f.Add("multipart/form-data", []byte("--b\r\n\r\n--b--"))
	f.Add("multipart/form-data; boundary=", []byte("----\r\n"))
	f.Add("multipart/mixed; boundary=b", []byte("--b--\r\n"))
	f.Add("application/json", []byte(`{"file":"iVBORw0KGgo="}`))
	f.Add("", []byte{})
	// A real listener, not app.Test: a body fasthttp cannot parse is answered by Fiber's
	// server error handler, which app.Test reports as an error instead of a response.
	app := uploadApp()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.Fatal(err)
	}
	go func() { _ = app.Listener(ln) }()
	f.Cleanup(func() { _ = app.Shutdown() })
	base := "http://" + ln.Addr().String()
	client := &http.Client{Timeout: 30 * time.Second}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		if strings.ContainsFunc(ct, isCTL) || len(body) > 1<<16 {
			return // not sendable as a header value / kept small to stay fast
		}
		for _, path := range []string{"/avatar", "/kyc"} {
			req, err := http.NewRequest(http.MethodPost, base+path, bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if ct != "" {
				req.Header.Set("Content-Type", ct)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode >= 500 {
				t.Fatalf("%s with %q: %d %s", path, ct, resp.StatusCode, raw)
			}
			if resp.StatusCode != http.StatusOK {
				var eb httpx.ErrorBody
				if json.Unmarshal(raw, &eb) != nil || eb.Code == "" {
					t.Fatalf("%s: %d without the error shape: %s", path, resp.StatusCode, raw)
				}
				continue
			}
			var ok struct {
				Type  string   `json:"type"`
				Types []string `json:"types"`
			}
			if err := json.Unmarshal(raw, &ok); err != nil {
				t.Fatal(err)
			}
			if path == "/avatar" && !slices.Contains(upload.Images, ok.Type) {
				t.Fatalf("avatar accepted as %q", ok.Type)
			}
			for _, ty := range ok.Types {
				if !slices.Contains(upload.Documents, ty) {
					t.Fatalf("KYC accepted a %q", ty)
				}
			}
		}
	})
}

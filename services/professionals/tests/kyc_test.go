package tests

import (
	"bytes"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/services/professionals"
)

func TestKYCUploadsAreCheckedAndPrivate(t *testing.T) {
	h := newHarness(t)
	p := h.register("Kay", "Ci", "")
	other := h.register("Otro", "Pro", "")
	adm := h.adminToken()
	cli := h.token(uuid.NewString(), authn.RoleCliente)
	up := "/api/v1/professional/kyc/upload"

	for _, f := range []part{{"files", "a.exe", []byte("MZ\x90\x00 not a document")}, {"files", "a.pdf", []byte("plain text pretending to be pdf")}} {
		// A wrong type is a 400 with our code, as the earlier system answered (not 415).
		if e := h.upload(up, p.token, f).ExpectError(t, 400, "wrong type "+f.name); e["code"] != "unsupported_file_type" {
			t.Fatalf("wrong type %s: %v", f.name, e)
		}
	}
	h.upload(up, p.token, part{"files", "empty.pdf", nil}).Expect(t, 422, "empty file")
	big := append(append([]byte{}, pdfDoc...), bytes.Repeat([]byte("0"), 10<<20)...)
	if r := h.upload(up, p.token, part{"files", "big.pdf", big}); r.Status != 413 {
		t.Fatalf("too large: %d %s", r.Status, r.Body)
	}
	six := []part{}
	for i := 0; i < 6; i++ {
		six = append(six, part{"files", "d.pdf", pdfDoc})
	}
	h.upload(up, p.token, six...).Expect(t, 422, "six files")
	h.upload(up, p.token).Expect(t, 422, "no files")
	h.do("POST", up, p.token, map[string]any{}).Expect(t, 415, "json to upload")
	h.do("POST", "/api/v1/professional/kyc/submit", p.token, nil).Expect(t, 400, "submit without documents")
	if st := h.do("GET", "/api/v1/professional/kyc/status", p.token, nil).Map(t); st["estado_verificacion"] != "PENDIENTE" {
		t.Fatalf("state changed by refused uploads: %v", st)
	}
	if len(h.published("KYCSubmitted")) != 0 {
		t.Fatal("KYCSubmitted after refused uploads")
	}

	r := h.upload(up, p.token, part{"files", "dni.pdf", pdfDoc}, part{"files", "selfie.png", pngImg})
	r.Expect(t, 200, "upload")
	st := r.Map(t)
	docs := st["documentos"].([]any)
	if st["estado_verificacion"] != "EN_REVISION" || len(docs) != 2 {
		t.Fatalf("after upload %v", st)
	}
	docURL := h.path(docs[0].(map[string]any)["url"])
	// Documents: owner and admins only; others cannot tell it exists.
	if r := h.do("GET", docURL, p.token, nil); r.Status != 200 || !bytes.Equal(r.Body, pdfDoc) || r.Header.Get("Cache-Control") != "private, no-store" {
		t.Fatalf("owner reads document: %d %q", r.Status, r.Header.Get("Cache-Control"))
	}
	h.do("GET", docURL, adm, nil).Expect(t, 200, "admin reads document")
	h.do("GET", docURL, other.token, nil).Expect(t, 404, "other professional")
	h.do("GET", docURL, cli, nil).Expect(t, 404, "client")
	h.do("GET", docURL, "", nil).Expect(t, 401, "anonymous")

	// Admin queue: in review, oldest first, with links.
	h.upload(up, other.token, part{"files", "x.pdf", pdfDoc})
	var queue []map[string]any
	h.do("GET", "/api/v1/admin/kyc/pendientes", adm, nil).Decode(t, &queue)
	if len(queue) != 2 || queue[0]["id"] != p.profID || queue[1]["id"] != other.profID || len(queue[0]["documentos"].([]any)) != 2 {
		t.Fatalf("queue %v", queue)
	}
	if !strings.HasPrefix(h.path(queue[0]["documentos"].([]any)[0].(map[string]any)["url"]), "/api/v1/professional/kyc/documentos/") {
		t.Fatalf("links %v", queue[0]["documentos"])
	}

	// A reason, when given, must be 1–500 characters (refusals change nothing); then
	// approve is refused (not in review); re-upload starts a new round with only the new
	// documents.
	h.do("POST", "/api/v1/admin/kyc/reject/"+other.profID, adm, map[string]any{"reason": "  "}).Expect(t, 422, "blank reason")
	h.do("PUT", "/api/v1/admin/kyc/"+other.profID+"/reject", adm, map[string]any{"motivo": strings.Repeat("x", 501)}).Expect(t, 422, "long reason")
	if st := h.do("GET", "/api/v1/professional/kyc/status", other.token, nil).Map(t); st["estado_verificacion"] != "EN_REVISION" {
		t.Fatalf("refused rejections changed the state: %v", st)
	}
	r = h.do("PUT", "/api/v1/admin/kyc/"+other.profID+"/reject", adm, map[string]any{"reason": "DNI ilegible"})
	if r.Expect(t, 200, "reject"); r.Map(t)["status"] != "rechazado" {
		t.Fatalf("reject %s", r.Body)
	}
	h.do("POST", "/api/v1/admin/kyc/approve/"+other.profID, adm, nil).Expect(t, 400, "approve a rejected profile")
	if st := h.do("GET", "/api/v1/professional/kyc/status", other.token, nil).Map(t); st["estado_verificacion"] != "RECHAZADO" || st["motivo_rechazo"] != "DNI ilegible" {
		t.Fatalf("rejected status %v", st)
	}
	r = h.upload("/api/v1/professional/kyc/submit", other.token, part{"files", "nuevo.png", pngImg})
	if st := r.Map(t); st["estado_verificacion"] != "EN_REVISION" || len(st["documentos"].([]any)) != 1 {
		t.Fatalf("resubmit %v", st)
	}
	// The admin page rejects with `{}` or no body at all: a default reason is recorded.
	h.do("PUT", "/api/v1/admin/kyc/"+other.profID+"/reject", adm, map[string]any{}).Expect(t, 200, "reject with {}")
	st = h.do("GET", "/api/v1/professional/kyc/status", other.token, nil).Map(t)
	if st["kyc_status"] != "RECHAZADO" || st["verificado"] != false || st["motivo_rechazo"] != professionals.DefaultRejectReason {
		t.Fatalf("status after a reasonless rejection %v", st)
	}
	h.upload("/api/v1/professional/kyc/submit", other.token, part{"files", "otro.png", pngImg}).Expect(t, 200, "third round")
	h.raw("PUT", "/api/v1/admin/kyc/"+other.profID+"/reject", adm, "", nil).Expect(t, 200, "reject without a body")

	r = h.do("POST", "/api/v1/admin/kyc/approve/"+p.profID, adm, nil)
	if r.Expect(t, 200, "approve"); r.Map(t)["status"] != "aprobado" {
		t.Fatalf("approve %s", r.Body)
	}
	h.do("PUT", "/api/v1/admin/kyc/"+p.profID+"/approve", adm, nil).Expect(t, 400, "approve twice")
	h.upload(up, p.token, part{"files", "d.pdf", pdfDoc}).Expect(t, 400, "upload after approval")
	h.do("POST", "/api/v1/admin/kyc/approve/"+uuid.NewString(), adm, nil).Expect(t, 404, "approve unknown")
	if st := h.do("GET", "/api/v1/professional/kyc/status", p.token, nil).Map(t); st["kyc_status"] != "APROBADO" || st["verificado"] != true {
		t.Fatalf("approved status %v", st)
	}

	h.eventually("KYC events", func() bool {
		return len(h.published("KYCSubmitted")) == 4 && len(h.published("KYCApproved")) == 1 && len(h.published("KYCRejected")) == 3
	})
	rej, _ := events.Decode[events.KYCRejectedV1](h.published("KYCRejected")[0])
	if rej.Motivo != "DNI ilegible" || rej.ProfesionalID != other.profID {
		t.Fatalf("KYCRejected %+v", rej)
	}
	h.eventually("profile update with the new state", func() bool {
		for _, env := range h.published("ProfessionalProfileUpdated") {
			e, _ := events.Decode[events.ProfessionalProfileUpdatedV1](env)
			if e.ProfesionalID == p.profID && e.EstadoVerificacion == "APROBADO" {
				return true
			}
		}
		return false
	})
}

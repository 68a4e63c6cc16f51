package auth

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// clientError reports whether err is an apperr of a 4xx kind (never internal).
func clientError(err error) bool {
	switch apperr.KindOf(err) {
	case apperr.KindValidation, apperr.KindInvalid, apperr.KindForbidden, apperr.KindTooLarge, apperr.KindUnsupported:
		return true
	}
	return false
}

func FuzzRegisterDecode(f *testing.F) {
	for _, s := range []string{
		`{"email":"a@b.co","password":"secreto123","nombre":"A","apellido":"B"}`,
		`{"email":"A@B.CO ","password":"secreto123","nombre":"Ana","apellido":"Pérez","rol":"PROFESIONAL","oficio_id":"6f1c2d3e-4b5a-4c6d-8e7f-001122334455"}`,
		`{"email":"a@b.co","password":"secreto123","nombre":"A","apellido":"B","rol":"ADMIN"}`,
		`{"email":"a@b.co","password":"x","nombre":"","apellido":"B","rol":"otro","oficio_id":"zz"}`,
		`{"email":"\"x\"@b.co","password":"secreto123","nombre":"A","apellido":"B"}`,
		`{"email":"Ana <a@b.co>","password":"secreto123","nombre":"A","apellido":"B"}`,
		`{"email":5}`, `[]`, `null`, ``, `{`, `{"rol":null}`, "\xff\xfe",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, err := DecodeRegister(body)
		if err != nil {
			if !clientError(err) {
				t.Fatalf("non-4xx error %v for %q", err, body)
			}
			return
		}
		// Whatever is accepted satisfies every rule.
		if in.Email != strings.ToLower(strings.TrimSpace(in.Email)) || !validEmail(in.Email) {
			t.Fatalf("accepted email %q", in.Email)
		}
		if n := utf8.RuneCountInString(in.Password); n < minPassword || n > maxPassword {
			t.Fatalf("accepted password of %d chars", n)
		}
		for _, s := range []string{in.Nombre, in.Apellido} {
			if n := utf8.RuneCountInString(s); n < 1 || n > 100 || s != strings.TrimSpace(s) {
				t.Fatalf("accepted name %q", s)
			}
		}
		if in.Rol != authn.RoleCliente && in.Rol != authn.RoleProfesional {
			t.Fatalf("accepted rol %q", in.Rol)
		}
		if in.OficioID != nil && in.Rol != authn.RoleProfesional {
			t.Fatal("oficio for a non-professional")
		}
	})
}

func FuzzLoginDecode(f *testing.F) {
	for _, s := range []struct{ ct, body string }{
		{"application/json", `{"email":"a@b.co","password":"secreto123"}`},
		{"application/json", `{"username":"A@B.CO","password":"x"}`},
		{"application/x-www-form-urlencoded", "username=a%40b.co&password=secreto123"},
		{"application/x-www-form-urlencoded", "username=&password="},
		{"application/x-www-form-urlencoded", "%zz"},
		{"multipart/form-data; boundary=XX", "--XX\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\na@b.co\r\n--XX--\r\n"},
		{"multipart/form-data", "x"},
		{"text/plain", "hola"},
		{"", `{"email":"a@b.co","password":"p"}`},
		{"application/json; charset=utf-8", `null`},
		{"application/json", `{"password":5}`},
		{";;", ""},
	} {
		f.Add(s.ct, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		in, err := DecodeLogin(ct, body)
		if err != nil {
			if !clientError(err) {
				t.Fatalf("non-4xx error %v for %q %q", err, ct, body)
			}
			return
		}
		if in.Email == "" || in.Password == "" || in.Email != strings.ToLower(strings.TrimSpace(in.Email)) {
			t.Fatalf("accepted %+v", in)
		}
	})
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@b.co": true, "ana.perez+x@mail.example.com": true,
		"": false, "a@b": false, "Ana <a@b.co>": false, "a b@c.co": false, "@b.co": false, "a@": false,
		strings.Repeat("a", 250) + "@b.co": false,
	} {
		if got := validEmail(s); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

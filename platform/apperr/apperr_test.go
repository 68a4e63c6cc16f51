package apperr

import "testing"

func TestValidationDetailNamesTheField(t *testing.T) {
	for _, tc := range []struct {
		fields []FieldError
		want   string
	}{
		{nil, "Datos inválidos"},
		{[]FieldError{{Field: "nombre", Msg: "debe tener entre 1 y 100 caracteres"}},
			"Datos inválidos en nombre: debe tener entre 1 y 100 caracteres"},
		{[]FieldError{{Field: "password", Msg: "La contraseña debe tener al menos 8 caracteres"}},
			"La contraseña debe tener al menos 8 caracteres"},
		{[]FieldError{{Field: "body", Msg: "el cuerpo está vacío"}}, "El cuerpo está vacío"},
		{[]FieldError{{Field: "email", Msg: "email inválido"}, {Field: "nombre", Msg: "falta"}},
			"Datos inválidos en email: email inválido (y 1 campo más)"},
		{[]FieldError{{Field: "a", Msg: "x"}, {Field: "b", Msg: "y"}, {Field: "c", Msg: "z"}},
			"Datos inválidos en a: x (y 2 campos más)"},
	} {
		e := Validation(tc.fields...)
		if e.Msg != tc.want || len(e.Fields) != len(tc.fields) || e.Kind != KindValidation {
			t.Errorf("%v: detail %q, want %q", tc.fields, e.Msg, tc.want)
		}
	}
	var ck Checker
	ck.Len("apellido", "", 1, 100)
	if e, _ := As(ck.Err()); e == nil || e.Msg != "Datos inválidos en apellido: debe tener entre 1 y 100 caracteres" {
		t.Errorf("checker detail: %+v", e)
	}
}

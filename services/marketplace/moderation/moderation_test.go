package moderation

import (
	"slices"
	"testing"
)

func TestCheck(t *testing.T) {
	cases := []struct {
		text    string
		blocked bool
		reason  string // one reason that must be present when blocked
	}{
		// Phones in the ways people write them in Argentina.
		{"Llamame al 11 4567-8901 y coordinamos", true, ReasonPhone},
		{"mi cel es 15-4567-8901", true, ReasonPhone},
		{"+54 9 11 4567 8901", true, ReasonPhone},
		{"escribime al +5491145678901", true, ReasonPhone},
		{"(011) 4567-8901 de 9 a 18", true, ReasonPhone},
		{"tel 4567.8901", true, ReasonPhone},
		{"1 1 4 5 6 7 8 9 0 1 ese es mi numero", true, ReasonPhone},
		{"0351 15 612 3456 (Córdoba)", true, ReasonPhone},
		// Emails, spelled out too.
		{"mandame un mail a juan.perez@gmail.com", true, ReasonEmail},
		{"juan_perez @ hotmail.com.ar", true, ReasonEmail},
		{"juanperez arroba gmail punto com", true, ReasonEmail},
		{"juan . perez @ yahoo . com", true, ReasonEmail},
		{"escribime: juan.perez @ yahoo . com . ar", true, ReasonEmail},
		{"JUAN_PEREZ@ GMAIL .COM", true, ReasonEmail},
		// Social networks, handles and links.
		{"pasame tu whatsapp", true, ReasonSocial},
		{"hablemos por wsp mejor", true, ReasonSocial},
		{"buscame en instagram como @plomero.juan", true, ReasonSocial},
		{"mi ig es @juanplomero", true, ReasonSocial},
		{"@juanplomero", true, ReasonSocial},
		{"te paso mi telegram", true, ReasonSocial},
		{"wa.me/5491145678901", true, ReasonLink},
		{"https://t.me/juanplomero", true, ReasonLink},
		{"mirá mis trabajos en www.juanplomero.com.ar", true, ReasonLink},
		{"todo en plomeriajuan.com", true, ReasonLink},
		// Ordinary messages that must pass.
		{"lo hago en 3 horas por la mañana", false, ""},
		{"nos vemos @ casa . te aviso antes", false, ""},
		{"llego a las 9 . el martes @ la obra . saludos", false, ""},
		{"Hola, ¿podés venir el martes?", false, ""},
		{"El presupuesto sería de $15.000 con materiales incluidos", false, ""},
		{"Sale $ 250.000, la mano de obra es aparte", false, ""},
		{"en total son 10.000.000 por toda la obra", false, ""},
		{"$12500000 total", false, ""},
		{"12500000 pesos en total", false, ""},
		{"sale entre 15000-20000 según el material", false, ""},
		{"opciones: 1500 2000 o 3000 por metro", false, ""},
		{"Vivo en Av. Rivadavia 4500, piso 3, depto B", false, ""},
		{"Calle 13 nro 1250 entre 5 y 6, La Plata", false, ""},
		{"El 15/03/2025 a las 14:30 estoy libre", false, ""},
		{"puedo el 12, 13 o 14 de marzo", false, ""},
		{"necesito 2 caños de 3/4 y 15 metros de cable de 2,5 mm", false, ""},
		{"son 3 ambientes de 4 x 5 metros", false, ""},
		{"mi DNI es 30.123.456 para el seguro", false, ""},
		{"trabajo desde 2015, tengo 10 años de experiencia", false, ""},
		{"Te mando la oferta formal por acá", false, ""},
		{"la instalación del termotanque lleva 2 horas", false, ""},
		{"", false, ""},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			r := Check(tc.text)
			if r.Blocked != tc.blocked {
				t.Fatalf("Check(%q).Blocked = %v (reasons %v), want %v", tc.text, r.Blocked, r.Reasons, tc.blocked)
			}
			if tc.blocked && !slices.Contains(r.Reasons, tc.reason) {
				t.Fatalf("Check(%q).Reasons = %v, want %s among them", tc.text, r.Reasons, tc.reason)
			}
		})
	}
}

func TestHash(t *testing.T) {
	if Hash("a") == Hash("b") || len(Hash("a")) != 64 || Hash("x") != Hash("x") {
		t.Fatal("Hash must be a stable 64-char hex digest")
	}
}

// FuzzCheck: never panics, is deterministic, reasons iff blocked, and contact data
// appended to any text is always caught.
func FuzzCheck(f *testing.F) {
	for _, s := range []string{"lo hago en 3 horas", "11 4567-8901", "a@b.co", "$15.000", "@@@", "+++((()))", "1.1.1.1.1.1.1.1", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r := Check(s)
		if r.Blocked != (len(r.Reasons) > 0) {
			t.Fatalf("Blocked=%v with reasons %v", r.Blocked, r.Reasons)
		}
		if r2 := Check(s); r2.Blocked != r.Blocked || !slices.Equal(r2.Reasons, r.Reasons) {
			t.Fatalf("not deterministic for %q", s)
		}
		if !Check(s + " escribime a juan.perez@gmail.com").Blocked {
			t.Fatalf("email after %q not caught", s)
		}
		if !Check(s + " llamame al 11 4567 8901").Blocked {
			t.Fatalf("phone after %q not caught", s)
		}
	})
}

func TestCensoredTextPasses(t *testing.T) {
	if Check(Censored).Blocked {
		t.Fatal("the censored placeholder must not itself be blocked")
	}
}

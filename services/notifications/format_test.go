package notifications

import "testing"

func TestFormatARS(t *testing.T) {
	for c, want := range map[int64]string{0: "$ 0,00", 5: "$ 0,05", 1500000: "$ 15.000,00", 123456789: "$ 1.234.567,89", -250: "-$ 2,50"} {
		if got := formatARS(c); got != want {
			t.Errorf("formatARS(%d) = %q, want %q", c, got, want)
		}
	}
}

func TestPercent(t *testing.T) {
	for bp, want := range map[int]string{2000: "20 %", 1800: "18 %", 1250: "12,50 %"} {
		if got := percent(bp); got != want {
			t.Errorf("percent(%d) = %q, want %q", bp, got, want)
		}
	}
}

func TestPreferencesGovernCategories(t *testing.T) {
	p := DefaultPreferences()
	if !p.email(TipoOferta) || p.email(TipoMensaje) || p.push(TipoMensaje) || !p.push(TipoPago) {
		t.Fatalf("defaults: %+v", p)
	}
	p.EmailResenas, p.PushMensajes = false, true
	if p.email(TipoResena) || !p.push(TipoMensaje) || p.email("desconocido") || p.push("desconocido") {
		t.Fatalf("changed: %+v", p)
	}
}

func TestTruncate(t *testing.T) {
	if got := truncate("  cañería  ", 10); got != "cañería" {
		t.Errorf("got %q", got)
	}
	if got := truncate("ñññññ", 3); got != "ñññ…" {
		t.Errorf("got %q", got)
	}
}

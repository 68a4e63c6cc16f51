package professionals

import (
	"testing"

	"github.com/conectarpro/conectar/platform/bank"
)

func TestNormalizePayout(t *testing.T) {
	ok := map[string]string{
		"2850590940090418135201":      "2850590940090418135201",
		" 2850 5909 4009 0418 135201": "2850590940090418135201",
		"Juan.Perez.MP":               "juan.perez.mp",
		"abc-12":                      "abc-12",
	}
	for in, want := range ok {
		got, err := NormalizePayout(in)
		if err != nil || got != want {
			t.Errorf("NormalizePayout(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "abc", "2850590940090418135202", "12345678", "con espacio", "alias_con_guion_bajo", "aaaaaaaaaaaaaaaaaaaaa", "ñandú.pago"} {
		if _, err := NormalizePayout(bad); err == nil {
			t.Errorf("NormalizePayout(%q) accepted", bad)
		}
	}
}

// FuzzNormalizePayout: any input either is refused or comes out as a valid CBU/CVU or
// alias, and normalizing the output again is a no-op.
func FuzzNormalizePayout(f *testing.F) {
	for _, s := range []string{"2850590940090418135201", "juan.perez", "ÑANDÚ", " 2850 5909 4009 0418 1352 01 ", "-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizePayout(in)
		if err != nil {
			return
		}
		if !bank.ValidCBU(out) && !bank.ValidAlias(out) {
			t.Fatalf("NormalizePayout(%q) = %q, neither CBU nor alias", in, out)
		}
		if again, err := NormalizePayout(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
	})
}

package professionals

import "testing"

func TestValidCBU(t *testing.T) {
	cases := map[string]bool{
		"2850590940090418135201":  true,  // Banco Macro example
		"0000003100010000000001":  false, // both check digits wrong? computed below
		"2850590940090418135202":  false, // second check digit off
		"2850591940090418135201":  false, // first check digit off
		"285059094009041813520":   false, // 21 digits
		"28505909400904181352011": false,
		"28505909400904181352a1":  false,
	}
	// Build a valid CVU (prefix 000) from its data digits to exercise the algorithm on a
	// second known-good number.
	cvu := "0000003" + string(rune('0'+check("0000003"))) + "1234567890123"
	cvu += string(rune('0' + check("1234567890123")))
	cases[cvu] = true
	for s, want := range cases {
		if got := ValidCBU(s); got != want {
			t.Errorf("ValidCBU(%q) = %v, want %v", s, got, want)
		}
	}
}

// check is an independent formulation of the BCRA check digit: weights 3,9,7,1 repeating
// from the right-most data digit leftwards (…9,7,1,3).
func check(data string) int {
	w := []int{3, 1, 7, 9}
	sum := 0
	for i := 0; i < len(data); i++ {
		d := int(data[len(data)-1-i] - '0')
		sum += d * w[i%4]
	}
	return (10 - sum%10) % 10
}

func TestCheckMatchesKnownCBU(t *testing.T) {
	if check("2850590") != 9 || check("4009041813520") != 1 {
		t.Fatal("independent check digit formula disagrees with the known CBU")
	}
}

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
		if !ValidCBU(out) && !ValidAlias(out) {
			t.Fatalf("NormalizePayout(%q) = %q, neither CBU nor alias", in, out)
		}
		if again, err := NormalizePayout(out); err != nil || again != out {
			t.Fatalf("not idempotent: %q → %q → %q, %v", in, out, again, err)
		}
	})
}

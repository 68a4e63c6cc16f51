package bank

import (
	"strings"
	"testing"
)

func TestValidCBU(t *testing.T) {
	cases := map[string]bool{
		"2850590940090418135201":  true,  // Banco Macro example
		"0000003100010000000001":  false, // block 1 is right; block 2's check digit should be 9
		"2850590940090418135202":  false, // second check digit off
		"2850591940090418135201":  false, // first check digit off
		"285059094009041813520":   false, // 21 digits
		"28505909400904181352011": false,
		"28505909400904181352a1":  false,
		"2850 590940090418135201": false, // callers strip spaces first
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

func TestValidAlias(t *testing.T) {
	cases := map[string]bool{
		"juan.perez.mp": true, "abc-12": true, "a1b2c3d4e5f6g7h8i9j0": true,
		"abc12": false, "a1b2c3d4e5f6g7h8i9j0k": false, "Juan.Perez": false, "con espacio": false,
		"alias_con_guion": false, "ñandú.pago": false, "": false,
	}
	for s, want := range cases {
		if got := ValidAlias(s); got != want {
			t.Errorf("ValidAlias(%q) = %v, want %v", s, got, want)
		}
	}
}

// FuzzValidCBU: ValidCBU agrees with the independent check-digit formula on every input,
// and a CBU is never also an alias only by accident of length (22 > 20).
func FuzzValidCBU(f *testing.F) {
	for _, s := range []string{"2850590940090418135201", "2850590940090418135202", "0000003100010000000001", "", "28505909400904181352a1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want := len(s) == 22 && strings.Trim(s, "0123456789") == "" &&
			check(s[:7]) == int(s[7]-'0') && check(s[8:21]) == int(s[21]-'0')
		if got := ValidCBU(s); got != want {
			t.Fatalf("ValidCBU(%q) = %v, independent check says %v", s, got, want)
		}
		if ValidCBU(s) && ValidAlias(s) {
			t.Fatalf("%q is both a CBU and an alias", s)
		}
	})
}

// FuzzValidAlias: an accepted alias has 6–20 bytes, all of them in [a-z0-9.-].
func FuzzValidAlias(f *testing.F) {
	for _, s := range []string{"juan.perez.mp", "abc-12", "ÑANDÚ", "abc_12", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !ValidAlias(s) {
			return
		}
		if len(s) < 6 || len(s) > 20 || strings.Trim(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") != "" {
			t.Fatalf("ValidAlias accepted %q", s)
		}
	})
}

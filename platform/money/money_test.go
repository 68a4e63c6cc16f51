package money_test

import (
	"encoding/json"
	"testing"

	"github.com/conectarpro/conectar/platform/money"
)

func TestParse(t *testing.T) {
	ok := map[string]money.Centavos{"0": 0, "1500": 150000, "1500.5": 150050, "1500.50": 150050, "0.01": 1,
		"10.500": 1050, "-3.25": -325, "9999999999999.99": 999999999999999}
	for in, want := range ok {
		got, err := money.Parse(in)
		if err != nil || got != want {
			t.Errorf("Parse(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", ".", "1.", ".5", "1.234", "1e3", "abc", "1,5", "12345678901234", "--1", "1.2.3", " "} {
		if _, err := money.Parse(in); err == nil {
			t.Errorf("Parse(%q) accepted", in)
		}
	}
}

func TestJSON(t *testing.T) {
	var v struct {
		P money.Centavos `json:"p"`
	}
	if err := json.Unmarshal([]byte(`{"p": 1234.56}`), &v); err != nil || v.P != 123456 {
		t.Fatalf("unmarshal = %d, %v", v.P, err)
	}
	// 0.1 + 0.2 style values would drift as floats; the text is read exactly.
	if err := json.Unmarshal([]byte(`{"p": 0.29}`), &v); err != nil || v.P != 29 {
		t.Fatalf("unmarshal 0.29 = %d, %v", v.P, err)
	}
	for _, bad := range []string{`{"p": 1.005}`, `{"p": 1e2}`, `{"p": true}`} {
		if err := json.Unmarshal([]byte(bad), &v); err == nil {
			t.Errorf("accepted %s", bad)
		}
	}
	b, _ := json.Marshal(struct {
		P money.Centavos `json:"p"`
	}{150005})
	if string(b) != `{"p":1500.05}` {
		t.Fatalf("marshal = %s", b)
	}
}

func TestPercentBP(t *testing.T) {
	cases := []struct {
		amount money.Centavos
		bp     int
		want   money.Centavos
	}{
		{100000, 2000, 20000}, // 1000.00 at 20 % = 200.00
		{12345, 1800, 2222},   // 123.45 × 18 % = 22.221 → 22.22
		{12347, 1500, 1852},   // 123.47 × 15 % = 18.5205 → 18.52
		{5, 1000, 1},          // 0.05 × 10 % = 0.005 → 0.01 (half up)
		{4, 1000, 0},          // 0.04 × 10 % = 0.004 → 0.00
		{33333, 1500, 5000},   // 333.33 × 15 % = 49.9995 → 50.00
	}
	for _, c := range cases {
		if got := c.amount.PercentBP(c.bp); got != c.want {
			t.Errorf("%s × %dbp = %s, want %s", c.amount, c.bp, got, c.want)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1.5", "10.500", "-1", "1e3", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := money.Parse(s)
		if err != nil {
			return
		}
		back, err := money.Parse(v.String())
		if err != nil || back != v {
			t.Fatalf("%q → %d → %q → %d, %v", s, v, v.String(), back, err)
		}
	})
}

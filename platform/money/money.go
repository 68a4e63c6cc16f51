// Package money holds amounts of ARS as integer centavos. In JSON an amount is a number
// with two decimals (1500.5 → 1500.50); parsing reads the number's text, never a float,
// so no amount is ever rounded on the way in.
package money

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Centavos is an amount of ARS in centavos.
type Centavos int64

// ErrFormat is returned for amounts with more than two decimals or not a number.
var ErrFormat = errors.New("monto inválido: se esperan como máximo dos decimales")

// Parse reads "1500", "1500.5" or "1500.50".
func Parse(s string) (Centavos, error) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if hasDot && frac == "" {
		return 0, ErrFormat
	}
	// Trailing zeros beyond the centavos ("10.500") change nothing and are accepted.
	if len(frac) > 2 && strings.Trim(frac[2:], "0") == "" {
		frac = frac[:2]
	}
	if whole == "" || len(whole) > 13 || len(frac) > 2 {
		return 0, ErrFormat
	}
	for _, r := range whole + frac {
		if r < '0' || r > '9' {
			return 0, ErrFormat
		}
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return 0, ErrFormat
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v := Centavos(w*100 + f)
	if neg {
		v = -v
	}
	return v, nil
}

// String renders two decimals: 150050 → "1500.50".
func (c Centavos) String() string {
	sign := ""
	v := int64(c)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}

// MarshalJSON writes a JSON number with two decimals.
func (c Centavos) MarshalJSON() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalJSON reads a JSON number (or a numeric string) with at most two decimals.
func (c *Centavos) UnmarshalJSON(b []byte) error {
	s := string(b)
	if s == "null" {
		return nil
	}
	if strings.HasPrefix(s, `"`) {
		var str string
		if err := json.Unmarshal(b, &str); err != nil {
			return ErrFormat
		}
		s = str
	}
	if strings.ContainsAny(s, "eE") {
		return ErrFormat
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// PercentBP returns c × bp / 10000 rounded half away from zero to the centavo
// (bp are basis points: 2000 = 20 %).
func (c Centavos) PercentBP(bp int) Centavos {
	n := int64(c) * int64(bp)
	if n >= 0 {
		return Centavos((n + 5000) / 10000)
	}
	return Centavos(-((-n + 5000) / 10000))
}

package pg

import "testing"

func TestLikePattern(t *testing.T) {
	for term, want := range map[string]string{
		"ana":      "%ana%",
		"50%":      `%50\%%`,
		"a_b":      `%a\_b%`,
		`c:\temp`:  `%c:\\temp%`,
		`\%_`:      `%\\\%\_%`,
		"":         "%%",
		"josé pér": "%josé pér%",
	} {
		if got := LikePattern(term); got != want {
			t.Errorf("LikePattern(%q) = %q, want %q", term, got, want)
		}
	}
}

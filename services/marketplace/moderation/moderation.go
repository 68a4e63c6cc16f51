// Package moderation finds contact data in chat messages: phone numbers in the formats
// Argentines write them (+54, 011/11, 15, dashes, dots, spaces), email addresses (also
// "arroba"/"punto" spelled out), links and social handles. Contact data moves the deal
// off the platform, so a message carrying it is stored censored. Prices, dates, times,
// addresses and ordinary small numbers must pass untouched.
package moderation

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"unicode"
)

// Censored is the text stored in place of a blocked message.
const Censored = "*** Mensaje bloqueado por incluir datos de contacto ***"

// Reasons a message is blocked.
const (
	ReasonPhone  = "phone"
	ReasonEmail  = "email"
	ReasonSocial = "social"
	ReasonLink   = "link"
)

// Result is the verdict on one message.
type Result struct {
	Blocked bool
	Reasons []string // in a fixed order: phone, email, social, link
}

var (
	emailRe = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+\s*@\s*[a-z0-9\-]+(\.[a-z0-9\-]+)*\.[a-z]{2,}`)
	// "juan . perez @ yahoo . com": dots and @ spaced out to slip past emailRe. Spaced
	// dots also separate ordinary sentences ("nos vemos @ casa . te aviso"), so here the
	// address must end in a top-level domain people actually use.
	spacedEmailRe = regexp.MustCompile(`(?i)[a-z0-9_%+\-]+(\s*\.\s*[a-z0-9_%+\-]+)*\s*@\s*[a-z0-9\-]+(\s*\.\s*[a-z0-9\-]+)*\s*\.\s*(com|net|org|ar|edu|gob|gov|io|co|info|me|es|uy|cl|br|mx|py|pe|bo)\b`)
	// "juan arroba gmail punto com", "juan (at) gmail.com"
	spelledEmailRe = regexp.MustCompile(`(?i)\b[a-z0-9._\-]+\s*(\barroba\b|\(at\)|\[at\])\s*[a-z0-9\-]+\s*(\bpunto\b|\.)\s*[a-z]{2,}`)
	linkRe         = regexp.MustCompile(`(?i)(https?://|\bwww\.|\b(wa\.me|t\.me|bit\.ly|linktr\.ee|fb\.me|m\.me|instagr\.am)\b|\b[a-z0-9\-]{2,}\.(com|net|org|io|me|info|site|online|store|app)(\.ar)?\b|\b[a-z0-9\-]{2,}\.com?\.ar\b)`)
	socialRe       = regexp.MustCompile(`(?i)\b(whats\s?app|whatsap|watsap|wasap|wsp|wpp|telegram|instagram|insta|ig|facebook|face|fb|tiktok|twitter|linkedin|snapchat|discord|signal)\b`)
	// @handle not part of an email (an email's @ is preceded by a word character).
	handleRe = regexp.MustCompile(`(^|[^\w.@])@[a-zA-Z0-9_.]{3,30}`)
	// A strictly thousands-grouped amount ("10.000.000", "1.500,50") is a price or a DNI,
	// never how a phone number is written.
	amountRe        = regexp.MustCompile(`^\d{1,3}(\.\d{3})+(,\d{1,2})?$`)
	currencyAfterRe = regexp.MustCompile(`(?i)^\s?(pesos|ars|\$)`)
)

// minPhoneDigits is the shortest phone: an Argentine local number has 8 digits
// (4567-8901); with the area code 11 or the mobile prefix 15 it has 10.
const minPhoneDigits = 8

// Check inspects text.
func Check(text string) Result {
	var r Result
	if hasPhone(text) {
		r.Reasons = append(r.Reasons, ReasonPhone)
	}
	if emailRe.MatchString(text) || spacedEmailRe.MatchString(text) || spelledEmailRe.MatchString(text) {
		r.Reasons = append(r.Reasons, ReasonEmail)
	}
	if socialRe.MatchString(text) || handleRe.MatchString(text) {
		r.Reasons = append(r.Reasons, ReasonSocial)
	}
	if linkRe.MatchString(text) {
		r.Reasons = append(r.Reasons, ReasonLink)
	}
	r.Blocked = len(r.Reasons) > 0
	return r
}

// Hash is what is kept of a censored original: its SHA-256, hex encoded.
func Hash(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// hasPhone scans runs of digits joined by single separators (space, dash, dot,
// parentheses, plus) and reports a run with at least minPhoneDigits digits that is not
// written as an amount. A slash or a colon ends a run, so dates and times never join.
func hasPhone(text string) bool {
	runes := []rune(text)
	i := 0
	for i < len(runes) {
		if !isDigit(runes[i]) && runes[i] != '+' && runes[i] != '(' {
			i++
			continue
		}
		start := i
		digits := 0
		lastDigit := i
		seps := 0
		for i < len(runes) {
			c := runes[i]
			switch {
			case isDigit(c):
				digits++
				lastDigit = i
				seps = 0
			case isSep(c) && seps < 3:
				// "11 - 4567" has a space, a dash and a space: allow groups of up to three.
				seps++
			default:
				goto end
			}
			i++
		}
	end:
		if digits >= minPhoneDigits {
			run := strings.TrimFunc(string(runes[start:lastDigit+1]), func(r rune) bool { return !isDigit(r) })
			if !isAmount(runes, start, lastDigit, run) {
				return true
			}
		}
		if i == start {
			i++
		}
	}
	return false
}

func isAmount(runes []rune, start, end int, run string) bool {
	if amountRe.MatchString(run) || roundGroups(run) {
		return true
	}
	// "15000000 pesos", "15000000 ARS": a currency word right after the run.
	if currencyAfterRe.MatchString(string(runes[end+1:])) {
		return true
	}
	// "$15000000" or "$ 15000000": a currency sign right before the run.
	j := start - 1
	for j >= 0 && unicode.IsSpace(runes[j]) {
		j--
	}
	return j >= 0 && runes[j] == '$'
}

// roundGroups reports a run whose every group of three or more digits ends in "00":
// "15000-20000" is a price range, while a phone number's groups are almost never round.
func roundGroups(run string) bool {
	groups := strings.FieldsFunc(run, func(r rune) bool { return !isDigit(r) })
	long := 0
	for _, g := range groups {
		if len(g) < 3 {
			continue
		}
		long++
		if !strings.HasSuffix(g, "00") {
			return false
		}
	}
	return long >= 2
}

func isDigit(r rune) bool { return r >= '0' && r <= '9' }

func isSep(r rune) bool {
	switch r {
	case ' ', '-', '.', '(', ')', '+', '\u00a0', '_':
		return true
	}
	return false
}

package moderation

import (
	"slices"
	"strings"
	"testing"
)

// sanitize is what the chat stores and fans out for a message (marketplace.sendMessage
// and the dispute thread): the text itself, or Censored when Check blocks it.
func sanitize(text string) string {
	if Check(text).Blocked {
		return Censored
	}
	return text
}

// Contact data the way people write it in Argentina, by the reason it must be caught for.
var fuzzContacts = []struct {
	text, reason string
}{
	{"juan.perez@gmail.com", ReasonEmail},
	{"JUAN_PEREZ+obras@Hotmail.com.ar", ReasonEmail},
	{"juan.perez @ yahoo.com", ReasonEmail},
	{"juanperez arroba gmail punto com", ReasonEmail},
	{"juan (at) outlook.com", ReasonEmail},
	{"@plomero.juan", ReasonSocial},
	{"mi whatsapp", ReasonSocial},
	{"por insta", ReasonSocial},
	{"wa.me/5491145678901", ReasonLink},
	{"https://bit.ly/3xYz", ReasonLink},
	{"www.plomeriajuan.com.ar", ReasonLink},
	{"plomeriajuan.com", ReasonLink},
}

// Phone layouts: digit groups as Argentines split them (area code, prefix, number).
var phoneLayouts = [][]string{
	{"11", "4567", "8901"},
	{"011", "4567", "8901"},
	{"15", "4567", "8901"},
	{"+54", "9", "11", "4567", "8901"},
	{"0351", "15", "456", "7890"},
	{"4567", "8901"},
	{"1145678901"},
	{"(011)", "4567", "8901"},
}

// Separators between a phone's groups; the fuzzer picks one per gap.
var phoneSeps = []string{" ", "-", ".", " - ", "", "  ", "\u00a0", "_"}

// phone writes layout with the separators picked by seps.
func phone(layout []string, seps []byte) string {
	var b strings.Builder
	for i, g := range layout {
		if i > 0 {
			sep := " "
			if i-1 < len(seps) {
				sep = phoneSeps[int(seps[i-1])%len(phoneSeps)]
			}
			b.WriteString(sep)
		}
		b.WriteString(g)
	}
	return b.String()
}

// Words around the contact. They end and start with letters or punctuation, so the
// surrounding text cannot merge with a phone's digits or read as a currency ("$" before,
// "pesos" after makes a number a price, by design).
var (
	lead  = []string{" llamame al ", "\nmi mail: ", " escribime a ", " (tel: ", " — ", " contacto "}
	trail = []string{" gracias", "!", "?", ", dale", "\nSaludos", ") ok"}
)

// FuzzContactNeverSurvives wraps contact data, in any of its usual spellings, in any
// text: Check blocks the message and what the chat stores never contains the contact.
// The existing FuzzCheck covers arbitrary text; this one covers the contact itself.
func FuzzContactNeverSurvives(f *testing.F) {
	f.Add("Hola, te paso mi número", "para coordinar", uint8(0), []byte{0, 0}, uint8(0))
	f.Add("presupuesto $15.000", "el martes 10/03 a las 14:30", uint8(3), []byte{1, 2, 3, 4}, uint8(1))
	f.Add("", "", uint8(200), []byte{}, uint8(2))
	f.Add("\xff\xfe", "日本語🙂", uint8(7), []byte{5, 6, 7}, uint8(5))
	f.Fuzz(func(t *testing.T, prefix, suffix string, which uint8, seps []byte, around uint8) {
		var contact, reason string
		if n := len(fuzzContacts); int(which) < n {
			contact, reason = fuzzContacts[which].text, fuzzContacts[which].reason
		} else {
			contact, reason = phone(phoneLayouts[(int(which)-n)%len(phoneLayouts)], seps), ReasonPhone
		}
		msg := prefix + lead[int(around)%len(lead)] + contact + trail[int(around/8)%len(trail)] + suffix
		r := Check(msg)
		if !r.Blocked || !slices.Contains(r.Reasons, reason) {
			t.Fatalf("contact %q not caught as %s in %q (reasons %v)", contact, reason, msg, r.Reasons)
		}
		if out := sanitize(msg); strings.Contains(out, contact) || out != Censored {
			t.Fatalf("stored text %q still carries %q", out, contact)
		}
	})
}

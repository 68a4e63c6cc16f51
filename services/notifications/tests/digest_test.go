package tests

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// frecuencia_resumen sends a summary of what is still unread once per period, and only
// when there is something.
func TestDigestSummarizesUnreadOncePerPeriod(t *testing.T) {
	h := start(t, nil)
	a, emailA := h.register("CLIENTE", "Ana")
	b, emailB := h.register("CLIENTE", "Beto")
	ta, tb := h.token(a, "CLIENTE"), h.token(b, "CLIENTE")
	for _, tok := range []string{ta, tb} {
		h.expect(h.do("PUT", "/api/v1/notificaciones/leer-todas", tok, nil), 200)
		h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, map[string]any{"frecuencia_resumen": "diario"}), 200)
	}
	started := func(user string) time.Time {
		t.Helper()
		var at *time.Time
		if err := h.db.QueryRow(t.Context(), `SELECT last_digest_at FROM preferences WHERE user_id = $1`, user).Scan(&at); err != nil {
			t.Fatal(err)
		}
		if at == nil {
			return time.Time{}
		}
		return *at
	}
	// Choosing a frequency starts a period; it mails nothing about the past.
	testkit.Eventually(t, 10*time.Second, "periods started", func() bool { return !started(a).IsZero() && !started(b).IsZero() })

	for range 3 {
		h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: a, ProfesionalID: b})
	}
	testkit.Eventually(t, 10*time.Second, "three for a", func() bool { return len(h.withEvento(a, "trabajo_iniciado")) == 3 })
	h.expect(h.do("PUT", "/api/v1/notificaciones/"+h.withEvento(a, "trabajo_iniciado")[0].ID+"/leer", ta, nil), 200)
	h.settle()
	before := len(h.catcher.To(emailA))

	// A day passes (moved back in the database rather than waited for).
	if _, err := h.db.Exec(t.Context(), `UPDATE preferences SET last_digest_at = last_digest_at - interval '25 hours'`); err != nil {
		t.Fatal(err)
	}
	digests := func(to string) []string {
		var out []string
		for _, m := range h.catcher.To(to) {
			if strings.HasPrefix(m.Subject, "Tu resumen") {
				out = append(out, m.Subject+"\n"+m.Text)
			}
		}
		return out
	}
	testkit.Eventually(t, 15*time.Second, "a's digest", func() bool { return len(digests(emailA)) == 1 })
	d := digests(emailA)[0]
	if !strings.HasPrefix(d, "Tu resumen diario: 2 notificaciones sin leer") || strings.Count(d, "• Tu trabajo comenzó") != 2 {
		t.Fatalf("digest:\n%s", d)
	}
	// b had nothing unread: its period moved on without an email.
	testkit.Eventually(t, 15*time.Second, "b's period moved on", func() bool { return time.Since(started(b)) < time.Hour })
	h.settle()
	if n := len(digests(emailB)); n != 0 {
		t.Fatalf("b got %d digests with nothing unread", n)
	}
	// Once per period: later passes send nothing more.
	time.Sleep(4 * time.Second)
	h.settle()
	if n := len(digests(emailA)); n != 1 || len(h.catcher.To(emailA)) != before+1 {
		t.Fatalf("a has %d digests, %d emails (was %d)", n, len(h.catcher.To(emailA)), before)
	}

	// Changing the frequency starts a new period (the loop may already have started it).
	prev := started(a)
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", ta, map[string]any{"frecuencia_resumen": "semanal"}), 200)
	if now := started(a); !now.IsZero() && !now.After(prev) {
		t.Fatalf("a new frequency kept the old period (%v)", now)
	}
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", ta, map[string]any{"frecuencia_resumen": "nunca"}), 200)
	time.Sleep(4 * time.Second)
	if !started(a).IsZero() {
		t.Fatalf("a digest period runs for nunca")
	}
}

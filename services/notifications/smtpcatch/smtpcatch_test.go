package smtpcatch_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/smtp"
	"strconv"
	"strings"
	"testing"

	"github.com/conectarpro/conectar/services/notifications/smtpcatch"
)

func TestCatchesMailFromAPlainSMTPClientAndShowsIt(t *testing.T) {
	c, err := smtpcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw := "From: A <a@example.com>\r\nTo: b@example.com\r\nSubject: =?UTF-8?q?Recuperaci=C3=B3n?=\r\nMessage-ID: <id-1@test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=XX\r\n\r\n" +
		"--XX\r\nContent-Type: text/plain; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHola =C3=B1and=C3=BA\r\n" +
		"--XX\r\nContent-Type: text/html; charset=UTF-8\r\nContent-Transfer-Encoding: base64\r\n\r\nPHA+SG9sYTwvcD4=\r\n--XX--\r\n"
	addr := c.Host() + ":" + strconv.Itoa(c.Port())
	if err := smtp.SendMail(addr, nil, "a@example.com", []string{"b@example.com", "c@example.com"}, []byte(raw)); err != nil {
		t.Fatal(err)
	}
	msgs := c.To("C@example.com")
	if len(msgs) != 1 {
		t.Fatalf("caught %d", len(msgs))
	}
	m := msgs[0]
	if m.Subject != "Recuperación" || m.MessageID != "id-1@test" || strings.TrimSpace(m.Text) != "Hola ñandú" || m.HTML != "<p>Hola</p>" || m.From != "a@example.com" {
		t.Fatalf("parsed: %+v", m)
	}

	c.RejectNext(1)
	if err := smtp.SendMail(addr, nil, "a@example.com", []string{"b@example.com"}, []byte(raw)); err == nil || !strings.HasPrefix(err.Error(), "451") {
		t.Fatalf("want a 451, got %v", err)
	}
	if len(c.Messages()) != 1 {
		t.Fatal("a rejected message was stored")
	}

	web := httptest.NewServer(c.Handler())
	defer web.Close()
	get := func(path string) (int, string) {
		res, err := http.Get(web.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if st, body := get("/"); st != 200 || !strings.Contains(body, "Recuperación") || !strings.Contains(body, "messages/1.html") {
		t.Fatalf("index %d: %s", st, body)
	}
	st, body := get("/api/messages")
	var list []smtpcatch.Message
	if st != 200 || json.Unmarshal([]byte(body), &list) != nil || len(list) != 1 || list[0].Subject != "Recuperación" {
		t.Fatalf("api %d: %s", st, body)
	}
	if st, body := get("/messages/1.html"); st != 200 || body != "<p>Hola</p>" {
		t.Fatalf("html %d: %s", st, body)
	}
	if st, _ := get("/messages/9.html"); st != 404 {
		t.Fatalf("missing message: %d", st)
	}
}

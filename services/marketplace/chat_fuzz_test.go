package marketplace_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/platform/httpx/httpxtest"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/marketplace"
	"github.com/conectarpro/conectar/services/marketplace/moderation"
)

// chatFixture is the marketplace's real app (not started: no relay, no consumers) on a
// fresh database holding one conversation, and the client's token for it.
type chatFixture struct {
	app    *fiber.App
	chatID string
	token  string
}

func newChatFixture(f *testing.F) chatFixture {
	env := testkit.NewEnv(f)
	// Users and professionals are not called on these paths; anything that tries gets a 404.
	dir := httptest.NewServer(http.NotFoundHandler())
	f.Cleanup(dir.Close)
	d := env.Deps(f, marketplace.Name, map[string]string{"SAGA_WAIT": "3s"})
	d.ServiceURLs = map[string]string{"users": dir.URL, "professionals": dir.URL}
	d.PublicURL = "http://127.0.0.1:8000"
	m, err := marketplace.Build(context.Background(), d)
	if err != nil {
		f.Fatal(err)
	}
	cli, pro, chat := uuid.NewString(), uuid.NewString(), uuid.NewString()
	db, err := pgx.Connect(context.Background(), env.DSN)
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close(context.Background())
	if _, err := db.Exec(context.Background(), `INSERT INTO marketplace.conversaciones (id, cliente_id, profesional_id) VALUES ($1, $2, $3)`,
		chat, cli, pro); err != nil {
		f.Fatal(err)
	}
	fx := chatFixture{app: m.Service().App, chatID: chat, token: env.Keys.Token(cli, "CLIENTE", "ana@example.com")}
	// The routes are live: otherwise every input would answer 404 and prove nothing.
	req := httptest.NewRequest(http.MethodPost, "/api/v1/chat/"+chat+"/messages", strings.NewReader(`{"text":"hola"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+fx.token)
	resp, err := fx.app.Test(req, -1)
	if err != nil {
		f.Fatal(err)
	}
	if resp.StatusCode != http.StatusCreated {
		f.Fatalf("sending a message to the fixture's chat: %d", resp.StatusCode)
	}
	req = httptest.NewRequest(http.MethodGet, "/api/v1/chat/"+chat+"/messages", nil)
	req.Header.Set("Authorization", "Bearer "+fx.token)
	resp, err = fx.app.Test(req, -1)
	if err != nil {
		f.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		f.Fatalf("listing the fixture's chat: %d", resp.StatusCode)
	}
	return fx
}

// send runs req as the conversation's client through httpxtest.Call.
func (fx chatFixture) send(t *testing.T, req *http.Request) (int, []byte) {
	t.Helper()
	req.Header.Set("Authorization", "Bearer "+fx.token)
	return httpxtest.Call(t, fx.app, req)
}

// FuzzSendMessage posts any body as a chat message. Whatever the text, the message the
// API answers (the one stored and fanned out) is the trimmed text when moderation lets
// it through and the censored placeholder when it does not: contact data never comes
// back, and nothing answers 5xx.
func FuzzSendMessage(f *testing.F) {
	for _, s := range []string{
		`{"text":"Hola, ¿podés pasar mañana a las 9?"}`,
		`{"text":"  mi cel es 11 4567-8901  "}`,
		`{"text":"escribime a juan.perez@gmail.com"}`,
		`{"text":"presupuesto $15.000 por 3 horas"}`,
		`{"text":""}`, `{"text":"   "}`, `{"text":5}`, `{"chat_id":"x","text":"hola"}`, `{"text":"\u0000"}`,
		`{"text":"` + strings.Repeat("a", 2001) + `"}`, `{"text":"\ud800"}`, `null`, `[]`, ``,
	} {
		f.Add([]byte(s))
	}
	fx := newChatFixture(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/chat/"+fx.chatID+"/messages", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		status, raw := fx.send(t, req)
		if status != http.StatusCreated {
			return
		}
		var in struct{ Text string }
		if err := json.Unmarshal(body, &in); err != nil {
			t.Fatalf("201 for a body that is not a message: %q", body)
		}
		var msg struct {
			Text      string `json:"text"`
			Censurado bool   `json:"censurado"`
		}
		if err := json.Unmarshal(raw, &msg); err != nil {
			t.Fatal(err)
		}
		text := strings.TrimSpace(in.Text)
		if moderation.Check(text).Blocked {
			if msg.Text != moderation.Censored || !msg.Censurado {
				t.Fatalf("blocked text %q answered as %q (censurado=%v)", text, msg.Text, msg.Censurado)
			}
		} else if msg.Text != text || msg.Censurado {
			t.Fatalf("text %q answered as %q (censurado=%v)", text, msg.Text, msg.Censurado)
		}
	})
}

// FuzzListMessagesQuery reads the conversation with any before/limit query (before is a
// message id, an RFC 3339 time or Unix milliseconds): 200 or a 4xx, never a 5xx.
func FuzzListMessagesQuery(f *testing.F) {
	for _, s := range [][2]string{
		{"", ""}, {"2026-03-20T12:00:00Z", "50"}, {"2026-03-20T12:00:00.123456789-03:00", "1"}, {"1742505638683", "100"},
		{"01890a5d-ac96-774b-bcce-b302099a8057", "10"}, {"0", "0"}, {"-1", "101"}, {"9999-12-31T23:59:59Z", "x"},
		{"0000-01-01T00:00:00Z", ""}, {"10000000000000000", ""}, {"9223372036854775807", ""}, {"1742505638683abc", ""},
	} {
		f.Add(s[0], s[1])
	}
	// A query longer than the server's read buffer: refused before any handler (431).
	f.Add("1717450380683"+strings.Repeat("\xdb", 2000), "z9")
	fx := newChatFixture(f)
	f.Fuzz(func(t *testing.T, before, limit string) {
		q := url.Values{}
		if before != "" {
			q.Set("before", before)
		}
		if limit != "" {
			q.Set("limit", limit)
		}
		req := httptest.NewRequest(http.MethodGet, "/api/v1/chat/"+fx.chatID+"/messages?"+q.Encode(), nil)
		if status, raw := fx.send(t, req); status == http.StatusOK {
			if !json.Valid(raw) {
				t.Fatalf("200 that is not JSON: %s", raw)
			}
		}
	})
}

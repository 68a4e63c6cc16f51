// Package tests drives the notifications service's real composition root over HTTP,
// with events published into an in-process JetStream, a real PostgreSQL database, and
// emails caught by the in-process SMTP catcher over real SMTP.
package tests

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats.go"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/notifications"
	"github.com/conectarpro/conectar/services/notifications/smtpcatch"
)

const frontend = "https://app.conectar.test"

type harness struct {
	t        *testing.T
	env      *testkit.Env
	base     string
	catcher  *smtpcatch.Catcher
	db       *pgxpool.Pool
	users    *fakeUsers
	svc      *kit.Service
	usersURL string
	settings map[string]string
}

// fakeUsers answers users' /internal/users/{id} for contact misses.
type fakeUsers struct {
	mu    sync.Mutex
	users map[string]map[string]any
	hits  int
}

func (f *fakeUsers) add(id, email, nombre string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.users[id] = map[string]any{"id": id, "email": email, "nombre": nombre, "apellido": "Test", "rol": "CLIENTE", "is_active": true}
}

func (f *fakeUsers) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	if r.Header.Get("X-Internal-Key") == "" {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/internal/users/")
	u, ok := f.users[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(u)
}

func start(t *testing.T, extra map[string]string) *harness {
	t.Helper()
	env := testkit.NewEnv(t)
	catcher, err := smtpcatch.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = catcher.Close() })
	settings := map[string]string{
		"SMTP_HOST":                 catcher.Host(),
		"SMTP_PORT":                 strconv.Itoa(catcher.Port()),
		"SMTP_TLS":                  "none",
		"FRONTEND_URL":              frontend,
		"NOTIFICATIONS_SENDER_POLL": "100ms",
		"NOTIFICATIONS_RETRY_BASE":  "100ms",
	}
	for k, v := range extra {
		settings[k] = v
	}
	users := &fakeUsers{users: map[string]map[string]any{}}
	usersSrv := httptest.NewServer(users)
	t.Cleanup(usersSrv.Close)
	h := &harness{t: t, env: env, catcher: catcher, db: testkit.ServicePool(t, env.DSN, notifications.Name), users: users,
		usersURL: usersSrv.URL, settings: settings}
	h.svc, h.base = h.instance(nil)
	return h
}

// instance starts one more service instance on the same database and JetStream, with
// the harness settings overridden by extra.
func (h *harness) instance(extra map[string]string) (*kit.Service, string) {
	h.t.Helper()
	settings := map[string]string{}
	for k, v := range h.settings {
		settings[k] = v
	}
	for k, v := range extra {
		settings[k] = v
	}
	d := h.env.Deps(h.t, notifications.Name, settings)
	d.ServiceURLs = map[string]string{"users": h.usersURL}
	svc, err := notifications.New(context.Background(), d)
	if err != nil {
		h.t.Fatal(err)
	}
	return svc, testkit.Serve(h.t, svc)
}

// stop stops the first instance (as a crash or deploy would take it away).
func (h *harness) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	h.svc.Stop(ctx)
}

// publish wraps e in a fresh envelope and publishes it with its id as Nats-Msg-Id.
func (h *harness) publish(e events.Event) events.Envelope {
	h.t.Helper()
	return testkit.Publish(h.t, h.env.NATS.JS, "test", "agg", e)
}

// publishEnv publishes env with msgID; a different msgID for the same envelope is a
// redelivery that JetStream's dedupe does not catch, so only the inbox can.
func (h *harness) publishEnv(env events.Envelope, msgID string) {
	h.t.Helper()
	testkit.PublishEnvelope(h.t, h.env.NATS.JS, env, msgID)
}

// register publishes UserRegistered for a new user and waits until its welcome row
// exists, so the contact replica is filled.
func (h *harness) register(rol, nombre string) (id, email string) {
	h.t.Helper()
	id = uuid.NewString()
	email = strings.ToLower(nombre) + "-" + id[:8] + "@example.com"
	h.publish(events.UserRegisteredV1{UserID: id, Email: email, Nombre: nombre, Apellido: "Pérez", Rol: rol})
	testkit.Eventually(h.t, 10*time.Second, "welcome notification for "+nombre, func() bool {
		return h.count(`SELECT count(*) FROM notifications WHERE user_id = $1`, id) == 1
	})
	return id, email
}

func (h *harness) count(sql string, args ...any) int {
	h.t.Helper()
	return testkit.Count(h.t, h.db, sql, args...)
}

// settle waits until no delivery is pending, then a little more, so "exactly one"
// assertions are not racing the sender.
func (h *harness) settle() {
	h.t.Helper()
	testkit.Eventually(h.t, 15*time.Second, "deliveries settled", func() bool {
		return h.count(`SELECT count(*) FROM deliveries WHERE status = 'pending'`) == 0
	})
	time.Sleep(300 * time.Millisecond)
}

func (h *harness) token(userID, rol string) string {
	return h.env.Keys.Token(userID, rol, userID[:8]+"@example.com")
}

// resp is an answer read whole.
type resp = testkit.Response

// do sends body: a string as JSON text, bytes as text/plain, anything else as JSON.
func (h *harness) do(method, path, token string, body any) resp {
	h.t.Helper()
	ct := ""
	switch body.(type) {
	case string:
		ct = "application/json"
	case []byte:
		ct = "text/plain"
	}
	return testkit.Send(h.t, method, h.base+path, token, ct, body)
}

func (h *harness) expect(r resp, status int) resp {
	h.t.Helper()
	return r.Expect(h.t, status, "request")
}

type notification struct {
	ID        string         `json:"id"`
	Tipo      string         `json:"tipo"`
	Titulo    string         `json:"titulo"`
	Mensaje   string         `json:"mensaje"`
	Leida     bool           `json:"leida"`
	CreatedAt time.Time      `json:"created_at"`
	Data      map[string]any `json:"data"`
	// The frontend's names for the same values.
	FechaCreacion time.Time      `json:"fecha_creacion"`
	Metadata      map[string]any `json:"metadata"`
}

type notificationList struct {
	Notificaciones []notification `json:"notificaciones"`
	Total          int            `json:"total"`
	NoLeidas       int            `json:"no_leidas"`
}

func (h *harness) list(userID, rol, query string) notificationList {
	h.t.Helper()
	var out notificationList
	h.expect(h.do("GET", "/api/v1/notificaciones"+query, h.token(userID, rol), nil), 200).Decode(h.t, &out)
	return out
}

// withEvento returns the user's notifications whose data.evento is evento.
func (h *harness) withEvento(userID, evento string) []notification {
	h.t.Helper()
	var out []notification
	for _, n := range h.list(userID, "CLIENTE", "?limit=100").Notificaciones {
		if n.Data["evento"] == evento {
			out = append(out, n)
		}
	}
	return out
}

// engagementEvents reads every message of the ENGAGEMENT stream.
func (h *harness) engagementEvents() []events.Envelope {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	st, err := h.env.NATS.JS.Stream(ctx, events.StreamEngagement)
	if err != nil {
		h.t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []events.Envelope
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			continue
		}
		env, err := events.Parse(m.Data)
		if err != nil {
			h.t.Fatal(err)
		}
		out = append(out, env)
	}
	return out
}

// realtime subscribes to a user's rt.user.<id> subject and collects what arrives.
type realtimeSub struct {
	mu   sync.Mutex
	msgs []map[string]any
}

func (h *harness) subscribeRealtime(userID string) *realtimeSub {
	h.t.Helper()
	rs := &realtimeSub{}
	sub, err := h.env.NATS.NC.Subscribe(events.RealtimeSubject(userID), func(m *nats.Msg) {
		var v map[string]any
		if json.Unmarshal(m.Data, &v) == nil {
			rs.mu.Lock()
			rs.msgs = append(rs.msgs, v)
			rs.mu.Unlock()
		}
	})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { _ = sub.Unsubscribe() })
	_ = h.env.NATS.NC.Flush()
	return rs
}

func (rs *realtimeSub) all() []map[string]any {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return append([]map[string]any(nil), rs.msgs...)
}

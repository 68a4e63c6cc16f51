// Package tests drives the professionals service's real composition root over HTTP,
// against a fresh PostgreSQL database and an in-process JetStream server.
package tests

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/professionals"
)

// fakeAuth stands in for auth's internal read API (GET /internal/accounts/{id}), which
// the service only uses on a read-your-writes miss.
type fakeAuth struct {
	mu       sync.Mutex
	accounts map[string]map[string]any
	calls    int
}

func (f *fakeAuth) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Header.Get(kit.HeaderInternalKey) != kit.DefaultInternalKey {
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	id := strings.TrimPrefix(r.URL.Path, "/internal/accounts/")
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	a, ok := f.accounts[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	_ = json.NewEncoder(w).Encode(a)
}

type harness struct {
	t    *testing.T
	env  *testkit.Env
	base string
	auth *fakeAuth
	db   *pgx.Conn // superuser connection to the test database, search_path professionals
	// authURL is the fake auth's address, for a second replica of the service.
	authURL string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := testkit.NewEnv(t)
	fa := &fakeAuth{accounts: map[string]map[string]any{}}
	authSrv := httptest.NewServer(fa)
	t.Cleanup(authSrv.Close)
	deps := env.Deps(t, professionals.Name, nil)
	deps.ServiceURLs = map[string]string{"auth": authSrv.URL}
	deps.PublicURL = publicURL + "/"
	svc, err := professionals.New(context.Background(), deps)
	if err != nil {
		t.Fatal(err)
	}
	base := testkit.Serve(t, svc)
	db, err := pgx.Connect(context.Background(), env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	if _, err := db.Exec(context.Background(), "SET search_path = professionals, public"); err != nil {
		t.Fatal(err)
	}
	return &harness{t: t, env: env, base: base, auth: fa, db: db, authURL: authSrv.URL}
}

// resp is an answer read whole.
type resp = testkit.Response

// do sends body as JSON (strings and bytes as they are, labelled JSON).
func (h *harness) do(method, path, token string, body any) resp {
	h.t.Helper()
	return testkit.Client{T: h.t, Base: h.base, RawType: "application/json"}.Do(method, path, token, body)
}

func (h *harness) raw(method, path, token, ct string, body io.Reader) resp {
	h.t.Helper()
	return testkit.Send(h.t, method, h.base+path, token, ct, body)
}

type part struct {
	field, name string
	data        []byte
}

func (h *harness) upload(path, token string, parts ...part) resp {
	h.t.Helper()
	tp := make([]testkit.Part, len(parts))
	for i, p := range parts {
		tp[i] = testkit.Part{Field: p.field, Name: p.name, Data: p.data}
	}
	return testkit.Client{T: h.t, Base: h.base}.Multipart(http.MethodPost, path, token, tp...)
}

// publish sends e as if its producer's outbox relay had, with a fresh Nats-Msg-Id.
func (h *harness) publish(e events.Event, at time.Time) events.Envelope {
	h.t.Helper()
	env, err := events.New("test", "agg", e, events.Meta{}, at)
	if err != nil {
		h.t.Fatal(err)
	}
	h.publishEnv(env)
	return env
}

// publishEnv publishes env again under a new Nats-Msg-Id (a redelivery the stream does
// not deduplicate, so only the consumer's inbox can).
func (h *harness) publishEnv(env events.Envelope) {
	h.t.Helper()
	testkit.PublishEnvelope(h.t, h.env.NATS.JS, env, uuid.NewString())
}

// published returns the envelopes of the PROFESSIONALS stream with type typ.
func (h *harness) published(typ string) []events.Envelope {
	h.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := h.env.NATS.JS.OrderedConsumer(ctx, events.StreamProfessionals, jetstream.OrderedConsumerConfig{})
	if err != nil {
		h.t.Fatal(err)
	}
	var out []events.Envelope
	for {
		batch, err := c.FetchNoWait(100)
		if err != nil {
			h.t.Fatal(err)
		}
		n := 0
		for m := range batch.Messages() {
			n++
			env, err := events.Parse(m.Data())
			if err == nil && env.Type == typ {
				out = append(out, env)
			}
		}
		if n == 0 {
			return out
		}
	}
}

func (h *harness) eventually(what string, cond func() bool) {
	h.t.Helper()
	testkit.Eventually(h.t, 10*time.Second, what, cond)
}

func (h *harness) token(id, rol string) string {
	return h.env.Keys.Token(id, rol, id[:8]+"@example.com")
}

func (h *harness) adminToken() string { return h.token(uuid.NewString(), authn.RoleAdmin) }

func (h *harness) oficioID(nombre string) string {
	h.t.Helper()
	var id string
	if err := h.db.QueryRow(context.Background(), `SELECT id::text FROM oficios WHERE nombre = $1`, nombre).Scan(&id); err != nil {
		h.t.Fatalf("oficio %s: %v", nombre, err)
	}
	return id
}

// pro is a professional created through the real paths.
type pro struct {
	userID, profID, token string
}

// register publishes UserRegistered for a new professional and waits for the profile.
func (h *harness) register(nombre, apellido, oficio string) pro {
	h.t.Helper()
	id := uuid.NewString()
	h.publish(events.UserRegisteredV1{UserID: id, Email: id[:8] + "@example.com", Nombre: nombre, Apellido: apellido,
		Rol: authn.RoleProfesional, OficioID: oficio}, time.Now())
	var profID string
	h.eventually("profile created from UserRegistered", func() bool {
		return h.db.QueryRow(context.Background(), `SELECT id::text FROM profesionales WHERE usuario_id = $1`, id).Scan(&profID) == nil
	})
	return pro{userID: id, profID: profID, token: h.token(id, authn.RoleProfesional)}
}

var pdfDoc = []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n")

var pngImg = []byte{0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R', 0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0, 0x90, 0x77, 0x53, 0xde}

// approved registers a professional, places them, uploads a document and has an admin
// approve them.
func (h *harness) approved(nombre, apellido, oficio string, lat, lng float64, radio int) pro {
	h.t.Helper()
	p := h.register(nombre, apellido, oficio)
	h.do("PUT", "/api/v1/professional/profile/location", p.token, map[string]any{"latitude": lat, "longitude": lng}).Expect(h.t, 200, "location")
	h.do("PUT", "/api/v1/professional/profile", p.token, map[string]any{"radio_cobertura_km": radio, "tarifa_por_hora": 5000}).Expect(h.t, 200, "profile")
	h.upload("/api/v1/professional/kyc/upload", p.token, part{"files", "dni.pdf", pdfDoc}).Expect(h.t, 200, "kyc upload")
	h.do("POST", "/api/v1/admin/kyc/approve/"+p.profID, h.adminToken(), nil).Expect(h.t, 200, "approve")
	return p
}

func str(v any) string { return fmt.Sprint(v) }

// publicURL is the gateway base URL the service is configured with: every image and
// document link it answers starts with it.
const publicURL = "https://api.conectar.test"

// path is the API path of an absolute link the service answered (failing the test when
// the link is not absolute), so the test can fetch it from the service directly.
func (h *harness) path(link any) string {
	h.t.Helper()
	s := str(link)
	if !strings.HasPrefix(s, publicURL+"/api/v1/") {
		h.t.Fatalf("link %q is not absolute under %s", s, publicURL)
	}
	return strings.TrimPrefix(s, publicURL)
}

func newRequest(method, url string) (*http.Request, error) { return http.NewRequest(method, url, nil) }

func doReq(t *testing.T, req *http.Request) resp {
	t.Helper()
	return testkit.Exchange(t, req)
}

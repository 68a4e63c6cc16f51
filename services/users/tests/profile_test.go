package tests

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

func TestRegisterThenMeReadsOwnWrite(t *testing.T) {
	s := startBoth(t)
	a := s.account("pronto@example.com", "PROFESIONAL")
	r := s.get("/api/v1/users/me", a.Access)
	r.Expect(t, 200, "me right after register")
	m := r.Map(t)
	if m["id"] != a.ID || m["email"] != "pronto@example.com" || m["rol"] != "PROFESIONAL" || m["es_profesional"] != true ||
		m["nombre"] != "Nom" || m["apellido"] != "Ape" || m["is_active"] != true || m["infracciones_chat"] != float64(0) ||
		m["is_chat_banned"] != false || m["avatar_url"] != nil || m["es_admin"] != false || m["es_cliente"] != false || m["fecha_creacion"] == nil {
		t.Fatalf("UserRead: %s", r.Body)
	}
}

// TestReadYourWritesWhileEventsAreStuck: with NATS down, UserRegistered cannot reach
// users; /users/me still answers by asking auth once, and the late event changes nothing.
func TestReadYourWritesWhileEventsAreStuck(t *testing.T) {
	s := startBoth(t)
	warm := s.account("warm@example.com", "CLIENTE") // JWKS fetched while NATS is up
	s.get("/api/v1/users/me", warm.Access).Expect(t, 200, "warm")
	s.env.NATS.Stop()
	a := s.account("atascado@example.com", "CLIENTE")
	r := s.get("/api/v1/users/me", a.Access)
	r.Expect(t, 200, "me with events stuck")
	if r.Map(t)["email"] != "atascado@example.com" {
		t.Fatalf("me: %s", r.Body)
	}
	r = internalGet(t, s.usersURL+"/internal/users/"+a.ID)
	r.Expect(t, 200, "internal user")
	if m := r.Map(t); m["id"] != a.ID || m["rol"] != "CLIENTE" || m["is_active"] != true {
		t.Fatalf("internal: %s", r.Body)
	}
	s.env.NATS.Restart(t)
	evs := testkit.StreamEvents(t, s.env.NATS.JS, events.StreamAuth, events.SubjUserRegistered, 2, 10*time.Second)
	if len(evs) != 2 {
		t.Fatalf("UserRegistered after restart: %d", len(evs))
	}
	s.get("/api/v1/users/me", a.Access).Expect(t, 200, "me after the event")
}

func TestProfileFromEventAndUpdates(t *testing.T) {
	s := startUsers(t)
	id := uuid.NewString()
	publish(t, s.env.NATS.JS, events.UserRegisteredV1{UserID: id, Email: "evento@example.com", Nombre: "Eva", Apellido: "Ento", Rol: "CLIENTE"}, id)
	tok := s.env.Keys.Token(id, "CLIENTE", "evento@example.com")
	var m map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; {
		r := s.get("/api/v1/users/me", tok)
		if r.Status == 200 {
			m = r.Map(t)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("profile never built from the event: %d %s", r.Status, r.Body)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if m["nombre"] != "Eva" || m["email"] != "evento@example.com" {
		t.Fatalf("profile: %v", m)
	}

	// Partial update; trims; events.
	r := do(t, "PUT", s.usersURL+"/api/v1/users/me", tok, "", map[string]any{"nombre": "  Evangelina "})
	r.Expect(t, 200, "put nombre")
	if m := r.Map(t); m["nombre"] != "Evangelina" || m["apellido"] != "Ento" {
		t.Fatalf("put: %s", r.Body)
	}
	do(t, "PUT", s.usersURL+"/api/v1/users/me", tok, "", map[string]any{}).Expect(t, 200, "empty put")
	do(t, "PUT", s.usersURL+"/api/v1/users/me", tok, "", map[string]any{"nombre": "Evangelina"}).Expect(t, 200, "same name")
	for name, body := range map[string]any{
		"empty nombre":  map[string]any{"nombre": ""},
		"long apellido": map[string]any{"apellido": strings.Repeat("x", 101)},
		"wrong type":    map[string]any{"nombre": 5},
	} {
		do(t, "PUT", s.usersURL+"/api/v1/users/me", tok, "", body).ExpectError(t, 422, name)
	}
	if m := s.get("/api/v1/users/me", tok).Map(t); m["nombre"] != "Evangelina" {
		t.Fatalf("a refused update changed data: %v", m)
	}
	evs := testkit.StreamEvents(t, s.env.NATS.JS, events.StreamUsers, events.SubjUserProfileUpdated, 1, 5*time.Second)
	if len(evs) != 1 {
		t.Fatalf("UserProfileUpdated: %d, want 1 (no event without a change)", len(evs))
	}
	e, _ := events.Decode[events.UserProfileUpdatedV1](evs[0])
	if e.UserID != id || e.Nombre != "Evangelina" || e.Apellido != "Ento" {
		t.Fatalf("event: %+v", e)
	}

	// A redelivered registration (same event id) and a duplicate one change nothing.
	publish(t, s.env.NATS.JS, events.UserRegisteredV1{UserID: id, Email: "evento@example.com", Nombre: "Eva", Apellido: "Ento", Rol: "CLIENTE"}, id)
	time.Sleep(300 * time.Millisecond)
	if m := s.get("/api/v1/users/me", tok).Map(t); m["nombre"] != "Evangelina" {
		t.Fatalf("duplicate registration overwrote the profile: %v", m)
	}
}

func pngBytes(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{R: 255, A: 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func multipartBody(t *testing.T, field, filename string, data []byte) (string, []byte) {
	t.Helper()
	return testkit.MultipartBody(t, testkit.Part{Field: field, Name: filename, Data: data})
}

func TestAvatarUploadAndServe(t *testing.T) {
	s := startBoth(t)
	a := s.account("foto@example.com", "CLIENTE")
	img := pngBytes(t)
	// The file name lies about the type: the bytes decide.
	ct, body := multipartBody(t, "file", "foto.jpg", img)
	r := do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body)
	r.Expect(t, 200, "upload")
	url, _ := r.Map(t)["avatar_url"].(string)
	// Absolute: the frontend puts it straight into img src.
	if !strings.HasPrefix(url, publicURL+"/api/v1/users/avatars/") || !strings.HasSuffix(url, ".png") {
		t.Fatalf("avatar_url %q", url)
	}
	path := strings.TrimPrefix(url, publicURL)
	// Served publicly, cacheable, with the sniffed type.
	g := do(t, "GET", s.usersURL+path, "", "", nil)
	g.Expect(t, 200, "fetch avatar")
	if !bytes.Equal(g.Body, img) || g.Header.Get("Content-Type") != "image/png" || !strings.Contains(g.Header.Get("Cache-Control"), "public") {
		t.Fatalf("served avatar: %d bytes, %v", len(g.Body), g.Header)
	}
	if m := s.get("/api/v1/users/me", a.Access).Map(t); m["avatar_url"] != url {
		t.Fatalf("me avatar_url %v", m["avatar_url"])
	}
	// A new avatar replaces the old one, which stops being served.
	ct, body = multipartBody(t, "file", "otra.png", img)
	r = do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body)
	r.Expect(t, 200, "second upload")
	url2 := r.Map(t)["avatar_url"].(string)
	if url2 == url {
		t.Fatal("avatar names must be fresh")
	}
	do(t, "GET", s.usersURL+path, "", "", nil).ExpectError(t, 404, "old avatar")
	do(t, "GET", s.usersURL+"/api/v1/users/avatars/..%2f..%2fetc", "", "", nil).ExpectError(t, 404, "bad name")
	evs := testkit.StreamEvents(t, s.env.NATS.JS, events.StreamUsers, events.SubjUserProfileUpdated, 2, 5*time.Second)
	// The event carries the path (replicas absolutise with their own public base).
	if e, _ := events.Decode[events.UserProfileUpdatedV1](evs[len(evs)-1]); publicURL+e.AvatarURL != url2 {
		t.Fatalf("event avatar %q", e.AvatarURL)
	}

	// Refusals.
	ct, body = multipartBody(t, "file", "x.png", []byte("esto no es una imagen, es texto"))
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body).ExpectError(t, 400, "text as image")
	ct, body = multipartBody(t, "file", "doc.pdf", []byte("%PDF-1.4 hola"))
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body).ExpectError(t, 400, "pdf as avatar")
	big := append(append([]byte{}, img...), make([]byte, 10<<20)...)
	ct, body = multipartBody(t, "file", "big.png", big)
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body).ExpectError(t, 413, "too large")
	ct, body = multipartBody(t, "file", "empty.png", nil)
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body).ExpectError(t, 422, "empty")
	ct, body = multipartBody(t, "otro", "x.png", img)
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, ct, body).ExpectError(t, 422, "missing field")
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", a.Access, "application/json", `{"file":"x"}`).ExpectError(t, 415, "json")
	do(t, "POST", s.usersURL+"/api/v1/users/me/avatar", "", ct, body).ExpectError(t, 401, "anonymous")
	if m := s.get("/api/v1/users/me", a.Access).Map(t); m["avatar_url"] != url2 {
		t.Fatalf("refused uploads changed the avatar: %v", m["avatar_url"])
	}
}

func TestSearchUsers(t *testing.T) {
	s := startBoth(t)
	adm := s.admin("admin@example.com")
	var last account
	for i := 0; i < 23; i++ {
		last = s.account("buscable"+string(rune('a'+i))+"@example.com", "CLIENTE")
	}
	banned := s.account("buscable-baneado@example.com", "CLIENTE")
	do(t, "POST", s.authURL+"/api/v1/admin/users/"+banned.ID+"/ban", adm.Access, "", nil).Expect(t, 200, "ban")

	s.get("/api/v1/users/search?q=b", last.Access).ExpectError(t, 400, "one char")
	s.get("/api/v1/users/search?q=", last.Access).ExpectError(t, 400, "empty")
	s.get("/api/v1/users/search?q=buscable", "").ExpectError(t, 401, "anonymous")
	// Profiles arrive by events; wait for all of them and for the ban replica.
	var l []any
	deadline := time.Now().Add(5 * time.Second)
	for {
		l = s.get("/api/v1/users/search?q=BUSCABLE", last.Access).List(t)
		if len(l) == 20 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(l) != 20 {
		t.Fatalf("search returned %d, want the maximum 20", len(l))
	}
	deadline = time.Now().Add(5 * time.Second)
	for {
		l = s.get("/api/v1/users/search?q=baneado", last.Access).List(t)
		if len(l) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if len(l) != 0 {
		t.Fatalf("banned user found: %v", l)
	}
	l = s.get("/api/v1/users/search?q=buscablew", last.Access).List(t)
	if len(l) != 1 || l[0].(map[string]any)["email"] != "buscablew@example.com" {
		t.Fatalf("exact search: %v", l)
	}
	e := l[0].(map[string]any)
	for _, k := range []string{"id", "email", "nombre", "apellido", "rol", "is_active", "avatar_url"} {
		if _, ok := e[k]; !ok {
			t.Fatalf("result lacks %s", k)
		}
	}
	if l := s.get("/api/v1/users/search?q=%25%25", last.Access).List(t); len(l) != 0 {
		t.Fatalf("wildcards must be literal: %d", len(l))
	}
}

func TestChatStrikesBanAtThree(t *testing.T) {
	s := startUsers(t)
	id := uuid.NewString()
	publish(t, s.env.NATS.JS, events.UserRegisteredV1{UserID: id, Email: "charla@example.com", Nombre: "C", Apellido: "H", Rol: "CLIENTE"}, id)
	tok := s.env.Keys.Token(id, "CLIENTE", "charla@example.com")
	strike := func() events.Envelope {
		return publish(t, s.env.NATS.JS, events.ChatInfractionDetectedV1{UserID: id, ChatID: uuid.NewString(), Motivo: "telefono"}, id)
	}
	wait := func(n int, banned bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			r := s.get("/api/v1/users/me", tok)
			if r.Status == 200 {
				m := r.Map(t)
				if m["infracciones_chat"] == float64(n) && m["is_chat_banned"] == banned {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("want %d strikes, banned=%v; got %d %s", n, banned, r.Status, r.Body)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	first := strike()
	wait(1, false)
	publishEnv(t, s.env.NATS.JS, first) // redelivered: counted once
	strike()
	wait(2, false)
	strike()
	wait(3, true)
	strike()
	wait(4, true)
	evs := testkit.StreamEvents(t, s.env.NATS.JS, events.StreamUsers, events.SubjUserChatBanned, 1, 3*time.Second)
	time.Sleep(200 * time.Millisecond)
	evs = testkit.StreamEvents(t, s.env.NATS.JS, events.StreamUsers, events.SubjUserChatBanned, 1, time.Second)
	if len(evs) != 1 {
		t.Fatalf("UserChatBanned events: %d, want exactly 1", len(evs))
	}
	if e, _ := events.Decode[events.UserChatBannedV1](evs[0]); e.UserID != id || e.Infracciones != 3 {
		t.Fatalf("event: %+v", e)
	}
	_ = context.Background()
}

package tests

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
)

// browser is a Web Push subscriber: its key pair and auth secret, as a browser's
// PushManager keeps them, so the test can decrypt what the push service receives.
type browser struct {
	priv *ecdh.PrivateKey
	auth []byte
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	priv, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	auth := make([]byte, 16)
	_, _ = rand.Read(auth)
	return &browser{priv: priv, auth: auth}
}

func (b *browser) keys() map[string]any {
	return map[string]any{
		"p256dh": base64.RawURLEncoding.EncodeToString(b.priv.PublicKey().Bytes()),
		"auth":   base64.RawURLEncoding.EncodeToString(b.auth),
	}
}

func validKeys(t *testing.T) map[string]any { return newBrowser(t).keys() }

// decrypt opens an aes128gcm Web Push body (RFC 8291 / RFC 8188, single record).
func (b *browser) decrypt(t *testing.T, body []byte) []byte {
	t.Helper()
	if len(body) < 21 {
		t.Fatalf("push body too short: %d", len(body))
	}
	salt := body[:16]
	_ = binary.BigEndian.Uint32(body[16:20]) // record size
	idlen := int(body[20])
	asPub := body[21 : 21+idlen]
	ct := body[21+idlen:]
	pub, err := ecdh.P256().NewPublicKey(asPub)
	if err != nil {
		t.Fatalf("server key: %v", err)
	}
	secret, err := b.priv.ECDH(pub)
	if err != nil {
		t.Fatal(err)
	}
	info := append([]byte("WebPush: info\x00"), b.priv.PublicKey().Bytes()...)
	info = append(info, asPub...)
	ikm, err := hkdf.Key(sha256.New, secret, b.auth, string(info), 32)
	if err != nil {
		t.Fatal(err)
	}
	cek, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, nonce, ct, nil)
	if err != nil {
		t.Fatalf("decrypt push: %v", err)
	}
	plain = []byte(strings.TrimRight(string(plain), "\x00"))
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		t.Fatalf("push record lacks the last-record delimiter")
	}
	return plain[:len(plain)-1]
}

// pushService is a local push service endpoint.
type pushService struct {
	mu     sync.Mutex
	got    []*http.Request
	bodies [][]byte
	status int
}

func (p *pushService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.got = append(p.got, r)
	p.bodies = append(p.bodies, b)
	st := p.status
	p.mu.Unlock()
	w.WriteHeader(st)
}

func (p *pushService) at(i int) (*http.Request, []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.got[i], p.bodies[i]
}

func (p *pushService) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.got)
}

func TestWebPushEncryptedToSubscriptionPerPreferences(t *testing.T) {
	h := start(t, nil)
	cli, _ := h.register("CLIENTE", "Carla")
	prof, _ := h.register("PROFESIONAL", "Pablo")
	ps := &pushService{status: http.StatusCreated}
	srv := httptest.NewServer(ps)
	t.Cleanup(srv.Close)
	br := newBrowser(t)
	tok := h.token(cli, "CLIENTE")
	endpoint := srv.URL + "/push/" + uuid.NewString()
	h.expect(h.do("POST", "/api/v1/notificaciones/push/subscribe", tok, map[string]any{"endpoint": endpoint, "keys": br.keys(), "expirationTime": nil}), 201)
	// Subscribing again is idempotent (same endpoint).
	h.expect(h.do("POST", "/api/v1/notifications/push/subscribe", tok, map[string]any{"endpoint": endpoint, "keys": br.keys()}), 201)
	var key map[string]string
	h.expect(h.do("GET", "/api/v1/notifications/push/vapid-public-key", "", nil), 200).Decode(t, &key)

	oferta := uuid.NewString()
	env := h.publish(events.OfferCreatedV1{OfertaID: oferta, ChatID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof,
		Descripcion: "Instalación de aire acondicionado", PrecioCentavos: 4500000})
	h.publishEnv(env, env.ID.String()+"-dup")
	testkit.Eventually(t, 10*time.Second, "push received", func() bool { return ps.count() >= 1 })
	h.settle()
	if ps.count() != 1 {
		t.Fatalf("push service got %d requests, want 1", ps.count())
	}
	req, body := ps.at(0)
	if req.Header.Get("Content-Encoding") != "aes128gcm" || req.Header.Get("TTL") == "" ||
		!strings.HasPrefix(req.Header.Get("Authorization"), "vapid t=") || !strings.Contains(req.Header.Get("Authorization"), "k="+key["public_key"]) {
		t.Fatalf("push headers: %v", req.Header)
	}
	var payload map[string]any
	if err := json.Unmarshal(br.decrypt(t, body), &payload); err != nil {
		t.Fatal(err)
	}
	if payload["title"] != "Nueva oferta recibida" || payload["tipo"] != "oferta" || !strings.HasPrefix(payload["url"].(string), frontend+"/chat/") {
		t.Fatalf("push payload: %v", payload)
	}

	// A chat message is pushed only after the user turns push_mensajes on.
	msg := events.MessageSentV1{MessageID: uuid.NewString(), ChatID: uuid.NewString(), SenderID: prof, RecipientID: cli, Tipo: "text", Text: "¿Te viene bien el martes?"}
	h.publish(msg)
	h.settle()
	if ps.count() != 1 {
		t.Fatalf("chat message pushed with push_mensajes off")
	}
	h.expect(h.do("PUT", "/api/v1/notificaciones/preferencias", tok, map[string]any{"push_mensajes": true}), 200)
	msg.MessageID = uuid.NewString()
	h.publish(msg)
	testkit.Eventually(t, 10*time.Second, "chat push", func() bool { return ps.count() == 2 })
	if err := json.Unmarshal(br.decrypt(t, second(ps.at(1))), &payload); err != nil {
		t.Fatal(err)
	}
	if payload["title"] != "Nuevo mensaje de Pablo Pérez" || payload["body"] != "¿Te viene bien el martes?" {
		t.Fatalf("chat push payload: %v", payload)
	}

	// A push service answering 410 means the browser unsubscribed: the subscription is
	// dropped and the delivery is final, not retried.
	ps.mu.Lock()
	ps.status = http.StatusGone
	ps.mu.Unlock()
	h.publish(events.JobStartedV1{TrabajoID: uuid.NewString(), ClienteID: cli, ProfesionalID: prof})
	testkit.Eventually(t, 10*time.Second, "subscription dropped", func() bool {
		return h.count(`SELECT count(*) FROM push_subscriptions WHERE user_id = $1`, cli) == 0
	})
	h.settle()
	if ps.count() != 3 {
		t.Fatalf("push service got %d requests, want 3 (gone is not retried)", ps.count())
	}
	if n := h.count(`SELECT count(*) FROM deliveries WHERE channel = 'push' AND status = 'failed'`); n != 1 {
		t.Fatalf("%d failed push deliveries, want 1", n)
	}

	// Admin push to a user with a live subscription.
	ps.mu.Lock()
	ps.status = http.StatusCreated
	ps.mu.Unlock()
	h.expect(h.do("POST", "/api/v1/notifications/push/subscribe", tok, map[string]any{"endpoint": endpoint, "keys": br.keys()}), 201)
	var out map[string]any
	h.expect(h.do("POST", "/api/v1/notifications/push", h.token(uuid.NewString(), "ADMIN"),
		map[string]any{"usuario_id": cli, "titulo": "Aviso", "mensaje": "Hola desde soporte", "url": "/ayuda"}), 202).Decode(t, &out)
	if out["suscripciones"] != float64(1) {
		t.Fatalf("admin push: %v", out)
	}
	testkit.Eventually(t, 10*time.Second, "admin push", func() bool { return ps.count() == 4 })
	if err := json.Unmarshal(br.decrypt(t, second(ps.at(3))), &payload); err != nil {
		t.Fatal(err)
	}
	if payload["title"] != "Aviso" || payload["url"] != frontend+"/ayuda" {
		t.Fatalf("admin push payload: %v", payload)
	}
}

func second(_ *http.Request, b []byte) []byte { return b }

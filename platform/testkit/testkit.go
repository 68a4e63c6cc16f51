// Package testkit gives component tests real infrastructure cheaply: a fresh PostgreSQL
// database per test, cloned from a template migrated once per migration fingerprint, and
// an in-process JetStream server in a temporary folder with every stream created. It
// also mints access tokens with a test signing key that the returned Verifier trusts.
package testkit

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events/streams"
	"github.com/conectarpro/conectar/migrations"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/natsx"
	"github.com/conectarpro/conectar/platform/pg"
)

// BaseDSN is the server the tests use: TEST_DATABASE_URL, or the local default.
func BaseDSN() string {
	if v := os.Getenv("TEST_DATABASE_URL"); v != "" {
		return v
	}
	return "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
}

// DB creates a fresh, fully migrated database for t and returns its superuser DSN. The
// database is dropped when t ends.
func DB(t testing.TB) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := BaseDSN()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("testkit: connect %s: %v (is PostgreSQL running?)", base, err)
	}
	defer admin.Close(context.Background())
	tmpl := "conectar_tmpl_" + migrations.Fingerprint()
	if err := ensureTemplate(ctx, admin, base, tmpl); err != nil {
		t.Fatalf("testkit: template: %v", err)
	}
	name := "conectar_t_" + randHex(6)
	// CREATE DATABASE … TEMPLATE needs the template to have no other sessions, so
	// clones are serialized with the same lock that guards the template's creation.
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727275)"); err != nil {
		t.Fatalf("testkit: lock: %v", err)
	}
	_, err = admin.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE "+tmpl)
	_, _ = admin.Exec(ctx, "SELECT pg_advisory_unlock(727275)")
	if err != nil {
		t.Fatalf("testkit: create database: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer c.Close(ctx)
		_, _ = c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	dsn, err := pg.WithDatabase(base, name)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

func ensureTemplate(ctx context.Context, admin *pgx.Conn, base, tmpl string) error {
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(727275)"); err != nil {
		return err
	}
	defer admin.Exec(context.Background(), "SELECT pg_advisory_unlock(727275)") //nolint:errcheck
	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", tmpl).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	building := tmpl + "_build"
	_, _ = admin.Exec(ctx, "DROP DATABASE IF EXISTS "+building+" WITH (FORCE)")
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+building); err != nil {
		return err
	}
	dsn, err := pg.WithDatabase(base, building)
	if err != nil {
		return err
	}
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	err = migrations.Up(ctx, c, migrations.Options{})
	c.Close(context.Background())
	if err != nil {
		return err
	}
	// Only a complete template gets the final name, so a crash never leaves a half one.
	_, err = admin.Exec(ctx, "ALTER DATABASE "+building+" RENAME TO "+tmpl)
	return err
}

// ServicePool opens a pool on dsn as service's role with its schema on the search_path,
// exactly as production does.
func ServicePool(t testing.TB, dsn, service string) *pgxpool.Pool {
	t.Helper()
	roleDSN, err := pg.WithUser(dsn, migrations.Role(service), "")
	if err != nil {
		t.Fatal(err)
	}
	pool, err := pg.Open(context.Background(), roleDSN, service, pg.Size{Max: 10})
	if err != nil {
		t.Fatalf("testkit: open %s pool: %v", service, err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// NATS is an in-process JetStream server for one test.
type NATS struct {
	Server *server.Server
	URL    string
	NC     *nats.Conn
	JS     jetstream.JetStream
	dir    string
	port   int
}

// StartNATS starts a server in a temporary folder with every stream created, and a
// client connection that reconnects forever.
func StartNATS(t testing.TB) *NATS {
	t.Helper()
	dir := t.TempDir()
	s, err := natsx.Embedded(dir, "127.0.0.1", 0)
	if err != nil {
		t.Fatalf("testkit: nats: %v", err)
	}
	n := &NATS{Server: s, URL: s.ClientURL(), dir: dir, port: s.Addr().(*net.TCPAddr).Port}
	t.Cleanup(func() { n.Server.Shutdown() })
	n.NC, err = natsx.Connect(n.URL, t.Name(), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(n.NC.Close)
	n.JS, err = jetstream.New(n.NC)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := streams.Ensure(ctx, n.JS, 1); err != nil {
		t.Fatal(err)
	}
	return n
}

// Stop shuts the server down (clients start reconnecting).
func (n *NATS) Stop() { n.Server.Shutdown(); n.Server.WaitForShutdown() }

// Restart starts the server again on the same port and folder, with its data.
func (n *NATS) Restart(t testing.TB) {
	t.Helper()
	s, err := natsx.Embedded(n.dir, "127.0.0.1", n.port)
	if err != nil {
		t.Fatalf("testkit: restart nats: %v", err)
	}
	n.Server = s
}

// Keys is a test signing key trusted by Verifier.
type Keys struct {
	Kid  string
	Priv ed25519.PrivateKey
	Pub  ed25519.PublicKey
}

// NewKeys makes a fresh Ed25519 key.
func NewKeys(t testing.TB) *Keys {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &Keys{Kid: "test-" + randHex(4), Priv: priv, Pub: pub}
}

// Verifier trusts k, with bans (may be nil).
func (k *Keys) Verifier(bans authn.BanList) *authn.Verifier {
	return &authn.Verifier{Keys: authn.StaticKeys(func(kid string) (ed25519.PublicKey, bool) {
		return k.Pub, kid == k.Kid
	}), Bans: bans}
}

// Token mints a 15-minute access token.
func (k *Keys) Token(userID, rol, email string) string {
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, authn.Claims{Rol: rol, Email: email, RegisteredClaims: jwt.RegisteredClaims{
		Subject: userID, ID: uuid.NewString(), IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(15 * time.Minute)),
	}})
	tok.Header["kid"] = k.Kid
	s, err := tok.SignedString(k.Priv)
	if err != nil {
		panic(fmt.Sprintf("testkit: sign: %v", err))
	}
	return s
}

// Eventually polls cond every 10ms until it holds or timeout passes.
func Eventually(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", timeout, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

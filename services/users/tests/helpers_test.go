// Package tests drives the users service's real composition root over HTTP against a
// real PostgreSQL database and an in-process JetStream server; tests that need accounts
// run the auth service in the same environment.
package tests

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/authn"
	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/auth"
	"github.com/conectarpro/conectar/services/users"
)

var fastHash = map[string]string{"ARGON2_MEMORY_KIB": "1024", "ARGON2_ITERATIONS": "1", "ARGON2_PARALLELISM": "1",
	"FORGOT_RATE_PER_ACCOUNT": "100"}

// publicURL is the gateway's public base the tests configure: avatar URLs start with it.
const publicURL = "https://api.conectar.test"

type sys struct {
	t        *testing.T
	env      *testkit.Env
	authURL  string
	usersURL string
}

// chainKeys trusts auth's published keys and the test key.
type chainKeys []authn.KeySource

func (c chainKeys) Key(ctx context.Context, kid string) (ed25519.PublicKey, error) {
	var err error = authn.ErrUnknownKey
	for _, s := range c {
		var k ed25519.PublicKey
		if k, err = s.Key(ctx, kid); err == nil {
			return k, nil
		}
	}
	return nil, err
}

// startUsers runs users alone: tokens come from env.Keys, profiles from events.
func startUsers(t *testing.T) *sys {
	t.Helper()
	env := testkit.NewEnv(t)
	s := &sys{t: t, env: env}
	d := env.Deps(t, users.Name, nil)
	d.ServiceURLs = map[string]string{}
	d.PublicURL = publicURL
	svc, err := users.New(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	s.usersURL = testkit.Serve(t, svc)
	return s
}

// startBoth runs auth and users on one environment. users verifies like production
// (auth's JWKS over HTTP) and also trusts the test key; both honour env.Bans.
func startBoth(t *testing.T) *sys {
	t.Helper()
	env := testkit.NewEnv(t)
	s := &sys{t: t, env: env}
	ad := env.Deps(t, auth.Name, fastHash)
	asvc, err := auth.New(context.Background(), ad)
	if err != nil {
		t.Fatal(err)
	}
	s.authURL = testkit.Serve(t, asvc)
	ud := env.Deps(t, users.Name, nil)
	ud.ServiceURLs = map[string]string{"auth": s.authURL}
	ud.PublicURL = publicURL
	jwks := authn.NewJWKSClient(s.authURL + "/auth/.well-known/jwks.json")
	ud.Verifier = &authn.Verifier{Keys: chainKeys{env.Verifier().Keys, jwks}, Bans: env.Bans}
	usvc, err := users.New(context.Background(), ud)
	if err != nil {
		t.Fatal(err)
	}
	s.usersURL = testkit.Serve(t, usvc)
	return s
}

// resp is an answer read whole.
type resp = testkit.Response

// do sends a request: body nil, raw (string/[]byte, with ct) or JSON; hdr are extra
// header name, value pairs.
func do(t *testing.T, method, u, token, ct string, body any, hdr ...string) resp {
	t.Helper()
	return testkit.Send(t, method, u, token, ct, body, hdr...)
}

type account struct {
	ID, Email, Rol, Access, Refresh string
}

// account registers and logs in through auth.
func (s *sys) account(email, rol string) account {
	s.t.Helper()
	r := do(s.t, "POST", s.authURL+"/api/v1/auth/register", "", "", map[string]any{"email": email, "password": "secreto123",
		"nombre": "Nom", "apellido": "Ape", "rol": rol})
	r.Expect(s.t, 201, "register")
	a := account{ID: r.Map(s.t)["id"].(string), Email: email, Rol: rol}
	r = do(s.t, "POST", s.authURL+"/api/v1/auth/login", "", "application/x-www-form-urlencoded", "username="+email+"&password=secreto123")
	r.Expect(s.t, 200, "login")
	m := r.Map(s.t)
	a.Access, a.Refresh = m["access_token"].(string), m["refresh_token"].(string)
	return a
}

// admin creates an admin account with the operator function and logs it in.
func (s *sys) admin(email string) account {
	s.t.Helper()
	ctx := context.Background()
	pool := testkit.ServicePool(s.t, s.env.DSN, auth.Name)
	id, _, err := auth.CreateAdmin(ctx, pool, func(k string) string { return fastHash[k] },
		auth.AdminInput{Email: email, Password: "adminpass1"}, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	r := do(s.t, "POST", s.authURL+"/api/v1/auth/login", "", "", map[string]string{"email": email, "password": "adminpass1"})
	r.Expect(s.t, 200, "admin login")
	return account{ID: id, Email: email, Rol: "ADMIN", Access: r.Map(s.t)["access_token"].(string)}
}

func (s *sys) get(path, token string) resp { return do(s.t, "GET", s.usersURL+path, token, "", nil) }

func publish(t *testing.T, js jetstream.JetStream, e events.Event, aggregate string) events.Envelope {
	t.Helper()
	env, err := events.New("test", aggregate, e, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	publishEnv(t, js, env)
	return env
}

// publishEnv publishes env without a Nats-Msg-Id, so publishing it again is a redelivery.
func publishEnv(t *testing.T, js jetstream.JetStream, env events.Envelope) {
	t.Helper()
	testkit.PublishEnvelope(t, js, env, "")
}

func internalGet(t *testing.T, u string) resp {
	t.Helper()
	return do(t, "GET", u, "", "", nil, kit.HeaderInternalKey, kit.DefaultInternalKey)
}

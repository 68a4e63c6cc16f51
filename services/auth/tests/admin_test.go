package tests

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/platform/testkit"
	"github.com/conectarpro/conectar/services/auth"
)

func TestCreateAdminBootstrap(t *testing.T) {
	h := start(t, nil)
	adm := h.admin("jefe@example.com")
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, h.env.DSN)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	getenv := func(k string) string { return fastHash[k] }
	// Idempotent for the same admin.
	id, created, err := auth.CreateAdmin(ctx, conn, getenv, auth.AdminInput{Email: "JEFE@example.com", Password: "adminpass1"}, time.Now())
	if err != nil || created || id != adm.ID {
		t.Fatalf("second create: %v %v %v", id, created, err)
	}
	// Refused over a non-admin account and for a weak password.
	h.register("cliente@example.com", "secreto123", "CLIENTE")
	if _, _, err := auth.CreateAdmin(ctx, conn, getenv, auth.AdminInput{Email: "cliente@example.com", Password: "adminpass1"}, time.Now()); err == nil {
		t.Fatal("admin over a client account")
	}
	if _, _, err := auth.CreateAdmin(ctx, conn, getenv, auth.AdminInput{Email: "x@example.com", Password: "short"}, time.Now()); err == nil {
		t.Fatal("weak admin password")
	}
	// The token says ADMIN and UserRegistered went out (relay of the auth outbox).
	r := h.do("POST", "/api/v1/auth/validate-token", adm.Access, nil)
	if m := r.Map(t); m["rol"] != "ADMIN" {
		t.Fatalf("admin token: %s", r.Body)
	}
	evs := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjUserRegistered, 2, 5*time.Second)
	found := false
	for _, env := range evs {
		e, _ := events.Decode[events.UserRegisteredV1](env)
		found = found || (e.UserID == adm.ID && e.Rol == "ADMIN")
	}
	if !found {
		t.Fatal("no UserRegistered for the admin")
	}
}

func TestAdminListingSearchBanUnban(t *testing.T) {
	h := start(t, nil)
	adm := h.admin("admin@example.com")
	var clientes []user
	for i := 0; i < 12; i++ {
		clientes = append(clientes, h.register(fmt.Sprintf("cliente%02d@example.com", i), "secreto123", "CLIENTE"))
	}
	victim := clientes[3]
	victim.Access, victim.Refresh = h.login(victim.Email, "secreto123")

	r := h.do("GET", "/api/v1/admin/users?page=2&limit=5", adm.Access, nil)
	r.Expect(t, 200, "list")
	m := r.Map(t)
	if m["total"] != float64(13) || m["page"] != float64(2) || m["limit"] != float64(5) || m["totalPages"] != float64(3) {
		t.Fatalf("list: %s", r.Body)
	}
	users := m["users"].([]any)
	if len(users) != 5 {
		t.Fatalf("page size %d", len(users))
	}
	// Newest first: page 1 starts with the last registered.
	first := h.do("GET", "/api/v1/admin/users", adm.Access, nil).Map(t)
	if first["users"].([]any)[0].(map[string]any)["email"] != "cliente11@example.com" || first["limit"] != float64(10) {
		t.Fatalf("first page: %v", first)
	}
	u0 := users[0].(map[string]any)
	for _, k := range []string{"id", "email", "nombre", "apellido", "rol", "is_active", "fecha_creacion"} {
		if _, ok := u0[k]; !ok {
			t.Fatalf("listing entry lacks %s: %v", k, u0)
		}
	}
	// Out-of-range paging is clamped, as before.
	if c := h.do("GET", "/api/v1/admin/users?page=0&limit=1000", adm.Access, nil).Map(t); c["page"] != float64(1) || c["limit"] != float64(100) {
		t.Fatalf("clamp: %v", c)
	}

	r = h.do("GET", "/api/v1/admin/users/search?email=CLIENTE0", adm.Access, nil)
	r.Expect(t, 200, "search")
	if l := r.List(t); len(l) != 10 {
		t.Fatalf("search results %d, want 10", len(l))
	}
	if l := h.do("GET", "/api/v1/admin/users/search?email=%25", adm.Access, nil); l.Status != 400 {
		// "%" is one character: too short.
		t.Fatalf("search %%: %d", l.Status)
	}
	if l := h.do("GET", "/api/v1/admin/users/search?email=%25%25", adm.Access, nil).List(t); len(l) != 0 {
		t.Fatalf("wildcards must be literal: %d results", len(l))
	}
	h.do("GET", "/api/v1/admin/users/search?email=c", adm.Access, nil).ExpectError(t, 400, "short search")

	// Ban.
	r = h.do("POST", "/api/v1/admin/users/"+victim.ID+"/ban", adm.Access, nil)
	r.Expect(t, 200, "ban")
	if m := r.Map(t); m["user_id"] != victim.ID || m["is_active"] != false || m["email"] != victim.Email || m["mensaje"] == nil {
		t.Fatalf("ban answer: %s", r.Body)
	}
	h.do("POST", "/api/v1/admin/users/"+victim.ID+"/ban", adm.Access, nil).ExpectError(t, 400, "ban twice")
	h.do("POST", "/api/v1/admin/users/"+adm.ID+"/ban", adm.Access, nil).ExpectError(t, 403, "ban an admin")
	h.do("POST", "/api/v1/admin/users/6f1c2d3e-4b5a-4c6d-8e7f-001122334400/ban", adm.Access, nil).ExpectError(t, 404, "ban unknown")
	h.do("POST", "/api/v1/admin/users/not-a-uuid/ban", adm.Access, nil).ExpectError(t, 404, "ban malformed id")

	// The live token dies within a second (ban list), sessions are revoked, login refused.
	t0 := time.Now()
	eventually(t, time.Second, "ban list entry", func() bool { return h.env.Bans.IsBanned(victim.ID) })
	t.Logf("ban list updated %s after the ban answered", time.Since(t0))
	r = h.do("POST", "/api/v1/auth/validate-token", victim.Access, nil)
	r.ExpectError(t, 401, "banned live token")
	h.do("POST", "/api/v1/auth/refresh", "", map[string]string{"refresh_token": victim.Refresh}).ExpectError(t, 401, "banned refresh")
	r = h.do("POST", "/api/v1/auth/login", "", map[string]string{"email": victim.Email, "password": "secreto123"})
	if m := r.ExpectError(t, 401, "banned login"); !strings.HasPrefix(m["detail"].(string), "Tu cuenta ha sido desactivada") {
		t.Fatalf("banned login message: %s", r.Body)
	}
	// A wrong password for a banned account is just bad credentials (reveals nothing).
	r = h.do("POST", "/api/v1/auth/login", "", map[string]string{"email": victim.Email, "password": "mala-clave"})
	if m := r.ExpectError(t, 401, "banned wrong pw"); m["detail"] != "Email o contraseña incorrectos" {
		t.Fatalf("message: %s", r.Body)
	}

	// Unban.
	r = h.do("POST", "/api/v1/admin/users/"+victim.ID+"/unban", adm.Access, nil)
	r.Expect(t, 200, "unban")
	if m := r.Map(t); m["is_active"] != true {
		t.Fatalf("unban answer: %s", r.Body)
	}
	h.do("POST", "/api/v1/admin/users/"+victim.ID+"/unban", adm.Access, nil).ExpectError(t, 400, "unban twice")
	eventually(t, time.Second, "ban list removal", func() bool { return !h.env.Bans.IsBanned(victim.ID) })
	h.login(victim.Email, "secreto123")

	// Events: one UserBanned, one UserUnbanned, by the admin.
	b := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjUserBanned, 1, 3*time.Second)
	ub := testkit.StreamEvents(t, h.env.NATS.JS, events.StreamAuth, events.SubjUserUnbanned, 1, 3*time.Second)
	if len(b) != 1 || len(ub) != 1 {
		t.Fatalf("ban events %d, unban events %d", len(b), len(ub))
	}
	if e, _ := events.Decode[events.UserBannedV1](b[0]); e.UserID != victim.ID || e.By != adm.ID {
		t.Fatalf("UserBanned: %+v", e)
	}
}

// TestProfileNamesReplica: the admin listing shows names renamed in users.
func TestProfileNamesReplica(t *testing.T) {
	h := start(t, nil)
	adm := h.admin("admin@example.com")
	u := h.register("renombre@example.com", "secreto123", "CLIENTE")
	env, err := events.New("users", u.ID, events.UserProfileUpdatedV1{UserID: u.ID, Nombre: "Nuevo", Apellido: "Nombre"}, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	publish(t, h, env)
	eventually(t, 5*time.Second, "renamed in the listing", func() bool {
		l := h.do("GET", "/api/v1/admin/users/search?email=renombre", adm.Access, nil).List(t)
		return len(l) == 1 && l[0].(map[string]any)["nombre"] == "Nuevo" && l[0].(map[string]any)["apellido"] == "Nombre"
	})
}

// TestBanSurvivesNATSOutage: a ban committed while NATS is down reaches the ban list
// once NATS is back (outbox relay, then the durable ban-list consumer).
func TestBanSurvivesNATSOutage(t *testing.T) {
	h := start(t, nil)
	adm := h.admin("admin@example.com")
	u := h.register("caido@example.com", "secreto123", "CLIENTE")
	h.env.NATS.Stop()
	h.do("POST", "/api/v1/admin/users/"+u.ID+"/ban", adm.Access, nil).Expect(t, 200, "ban with NATS down")
	time.Sleep(300 * time.Millisecond)
	h.env.NATS.Restart(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := h.env.NATS.JS.KeyValue(ctx, "bans")
	for err != nil && ctx.Err() == nil {
		time.Sleep(100 * time.Millisecond)
		kv, err = h.env.NATS.JS.KeyValue(ctx, "bans")
	}
	if err != nil {
		t.Fatal(err)
	}
	eventually(t, 20*time.Second, "ban in the KV bucket after the outage", func() bool {
		_, err := kv.Get(ctx, u.ID)
		return err == nil
	})
}

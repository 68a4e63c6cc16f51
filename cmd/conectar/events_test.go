package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/consumer"
	"github.com/conectarpro/conectar/platform/testkit"
)

// profilesSnapshot is users' read model of accounts, as the users-accounts handler
// builds it from auth's events (columns that come from the events only).
func profilesSnapshot(t *testing.T, db *pgx.Conn) string {
	t.Helper()
	rows, err := db.Query(context.Background(), `SELECT id, email, nombre, apellido, rol, is_active, fecha_creacion
		FROM users.profiles ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id uuid.UUID
		var email, nombre, apellido, rol string
		var active bool
		var created time.Time
		if err := rows.Scan(&id, &email, &nombre, &apellido, &rol, &active, &created); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %s %s %s %v %s\n", id, email, nombre, apellido, rol, active, created.UTC().Format(time.RFC3339Nano))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

func countRows(t *testing.T, db *pgx.Conn, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func connectDB(t *testing.T, dsn string) *pgx.Conn {
	t.Helper()
	db, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close(context.Background()) })
	return db
}

// TestEventsReplay: `events replay` of a handler under its own name is a no-op (its
// inbox already holds every event), and under a new name it reprocesses them, rebuilding
// the same read model from scratch.
func TestEventsReplay(t *testing.T) {
	sys := startSystem(t, nil)
	for i := 0; i < 3; i++ {
		sys.register(fmt.Sprintf("replay%d@conectar.test", i), fmt.Sprintf("Replay%d", i), "CLIENTE", nil)
	}
	db := connectDB(t, sys.set.DatabaseURL)
	want := profilesSnapshot(t, db)
	if strings.Count(want, "\n") < 3 {
		t.Fatalf("profiles before the replay:\n%s", want)
	}
	inboxBefore := countRows(t, db, `SELECT count(*) FROM users.inbox WHERE consumer = 'users-accounts'`)

	// The read model is lost.
	if _, err := db.Exec(context.Background(), `DELETE FROM users.profiles`); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := replay(ctx, sys.set, sys.getenv, false, []string{"--handler", "users-accounts", "--since", "1h"}, &out); err != nil {
		t.Fatalf("replay under the handler's own name: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "caught up") {
		t.Fatalf("replay did not catch up:\n%s", out.String())
	}
	if got := profilesSnapshot(t, db); got != "" {
		t.Errorf("a replay under the handler's own name applied events again:\n%s", got)
	}
	if n := countRows(t, db, `SELECT count(*) FROM users.inbox WHERE consumer = 'users-accounts'`); n != inboxBefore {
		t.Errorf("inbox of users-accounts: %d rows, was %d", n, inboxBefore)
	}

	out.Reset()
	if err := replay(ctx, sys.set, sys.getenv, false, []string{"--handler", "users-accounts", "--since", "1h",
		"--consumer", "users-accounts-rebuilt"}, &out); err != nil {
		t.Fatalf("replay under a new name: %v\n%s", err, out.String())
	}
	if got := profilesSnapshot(t, db); got != want {
		t.Errorf("rebuilt read model differs:\n got:\n%s\nwant:\n%s", got, want)
	}
	if n := countRows(t, db, `SELECT count(*) FROM users.inbox WHERE consumer = 'users-accounts-rebuilt'`); n < 3 {
		t.Errorf("the new name claimed %d events in the inbox", n)
	}
	// The replay's durable is gone once it caught up: nothing keeps consuming.
	stream, err := sys.in.js.Stream(ctx, events.StreamAuth)
	if err != nil {
		t.Fatal(err)
	}
	cons := stream.ListConsumers(ctx)
	for info := range cons.Info() {
		if strings.Contains(info.Name, "-replay-") {
			t.Errorf("replay durable %s left behind", info.Name)
		}
	}
}

// userRegistered is a UserRegistered envelope for a new user, as auth's outbox would
// publish it.
func userRegistered(t *testing.T, email string) (events.Envelope, []byte) {
	t.Helper()
	id := uuid.NewString()
	env, err := events.New("auth", id, events.UserRegisteredV1{UserID: id, Email: email, Nombre: "Redrive",
		Apellido: "Prueba", Rol: "CLIENTE"}, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return env, raw
}

// deadLetter parks data in the DLQ as the consumer runner does after the last attempt.
func deadLetter(t *testing.T, js jetstream.JetStream, consumerName, subject string, env events.Envelope, data []byte) {
	t.Helper()
	m := &nats.Msg{Subject: events.DLQSubject(consumerName), Data: data, Header: nats.Header{}}
	m.Header.Set(consumer.HdrReason, "test: handler failed")
	m.Header.Set(consumer.HdrSubject, subject)
	m.Header.Set(consumer.HdrStream, events.StreamAuth)
	m.Header.Set(consumer.HdrDeliveries, "8")
	m.Header.Set(consumer.HdrConsumer, consumerName)
	m.Header.Set(consumer.HdrEventID, env.ID.String())
	if _, err := js.PublishMsg(context.Background(), m); err != nil {
		t.Fatal(err)
	}
}

// TestDLQRedrive: `events dlq redrive` puts dead letters back on their original subject
// with the original event (same envelope, same event id), so each consumer's inbox
// decides: one that already applied the event skips it, one that never did applies it.
func TestDLQRedrive(t *testing.T) {
	sys := startSystem(t, nil)
	js := sys.in.js
	db := connectDB(t, sys.set.DatabaseURL)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// applied: delivered normally, so users-accounts' inbox holds it. Its profile row is
	// then removed: if the redrive re-applied the event, the row would come back.
	applied, appliedRaw := userRegistered(t, "applied@conectar.test")
	if _, err := js.Publish(ctx, events.SubjUserRegistered, appliedRaw, jetstream.WithMsgID(applied.ID.String())); err != nil {
		t.Fatal(err)
	}
	testkit.Eventually(t, 20*time.Second, "users-accounts applies the event", func() bool {
		return countRows(t, db, `SELECT count(*) FROM users.profiles WHERE id = $1`, applied.AggregateID) == 1
	})
	if _, err := db.Exec(ctx, `DELETE FROM users.profiles WHERE id = $1`, applied.AggregateID); err != nil {
		t.Fatal(err)
	}
	deadLetter(t, js, "users-accounts", events.SubjUserRegistered, applied, appliedRaw)

	// missed: never applied (it exists only as a dead letter).
	missed, missedRaw := userRegistered(t, "missed@conectar.test")
	deadLetter(t, js, "users-accounts", events.SubjUserRegistered, missed, missedRaw)

	var out bytes.Buffer
	if err := dlq(ctx, js, []string{"list", "--consumer", "users-accounts"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "test: handler failed") != 2 {
		t.Fatalf("dlq list:\n%s", out.String())
	}
	out.Reset()
	if err := dlq(ctx, js, []string{"redrive", "--consumer", "users-accounts"}, &out); err != nil {
		t.Fatalf("redrive: %v\n%s", err, out.String())
	}
	if strings.Count(out.String(), "redriven") != 2 {
		t.Fatalf("redrive:\n%s", out.String())
	}

	// users-accounts handles its events one at a time in stream order: once the missed
	// event is applied, the applied one (redriven before it) has been decided.
	testkit.Eventually(t, 20*time.Second, "the missed event is applied", func() bool {
		return countRows(t, db, `SELECT count(*) FROM users.profiles WHERE id = $1`, missed.AggregateID) == 1
	})
	if n := countRows(t, db, `SELECT count(*) FROM users.profiles WHERE id = $1`, applied.AggregateID); n != 0 {
		t.Error("the already-applied event was applied again: the inbox did not decide")
	}
	for _, env := range []events.Envelope{applied, missed} {
		if n := countRows(t, db, `SELECT count(*) FROM users.inbox WHERE consumer = 'users-accounts' AND event_id = $1`, env.ID); n != 1 {
			t.Errorf("inbox rows for %s: %d", env.ID, n)
		}
	}

	// On the wire: the same envelope (event id and bytes) on the original subject.
	stream, err := js.Stream(ctx, events.StreamAuth)
	if err != nil {
		t.Fatal(err)
	}
	last, err := stream.GetLastMsgForSubject(ctx, events.SubjUserRegistered)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(last.Data, missedRaw) {
		t.Errorf("redriven payload differs from the dead letter:\n%s\n%s", last.Data, missedRaw)
	}
	if id := last.Header.Get(jetstream.MsgIDHeader); !strings.HasPrefix(id, missed.ID.String()) {
		t.Errorf("Nats-Msg-Id %q does not derive from the event id %s", id, missed.ID)
	}

	// The DLQ no longer holds them; a second redrive has nothing to do.
	out.Reset()
	if err := dlq(ctx, js, []string{"list", "--consumer", "users-accounts"}, &out); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "test: handler failed") {
		t.Errorf("dead letters still listed after the redrive:\n%s", out.String())
	}
}

// TestEventsRebuildFailsOnDeadLetters: a rebuild that gave an event up (the handler
// refused it for good) has caught up with the stream but not rebuilt the read model, so
// it must fail rather than report success.
func TestEventsRebuildFailsOnDeadLetters(t *testing.T) {
	sys := startSystem(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sys.register("rebuild-ok@conectar.test", "Rebuild", "PROFESIONAL", nil)
	var out bytes.Buffer
	if err := replay(ctx, sys.set, sys.getenv, true, []string{"--handler", "professionals-identity"}, &out); err != nil {
		t.Fatalf("rebuild over good events: %v\n%s", err, out.String())
	}
	// professionals-identity refuses a registration without a user id for good.
	env, err := events.New("auth", "bad", events.UserRegisteredV1{UserID: "not-a-uuid", Email: "bad@conectar.test",
		Nombre: "Mal", Apellido: "Evento", Rol: "PROFESIONAL"}, events.Meta{}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sys.in.js.Publish(ctx, events.SubjUserRegistered, raw, jetstream.WithMsgID(env.ID.String())); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	err = replay(ctx, sys.set, sys.getenv, true, []string{"--handler", "professionals-identity"}, &out)
	if err == nil || !strings.Contains(err.Error(), "1 events went to the DLQ") {
		t.Fatalf("rebuild with a poison event: %v\n%s", err, out.String())
	}
}

package deploy

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/events"
	"github.com/conectarpro/conectar/events/streams"
)

func natsConfEnv(t *testing.T) {
	t.Helper()
	t.Setenv("NATS_SERVER_NAME", "nats-1")
	for _, u := range append(NATSUsers(), NATSUser{Name: "ops"}) {
		t.Setenv("NATS_"+strings.ToUpper(u.Name)+"_PASSWORD", "pw-"+u.Name)
	}
}

// TestNATSClusterConfig parses nats.conf with the server's own parser (what `nats-server
// -t` does) and checks the cluster of three, JetStream and one user per component; when
// a nats-server binary is installed it also runs `nats-server -t` on the file.
func TestNATSClusterConfig(t *testing.T) {
	natsConfEnv(t)
	conf := filepath.Join(root, "nats.conf")
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	if opts.ServerName != "nats-1" {
		t.Errorf("server_name = %q, want it from NATS_SERVER_NAME", opts.ServerName)
	}
	if !opts.JetStream || opts.StoreDir == "" {
		t.Errorf("JetStream not enabled with a store dir: %v %q", opts.JetStream, opts.StoreDir)
	}
	if opts.Cluster.Name == "" || opts.Cluster.Port != 6222 {
		t.Errorf("cluster name %q port %d", opts.Cluster.Name, opts.Cluster.Port)
	}
	hosts := map[string]bool{}
	for _, r := range opts.Routes {
		hosts[r.Hostname()] = true
	}
	for _, n := range []string{"nats-1", "nats-2", "nats-3"} {
		if !hosts[n] {
			t.Errorf("no route to %s (routes %v)", n, opts.Routes)
		}
	}
	users := map[string]*server.User{}
	for _, u := range opts.Users {
		users[u.Username] = u
	}
	for _, want := range append(NATSUsers(), NATSUser{Name: "ops"}) {
		u, ok := users[want.Name]
		if !ok {
			t.Errorf("no NATS user %s", want.Name)
			continue
		}
		if u.Password != "pw-"+want.Name {
			t.Errorf("%s: password not taken from NATS_%s_PASSWORD", want.Name, strings.ToUpper(want.Name))
		}
		if want.Name != "ops" && (u.Permissions == nil || u.Permissions.Publish == nil || len(u.Permissions.Publish.Allow) == 0) {
			t.Errorf("%s: no publish permissions: it could publish anything", want.Name)
		}
	}

	bin, err := exec.LookPath("nats-server")
	if err != nil {
		if _, serr := os.Stat("/usr/sbin/nats-server"); serr != nil {
			t.Log("no nats-server binary; the embedded parser above is the check")
			return
		}
		bin = "/usr/sbin/nats-server"
	}
	var out bytes.Buffer
	cmd := exec.Command(bin, "-t", "-c", conf)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Errorf("%s -t -c nats.conf: %v\n%s", bin, err, out.String())
	}
}

// TestNATSPermissions runs nats.conf's accounts on an embedded JetStream server (the
// cluster block dropped: one node) and exercises each user as its service does: stream
// bootstrap, publishing its events and dead letters, durable consumers on the streams it
// consumes (fetch and ack), the ban list and its buckets; and checks what it must not do.
func TestNATSPermissions(t *testing.T) {
	natsConfEnv(t)
	opts, err := server.ProcessConfigFile(filepath.Join(root, "nats.conf"))
	if err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port, opts.HTTPPort = "127.0.0.1", -1, 0
	opts.Cluster = server.ClusterOpts{}
	opts.Routes = nil
	opts.StoreDir = t.TempDir()
	opts.NoLog, opts.NoSigs = true, true
	ns, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(10 * time.Second) {
		t.Fatal("embedded server not ready")
	}
	connect := func(t *testing.T, user string) (*nats.Conn, jetstream.JetStream) {
		t.Helper()
		nc, err := nats.Connect(ns.ClientURL(), nats.UserInfo(user, "pw-"+user), nats.ErrorHandler(func(*nats.Conn, *nats.Subscription, error) {}))
		if err != nil {
			t.Fatalf("connect as %s: %v", user, err)
		}
		t.Cleanup(nc.Close)
		js, err := jetstream.New(nc)
		if err != nil {
			t.Fatal(err)
		}
		return nc, js
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	t.Cleanup(cancel) // not defer: the parallel subtests run after this function returns

	// ops: one event on every stream, for the consumers below to read.
	_, ops := connect(t, "ops")
	if err := streams.Ensure(ctx, ops, 1); err != nil {
		t.Fatalf("ops: ensure streams: %v", err)
	}
	for _, s := range events.Streams() {
		subj := strings.TrimSuffix(s.Subjects[0], ">") + "seed.event"
		if _, err := ops.Publish(ctx, subj, []byte("{}")); err != nil {
			t.Fatalf("ops: publish %s: %v", subj, err)
		}
	}

	denied := func(what string, err error) {
		t.Helper()
		if err == nil {
			t.Errorf("%s was allowed", what)
		}
	}
	short := func() (context.Context, context.CancelFunc) { return context.WithTimeout(ctx, time.Second) }

	for _, u := range NATSUsers() {
		t.Run(u.Name, func(t *testing.T) {
			t.Parallel() // a denied request only times out: run the users side by side
			ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			nc, js := connect(t, u.Name)
			if err := streams.Ensure(ctx, js, 1); err != nil {
				t.Fatalf("ensure streams (every process does at start): %v", err)
			}
			kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "bans", History: 1})
			if err != nil {
				t.Fatalf("open the ban list: %v", err)
			}
			w, err := kv.WatchAll(ctx)
			if err != nil {
				t.Fatalf("watch the ban list: %v", err)
			}
			select {
			case <-w.Updates():
			case <-time.After(5 * time.Second):
				t.Error("ban list watch delivered nothing")
			}
			_ = w.Stop()
			{
				c, cancel := short()
				_, err := kv.Put(c, "user-1", []byte("1"))
				cancel()
				if u.Name == "auth" && err != nil {
					t.Errorf("auth cannot write the ban list: %v", err)
				}
				if u.Name != "auth" && err == nil {
					t.Error("wrote the ban list, which only auth owns")
				}
			}

			if u.Stream != "" {
				if _, err := js.Publish(ctx, u.Subject, []byte("{}")); err != nil {
					t.Errorf("publish own event %s: %v", u.Subject, err)
				}
				if err := nc.Publish(events.DLQSubject(u.Name+"-some-consumer"), []byte("x")); err != nil {
					t.Errorf("publish own dead letter: %v", err)
				}
				if err := nc.Flush(); err != nil {
					t.Error(err)
				}
			}
			for _, s := range events.Streams() {
				if s.Name == u.Stream || s.Name == events.StreamDLQ {
					continue
				}
				c, cancel := short()
				_, err := js.Publish(c, strings.TrimSuffix(s.Subjects[0], ">")+"forged.event", []byte("{}"))
				cancel()
				denied(fmt.Sprintf("publishing into %s", s.Name), err)
			}

			consumes := map[string]bool{}
			for _, st := range u.Consumes {
				consumes[st] = true
				name := u.Name + "-permcheck"
				s, err := js.Stream(ctx, st)
				if err != nil {
					t.Errorf("stream info %s: %v", st, err)
					continue
				}
				cons, err := s.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy,
					FilterSubject: strings.ToLower(st) + ".seed.event"})
				if err != nil {
					t.Errorf("create durable on %s: %v", st, err)
					continue
				}
				if _, err := js.Consumer(ctx, st, name); err != nil {
					t.Errorf("consumer info on %s (the metrics read it): %v", st, err)
				}
				batch, err := cons.Fetch(1, jetstream.FetchMaxWait(3*time.Second))
				if err != nil {
					t.Errorf("fetch from %s: %v", st, err)
					continue
				}
				got := 0
				for m := range batch.Messages() {
					got++
					if err := m.DoubleAck(ctx); err != nil {
						t.Errorf("ack on %s: %v", st, err)
					}
				}
				if got != 1 {
					t.Errorf("fetched %d messages from %s (%v)", got, st, batch.Error())
				}
			}
			for _, s := range events.Streams() {
				if consumes[s.Name] || s.Name == events.StreamDLQ {
					continue
				}
				c, cancel := short()
				_, err := js.CreateOrUpdateConsumer(c, s.Name, jetstream.ConsumerConfig{Durable: u.Name + "-snoop", AckPolicy: jetstream.AckExplicitPolicy})
				cancel()
				denied("a durable on "+s.Name+", which it does not consume", err)
			}

			for _, b := range u.Buckets {
				obj, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: b, Storage: jetstream.FileStorage})
				if err != nil {
					t.Errorf("open bucket %s: %v", b, err)
					continue
				}
				if _, err := obj.PutBytes(ctx, "file", []byte("content")); err != nil {
					t.Errorf("put into %s: %v", b, err)
				}
				if data, err := obj.GetBytes(ctx, "file"); err != nil || string(data) != "content" {
					t.Errorf("get from %s: %q %v", b, data, err)
				}
				if err := obj.Delete(ctx, "file"); err != nil {
					t.Errorf("delete from %s: %v", b, err)
				}
			}

			// A fresh connection: LastError is sticky and the denials above set it.
			fresh, _ := connect(t, u.Name)
			sub, err := fresh.SubscribeSync("rt.user.someone")
			if err == nil {
				_ = fresh.Flush()
				err = fresh.LastError()
				_ = sub.Unsubscribe()
			}
			if u.Name == "gateway" && err != nil {
				t.Errorf("the gateway cannot subscribe to realtime pushes: %v", err)
			}
			if u.Name != "gateway" && err == nil {
				t.Error("subscribed to another user's realtime pushes")
			}
		})
	}
}

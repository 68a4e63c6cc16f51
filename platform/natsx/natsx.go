// Package natsx connects to NATS, runs an embedded JetStream server for development and
// tests, and keeps the replicated ban list (a NATS KV bucket) in memory.
package natsx

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Connect dials url and retries forever on disconnection, so a NATS restart is a pause,
// not an outage. name appears in the server's connection list.
func Connect(url, name string, log *slog.Logger, opts ...nats.Option) (*nats.Conn, error) {
	base := []nats.Option{
		nats.Name(name),
		nats.MaxReconnects(-1),
		nats.ReconnectWait(250 * time.Millisecond),
		nats.RetryOnFailedConnect(true),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("nats disconnected", "err", err)
			}
		}),
		nats.ReconnectHandler(func(c *nats.Conn) { log.Info("nats reconnected", "url", c.ConnectedUrl()) }),
	}
	nc, err := nats.Connect(url, append(base, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", url, err)
	}
	return nc, nil
}

// Embedded starts an in-process NATS server with JetStream storing under dir. port 0
// picks a free port (-1 in the server's options).
func Embedded(dir, host string, port int) (*server.Server, error) {
	if port == 0 {
		port = server.RANDOM_PORT
	}
	opts := &server.Options{
		ServerName: "conectar-embedded",
		Host:       host,
		Port:       port,
		JetStream:  true,
		StoreDir:   dir,
		NoLog:      true,
		NoSigs:     true,
		MaxPayload: 8 << 20,
	}
	s, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("new nats server: %w", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		return nil, errors.New("embedded nats server did not start")
	}
	return s, nil
}

// BansBucket is the KV bucket whose keys are the ids of banned users.
const BansBucket = "bans"

// BanList mirrors the bans bucket in memory through a KV watch.
type BanList struct {
	mu     sync.RWMutex
	banned map[string]bool
	kv     jetstream.KeyValue
	ready  chan struct{}
}

// BansKV opens (creating if needed) the bans bucket.
func BansKV(ctx context.Context, js jetstream.JetStream) (jetstream.KeyValue, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: BansBucket, History: 1})
	if err != nil {
		return nil, fmt.Errorf("open kv %s: %w", BansBucket, err)
	}
	return kv, nil
}

// WatchBans starts mirroring the bucket until ctx ends. It returns once the initial
// values are loaded, so the first request after start already sees every ban.
func WatchBans(ctx context.Context, js jetstream.JetStream, log *slog.Logger) (*BanList, error) {
	kv, err := BansKV(ctx, js)
	if err != nil {
		return nil, err
	}
	b := &BanList{banned: map[string]bool{}, kv: kv, ready: make(chan struct{})}
	go b.run(ctx, log)
	select {
	case <-b.ready:
	case <-time.After(10 * time.Second):
		return nil, errors.New("ban list: initial load timed out")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b, nil
}

func (b *BanList) run(ctx context.Context, log *slog.Logger) {
	readyOnce := sync.Once{}
	for ctx.Err() == nil {
		w, err := b.kv.WatchAll(ctx)
		if err != nil {
			log.Warn("ban list watch failed; retrying", "err", err)
			time.Sleep(time.Second)
			continue
		}
		for e := range w.Updates() {
			if e == nil { // end of initial values
				readyOnce.Do(func() { close(b.ready) })
				continue
			}
			b.mu.Lock()
			if e.Operation() == jetstream.KeyValuePut {
				b.banned[e.Key()] = true
			} else {
				delete(b.banned, e.Key())
			}
			b.mu.Unlock()
		}
		_ = w.Stop()
	}
}

// IsBanned implements authn.BanList.
func (b *BanList) IsBanned(userID string) bool {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.banned[userID]
}

// SetBanned writes a ban (or its removal) to the bucket.
func SetBanned(ctx context.Context, kv jetstream.KeyValue, userID string, banned bool) error {
	if banned {
		if _, err := kv.Put(ctx, userID, []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
			return fmt.Errorf("ban %s: %w", userID, err)
		}
		return nil
	}
	if err := kv.Delete(ctx, userID); err != nil && !errors.Is(err, jetstream.ErrKeyNotFound) {
		return fmt.Errorf("unban %s: %w", userID, err)
	}
	return nil
}

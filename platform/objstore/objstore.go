// Package objstore keeps files (avatars, portfolio images, KYC documents) in NATS Object
// Store buckets and serves them over HTTP. Public buckets are served to anyone with long
// cache headers; private ones only through handlers that check ownership first.
package objstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/gofiber/fiber/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/conectarpro/conectar/platform/apperr"
)

// Store is one bucket.
type Store struct {
	os jetstream.ObjectStore
}

// Open opens (creating if needed) bucket.
func Open(ctx context.Context, js jetstream.JetStream, bucket string) (*Store, error) {
	os, err := js.CreateOrUpdateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: bucket, Storage: jetstream.FileStorage})
	if err != nil {
		return nil, fmt.Errorf("open object store %s: %w", bucket, err)
	}
	return &Store{os: os}, nil
}

// Put stores data under name with its content type.
func (s *Store) Put(ctx context.Context, name, contentType string, data []byte) error {
	_, err := s.os.Put(ctx, jetstream.ObjectMeta{Name: name, Headers: map[string][]string{"Content-Type": {contentType}}}, bytes.NewReader(data))
	if err != nil {
		return apperr.Unavailable("storage_unavailable", "No se pudo guardar el archivo", fmt.Errorf("put %s: %w", name, err))
	}
	return nil
}

// Get returns the object's bytes and content type.
func (s *Store) Get(ctx context.Context, name string) ([]byte, string, error) {
	r, err := s.os.Get(ctx, name)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, "", apperr.NotFound("file_not_found", "Archivo no encontrado")
	}
	if err != nil {
		return nil, "", apperr.Unavailable("storage_unavailable", "No se pudo leer el archivo", fmt.Errorf("get %s: %w", name, err))
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, "", apperr.Unavailable("storage_unavailable", "No se pudo leer el archivo", fmt.Errorf("read %s: %w", name, err))
	}
	info, err := r.Info()
	ct := "application/octet-stream"
	if err == nil && info.Headers != nil && info.Headers.Get("Content-Type") != "" {
		ct = info.Headers.Get("Content-Type")
	}
	return data, ct, nil
}

// Delete removes an object; a missing one is not an error.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := s.os.Delete(ctx, name); err != nil && !errors.Is(err, jetstream.ErrObjectNotFound) {
		return fmt.Errorf("delete %s: %w", name, err)
	}
	return nil
}

// Serve writes the object to the response. Public objects get a year of caching
// (names are never reused: they carry a fresh id); private ones are never cached.
func (s *Store) Serve(c *fiber.Ctx, name string, public bool) error {
	data, ct, err := s.Get(c.UserContext(), name)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, ct)
	c.Set("X-Content-Type-Options", "nosniff")
	if public {
		c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	} else {
		c.Set(fiber.HeaderCacheControl, "private, no-store")
	}
	return c.Send(data)
}

package auth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// A request that finds every hashing slot taken waits HashWait at most and is refused
// as busy (503); once a slot frees, hashing works again.
func TestHasherRefusesWhenBusyPastHashWait(t *testing.T) {
	h, err := NewHasher(Config{Argon2MemoryKiB: 64, Argon2Iterations: 1, Argon2Parallelism: 1, HashWait: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	for range cap(h.sem) {
		h.sem <- struct{}{}
	}
	start := time.Now()
	if _, err := h.Hash(context.Background(), "una clave larga"); !errors.Is(err, ErrHasherBusy) {
		t.Fatalf("every slot taken: got %v, want ErrHasherBusy", err)
	}
	if waited := time.Since(start); waited < 50*time.Millisecond {
		t.Fatalf("refused after %s, before HashWait", waited)
	}
	if _, err := h.Check(context.Background(), "una clave larga", ""); !errors.Is(err, ErrHasherBusy) {
		t.Fatalf("check with every slot taken: got %v, want ErrHasherBusy", err)
	}
	<-h.sem
	if _, err := h.Hash(context.Background(), "una clave larga"); err != nil {
		t.Fatalf("a slot is free: %v", err)
	}
}

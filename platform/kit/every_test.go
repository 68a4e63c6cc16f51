package kit

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"
)

// Every runs at once, again after a failure, and stops with its context.
func TestEveryRunsAtOnceKeepsGoingAfterFailuresAndStops(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var runs atomic.Int32
	done := make(chan struct{})
	go func() {
		Every(ctx, time.Millisecond, slog.New(slog.NewTextHandler(io.Discard, nil)), "job", func(context.Context) error {
			if runs.Add(1) == 3 {
				cancel()
			}
			return errors.New("provider down")
		})
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Every did not stop when its context ended")
	}
	if n := runs.Load(); n != 3 {
		t.Fatalf("ran %d times, want 3 (it must keep going after failures and stop once cancelled)", n)
	}
}

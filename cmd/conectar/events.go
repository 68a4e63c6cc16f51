package main

import (
	"context"
	"errors"
	"io"

	"github.com/conectarpro/conectar/platform/config"
)

// runEvents is the operator's window on JetStream.
func runEvents(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	return errors.New("events: not available yet")
}

package main

import (
	"context"
	"errors"
	"io"

	"github.com/conectarpro/conectar/platform/config"
)

// runAdmin is owned by the identity work.
func runAdmin(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	return errors.New("admin: not available yet")
}

package main

import (
	"context"
	"errors"
	"io"

	"github.com/conectarpro/conectar/platform/config"
)

// runSeed is owned by the professionals work.
func runSeed(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	return errors.New("seed: not available yet")
}

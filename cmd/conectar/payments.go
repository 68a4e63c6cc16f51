package main

import (
	"context"
	"errors"
	"io"

	"github.com/conectarpro/conectar/platform/config"
)

// runMPSim and runPayments are owned by the payments work.
func runMPSim(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	return errors.New("mpsim: not available yet")
}

func runPayments(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	return errors.New("payments: not available yet")
}

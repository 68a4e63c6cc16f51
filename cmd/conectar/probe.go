package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"
)

// runProbe exits non-zero unless url answers 2xx: the container health check, since
// the runtime image has no shell or curl.
func runProbe(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) != 1 {
		return fmt.Errorf("probe: usage: conectar probe <url>")
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, args[0], nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("probe: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("probe: %s answered %d", args[0], resp.StatusCode)
	}
	fmt.Fprintln(stdout, "ok")
	return nil
}

package kit

import (
	"context"
	"log/slog"
	"time"
)

// Every runs fn at once and then every interval until ctx ends: the shape of every
// periodic job of the services (expiries, reconciliation, sweeps, key rotation). A
// failure is logged as what and tried again at the next tick; the loop never gives up,
// so a job resumes by itself once PostgreSQL or a provider is back.
func Every(ctx context.Context, interval time.Duration, log *slog.Logger, what string, fn func(context.Context) error) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := fn(ctx); err != nil && ctx.Err() == nil {
			log.Warn(what+" failed; retrying at the next tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

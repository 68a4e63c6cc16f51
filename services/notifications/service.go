// Package notifications owns in-app notifications, preferences, push subscriptions, and gamification (XP, levels, medals).
package notifications

import (
	"context"

	"github.com/conectarpro/conectar/platform/kit"
)

// Name is the service's name, schema and role suffix.
const Name = "notifications"

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	return s, nil
}

// Package users owns profiles (names, avatar) and chat-strike counters. Profiles are
// born from auth's UserRegistered; on a miss (the event still in flight) the profile is
// read once from auth's internal API and stored, so a client that registers and reads
// /users/me at once sees its own write. Avatars live in a public NATS Object Store
// bucket and are served back by this service.
package users

import (
	"context"
	"fmt"

	"github.com/conectarpro/conectar/platform/kit"
	"github.com/conectarpro/conectar/platform/objstore"
)

// Name is the service's name, schema and role suffix.
const Name = "users"

// AvatarBucket is the public object-store bucket of avatars.
const AvatarBucket = "avatars"

// AvatarPath is the public path prefix avatars are served under. avatar_url is this
// path plus the object name: relative to the public API base, so it works behind any
// host the gateway is reached at.
const AvatarPath = "/api/v1/users/avatars/"

// ChatStrikeLimit is the number of chat infractions that bans a user from chatting.
const ChatStrikeLimit = 3

// Users is the service's state shared by handlers and consumers.
type Users struct {
	svc     *kit.Service
	avatars *objstore.Store
}

// New is the service's composition root.
func New(ctx context.Context, d kit.Deps) (*kit.Service, error) {
	s, err := kit.New(Name, Name, d)
	if err != nil {
		return nil, err
	}
	avatars, err := objstore.Open(ctx, d.JS, AvatarBucket)
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	u := &Users{svc: s, avatars: avatars}
	s.Consume(u.consumers()...)
	if err := u.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

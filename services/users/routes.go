package users

import (
	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/upload"
)

type avatarPath struct {
	Name string `path:"name" doc:"the object name avatar_url ends with"`
}

type searchQuery struct {
	Q string `query:"q" jsonschema:"required,minLength=2,maxLength=100" doc:"part of the email or the names, case-insensitive"`
}

type userIDPath struct {
	ID string `path:"id" jsonschema:"format=uuid"`
}

// avatarForm is the avatar upload: one image in the field file.
type avatarForm struct {
	File api.File `json:"file" jsonschema:"required" jsonschema_description:"JPEG, PNG, GIF or WebP, at most 10 MiB; the type is read from the bytes"`
}

// routes declares every operation of users once: the registry mounts it and describes it
// (served at /openapi.json, merged by the gateway).
func (u *Users) routes() error {
	// Reading one's profile may fill it from auth's internal API (read-your-writes).
	fromAuth := []*apperr.Error{errProfileNotFound, apperr.Unavailable("service_unavailable", "", nil),
		apperr.Unavailable("auth_mismatch", "", nil)}
	reg := api.New(u.svc.App, api.Config{Service: Name, Title: "users: profiles, avatars, chat strikes",
		Auth: u.svc.Auth(), Internal: u.svc.Internal(), Common: api.StoreErrors()})
	// Public: avatar names carry a fresh id, so they are cached for a year.
	reg.Add(api.Op{Method: "GET", Path: AvatarPath + ":name", Access: api.Public, Summary: "An avatar image",
		Params: avatarPath{}, Answers: []api.Answer{api.Bytes(200, "image/*", "the image (cached for a year)")},
		Errors:  []*apperr.Error{apperr.NotFound("file_not_found", ""), apperr.Unavailable("storage_unavailable", "", nil)},
		Handler: u.serveAvatar})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/users/me", Access: api.Authenticated, Summary: "One's profile",
		Answers: []api.Answer{api.JSON(200, UserRead{}, "")}, Errors: fromAuth, Handler: u.getMe})
	reg.Add(api.Op{Method: "PUT", Path: "/api/v1/users/me", Access: api.Authenticated, Summary: "Change one's names and contact details",
		Description: "Absent fields are left as they are; telefono and direccion sent empty are cleared. email may be sent back unchanged, never changed.",
		Body:        updateBody{}, Answers: []api.Answer{api.JSON(200, UserRead{}, "the profile as it is now")},
		Errors: append([]*apperr.Error{errEmailChange}, fromAuth...), Handler: u.updateMe})
	reg.Add(api.Op{Method: "POST", Path: "/api/v1/users/me/avatar", Access: api.Authenticated, Summary: "Replace one's avatar",
		Forms:   []api.Form{{MediaType: "multipart/form-data", Schema: avatarForm{}}},
		Answers: []api.Answer{api.JSON(200, UserRead{}, "the profile with its new avatar_url")},
		Errors: append([]*apperr.Error{apperr.New(apperr.KindUnsupported, "unsupported_media_type", ""), apperr.Validation(),
			apperr.New(apperr.KindTooLarge, "file_too_large", ""), apperr.New(apperr.KindTooLarge, "body_too_large", ""),
			apperr.Invalid(upload.CodeUnsupportedType, ""), apperr.Unavailable("storage_unavailable", "", nil)}, fromAuth...),
		Handler: u.uploadAvatar})
	reg.Add(api.Op{Method: "GET", Path: "/api/v1/users/search", Access: api.Authenticated, Summary: "Find active people by email or name (at most 20)",
		Params: searchQuery{}, Answers: []api.Answer{api.JSON(200, []UserBrief{}, "the matches")},
		Errors: []*apperr.Error{apperr.Invalid("search_term_length", "")}, Handler: u.search})
	reg.Add(api.Op{Method: "GET", Path: "/internal/users/:id", Access: api.Internal, Summary: "A profile (read-your-writes misses)",
		Params: userIDPath{}, Answers: []api.Answer{api.JSON(200, UserBrief{}, "avatar_url is the stored path")},
		Errors: fromAuth, Handler: u.internalUser})
	return reg.Serve("/openapi.json")
}

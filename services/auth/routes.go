package auth

import (
	"github.com/gofiber/fiber/v2"

	"github.com/conectarpro/conectar/platform/api"
	"github.com/conectarpro/conectar/platform/apperr"
	"github.com/conectarpro/conectar/platform/authn"
)

// The answers that used to be fiber.Map: named so the document can describe them.

// Confirmation is the answer of calls that only confirm (logout, password flows).
type Confirmation struct {
	Message string `json:"message"`
	Success bool   `json:"success"`
}

// TokenInfo is what validate-token reads from a valid token.
type TokenInfo struct {
	UserID string `json:"user_id" jsonschema:"format=uuid"`
	Rol    string `json:"rol" jsonschema:"enum=CLIENTE,enum=PROFESIONAL,enum=ADMIN"`
	Email  string `json:"email"`
}

// RotatedKeys is the answer of a key rotation: the new key id and the published keys.
type RotatedKeys struct {
	Kid  string     `json:"kid"`
	JWKS authn.JWKS `json:"jwks"`
}

// UserPage is one page of the admin user listing.
type UserPage struct {
	Users      []UserSearchResult `json:"users"`
	Total      int                `json:"total"`
	Page       int                `json:"page"`
	Limit      int                `json:"limit"`
	TotalPages int                `json:"totalPages"`
}

// BanResult is the answer of a ban or an unban (mensaje and message carry the same text:
// the two generations of the admin page read one each).
type BanResult struct {
	UserID   string `json:"user_id" jsonschema:"format=uuid"`
	Email    string `json:"email"`
	IsActive bool   `json:"is_active"`
	Mensaje  string `json:"mensaje"`
	Message  string `json:"message"`
}

// Query and path parameters.

type tokenQuery struct {
	Token string `query:"token" doc:"the access token (otherwise the bearer token or the body's token)"`
}

type forgotQuery struct {
	Email string `query:"email" doc:"read only when the body is empty"`
}

type resetQuery struct {
	Token       string `query:"token" doc:"read only when the body is empty"`
	NewPassword string `query:"new_password" doc:"read only when the body is empty"`
}

type adminPageQuery struct {
	Page  int `query:"page" doc:"from 1; out of range or malformed is clamped, never refused"`
	Limit int `query:"limit" doc:"default 10, at most 100"`
}

type emailSearchQuery struct {
	Email string `query:"email" jsonschema:"required,minLength=2,maxLength=254" doc:"part of the email, case-insensitive"`
}

type userIDPath struct {
	ID string `path:"id" jsonschema:"format=uuid"`
}

// loginForm is the OAuth2 password form (DecodeLogin reads it into loginBody).
type loginForm struct {
	Username string `json:"username" jsonschema:"required" doc:"the email"`
	Password string `json:"password" jsonschema:"required"`
}

// routes declares every operation of auth once: the registry mounts it and describes it
// (served at /openapi.json, merged by the gateway).
func (a *Auth) routes(app *fiber.App) error {
	reg := api.New(app, api.Config{Service: Name, Title: "auth: accounts, credentials, sessions, signing keys",
		Auth: a.verifier.Middleware(true), Internal: a.svc.Internal(), Common: api.StoreErrors()})
	tooMany := errTooMany

	// /auth/.well-known/jwks.json without the /api/v1 prefix is where every component's
	// JWKS client looks (it talks to auth directly).
	for _, at := range []struct{ prefix, id string }{{"/api/v1/auth", ""}, {"/auth", "get_jwks_direct"}} {
		reg.Add(api.Op{Method: "GET", Path: at.prefix + "/.well-known/jwks.json", ID: at.id, Access: api.Public,
			Summary: "The public keys that verify access tokens (JWKS, Ed25519)",
			Answers: []api.Answer{api.JSON(200, authn.JWKS{}, "the published keys, newest first")}, Handler: a.jwks})
	}

	g := reg.Group("/api/v1/auth", "")
	g.Add(api.Op{Method: "POST", Path: "/register", Access: api.Public, Summary: "Create an account (CLIENTE or PROFESIONAL)",
		Body: registerBody{}, Answers: []api.Answer{api.JSON(201, UserRead{}, "the new user")},
		Errors: []*apperr.Error{errEmailTaken, apperr.Forbidden("admin_registration_forbidden", "")}, Handler: a.register})
	g.Add(api.Op{Method: "POST", Path: "/login", Access: api.Public, Summary: "Sign in: an access and a refresh token",
		Description: "The OAuth2 password form (username, password) the web frontend sends, the same fields as multipart, or JSON {email, password}.",
		Body:        loginBody{}, Forms: []api.Form{{MediaType: fiber.MIMEApplicationForm, Schema: loginForm{}}, {MediaType: fiber.MIMEMultipartForm, Schema: loginForm{}}},
		Answers: []api.Answer{api.JSON(200, TokenPair{}, "the token pair")},
		Errors:  []*apperr.Error{errBadCredentials, errInactive, tooMany}, Handler: a.login})
	g.Add(api.Op{Method: "POST", Path: "/refresh", Access: api.Public, Summary: "Trade a refresh token for a new pair (the old one is spent)",
		Body: refreshBody{}, Answers: []api.Answer{api.JSON(200, TokenPair{}, "the new pair")},
		Errors: []*apperr.Error{errBadRefresh, errInactive, apperr.Unauthorized("refresh_token_reused", "")}, Handler: a.refresh})
	g.Add(api.Op{Method: "POST", Path: "/logout", Access: api.Public, Summary: "End the session of a refresh token (or of the bearer token)",
		Body: refreshBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, Confirmation{}, "the session is over")},
		Errors: []*apperr.Error{apperr.Unauthorized("invalid_token", ""), apperr.Unauthorized("user_banned", "")}, Handler: a.logout})
	g.Add(api.Op{Method: "POST", Path: "/validate-token", Access: api.Public, Summary: "Read a token's claims if it is valid",
		Params: tokenQuery{}, Body: validateBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, TokenInfo{}, "the token is valid")},
		Errors: []*apperr.Error{apperr.Unauthorized("not_authenticated", ""), apperr.Unauthorized("invalid_token", ""),
			apperr.Unauthorized("user_banned", "")}, Handler: a.validateToken})
	g.Add(api.Op{Method: "POST", Path: "/forgot-password", Access: api.Public, Summary: "Email a password-reset link",
		Description: "Always the same answer: the email is sent only if an active account has that address.",
		Params:      forgotQuery{}, Body: forgotBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, Confirmation{}, "")},
		Errors: []*apperr.Error{tooMany}, Handler: a.forgotPassword})
	g.Add(api.Op{Method: "POST", Path: "/reset-password", Access: api.Public, Summary: "Set a new password with a reset token (every session ends)",
		Params: resetQuery{}, Body: resetBody{}, BodyOptional: true, Answers: []api.Answer{api.JSON(200, Confirmation{}, "")},
		Errors: []*apperr.Error{errBadResetToken, tooMany}, Handler: a.resetPassword})
	g.Add(api.Op{Method: "POST", Path: "/admin/keys/rotate", Roles: []string{authn.RoleAdmin}, Summary: "Rotate the signing key now",
		Answers: []api.Answer{api.JSON(200, RotatedKeys{}, "the new key id and the published keys")}, Handler: a.rotateKeys})

	reg.Add(api.Op{Method: "POST", Path: "/api/v1/users/me/change-password", Access: api.Authenticated,
		Summary: "Change one's password (the other sessions end)", Body: changeBody{},
		Answers: []api.Answer{api.JSON(200, Confirmation{}, "")},
		Errors:  []*apperr.Error{errUserNotFound, tooMany, apperr.Invalid("wrong_password", ""), apperr.Invalid("same_password", "")},
		Handler: a.changePassword})

	ad := reg.Group("/api/v1/admin/users", api.Authenticated, authn.RoleAdmin)
	ad.Add(api.Op{Method: "GET", Path: "", Summary: "List accounts, newest first", Params: adminPageQuery{},
		Answers: []api.Answer{api.JSON(200, UserPage{}, "one page")}, Handler: a.adminList})
	ad.Add(api.Op{Method: "GET", Path: "/search", Summary: "Search accounts by email (at most 50)", Params: emailSearchQuery{},
		Answers: []api.Answer{api.JSON(200, []UserSearchResult{}, "the matches")},
		Errors:  []*apperr.Error{apperr.Invalid("search_too_short", ""), apperr.Invalid("search_too_long", "")}, Handler: a.adminSearch})
	banErrors := []*apperr.Error{errUserNotFound, apperr.Forbidden("cannot_ban_admin", ""), apperr.Invalid("already_banned", ""),
		apperr.Invalid("not_banned", "")}
	ad.Add(api.Op{Method: "POST", Path: "/:id/ban", Summary: "Ban an account: its sessions end, every service refuses it at once",
		Params: userIDPath{}, Answers: []api.Answer{api.JSON(200, BanResult{}, "")}, Errors: banErrors, Handler: a.ban})
	ad.Add(api.Op{Method: "POST", Path: "/:id/unban", Summary: "Lift a ban", Params: userIDPath{},
		Answers: []api.Answer{api.JSON(200, BanResult{}, "")}, Errors: banErrors, Handler: a.unban})

	reg.Add(api.Op{Method: "GET", Path: "/api/v1/admin/metrics/users", Roles: []string{authn.RoleAdmin},
		Summary: "User counts: by role, active and banned, sign-ups, KYC states, monthly growth",
		Answers: []api.Answer{api.JSON(200, UserMetrics{}, "")}, Handler: a.userMetrics})

	reg.Add(api.Op{Method: "GET", Path: "/internal/accounts/:id", Access: api.Internal, Summary: "An account (read-your-writes misses)",
		Params: userIDPath{}, Answers: []api.Answer{api.JSON(200, InternalAccount{}, "")}, Errors: []*apperr.Error{errUserNotFound},
		Handler: a.internalAccount})
	return reg.Serve("/openapi.json")
}

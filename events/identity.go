package events

// Subjects of the identity contexts (auth and users).
const (
	SubjUserRegistered         = "auth.user.registered"
	SubjUserBanned             = "auth.user.banned"
	SubjUserUnbanned           = "auth.user.unbanned"
	SubjPasswordResetRequested = "auth.password.reset_requested"
	SubjPasswordChanged        = "auth.password.changed"
	SubjUserProfileUpdated     = "users.profile.updated"
	SubjUserChatBanned         = "users.chat.banned"
)

// UserRegisteredV1 is published by auth when an account is created. A PROFESIONAL's
// OficioID is the trade chosen at registration, if any.
type UserRegisteredV1 struct {
	UserID   string `json:"user_id"`
	Email    string `json:"email"`
	Nombre   string `json:"nombre"`
	Apellido string `json:"apellido"`
	Rol      string `json:"rol"`
	OficioID string `json:"oficio_id,omitempty"`
}

func (UserRegisteredV1) EventType() string { return "UserRegistered" }
func (UserRegisteredV1) EventVersion() int { return 1 }
func (UserRegisteredV1) Subject() string   { return SubjUserRegistered }

// UserBannedV1 is published by auth when an admin deactivates an account.
type UserBannedV1 struct {
	UserID string `json:"user_id"`
	By     string `json:"by"`
}

func (UserBannedV1) EventType() string { return "UserBanned" }
func (UserBannedV1) EventVersion() int { return 1 }
func (UserBannedV1) Subject() string   { return SubjUserBanned }

// UserUnbannedV1 is published by auth when an admin reactivates an account.
type UserUnbannedV1 struct {
	UserID string `json:"user_id"`
	By     string `json:"by"`
}

func (UserUnbannedV1) EventType() string { return "UserUnbanned" }
func (UserUnbannedV1) EventVersion() int { return 1 }
func (UserUnbannedV1) Subject() string   { return SubjUserUnbanned }

// PasswordResetRequestedV1 carries the one-time reset token in clear, because the
// notifications service must put it in the email; the auth database keeps only its hash.
type PasswordResetRequestedV1 struct {
	UserID    string `json:"user_id"`
	Email     string `json:"email"`
	Nombre    string `json:"nombre"`
	Token     string `json:"token"`
	ExpiresAt string `json:"expires_at"`
	// ResetURL is the frontend link with the token (FRONTEND_URL/reset-password?token=…).
	ResetURL string `json:"reset_url,omitempty"`
}

func (PasswordResetRequestedV1) EventType() string { return "PasswordResetRequested" }
func (PasswordResetRequestedV1) EventVersion() int { return 1 }
func (PasswordResetRequestedV1) Subject() string   { return SubjPasswordResetRequested }

// PasswordChangedV1 is published by auth after a change or a reset.
type PasswordChangedV1 struct {
	UserID string `json:"user_id"`
	Reason string `json:"reason"` // "change" | "reset"
}

func (PasswordChangedV1) EventType() string { return "PasswordChanged" }
func (PasswordChangedV1) EventVersion() int { return 1 }
func (PasswordChangedV1) Subject() string   { return SubjPasswordChanged }

// UserProfileUpdatedV1 is published by users when names or avatar change.
type UserProfileUpdatedV1 struct {
	UserID    string `json:"user_id"`
	Nombre    string `json:"nombre"`
	Apellido  string `json:"apellido"`
	AvatarURL string `json:"avatar_url,omitempty"`
}

func (UserProfileUpdatedV1) EventType() string { return "UserProfileUpdated" }
func (UserProfileUpdatedV1) EventVersion() int { return 1 }
func (UserProfileUpdatedV1) Subject() string   { return SubjUserProfileUpdated }

// UserChatBannedV1 is published by users when a user reaches the strike limit.
type UserChatBannedV1 struct {
	UserID       string `json:"user_id"`
	Infracciones int    `json:"infracciones"`
}

func (UserChatBannedV1) EventType() string { return "UserChatBanned" }
func (UserChatBannedV1) EventVersion() int { return 1 }
func (UserChatBannedV1) Subject() string   { return SubjUserChatBanned }

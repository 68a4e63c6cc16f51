package events

// Subjects of the engagement context (notifications and gamification).
const (
	SubjXPAwarded    = "engagement.xp.awarded"
	SubjLevelChanged = "engagement.level.changed"
	SubjMedalAwarded = "engagement.medal.awarded"
)

// XPAwardedV1 is published for every XP grant. UsuarioID is the professional's user id.
type XPAwardedV1 struct {
	UsuarioID         string `json:"usuario_id"`
	Puntos            int    `json:"puntos"`
	PuntosExperiencia int    `json:"puntos_experiencia"`
	Motivo            string `json:"motivo"`
}

func (XPAwardedV1) EventType() string { return "XPAwarded" }
func (XPAwardedV1) EventVersion() int { return 1 }
func (XPAwardedV1) Subject() string   { return SubjXPAwarded }

// LevelChangedV1 is published when a professional's level changes. TasaComisionBP is the
// new commission in basis points (2000 = 20 %).
type LevelChangedV1 struct {
	UsuarioID         string `json:"usuario_id"`
	NivelAnterior     string `json:"nivel_anterior"`
	Nivel             string `json:"nivel"`
	PuntosExperiencia int    `json:"puntos_experiencia"`
	TasaComisionBP    int    `json:"tasa_comision_bp"`
}

func (LevelChangedV1) EventType() string { return "LevelChanged" }
func (LevelChangedV1) EventVersion() int { return 1 }
func (LevelChangedV1) Subject() string   { return SubjLevelChanged }

// MedalAwardedV1 is published once per medal and user.
type MedalAwardedV1 struct {
	UsuarioID string `json:"usuario_id"`
	Medalla   string `json:"medalla"`
	Nombre    string `json:"nombre"`
}

func (MedalAwardedV1) EventType() string { return "MedalAwarded" }
func (MedalAwardedV1) EventVersion() int { return 1 }
func (MedalAwardedV1) Subject() string   { return SubjMedalAwarded }

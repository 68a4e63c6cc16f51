package events

// Subjects of the professionals context.
const (
	SubjProfessionalProfileUpdated = "professionals.profile.updated"
	SubjKYCSubmitted               = "professionals.kyc.submitted"
	SubjKYCApproved                = "professionals.kyc.approved"
	SubjKYCRejected                = "professionals.kyc.rejected"
	SubjTradeUpdated               = "professionals.trade.updated"
	SubjTradeToggled               = "professionals.trade.toggled"
)

// ProfessionalProfileUpdatedV1 is published when a professional's public data changes,
// including the payout account that payments needs for releases.
type ProfessionalProfileUpdatedV1 struct {
	ProfesionalID      string   `json:"profesional_id"`
	UsuarioID          string   `json:"usuario_id"`
	EstadoVerificacion string   `json:"estado_verificacion"`
	OficioIDs          []string `json:"oficio_ids"`
	TarifaPorHora      float64  `json:"tarifa_por_hora"`
	RadioCoberturaKm   int      `json:"radio_cobertura_km"`
	AceptaInstant      bool     `json:"acepta_instant"`
	PayoutAccount      string   `json:"payout_account,omitempty"`
	// Added fields (v1 stays compatible): the rate in centavos (null when unset), the
	// level and commission, and whether the profile is visible (approved and active).
	TarifaPorHoraCentavos *int64 `json:"tarifa_por_hora_centavos"`
	Nivel                 string `json:"nivel,omitempty"`
	TasaComisionBP        int    `json:"tasa_comision_bp,omitempty"`
	IsActive              bool   `json:"is_active"`
}

func (ProfessionalProfileUpdatedV1) EventType() string { return "ProfessionalProfileUpdated" }
func (ProfessionalProfileUpdatedV1) EventVersion() int { return 1 }
func (ProfessionalProfileUpdatedV1) Subject() string   { return SubjProfessionalProfileUpdated }

// KYCSubmittedV1 is published when a professional sends documents for review.
type KYCSubmittedV1 struct {
	ProfesionalID string `json:"profesional_id"`
	UsuarioID     string `json:"usuario_id"`
	Documentos    int    `json:"documentos"`
}

func (KYCSubmittedV1) EventType() string { return "KYCSubmitted" }
func (KYCSubmittedV1) EventVersion() int { return 1 }
func (KYCSubmittedV1) Subject() string   { return SubjKYCSubmitted }

// KYCApprovedV1 is published when an admin approves a professional.
type KYCApprovedV1 struct {
	ProfesionalID string `json:"profesional_id"`
	UsuarioID     string `json:"usuario_id"`
	AdminID       string `json:"admin_id"`
}

func (KYCApprovedV1) EventType() string { return "KYCApproved" }
func (KYCApprovedV1) EventVersion() int { return 1 }
func (KYCApprovedV1) Subject() string   { return SubjKYCApproved }

// KYCRejectedV1 is published when an admin rejects a professional's documents.
type KYCRejectedV1 struct {
	ProfesionalID string `json:"profesional_id"`
	UsuarioID     string `json:"usuario_id"`
	AdminID       string `json:"admin_id"`
	Motivo        string `json:"motivo"`
}

func (KYCRejectedV1) EventType() string { return "KYCRejected" }
func (KYCRejectedV1) EventVersion() int { return 1 }
func (KYCRejectedV1) Subject() string   { return SubjKYCRejected }

// KYCState reads a KYCSubmitted, KYCApproved or KYCRejected envelope as the state it
// leaves the professional's verification in (EN_REVISION, APROBADO, RECHAZADO) and the
// user it belongs to: what a service keeping a replica of KYC states needs. ok is false
// for any other event type.
func KYCState(env Envelope) (usuarioID, estado string, ok bool, err error) {
	switch env.Type {
	case KYCSubmittedV1{}.EventType():
		e, err := Decode[KYCSubmittedV1](env)
		return e.UsuarioID, "EN_REVISION", true, err
	case KYCApprovedV1{}.EventType():
		e, err := Decode[KYCApprovedV1](env)
		return e.UsuarioID, "APROBADO", true, err
	case KYCRejectedV1{}.EventType():
		e, err := Decode[KYCRejectedV1](env)
		return e.UsuarioID, "RECHAZADO", true, err
	}
	return "", "", false, nil
}

// TradeUpdatedV1 is published when an admin edits a trade of the catalogue; it carries
// the trade as it now is.
type TradeUpdatedV1 struct {
	OficioID    string `json:"oficio_id"`
	Nombre      string `json:"nombre"`
	Descripcion string `json:"descripcion"`
	Categoria   string `json:"categoria"`
	Activo      bool   `json:"activo"`
	AdminID     string `json:"admin_id"`
}

func (TradeUpdatedV1) EventType() string { return "TradeUpdated" }
func (TradeUpdatedV1) EventVersion() int { return 1 }
func (TradeUpdatedV1) Subject() string   { return SubjTradeUpdated }

// TradeToggledV1 is published when an admin enables or disables a trade. A disabled
// trade stays linked to the professionals who have it, but cannot be newly chosen and
// finds nobody in search.
type TradeToggledV1 struct {
	OficioID string `json:"oficio_id"`
	Nombre   string `json:"nombre"`
	Activo   bool   `json:"activo"`
	AdminID  string `json:"admin_id"`
}

func (TradeToggledV1) EventType() string { return "TradeToggled" }
func (TradeToggledV1) EventVersion() int { return 1 }
func (TradeToggledV1) Subject() string   { return SubjTradeToggled }

package gamification

// Metric names a counter a medal is measured on. The catalogue itself is data (the
// medals table); only the meaning of each metric lives in code.
const (
	MetricTrabajos = "trabajos_completados"
	MetricResenas5 = "resenas_5_estrellas"
	MetricKYC      = "kyc_verificado"
	MetricNivel    = "nivel"
)

// Medal is one entry of the catalogue.
type Medal struct {
	Codigo      string `json:"codigo"`
	Nombre      string `json:"nombre"`
	Descripcion string `json:"descripcion"`
	Icono       string `json:"icono"`
	Metrica     string `json:"metrica"`
	Umbral      int    `json:"umbral"`
}

// Stats are a professional's counters that medals are measured on.
type Stats struct {
	TrabajosCompletados int
	Resenas5            int
	KYCVerificado       bool
	Nivel               Level
}

func (s Stats) value(metric string) (int, bool) {
	switch metric {
	case MetricTrabajos:
		return s.TrabajosCompletados, true
	case MetricResenas5:
		return s.Resenas5, true
	case MetricKYC:
		if s.KYCVerificado {
			return 1, true
		}
		return 0, true
	case MetricNivel:
		return s.Nivel.Rank, true
	}
	return 0, false
}

// NewMedals returns the medals of catalogue that stats reach and that are not in have,
// in catalogue order. Unknown metrics are never awarded.
func NewMedals(catalogue []Medal, stats Stats, have map[string]bool) []Medal {
	var out []Medal
	for _, m := range catalogue {
		if have[m.Codigo] {
			continue
		}
		if v, ok := stats.value(m.Metrica); ok && v >= m.Umbral {
			out = append(out, m)
		}
	}
	return out
}

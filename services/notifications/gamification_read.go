package notifications

import (
	"math"

	"github.com/conectarpro/conectar/services/notifications/gamification"
)

// gamificationRead shapes a profile for the API; level and progress come from the
// rules, so the answer is consistent with the thresholds even before the next grant.
func gamificationRead(p profile) GamificationRead {
	pr := gamification.ProgressFor(p.Puntos)
	nivel := pr.Actual
	if stored, ok := gamification.LevelByName(p.Nivel); ok && stored.Rank > nivel.Rank {
		nivel = stored // levels never go down
	}
	out := GamificationRead{
		UsuarioID:              p.UsuarioID,
		NivelActual:            nivel.Nombre,
		PuntosExperiencia:      p.Puntos,
		PuntosParaProximoNivel: pr.PuntosFaltantes,
		ProgresoPorcentaje:     pr.ProgresoPorcento,
		TrabajosCompletados:    p.TrabajosCompletados,
		RatingPromedio:         math.Round(p.RatingPromedio*100) / 100,
		TotalResenas:           p.TotalResenas,
		ComisionActual:         float64(nivel.TasaComisionBP) / 10000,
		TasaComisionBP:         nivel.TasaComisionBP,
		Medallas:               []MedalRead{},
	}
	if pr.Proximo != nil {
		name := pr.Proximo.Nombre
		out.ProximoNivel = &name
	}
	return out
}

// levelRead is one entry of GET /gamification/niveles.
type levelRead struct {
	Nivel          string  `json:"nivel"`
	PuntosMinimos  int     `json:"puntos_minimos"`
	Comision       float64 `json:"comision"` // percent, as the earlier system listed it
	TasaComisionBP int     `json:"tasa_comision_bp"`
}

func levelsRead() []levelRead {
	var out []levelRead
	for _, l := range gamification.Levels() {
		out = append(out, levelRead{Nivel: l.Nombre, PuntosMinimos: l.PuntosMinimos,
			Comision: float64(l.TasaComisionBP) / 100, TasaComisionBP: l.TasaComisionBP})
	}
	return out
}

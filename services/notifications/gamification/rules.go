// Package gamification holds the pure rules of experience points, levels and medals:
// how many points an action is worth, which level a point total reaches, how far the
// next level is, and which medals a professional's counters have earned. No I/O.
package gamification

import "math"

// XP per action (SPEC §7). Reviews of 1–3 stars give nothing.
const (
	XPJobReleased = 100
	XPReview5     = 50
	XPReview4     = 10
)

// XPForReview returns the points a review with rating earns its professional.
func XPForReview(rating int) int {
	switch rating {
	case 5:
		return XPReview5
	case 4:
		return XPReview4
	}
	return 0
}

// Level is one rung of the ladder. Rank orders levels (0 = BRONCE).
type Level struct {
	Nombre         string
	Rank           int
	PuntosMinimos  int
	TasaComisionBP int // platform commission in basis points (2000 = 20 %)
}

// Levels is the ladder, lowest first. The commission falls as the level rises.
var levels = [...]Level{
	{Nombre: "BRONCE", Rank: 0, PuntosMinimos: 0, TasaComisionBP: 2000},
	{Nombre: "PLATA", Rank: 1, PuntosMinimos: 1000, TasaComisionBP: 1800},
	{Nombre: "ORO", Rank: 2, PuntosMinimos: 5000, TasaComisionBP: 1500},
	{Nombre: "DIAMANTE", Rank: 3, PuntosMinimos: 15000, TasaComisionBP: 1000},
}

// Levels returns the ladder, lowest first (a copy: callers cannot change the rules).
func Levels() []Level { return append([]Level(nil), levels[:]...) }

// LevelFor returns the highest level whose threshold xp reaches. Negative xp is BRONCE.
func LevelFor(xp int) Level {
	out := levels[0]
	for _, l := range levels {
		if xp >= l.PuntosMinimos {
			out = l
		}
	}
	return out
}

// LevelByName finds a level; ok is false for an unknown name.
func LevelByName(name string) (Level, bool) {
	for _, l := range levels {
		if l.Nombre == name {
			return l, true
		}
	}
	return Level{}, false
}

// Progress describes the way from a point total to the next level.
type Progress struct {
	Actual           Level
	Proximo          *Level // nil at the top
	PuntosFaltantes  int
	ProgresoPorcento float64 // 0..100, measured from the current level's threshold
}

// ProgressFor computes the progress of xp towards the next level. At the top level the
// progress is 100 and nothing is missing.
func ProgressFor(xp int) Progress {
	cur := LevelFor(xp)
	if cur.Rank == len(levels)-1 {
		return Progress{Actual: cur, ProgresoPorcento: 100}
	}
	next := levels[cur.Rank+1]
	span := next.PuntosMinimos - cur.PuntosMinimos
	done := max(xp-cur.PuntosMinimos, 0)
	pct := math.Round(float64(done)*10000/float64(span)) / 100
	return Progress{Actual: cur, Proximo: &next, PuntosFaltantes: next.PuntosMinimos - max(xp, 0), ProgresoPorcento: pct}
}

// Award is the outcome of adding points: the new total and, when the level changed, the
// level before and after.
type Award struct {
	Antes, Despues int
	NivelAnterior  Level
	Nivel          Level
}

// LevelChanged reports whether the award moved the professional to another level.
func (a Award) LevelChanged() bool { return a.NivelAnterior.Nombre != a.Nivel.Nombre }

// AddXP adds points to a total. Points never decrease: a non-positive grant changes
// nothing.
func AddXP(total, points int) Award {
	after := total
	if points > 0 {
		after = total + points
	}
	return Award{Antes: total, Despues: after, NivelAnterior: LevelFor(total), Nivel: LevelFor(after)}
}

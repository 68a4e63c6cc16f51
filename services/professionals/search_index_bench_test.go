package professionals

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
)

// benchIndex builds an index of n professionals spread like the search bench's seed
// (Greater Buenos Aires, radii 1–50 km skewed to 5–20, one or two of 12 trades).
func benchIndex(n int) (*searchIndex, []string) {
	r := rand.New(rand.NewPCG(42, 1))
	trades := make([]string, 12)
	for i := range trades {
		trades[i] = "00000000-0000-0000-0000-0000000000" + strconv.Itoa(10+i)
	}
	pros := make([]*perfil, n)
	for i := range pros {
		lat, lng := -34.9+r.Float64()*0.5, -58.8+r.Float64()*0.6
		radio := seedRadius(r)
		ux, uy, uz := unitVector(lat, lng)
		t := int64(3000 + r.IntN(17000))
		p := &perfil{id: strconv.Itoa(i), nombre: "N", located: true, lat: lat, lng: lng, ux: ux, uy: uy, uz: uz,
			cosCobertura: math.Cos(float64(radio) * 1000 / earthRadiusM), radioKm: radio, tarifa: &t,
			rating: float64(100+r.IntN(401)) / 100, resenas: r.IntN(50), nivel: "BRONCE", nivelRank: r.IntN(4), puntos: r.IntN(5000)}
		p.shardKeys, p.oficioNombres = []string{AnyOficio, trades[r.IntN(12)]}, []string{"x", "x"}
		if r.Float64() < 0.2 {
			p.shardKeys, p.oficioNombres = append(p.shardKeys, trades[r.IntN(12)]), append(p.oficioNombres, "y")
		}
		pros[i] = p
	}
	ix := newSearchIndex(nil, nil, nil)
	ix.replace(pros)
	return ix, trades
}

// BenchmarkIndexSearch is one search of each shape on the index alone (no HTTP, no sync
// round): go test -run x -bench IndexSearch ./services/professionals
func BenchmarkIndexSearch(b *testing.B) {
	ix, trades := benchIndex(100_000)
	for _, shape := range []string{ShapeCoverage, ShapeRadius} {
		b.Run(shape, func(b *testing.B) {
			r := rand.New(rand.NewPCG(7, 7))
			total := 0
			for b.Loop() {
				lat, lng := -34.9+r.Float64()*0.5, -58.8+r.Float64()*0.6
				p := SearchParams{Shape: shape, OficioIDs: []string{trades[r.IntN(12)]}, Lat: &lat, Lng: &lng,
					RadioM: 10_000, Sort: SortRating, Limit: 20}
				m := newMatcher(p, "")
				ix.mu.RLock()
				ix.scan(ix.shards[m.shardKey], m)
				_ = m.page()
				ix.mu.RUnlock()
				total += m.total
			}
			b.ReportMetric(float64(total)/float64(b.N), "matches/op")
		})
	}
}

package gamification

import "testing"

func TestLevelFor(t *testing.T) {
	cases := []struct {
		xp    int
		nivel string
		bp    int
	}{
		{-5, "BRONCE", 2000}, {0, "BRONCE", 2000}, {999, "BRONCE", 2000},
		{1000, "PLATA", 1800}, {4999, "PLATA", 1800},
		{5000, "ORO", 1500}, {14999, "ORO", 1500},
		{15000, "DIAMANTE", 1000}, {1_000_000, "DIAMANTE", 1000},
	}
	for _, c := range cases {
		l := LevelFor(c.xp)
		if l.Nombre != c.nivel || l.TasaComisionBP != c.bp {
			t.Errorf("LevelFor(%d) = %s/%d, want %s/%d", c.xp, l.Nombre, l.TasaComisionBP, c.nivel, c.bp)
		}
	}
}

func TestXPForReview(t *testing.T) {
	want := map[int]int{1: 0, 2: 0, 3: 0, 4: 10, 5: 50, 0: 0, 6: 0}
	for r, xp := range want {
		if got := XPForReview(r); got != xp {
			t.Errorf("XPForReview(%d) = %d, want %d", r, got, xp)
		}
	}
}

func TestAddXPNeverDecreasesAndDetectsLevelChange(t *testing.T) {
	a := AddXP(950, XPJobReleased)
	if a.Despues != 1050 || !a.LevelChanged() || a.NivelAnterior.Nombre != "BRONCE" || a.Nivel.Nombre != "PLATA" {
		t.Fatalf("950+100: %+v", a)
	}
	a = AddXP(1050, -500)
	if a.Despues != 1050 || a.LevelChanged() {
		t.Fatalf("negative grant changed the total: %+v", a)
	}
	a = AddXP(100, 50)
	if a.Despues != 150 || a.LevelChanged() {
		t.Fatalf("100+50: %+v", a)
	}
	a = AddXP(4990, 20000) // jumping two levels reports the final one
	if a.Nivel.Nombre != "DIAMANTE" || a.NivelAnterior.Nombre != "PLATA" {
		t.Fatalf("jump: %+v", a)
	}
}

func TestProgressFor(t *testing.T) {
	p := ProgressFor(0)
	if p.Proximo == nil || p.Proximo.Nombre != "PLATA" || p.PuntosFaltantes != 1000 || p.ProgresoPorcento != 0 {
		t.Fatalf("0: %+v", p)
	}
	p = ProgressFor(3000) // PLATA: 2000 of 4000 towards ORO
	if p.Actual.Nombre != "PLATA" || p.Proximo.Nombre != "ORO" || p.PuntosFaltantes != 2000 || p.ProgresoPorcento != 50 {
		t.Fatalf("3000: %+v", p)
	}
	p = ProgressFor(333)
	if p.ProgresoPorcento != 33.3 {
		t.Fatalf("333: %v", p.ProgresoPorcento)
	}
	p = ProgressFor(20000)
	if p.Proximo != nil || p.PuntosFaltantes != 0 || p.ProgresoPorcento != 100 || p.Actual.Nombre != "DIAMANTE" {
		t.Fatalf("top: %+v", p)
	}
}

func TestNewMedals(t *testing.T) {
	cat := []Medal{
		{Codigo: "PRIMER_TRABAJO", Metrica: MetricTrabajos, Umbral: 1},
		{Codigo: "TRABAJOS_10", Metrica: MetricTrabajos, Umbral: 10},
		{Codigo: "CINCO_ESTRELLAS_10", Metrica: MetricResenas5, Umbral: 10},
		{Codigo: "KYC", Metrica: MetricKYC, Umbral: 1},
		{Codigo: "NIVEL_PLATA", Metrica: MetricNivel, Umbral: 1},
		{Codigo: "RARE", Metrica: "unknown", Umbral: 0},
	}
	got := NewMedals(cat, Stats{TrabajosCompletados: 1, Nivel: LevelFor(0)}, nil)
	if len(got) != 1 || got[0].Codigo != "PRIMER_TRABAJO" {
		t.Fatalf("first job: %+v", got)
	}
	got = NewMedals(cat, Stats{TrabajosCompletados: 10, Resenas5: 10, KYCVerificado: true, Nivel: LevelFor(1000)},
		map[string]bool{"PRIMER_TRABAJO": true})
	var codes []string
	for _, m := range got {
		codes = append(codes, m.Codigo)
	}
	want := []string{"TRABAJOS_10", "CINCO_ESTRELLAS_10", "KYC", "NIVEL_PLATA"}
	if len(codes) != len(want) {
		t.Fatalf("got %v, want %v", codes, want)
	}
	for i := range want {
		if codes[i] != want[i] {
			t.Fatalf("got %v, want %v", codes, want)
		}
	}
	if got := NewMedals(cat, Stats{}, nil); len(got) != 0 {
		t.Fatalf("nothing earned, got %+v", got)
	}
}

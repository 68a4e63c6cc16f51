package professionals

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Greater Buenos Aires box the seed spreads professionals over.
const (
	SeedMinLng, SeedMaxLng = -58.8, -58.2
	SeedMinLat, SeedMaxLat = -34.9, -34.4
)

var seedNombres = []string{"Juan", "María", "Carlos", "Lucía", "Jorge", "Sofía", "Diego", "Valentina", "Martín", "Camila",
	"Pablo", "Florencia", "Andrés", "Julieta", "Nicolás", "Agustina", "Federico", "Paula", "Sebastián", "Romina"}
var seedApellidos = []string{"González", "Rodríguez", "Gómez", "Fernández", "López", "Díaz", "Martínez", "Pérez", "García",
	"Sánchez", "Romero", "Sosa", "Álvarez", "Torres", "Ruiz", "Ramírez", "Flores", "Benítez", "Acosta", "Medina"}

// levelFor maps XP to the level and commission (0/1000/5000/15000 → 20/18/15/10 %).
func levelFor(xp int) (string, int) {
	switch {
	case xp >= 15000:
		return "DIAMANTE", 1000
	case xp >= 5000:
		return "ORO", 1500
	case xp >= 1000:
		return "PLATA", 1800
	}
	return "BRONCE", 2000
}

// SeedProfessionals bulk-creates n approved, active professionals spread over Greater
// Buenos Aires, with one or two trades, rates, ratings and levels, and indexes them for
// search. conn must be a connection whose search_path starts with the professionals
// schema (or a superuser connection: the search_path is set here). The same seed gives
// the same data. Rows go through COPY into a staging table, then one INSERT…SELECT per
// table, so 100,000 professionals take seconds.
func SeedProfessionals(ctx context.Context, conn *pgx.Conn, n int, seed uint64) error {
	if n <= 0 {
		return nil
	}
	if _, err := conn.Exec(ctx, `SET search_path = professionals, public`); err != nil {
		return fmt.Errorf("seed: search_path: %w", err)
	}
	rows, err := conn.Query(ctx, `SELECT id FROM oficios ORDER BY nombre`)
	if err != nil {
		return fmt.Errorf("seed: oficios: %w", err)
	}
	oficios, err := pgx.CollectRows(rows, pgx.RowTo[uuid.UUID])
	if err != nil || len(oficios) == 0 {
		return fmt.Errorf("seed: oficios (run migrations first): %v", err)
	}
	tx, err := conn.Begin(ctx)
	if err != nil {
		return fmt.Errorf("seed: begin: %w", err)
	}
	defer tx.Rollback(context.WithoutCancel(ctx)) //nolint:errcheck
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE seed_pro (id uuid, usuario_id uuid, email text, nombre text, apellido text,
		lat float8, lng float8, radio int, acepta bool, tarifa bigint, descripcion text, nivel text, puntos int, tasa int,
		rating float8, total int, oficio1 uuid, oficio2 uuid) ON COMMIT DROP`); err != nil {
		return fmt.Errorf("seed: staging table: %w", err)
	}
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	newUUID := func() uuid.UUID {
		var u uuid.UUID
		for i := range u {
			u[i] = byte(r.Uint32())
		}
		u[6] = (u[6] & 0x0f) | 0x40
		u[8] = (u[8] & 0x3f) | 0x80
		return u
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i >= n {
			return nil, nil
		}
		i++
		radio := seedRadius(r)
		xp := int(math.Pow(r.Float64(), 2) * 20000)
		nivel, tasa := levelFor(xp)
		o1 := oficios[r.IntN(len(oficios))]
		var o2 any
		if r.Float64() < 0.2 {
			if x := oficios[r.IntN(len(oficios))]; x != o1 {
				o2 = x
			}
		}
		nombre, apellido := seedNombres[r.IntN(len(seedNombres))], seedApellidos[r.IntN(len(seedApellidos))]
		total := r.IntN(200)
		rating := 0.0
		if total > 0 {
			rating = math.Round((1+r.Float64()*4)*100) / 100
		}
		return []any{newUUID(), newUUID(), fmt.Sprintf("seed%d.%d@conectar.test", seed, i), nombre, apellido,
			SeedMinLat + r.Float64()*(SeedMaxLat-SeedMinLat), SeedMinLng + r.Float64()*(SeedMaxLng-SeedMinLng),
			radio, r.Float64() < 0.3, int64(3000+r.IntN(17000)) * 100, "Profesional con experiencia en trabajos a domicilio",
			nivel, xp, tasa, rating, total, o1, o2}, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"seed_pro"}, []string{"id", "usuario_id", "email", "nombre", "apellido",
		"lat", "lng", "radio", "acepta", "tarifa", "descripcion", "nivel", "puntos", "tasa", "rating", "total", "oficio1", "oficio2"}, src); err != nil {
		return fmt.Errorf("seed: copy: %w", err)
	}
	stmts := []string{
		`INSERT INTO profesionales (id, usuario_id, email, nombre, apellido, estado_verificacion, base_location, radio_cobertura_km,
			acepta_instant, tarifa_por_hora, descripcion, nivel, puntos_experiencia, tasa_comision_bp, rating_promedio, total_resenas)
		 SELECT id, usuario_id, email, nombre, apellido, 'APROBADO', ST_SetSRID(ST_MakePoint(lng, lat), 4326)::geography, radio,
			acepta, tarifa, descripcion, nivel, puntos, tasa, rating::numeric(3,2), total FROM seed_pro`,
		`INSERT INTO profesional_oficios (profesional_id, oficio_id)
		 SELECT id, oficio1 FROM seed_pro UNION SELECT id, oficio2 FROM seed_pro WHERE oficio2 IS NOT NULL`,
		`INSERT INTO busqueda (profesional_id, oficio_id, oficio_nombre, oficios, nombre, apellido, avatar_url, texto,
			base_location, radio_cobertura_km, acepta_instant, tarifa_por_hora, rating_promedio, total_resenas,
			nivel, nivel_rank, puntos_experiencia)
		 SELECT f.* FROM busqueda_filas(NULL) f JOIN seed_pro s ON s.id = f.profesional_id
		 ORDER BY f.oficio_id, ST_GeoHash(f.base_location::geometry, 6)`, // GiST inserts in key order touch fewer pages
	}
	for _, s := range stmts {
		if _, err := tx.Exec(ctx, s); err != nil {
			return fmt.Errorf("seed: %w", err)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("seed: commit: %w", err)
	}
	if _, err := conn.Exec(ctx, `ANALYZE profesionales; ANALYZE profesional_oficios; ANALYZE busqueda`); err != nil {
		return fmt.Errorf("seed: analyze: %w", err)
	}
	return nil
}

// seedRadius is a seeded professional's coverage radius in km: 10% 1–4, 75% 5–20 and
// 15% 21–50 (the spread of the performance baselines' data set).
func seedRadius(r *rand.Rand) int {
	switch x := r.Float64(); {
	case x < 0.10:
		return 1 + r.IntN(4)
	case x < 0.85:
		return 5 + r.IntN(16)
	default:
		return 21 + r.IntN(30)
	}
}

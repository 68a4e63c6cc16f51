-- professionals schema: trades, profiles, KYC, portfolio, published services, replicas fed
-- by events, and the search index.

-- unaccent() is only STABLE (it reads a dictionary); this wrapper pins the dictionary so it
-- can be IMMUTABLE and used in indexes and generated columns.
CREATE FUNCTION norm(t text) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$ SELECT lower(public.unaccent('public.unaccent'::regdictionary, t)) $$;

CREATE TABLE oficios (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    nombre         text NOT NULL,
    descripcion    text,
    fecha_creacion timestamptz NOT NULL DEFAULT now()
);
-- "Plomeria" and "plomería" are the same trade.
CREATE UNIQUE INDEX oficios_nombre_key ON oficios (norm(nombre));

-- Deterministic ids so every environment (and the seed) names the same trade the same way.
INSERT INTO oficios (id, nombre) SELECT md5('oficio:' || n)::uuid, n FROM unnest(ARRAY[
    'Plomería', 'Electricidad', 'Carpintería', 'Pintura', 'Albañilería', 'Jardinería',
    'Limpieza', 'Cerrajería', 'Climatización', 'Reparación de electrodomésticos',
    'Herrería', 'Gasista']) AS n;

CREATE TABLE servicios_instantaneos (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    nombre         text NOT NULL,
    descripcion    text,
    oficio_id      uuid NOT NULL REFERENCES oficios (id) ON DELETE CASCADE,
    fecha_creacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX servicios_instantaneos_oficio ON servicios_instantaneos (oficio_id, nombre);

-- usuarios is the replica of identity data fed by events (any user: the events may arrive
-- before the professional profile exists). *_at hold the occurred_at of the event last
-- applied to each group of fields, so an older event never overwrites a newer one.
CREATE TABLE usuarios (
    usuario_id   uuid PRIMARY KEY,
    email        text,
    nombre       text,
    apellido     text,
    avatar_url   text,
    perfil_at    timestamptz,
    is_active    boolean NOT NULL DEFAULT true,
    activo_at    timestamptz,
    nivel        text,
    tasa_comision_bp int,
    nivel_at     timestamptz,
    puntos_experiencia int NOT NULL DEFAULT 0
);

CREATE TABLE profesionales (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    usuario_id          uuid NOT NULL UNIQUE,
    email               text NOT NULL DEFAULT '',
    nombre              text NOT NULL DEFAULT '',
    apellido            text NOT NULL DEFAULT '',
    avatar_url          text,
    is_active           boolean NOT NULL DEFAULT true,
    estado_verificacion text NOT NULL DEFAULT 'PENDIENTE'
        CHECK (estado_verificacion IN ('PENDIENTE', 'EN_REVISION', 'APROBADO', 'RECHAZADO')),
    motivo_rechazo      text,
    kyc_ronda           int NOT NULL DEFAULT 1,
    kyc_enviado_at      timestamptz,
    base_location       geography(Point, 4326),
    radio_cobertura_km  int NOT NULL DEFAULT 10 CHECK (radio_cobertura_km BETWEEN 1 AND 500),
    acepta_instant      boolean NOT NULL DEFAULT false,
    tarifa_por_hora     bigint CHECK (tarifa_por_hora >= 0), -- centavos
    descripcion         text,
    payout_account      text,
    nivel               text NOT NULL DEFAULT 'BRONCE' CHECK (nivel IN ('BRONCE', 'PLATA', 'ORO', 'DIAMANTE')),
    puntos_experiencia  int NOT NULL DEFAULT 0,
    tasa_comision_bp    int NOT NULL DEFAULT 2000,
    rating_promedio     numeric(3, 2) NOT NULL DEFAULT 0,
    total_resenas       int NOT NULL DEFAULT 0,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profesionales_kyc_queue ON profesionales (kyc_enviado_at, id) WHERE estado_verificacion = 'EN_REVISION';

CREATE TABLE profesional_oficios (
    profesional_id uuid NOT NULL REFERENCES profesionales (id) ON DELETE CASCADE,
    oficio_id      uuid NOT NULL REFERENCES oficios (id) ON DELETE CASCADE,
    PRIMARY KEY (profesional_id, oficio_id)
);
CREATE INDEX profesional_oficios_oficio ON profesional_oficios (oficio_id);

CREATE TABLE profesional_servicios_instant (
    profesional_id uuid NOT NULL REFERENCES profesionales (id) ON DELETE CASCADE,
    servicio_id    uuid NOT NULL REFERENCES servicios_instantaneos (id) ON DELETE CASCADE,
    PRIMARY KEY (profesional_id, servicio_id)
);

CREATE TABLE kyc_documentos (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    profesional_id uuid NOT NULL REFERENCES profesionales (id) ON DELETE CASCADE,
    ronda          int NOT NULL,
    objeto         text NOT NULL,
    nombre_archivo text NOT NULL,
    content_type   text NOT NULL,
    tamano         int NOT NULL,
    fecha_creacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX kyc_documentos_prof ON kyc_documentos (profesional_id, ronda, fecha_creacion);

CREATE TABLE portfolio_items (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    profesional_id      uuid NOT NULL REFERENCES profesionales (id) ON DELETE CASCADE,
    titulo              text NOT NULL,
    descripcion         text,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX portfolio_items_prof ON portfolio_items (profesional_id, fecha_creacion DESC);

CREATE TABLE portfolio_imagenes (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    portfolio_item_id uuid NOT NULL REFERENCES portfolio_items (id) ON DELETE CASCADE,
    objeto            text NOT NULL,
    imagen_url        text NOT NULL,
    orden             int NOT NULL,
    UNIQUE (portfolio_item_id, orden)
);

CREATE TABLE servicios_publicados (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    profesional_id      uuid NOT NULL REFERENCES profesionales (id) ON DELETE CASCADE,
    nombre              text NOT NULL,
    descripcion         text,
    precio_fijo         bigint NOT NULL CHECK (precio_fijo > 0), -- centavos
    oficio_id           uuid NOT NULL REFERENCES oficios (id),
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX servicios_publicados_prof ON servicios_publicados (profesional_id, fecha_creacion DESC);
CREATE INDEX servicios_publicados_oficio ON servicios_publicados (oficio_id, fecha_creacion DESC);

-- Replicas of the marketplace's reviews and the engagement context's medals, for the
-- public profile. Keyed by user id: the events may precede the profile.
CREATE TABLE resenas (
    id             uuid PRIMARY KEY,
    profesional_ref uuid NOT NULL, -- profile id or user id, as the event carries it
    rating         int NOT NULL,
    texto_resena   text,
    nombre_cliente text,
    fecha_creacion timestamptz NOT NULL
);
CREATE INDEX resenas_prof ON resenas (profesional_ref, fecha_creacion DESC);

CREATE TABLE medallas (
    usuario_id     uuid NOT NULL,
    medalla        text NOT NULL,
    nombre         text NOT NULL,
    fecha_creacion timestamptz NOT NULL,
    PRIMARY KEY (usuario_id, medalla)
);

-- cobertura_bbox is the longitude/latitude box of the spherical cap of radius radio_km
-- around loc: latitude ± δ and longitude ± asin(sin δ / cos φ), δ = radius / R, widened by
-- 0.01 %; a cap that reaches a pole or crosses the antimeridian gets every longitude.
-- Plain arithmetic, so computing it for 100,000 rows takes no time (a geography buffer
-- would project every circle).
CREATE FUNCTION cobertura_bbox(loc public.geography, radio_km int) RETURNS public.geometry
    LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
    AS $$
    SELECT CASE WHEN abs(a.lat) + a.d >= 89.9 OR abs(a.lng) + b.dl >= 180
                THEN public.ST_MakeEnvelope(-180, greatest(-90, a.lat - a.d), 180, least(90, a.lat + a.d), 4326)
                ELSE public.ST_MakeEnvelope(a.lng - b.dl, a.lat - a.d, a.lng + b.dl, a.lat + a.d, 4326) END
    FROM (SELECT public.ST_X(loc::public.geometry) AS lng, public.ST_Y(loc::public.geometry) AS lat,
                 degrees(radio_km * 1000.0 / 6371008.771415) * 1.0001 + 1e-9 AS d) a,
         LATERAL (SELECT degrees(asin(least(1, sin(radians(a.d)) / greatest(cos(radians(a.lat)), 1e-9)))) * 1.0001 + 1e-9 AS dl) b
    $$;

-- busqueda is the search index: one row per visible professional (APROBADO and active)
-- and trade, plus one row under the nil trade id that stands for "any trade". Keeping the
-- trade in the row lets the GiST key start with it (btree_gist), so each search is one
-- index scan over the professionals of that trade near the point instead of a filter over
-- every circle that contains it. refrescar_busqueda rebuilds a professional's rows in the
-- same transaction as every change.
CREATE TABLE busqueda (
    profesional_id     uuid NOT NULL,
    oficio_id          uuid NOT NULL,
    oficio_nombre      text NOT NULL,
    oficios            text[] NOT NULL,
    nombre             text NOT NULL,
    apellido           text NOT NULL,
    avatar_url         text,
    texto              text NOT NULL, -- norm(name, trades, description) for free text
    base_location      geography(Point, 4326),
    radio_cobertura_km int NOT NULL,
    -- Bounding box of the coverage circle (a cap on the sphere), a hair larger; the
    -- GiST answers "box contains the client's point" and the exact circle test runs
    -- on those candidates only.
    coverage_geom      geometry(Polygon, 4326) GENERATED ALWAYS AS (cobertura_bbox(base_location, radio_cobertura_km)) STORED,
    -- Unit vector of base_location and the cosine of the coverage angle: "point p is
    -- within d metres of the base" is u·p ≥ cos(d / R) on PostGIS's sphere (R =
    -- 6371008.7714 m, the radius ST_Distance(…, false) and <-> use), three products
    -- instead of a geography function call per candidate row.
    ux                 float8 GENERATED ALWAYS AS (cos(radians(ST_Y(base_location::geometry))) * cos(radians(ST_X(base_location::geometry)))) STORED,
    uy                 float8 GENERATED ALWAYS AS (cos(radians(ST_Y(base_location::geometry))) * sin(radians(ST_X(base_location::geometry)))) STORED,
    uz                 float8 GENERATED ALWAYS AS (sin(radians(ST_Y(base_location::geometry)))) STORED,
    cos_cobertura      float8 GENERATED ALWAYS AS (cos(radio_cobertura_km * 1000.0 / 6371008.771415)) STORED,
    acepta_instant     boolean NOT NULL,
    tarifa_por_hora    bigint,
    rating_promedio    numeric(3, 2) NOT NULL,
    total_resenas      int NOT NULL,
    nivel              text NOT NULL,
    nivel_rank         smallint NOT NULL,
    puntos_experiencia int NOT NULL,
    PRIMARY KEY (profesional_id, oficio_id)
);
CREATE INDEX busqueda_cobertura_gix ON busqueda USING gist (oficio_id, coverage_geom);
CREATE INDEX busqueda_ubicacion_gix ON busqueda USING gist (oficio_id, base_location);
CREATE INDEX busqueda_rating ON busqueda (oficio_id, rating_promedio DESC, profesional_id);
CREATE INDEX busqueda_texto_trgm ON busqueda USING gin (texto gin_trgm_ops);
-- Searches touch a few thousand rows through the GiST; a parallel Gather only adds
-- start-up cost (performance-baselines §1.4), so never plan one on this table.
ALTER TABLE busqueda SET (parallel_workers = 0);

CREATE FUNCTION nivel_rank(n text) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE n WHEN 'DIAMANTE' THEN 4 WHEN 'ORO' THEN 3 WHEN 'PLATA' THEN 2 ELSE 1 END::smallint $$;

-- busqueda_filas returns the index rows of the professionals selected by ids (all when
-- ids is null): used by refrescar_busqueda and by the bulk seed.
CREATE FUNCTION busqueda_filas(ids uuid[]) RETURNS TABLE (
    profesional_id uuid, oficio_id uuid, oficio_nombre text, oficios text[], nombre text, apellido text,
    avatar_url text, texto text, base_location geography, radio_cobertura_km int, acepta_instant boolean,
    tarifa_por_hora bigint, rating_promedio numeric, total_resenas int, nivel text, nivel_rank smallint,
    puntos_experiencia int)
    LANGUAGE sql STABLE
    AS $$
    SELECT p.id, r.oficio_id, r.oficio_nombre, coalesce(t.nombres, '{}'), p.nombre, p.apellido, p.avatar_url,
           norm(concat_ws(' ', p.nombre, p.apellido, array_to_string(t.nombres, ' '), p.descripcion)),
           p.base_location, p.radio_cobertura_km, p.acepta_instant, p.tarifa_por_hora,
           p.rating_promedio, p.total_resenas, p.nivel, nivel_rank(p.nivel), p.puntos_experiencia
    FROM profesionales p
    LEFT JOIN LATERAL (
        SELECT array_agg(o.nombre ORDER BY o.nombre) AS nombres
        FROM profesional_oficios po JOIN oficios o ON o.id = po.oficio_id
        WHERE po.profesional_id = p.id) t ON true
    CROSS JOIN LATERAL (
        SELECT '00000000-0000-0000-0000-000000000000'::uuid AS oficio_id, coalesce(t.nombres[1], '') AS oficio_nombre
        UNION ALL
        SELECT o.id, o.nombre FROM profesional_oficios po JOIN oficios o ON o.id = po.oficio_id
        WHERE po.profesional_id = p.id) r
    WHERE (ids IS NULL OR p.id = ANY (ids)) AND p.estado_verificacion = 'APROBADO' AND p.is_active
    $$;

CREATE FUNCTION refrescar_busqueda(ids uuid[]) RETURNS void
    LANGUAGE sql
    AS $$
    DELETE FROM busqueda WHERE profesional_id = ANY (ids);
    INSERT INTO busqueda (profesional_id, oficio_id, oficio_nombre, oficios, nombre, apellido, avatar_url, texto,
        base_location, radio_cobertura_km, acepta_instant, tarifa_por_hora, rating_promedio, total_resenas,
        nivel, nivel_rank, puntos_experiencia)
    SELECT * FROM busqueda_filas(ids);
    $$;

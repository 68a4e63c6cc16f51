-- The web frontend's contract (issue #10): trades carry a description (never null), a
-- category and an enabled flag; profiles carry what the profile page edits; reviews keep
-- their client and job for the public profile; completed jobs are counted from events.

-- Trades. A disabled trade stays linked to the professionals who have it but is hidden from
-- the public catalogue, cannot be newly chosen and has no search rows of its own.
ALTER TABLE oficios
    ADD COLUMN categoria text NOT NULL DEFAULT '',
    ADD COLUMN activo boolean NOT NULL DEFAULT true,
    ADD COLUMN fecha_actualizacion timestamptz NOT NULL DEFAULT now();

UPDATE oficios o SET descripcion = s.descripcion, categoria = s.categoria
FROM (VALUES
    ('Plomería', 'Instalación y reparación de cañerías, canillas, inodoros, termotanques y destapaciones.', 'Instalaciones'),
    ('Electricidad', 'Instalaciones eléctricas domiciliarias, tableros, tomas, iluminación y reparación de cortocircuitos.', 'Instalaciones'),
    ('Carpintería', 'Muebles a medida, puertas, placares, decks y reparaciones en madera.', 'Construcción y reformas'),
    ('Pintura', 'Pintura de interiores y exteriores, preparación de superficies, enduido y barnizado.', 'Construcción y reformas'),
    ('Albañilería', 'Construcción, refacciones, revoques, contrapisos, colocación de cerámicos y reparación de humedad.', 'Construcción y reformas'),
    ('Jardinería', 'Corte de césped, poda, diseño y mantenimiento de jardines y riego.', 'Hogar y exteriores'),
    ('Limpieza', 'Limpieza de hogares y oficinas, limpieza profunda y de final de obra.', 'Hogar y exteriores'),
    ('Cerrajería', 'Apertura de puertas, cambio y reparación de cerraduras, copias de llaves y cerraduras de seguridad.', 'Seguridad'),
    ('Climatización', 'Instalación, carga de gas y mantenimiento de aires acondicionados y calefacción.', 'Instalaciones'),
    ('Reparación de electrodomésticos', 'Diagnóstico y reparación de heladeras, lavarropas, hornos, microondas y otros electrodomésticos.', 'Reparaciones'),
    ('Herrería', 'Rejas, portones, estructuras metálicas, soldaduras y reparaciones en hierro.', 'Construcción y reformas'),
    ('Gasista', 'Instalación y reparación de artefactos y cañerías de gas por gasista matriculado.', 'Instalaciones')
) AS s (nombre, descripcion, categoria)
WHERE o.id = md5('oficio:' || s.nombre)::uuid;

UPDATE oficios SET descripcion = '' WHERE descripcion IS NULL;
ALTER TABLE oficios ALTER COLUMN descripcion SET DEFAULT '', ALTER COLUMN descripcion SET NOT NULL;
-- The nil id names the search index's "any trade" rows; no trade may ever have it, so an
-- all-zero oficio_id in a request is an id that matches no trade.
ALTER TABLE oficios ADD CONSTRAINT oficios_id_not_nil CHECK (id <> '00000000-0000-0000-0000-000000000000');

-- Profile fields the frontend's profile pages edit and show.
ALTER TABLE profesionales
    ADD COLUMN biografia text,
    ADD COLUMN experiencia_anos int CHECK (experiencia_anos BETWEEN 0 AND 80),
    ADD COLUMN disponible boolean NOT NULL DEFAULT true,
    ADD COLUMN habilidades text[] NOT NULL DEFAULT '{}',
    ADD COLUMN certificaciones text[] NOT NULL DEFAULT '{}',
    ADD COLUMN imagenes_trabajos text[] NOT NULL DEFAULT '{}';

-- Reviews: who wrote it (for the client's avatar from the users replica) and about which job.
ALTER TABLE resenas
    ADD COLUMN cliente_id uuid,
    ADD COLUMN trabajo_id uuid,
    ADD COLUMN trabajo_descripcion text;

-- Completed jobs, one row per job (JobCompleted may be redelivered or replayed): the
-- profile's trabajos_completados counts them. Keyed like resenas by the id the event
-- carries, which may be the profile's or the user's.
CREATE TABLE trabajos_completados (
    trabajo_id      uuid PRIMARY KEY,
    profesional_ref uuid NOT NULL,
    fecha           timestamptz NOT NULL
);
CREATE INDEX trabajos_completados_prof ON trabajos_completados (profesional_ref);

-- Search rows exist only for enabled trades (the "any trade" row stays: the professional
-- is still findable), and the trade names shown and matched are the enabled ones.
CREATE OR REPLACE FUNCTION busqueda_filas(ids uuid[]) RETURNS TABLE (
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
        WHERE po.profesional_id = p.id AND o.activo) t ON true
    CROSS JOIN LATERAL (
        SELECT '00000000-0000-0000-0000-000000000000'::uuid AS oficio_id, coalesce(t.nombres[1], '') AS oficio_nombre
        UNION ALL
        SELECT o.id, o.nombre FROM profesional_oficios po JOIN oficios o ON o.id = po.oficio_id
        WHERE po.profesional_id = p.id AND o.activo) r
    WHERE (ids IS NULL OR p.id = ANY (ids)) AND p.estado_verificacion = 'APROBADO' AND p.is_active
    $$;

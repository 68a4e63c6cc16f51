-- Reviews: the reviewed professional's reply, deletion by the author (within 24 h) or an
-- admin, and users' reports. A deleted review is kept (soft deletion) so the job cannot be
-- reviewed again after an admin removed its review; reads and the rating skip it.
ALTER TABLE resenas
    ADD COLUMN respuesta_texto       text,
    ADD COLUMN respuesta_fecha       timestamptz,
    ADD COLUMN respuesta_editada_at  timestamptz,
    ADD COLUMN eliminada_at          timestamptz,
    ADD COLUMN eliminada_por         uuid;
CREATE INDEX resenas_cliente ON resenas (cliente_id, fecha_creacion DESC);

-- One report per user per review.
CREATE TABLE resena_reportes (
    resena_id      uuid        NOT NULL REFERENCES resenas (id),
    usuario_id     uuid        NOT NULL,
    motivo         text        NOT NULL,
    fecha_creacion timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (resena_id, usuario_id)
);
CREATE INDEX resena_reportes_fecha ON resena_reportes (fecha_creacion DESC);

-- Disputes may also end without a money decision: DESESTIMADA (an admin favours neither
-- party) and CANCELADA (withdrawn by whoever opened it); in both the job resumes the
-- state it had before (estado_trabajo_previo).
ALTER TABLE disputas DROP CONSTRAINT disputas_estado_check;
ALTER TABLE disputas ADD CONSTRAINT disputas_estado_check
    CHECK (estado IN ('ABIERTA', 'RESUELTA_A_FAVOR_CLIENTE', 'RESUELTA_A_FAVOR_PROFESIONAL', 'DESESTIMADA', 'CANCELADA'));
ALTER TABLE disputas ADD COLUMN fecha_resolucion timestamptz;
CREATE INDEX disputas_trabajo ON disputas (trabajo_id);

-- Evidence: URLs added by the parties while the dispute is open.
CREATE TABLE disputa_evidencias (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    disputa_id     uuid        NOT NULL REFERENCES disputas (id),
    usuario_id     uuid        NOT NULL,
    url            text        NOT NULL,
    fecha_creacion timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT disputa_evidencias_unica UNIQUE (disputa_id, url)
);

-- The conversation of a dispute between its parties and the admins.
CREATE TABLE disputa_mensajes (
    id             uuid PRIMARY KEY, -- UUIDv7
    disputa_id     uuid        NOT NULL REFERENCES disputas (id),
    usuario_id     uuid        NOT NULL,
    mensaje        text        NOT NULL,
    es_admin       boolean     NOT NULL DEFAULT false,
    censurado      boolean     NOT NULL DEFAULT false,
    original_hash  text,
    fecha_creacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX disputa_mensajes_disputa ON disputa_mensajes (disputa_id, fecha_creacion, id);

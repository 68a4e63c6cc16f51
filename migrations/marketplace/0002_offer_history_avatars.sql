-- The web frontend's offer and job views: the recorded history of every offer (GET
-- …/ofertas/{id}/timeline) and the users' avatar in the replica, so offers can show the
-- counterpart's picture without asking users on every read.

ALTER TABLE usuarios ADD COLUMN avatar_url text;

CREATE TABLE oferta_eventos (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    oferta_id  uuid        NOT NULL REFERENCES ofertas (id),
    -- CREADA | ACTUALIZADA | ACEPTADA | RECHAZADA | RETIRADA | EXPIRADA | REABIERTA
    evento     text        NOT NULL,
    estado     text        NOT NULL, -- the offer's state after the event
    usuario_id uuid,                 -- NULL for system steps (expiry, failed checkout)
    detalle    text        NOT NULL DEFAULT '',
    fecha      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX oferta_eventos_oferta ON oferta_eventos (oferta_id, id);

-- Offers older than this table get what their rows prove: the creation and, when closed,
-- the last change.
INSERT INTO oferta_eventos (oferta_id, evento, estado, usuario_id, detalle, fecha)
SELECT id, 'CREADA', 'OFERTADO', profesional_id, 'El profesional envió la oferta', fecha_creacion
FROM ofertas ORDER BY fecha_creacion;

INSERT INTO oferta_eventos (oferta_id, evento, estado, usuario_id, detalle, fecha)
SELECT id, CASE estado WHEN 'ACEPTADO' THEN 'ACEPTADA' WHEN 'RECHAZADO' THEN 'RECHAZADA'
                       WHEN 'EXPIRADO' THEN 'EXPIRADA' ELSE 'RETIRADA' END,
       estado, NULL, '', fecha_actualizacion
FROM ofertas WHERE estado <> 'OFERTADO' ORDER BY fecha_actualizacion;

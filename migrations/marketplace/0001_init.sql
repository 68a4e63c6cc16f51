-- marketplace schema: conversations, messages, offers, jobs (trabajos), timeline,
-- disputes, reviews, and the replicas of other contexts' data it needs (names, emails,
-- bans, KYC state, payout account, fixed-price services).

-- Replica of users (auth + users events; misses filled from users' internal API).
CREATE TABLE usuarios (
    id          uuid PRIMARY KEY,
    email       text        NOT NULL DEFAULT '',
    nombre      text        NOT NULL DEFAULT '',
    apellido    text        NOT NULL DEFAULT '',
    rol         text        NOT NULL DEFAULT '',
    is_active   boolean     NOT NULL DEFAULT true,
    chat_banned boolean     NOT NULL DEFAULT false,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

-- Replica of professional profiles, keyed by the professional's USER id.
CREATE TABLE profesionales (
    usuario_id          uuid PRIMARY KEY,
    profesional_id      uuid UNIQUE,
    estado_verificacion text        NOT NULL DEFAULT 'PENDIENTE',
    payout_account      text        NOT NULL DEFAULT '',
    -- occurred_at of the event that last set estado_verificacion, so an older event
    -- delivered late never moves the KYC state backwards.
    kyc_at              timestamptz NOT NULL DEFAULT '-infinity',
    -- the same guard for the profile fields (payout account)
    profile_at          timestamptz NOT NULL DEFAULT '-infinity',
    updated_at          timestamptz NOT NULL DEFAULT now()
);

-- Cache of fixed-price services read from professionals on a hire.
CREATE TABLE servicios (
    id                     uuid PRIMARY KEY,
    profesional_usuario_id uuid   NOT NULL,
    nombre                 text   NOT NULL,
    descripcion            text   NOT NULL DEFAULT '',
    precio_centavos        bigint NOT NULL,
    updated_at             timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE conversaciones (
    id              uuid PRIMARY KEY,
    cliente_id      uuid        NOT NULL,
    profesional_id  uuid        NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT conversaciones_par UNIQUE (cliente_id, profesional_id),
    CONSTRAINT conversaciones_distintos CHECK (cliente_id <> profesional_id)
);
CREATE INDEX conversaciones_profesional ON conversaciones (profesional_id);

CREATE TABLE mensajes (
    id            uuid PRIMARY KEY, -- UUIDv7: time ordered, the keyset cursor's tie breaker
    chat_id       uuid        NOT NULL REFERENCES conversaciones (id),
    sender_id     uuid,       -- NULL for system info messages
    recipient_id  uuid,       -- who has to read it; NULL when nobody does
    tipo          text        NOT NULL CHECK (tipo IN ('text', 'oferta', 'info')),
    texto         text        NOT NULL,
    oferta_id     uuid,
    censurado     boolean     NOT NULL DEFAULT false,
    original_hash text,       -- sha256 of a censored original; the original is never stored
    motivos       text[]      NOT NULL DEFAULT '{}',
    leido         boolean     NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mensajes_chat_keyset ON mensajes (chat_id, created_at DESC, id DESC);
CREATE INDEX mensajes_no_leidos ON mensajes (recipient_id, chat_id) WHERE NOT leido;

CREATE TABLE ofertas (
    id                  uuid PRIMARY KEY,
    profesional_id      uuid        NOT NULL,
    cliente_id          uuid        NOT NULL,
    chat_id             uuid        NOT NULL REFERENCES conversaciones (id),
    servicio_id         uuid,
    descripcion         text        NOT NULL,
    precio_centavos     bigint      NOT NULL CHECK (precio_centavos > 0 AND precio_centavos <= 1000000000),
    estado              text        NOT NULL DEFAULT 'OFERTADO'
                        CHECK (estado IN ('OFERTADO', 'ACEPTADO', 'RECHAZADO', 'EXPIRADO', 'RETIRADO')),
    expires_at          timestamptz,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ofertas_cliente ON ofertas (cliente_id, fecha_creacion DESC);
CREATE INDEX ofertas_profesional ON ofertas (profesional_id, fecha_creacion DESC);
CREATE INDEX ofertas_vencimiento ON ofertas (expires_at) WHERE estado = 'OFERTADO';

CREATE TABLE trabajos (
    id                     uuid PRIMARY KEY,
    cliente_id             uuid        NOT NULL,
    profesional_id         uuid        NOT NULL,
    oferta_id              uuid REFERENCES ofertas (id),
    servicio_id            uuid,
    chat_id                uuid,
    descripcion            text        NOT NULL DEFAULT '',
    precio_centavos        bigint      NOT NULL CHECK (precio_centavos > 0),
    comision_centavos      bigint,
    liberado_centavos      bigint,
    estado_escrow          text        NOT NULL DEFAULT 'PENDIENTE_PAGO'
                           CHECK (estado_escrow IN ('PENDIENTE_PAGO', 'PAGADO_EN_ESCROW', 'LIBERADO', 'CANCELADO_REEMBOLSADO', 'CANCELADO')),
    estado                 text        NOT NULL DEFAULT 'PENDIENTE_PAGO'
                           CHECK (estado IN ('PENDIENTE_PAGO', 'PAGADO', 'EN_PROCESO', 'COMPLETADO', 'APROBADO', 'CANCELADO', 'DISPUTADO')),
    -- the saga of the checkout: PENDIENTE until payments answers OfferAccepted
    checkout_estado        text        NOT NULL DEFAULT 'PENDIENTE' CHECK (checkout_estado IN ('PENDIENTE', 'CREADO', 'FALLIDO')),
    checkout_error         text,
    payment_preference_id  text,
    payment_url            text,
    mercadopago_payment_id text,
    pago_estado            text,
    payout_id              text,
    refund_id              text,
    notas_profesional      text,
    notas_cliente          text,
    imagenes               text[]      NOT NULL DEFAULT '{}',
    motivo_cancelacion     text,
    fecha_inicio           timestamptz,
    fecha_fin              timestamptz,
    fecha_aprobacion       timestamptz,
    -- durable timer: when set, the auto-approval loop approves the job at that time
    auto_approve_at        timestamptz,
    fecha_creacion         timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trabajos_cliente ON trabajos (cliente_id, fecha_creacion DESC);
CREATE INDEX trabajos_profesional ON trabajos (profesional_id, fecha_creacion DESC);
CREATE INDEX trabajos_creacion ON trabajos (fecha_creacion DESC);
CREATE INDEX trabajos_auto_approve ON trabajos (auto_approve_at) WHERE auto_approve_at IS NOT NULL;
-- one live job per offer (a compensated, cancelled one may precede it)
CREATE UNIQUE INDEX trabajos_oferta_viva ON trabajos (oferta_id) WHERE oferta_id IS NOT NULL AND estado <> 'CANCELADO';

CREATE TABLE trabajo_eventos (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    trabajo_id      uuid        NOT NULL REFERENCES trabajos (id),
    tipo            text        NOT NULL, -- ESTADO_CAMBIO | PAGO | COMENTARIO | DISPUTA
    descripcion     text        NOT NULL,
    estado_anterior text,
    estado_nuevo    text,
    usuario_id      uuid,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trabajo_eventos_trabajo ON trabajo_eventos (trabajo_id, id);

CREATE TABLE disputas (
    id                  uuid PRIMARY KEY,
    trabajo_id          uuid        NOT NULL REFERENCES trabajos (id),
    abierta_por         uuid        NOT NULL,
    tipo                text        NOT NULL,
    descripcion         text        NOT NULL,
    estado              text        NOT NULL DEFAULT 'ABIERTA'
                        CHECK (estado IN ('ABIERTA', 'RESUELTA_A_FAVOR_CLIENTE', 'RESUELTA_A_FAVOR_PROFESIONAL')),
    estado_trabajo_previo text      NOT NULL,
    resolucion          text,
    admin_id            uuid,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX disputas_una_abierta ON disputas (trabajo_id) WHERE estado = 'ABIERTA';
CREATE INDEX disputas_creacion ON disputas (fecha_creacion DESC);

-- profesional_id is the professional's USER id (see the service's README note).
CREATE TABLE resenas (
    id                  uuid PRIMARY KEY,
    trabajo_id          uuid        NOT NULL UNIQUE REFERENCES trabajos (id),
    cliente_id          uuid        NOT NULL,
    profesional_id      uuid        NOT NULL,
    rating              int         NOT NULL CHECK (rating BETWEEN 1 AND 5),
    texto_resena        text,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX resenas_profesional ON resenas (profesional_id, fecha_creacion DESC);

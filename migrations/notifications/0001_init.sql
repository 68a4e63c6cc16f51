-- notifications schema: in-app notifications, preferences, push subscriptions, the
-- email/push delivery queue, a replica of user contacts, and gamification.

-- Replica of the people we write to, fed by UserRegistered / UserProfileUpdated /
-- UserBanned / UserUnbanned; a miss is filled from users' internal API.
CREATE TABLE contacts (
    user_id     uuid PRIMARY KEY,
    email       text        NOT NULL DEFAULT '',
    nombre      text        NOT NULL DEFAULT '',
    apellido    text        NOT NULL DEFAULT '',
    rol         text        NOT NULL DEFAULT '',
    is_active   boolean     NOT NULL DEFAULT true,
    -- occurred_at of the newest event applied to the names, so an older event arriving
    -- late (another stream) never overwrites a newer name.
    names_at    timestamptz NOT NULL DEFAULT '-infinity',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE notifications (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL,
    tipo        text        NOT NULL,
    titulo      text        NOT NULL,
    mensaje     text        NOT NULL,
    data        jsonb       NOT NULL DEFAULT '{}',
    leida       boolean     NOT NULL DEFAULT false,
    -- The event that caused it: with the inbox this keeps one row per event and user
    -- even if a handler were ever run twice.
    event_id    uuid,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    CONSTRAINT notifications_event_user UNIQUE (event_id, user_id, tipo)
);
CREATE INDEX notifications_user_created ON notifications (user_id, created_at DESC, id DESC);
CREATE INDEX notifications_user_unread ON notifications (user_id) WHERE NOT leida;

-- One row per user that changed anything; absent means the defaults.
CREATE TABLE preferences (
    user_id             uuid PRIMARY KEY,
    email_ofertas       boolean NOT NULL DEFAULT true,
    email_trabajos      boolean NOT NULL DEFAULT true,
    email_pagos         boolean NOT NULL DEFAULT true,
    email_resenas       boolean NOT NULL DEFAULT true,
    email_sistema       boolean NOT NULL DEFAULT true,
    push_ofertas        boolean NOT NULL DEFAULT true,
    push_trabajos       boolean NOT NULL DEFAULT true,
    push_pagos          boolean NOT NULL DEFAULT true,
    push_resenas        boolean NOT NULL DEFAULT true,
    push_sistema        boolean NOT NULL DEFAULT true,
    push_mensajes       boolean NOT NULL DEFAULT false,
    frecuencia_resumen  text    NOT NULL DEFAULT 'nunca' CHECK (frecuencia_resumen IN ('nunca', 'diario', 'semanal')),
    updated_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE push_subscriptions (
    id          uuid PRIMARY KEY,
    user_id     uuid        NOT NULL,
    endpoint    text        NOT NULL UNIQUE,
    p256dh      text        NOT NULL,
    auth        text        NOT NULL,
    user_agent  text        NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user ON push_subscriptions (user_id);

-- The delivery queue for side effects outside the database (emails, Web Push). Rows are
-- written in the same transaction as the notification, keyed by an idempotency key
-- derived from (consumer, event id, channel, target); a background sender sends each
-- pending row while holding its row lock and marks it sent in that same transaction.
CREATE TABLE deliveries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    idem_key        text        NOT NULL UNIQUE,
    channel         text        NOT NULL CHECK (channel IN ('email', 'push')),
    user_id         uuid,
    -- email: the address when the event carried it (password reset, welcome); empty
    -- means "resolve from the contacts replica at send time".
    to_email        text        NOT NULL DEFAULT '',
    subscription_id uuid,
    payload         jsonb       NOT NULL,
    status          text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts        int         NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, id) WHERE status = 'pending';

-- Development VAPID key pair, generated once when none is configured, so browser
-- subscriptions survive restarts.
CREATE TABLE vapid_keys (
    id          int PRIMARY KEY CHECK (id = 1),
    public_key  text NOT NULL,
    private_key text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Gamification: one row per professional (by user id).
CREATE TABLE gamification_profiles (
    usuario_id           uuid PRIMARY KEY,
    puntos_experiencia   int         NOT NULL DEFAULT 0 CHECK (puntos_experiencia >= 0),
    nivel                text        NOT NULL DEFAULT 'BRONCE',
    trabajos_completados int         NOT NULL DEFAULT 0,
    resenas_5_estrellas  int         NOT NULL DEFAULT 0,
    total_resenas        int         NOT NULL DEFAULT 0,
    rating_promedio      numeric(3,2) NOT NULL DEFAULT 0,
    kyc_verificado       boolean     NOT NULL DEFAULT false,
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX gamification_leaderboard ON gamification_profiles (puntos_experiencia DESC, usuario_id);

-- Every XP grant, once per (user, reason, reference): a job pays its XP once even if
-- another event for the same job ever arrived.
CREATE TABLE xp_awards (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    usuario_id  uuid        NOT NULL,
    puntos      int         NOT NULL CHECK (puntos >= 0),
    motivo      text        NOT NULL,
    referencia  text        NOT NULL,
    event_id    uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (usuario_id, motivo, referencia)
);

-- The medal catalogue is data: metric is what is measured, umbral the value to reach.
-- For metric 'nivel' umbral is the level's rank (0 BRONCE … 3 DIAMANTE).
CREATE TABLE medals (
    codigo      text PRIMARY KEY,
    nombre      text NOT NULL,
    descripcion text NOT NULL,
    icono       text NOT NULL DEFAULT '',
    metrica     text NOT NULL CHECK (metrica IN ('trabajos_completados', 'resenas_5_estrellas', 'kyc_verificado', 'nivel')),
    umbral      int  NOT NULL,
    orden       int  NOT NULL DEFAULT 0,
    activa      boolean NOT NULL DEFAULT true
);
INSERT INTO medals (codigo, nombre, descripcion, icono, metrica, umbral, orden) VALUES
    ('PRIMER_TRABAJO',   'Primer trabajo',        'Completaste tu primer trabajo',                    '🛠️', 'trabajos_completados', 1,   10),
    ('TRABAJOS_10',      '10 trabajos',           'Completaste 10 trabajos',                          '🔟', 'trabajos_completados', 10,  20),
    ('TRABAJOS_50',      '50 trabajos',           'Completaste 50 trabajos',                          '🏅', 'trabajos_completados', 50,  30),
    ('TRABAJOS_100',     '100 trabajos',          'Completaste 100 trabajos',                         '🏆', 'trabajos_completados', 100, 40),
    ('CINCO_ESTRELLAS_10','10 reseñas de 5 estrellas','Recibiste 10 reseñas de 5 estrellas',          '⭐', 'resenas_5_estrellas',  10,  50),
    ('KYC_VERIFICADO',   'Identidad verificada',  'Tu identidad fue verificada',                      '✅', 'kyc_verificado',       1,   60),
    ('NIVEL_PLATA',      'Nivel Plata',           'Alcanzaste el nivel Plata',                        '🥈', 'nivel',                1,   70),
    ('NIVEL_ORO',        'Nivel Oro',             'Alcanzaste el nivel Oro',                          '🥇', 'nivel',                2,   80),
    ('NIVEL_DIAMANTE',   'Nivel Diamante',        'Alcanzaste el nivel Diamante',                     '💎', 'nivel',                3,   90);

CREATE TABLE user_medals (
    usuario_id  uuid        NOT NULL,
    codigo      text        NOT NULL REFERENCES medals (codigo),
    awarded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (usuario_id, codigo)
);

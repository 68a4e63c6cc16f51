-- users schema: profiles (names, avatar) and chat-strike counters. The id is the
-- account's id in auth; email, rol and is_active are replicas fed by auth's events.
CREATE TABLE profiles (
    id                  uuid        PRIMARY KEY,
    email               text        NOT NULL,
    nombre              text        NOT NULL,
    apellido            text        NOT NULL,
    rol                 text        NOT NULL,
    is_active           boolean     NOT NULL DEFAULT true,
    avatar_url          text,
    avatar_name         text,
    infracciones_chat   integer     NOT NULL DEFAULT 0,
    is_chat_banned      boolean     NOT NULL DEFAULT false,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX profiles_search_trgm ON profiles
    USING gin ((lower(email || ' ' || nombre || ' ' || apellido)) public.gin_trgm_ops);

-- auth schema: accounts and credentials, sessions (refresh-token families), password
-- reset tokens and the token signing keys.

CREATE TABLE accounts (
    id                  uuid        PRIMARY KEY,
    email               text        NOT NULL,
    password_hash       text        NOT NULL,
    nombre              text        NOT NULL,
    apellido            text        NOT NULL,
    rol                 text        NOT NULL CHECK (rol IN ('CLIENTE', 'PROFESIONAL', 'ADMIN')),
    is_active           boolean     NOT NULL DEFAULT true,
    oficio_id           uuid,
    fecha_creacion      timestamptz NOT NULL DEFAULT now(),
    fecha_actualizacion timestamptz NOT NULL DEFAULT now()
);
-- Emails are stored lower-case; the index makes the uniqueness rule hold regardless.
CREATE UNIQUE INDEX accounts_email_key ON accounts (lower(email));
CREATE INDEX accounts_created ON accounts (fecha_creacion DESC, id DESC);
CREATE INDEX accounts_email_trgm ON accounts USING gin (email public.gin_trgm_ops);

-- One row per refresh token. Tokens of one login share a family; rotating marks the
-- old row rotated and inserts its successor. Presenting a rotated token again is theft
-- or a replay: the whole family is revoked.
CREATE TABLE refresh_tokens (
    id          uuid        PRIMARY KEY,
    family_id   uuid        NOT NULL,
    user_id     uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_hash  bytea       NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_live ON refresh_tokens (user_id) WHERE revoked_at IS NULL;

-- Reset tokens are stored as SHA-256 hashes: the clear token only travels in the email.
CREATE TABLE password_resets (
    token_hash  bytea       PRIMARY KEY,
    user_id     uuid        NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id) WHERE used_at IS NULL;

-- Ed25519 signing keys. The newest key signs; every key not yet expired is published in
-- the JWKS so tokens signed before a rotation stay valid. private_key is sealed with
-- AES-GCM under AUTH_KEYS_SECRET.
CREATE TABLE signing_keys (
    kid         text        PRIMARY KEY,
    public_key  bytea       NOT NULL,
    private_key bytea       NOT NULL,
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX signing_keys_created ON signing_keys (created_at DESC);

-- Replicas the admin pages need from other services' events: the avatar users announces
-- in UserProfileUpdated (for the admin user list) and each professional's KYC state as
-- professionals announces it (for the user-growth metrics).
ALTER TABLE accounts ADD COLUMN avatar_url text;

-- One row per professional user; occurred_at is the applied event's time, so an older
-- event delivered late never overwrites a newer state.
CREATE TABLE kyc_states (
    usuario_id  uuid        PRIMARY KEY,
    estado      text        NOT NULL CHECK (estado IN ('EN_REVISION', 'APROBADO', 'RECHAZADO')),
    occurred_at timestamptz NOT NULL
);
CREATE INDEX kyc_states_estado ON kyc_states (estado);

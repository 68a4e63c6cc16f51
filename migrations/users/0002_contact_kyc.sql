-- Contact details the profile pages edit, and the KYC state of professionals as the
-- professionals service announces it (KYCSubmitted / KYCApproved / KYCRejected): users
-- answers kyc_verificado from its own replica, never by reading another schema.
ALTER TABLE profiles ADD COLUMN telefono text, ADD COLUMN direccion text;

-- One row per professional user; occurred_at is the applied event's time, so an older
-- event delivered late never overwrites a newer state.
CREATE TABLE kyc_states (
    usuario_id  uuid        PRIMARY KEY,
    estado      text        NOT NULL CHECK (estado IN ('EN_REVISION', 'APROBADO', 'RECHAZADO')),
    occurred_at timestamptz NOT NULL
);

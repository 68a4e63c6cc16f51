-- Withdrawals. A release no longer pays the professional out by itself: it credits their
-- available balance (professional_payable in the ledger), and money leaves only through a
-- withdrawal the professional requests and an admin approves. A request reserves the amount
-- (professional_payable → professional_reserved); approval queues the payout, whose success
-- moves it out (professional_reserved → mp_balance); rejection gives it back.

-- The professional's bank account: the one destination of their withdrawals. Set through
-- POST /pagos/cuenta-bancaria, or learnt from professionals when PUT
-- /professional/payout-info changes the payout account (the last change wins).
CREATE TABLE cuentas_bancarias (
    usuario_id   text PRIMARY KEY,
    tipo_cuenta  text NOT NULL CHECK (tipo_cuenta IN ('cbu', 'alias')),
    cbu          text,
    alias        text,
    titular      text NOT NULL DEFAULT '',
    banco        text NOT NULL DEFAULT '',
    origen       text NOT NULL CHECK (origen IN ('pagos', 'perfil')),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((tipo_cuenta = 'cbu' AND cbu IS NOT NULL) OR (tipo_cuenta = 'alias' AND alias IS NOT NULL))
);

-- Accounts professionals already set (PUT /professional/payout-info) carry over. They were
-- normalised there: 22 digits is a CBU/CVU with valid check digits, anything else an alias.
INSERT INTO cuentas_bancarias (usuario_id, tipo_cuenta, cbu, alias, origen)
SELECT usuario_id,
       CASE WHEN payout_account ~ '^[0-9]{22}$' THEN 'cbu' ELSE 'alias' END,
       CASE WHEN payout_account ~ '^[0-9]{22}$' THEN payout_account END,
       CASE WHEN payout_account ~ '^[0-9]{22}$' THEN NULL ELSE payout_account END,
       'perfil'
FROM profesionales WHERE COALESCE(payout_account, '') <> '';

-- Withdrawal requests: PENDIENTE → APROBADO → PROCESADO (payout sent), or PENDIENTE → RECHAZADO.
CREATE TABLE retiros (
    id               uuid PRIMARY KEY,
    usuario_id       text NOT NULL,
    monto_centavos   bigint NOT NULL CHECK (monto_centavos > 0),
    estado           text NOT NULL DEFAULT 'PENDIENTE' CHECK (estado IN ('PENDIENTE', 'APROBADO', 'RECHAZADO', 'PROCESADO')),
    cuenta_destino   text NOT NULL,
    motivo_rechazo   text,
    revisado_por     text,
    fecha_solicitud  timestamptz NOT NULL DEFAULT now(),
    fecha_revision   timestamptz,
    fecha_procesado  timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX retiros_usuario ON retiros (usuario_id, fecha_solicitud DESC);
CREATE INDEX retiros_estado ON retiros (estado, fecha_solicitud);

-- A payout now belongs to a withdrawal (new) or to a job (released under the earlier
-- automatic-payout model, still delivered by the same loop). A withdrawal's payout that
-- MercadoPago refuses (400: the account does not exist) ends RECHAZADO and is not retried.
ALTER TABLE payouts ALTER COLUMN trabajo_id DROP NOT NULL;
ALTER TABLE payouts ADD COLUMN retiro_id uuid UNIQUE REFERENCES retiros (id);
ALTER TABLE payouts ADD CONSTRAINT payouts_one_owner CHECK ((trabajo_id IS NULL) <> (retiro_id IS NULL));

-- Ledger transactions of a withdrawal carry its id instead of a job's; still one per
-- (owner, kind).
ALTER TABLE ledger_txns ALTER COLUMN trabajo_id DROP NOT NULL;
ALTER TABLE ledger_txns ADD COLUMN retiro_id uuid;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_retiro_tipo UNIQUE (retiro_id, tipo);
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_one_owner CHECK ((trabajo_id IS NULL) <> (retiro_id IS NULL));
ALTER TABLE ledger_txns DROP CONSTRAINT ledger_txns_tipo_check;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_tipo_check
    CHECK (tipo IN ('HOLD', 'RELEASE', 'PAYOUT', 'REFUND', 'CHARGEBACK', 'RESERVE', 'UNRESERVE'));

ALTER TABLE ledger_entries ALTER COLUMN trabajo_id DROP NOT NULL;
ALTER TABLE ledger_entries ADD COLUMN retiro_id uuid;
CREATE INDEX ledger_entries_usuario ON ledger_entries (usuario_id, cuenta);

-- Names of the people in payments' lists (history, transactions), from UserRegistered and
-- UserProfileUpdated.
CREATE TABLE usuarios (
    usuario_id  text PRIMARY KEY,
    nombre      text NOT NULL DEFAULT '',
    apellido    text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now()
);

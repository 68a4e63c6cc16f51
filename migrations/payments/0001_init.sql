-- payments schema: job replica, MercadoPago payments, webhook inbox, escrow ledger,
-- payouts, refunds, and the professionals' commission/payout replica.

-- Jobs as payments knows them (replica of OfferAccepted plus the money state).
CREATE TABLE trabajos (
    trabajo_id        text PRIMARY KEY,
    oferta_id         text,
    cliente_id        text NOT NULL,
    cliente_email     text NOT NULL DEFAULT '',
    profesional_id    text NOT NULL,          -- the professional's user id
    descripcion       text NOT NULL DEFAULT '',
    precio_centavos   bigint NOT NULL CHECK (precio_centavos > 0),
    -- PENDIENTE_PAGO → PAGADO_EN_ESCROW → LIBERADO | CANCELADO_REEMBOLSADO; PENDIENTE_PAGO → CANCELADO
    estado_escrow     text NOT NULL DEFAULT 'PENDIENTE_PAGO',
    checkout_estado   text NOT NULL DEFAULT 'PENDIENTE', -- PENDIENTE | CREADO | FALLIDO
    checkout_error    text,
    preference_id     text,
    payment_url       text,
    sandbox_url       text,
    payment_id        text,                   -- the payment that funded the escrow
    congelado         boolean NOT NULL DEFAULT false, -- dispute or chargeback: no release
    disputa_id        text,
    liberacion_pendiente boolean NOT NULL DEFAULT false, -- JobCompleted waits (frozen / not funded)
    alerta            text,                   -- for admins: amount mismatch, chargeback…
    tasa_comision_bp  int,
    comision_centavos bigint,
    liberado_centavos bigint,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    pagado_at         timestamptz,
    liberado_at       timestamptz,
    reembolsado_at    timestamptz
);
CREATE INDEX trabajos_cliente ON trabajos (cliente_id, created_at DESC);
CREATE INDEX trabajos_profesional ON trabajos (profesional_id, created_at DESC);
CREATE INDEX trabajos_waiting ON trabajos (created_at) WHERE estado_escrow = 'PENDIENTE_PAGO' AND checkout_estado = 'CREADO';

-- Every MercadoPago payment we have seen, as last read from the API.
CREATE TABLE pagos_mp (
    payment_id         text PRIMARY KEY,
    trabajo_id         text,
    status             text NOT NULL,
    status_detail      text NOT NULL DEFAULT '',
    monto_centavos     bigint NOT NULL,
    reembolsado_centavos bigint NOT NULL DEFAULT 0,
    moneda             text NOT NULL,
    alerta             text,
    date_last_updated  timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pagos_mp_trabajo ON pagos_mp (trabajo_id);

-- Authenticated webhook deliveries, answered 200 at once and processed by workers.
CREATE TABLE webhook_inbox (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    request_id      text NOT NULL DEFAULT '',
    topic           text NOT NULL,
    data_id         text NOT NULL,
    action          text NOT NULL DEFAULT '',
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz,
    attempts        int NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    last_error      text
);
CREATE INDEX webhook_inbox_pending ON webhook_inbox (next_attempt_at) WHERE processed_at IS NULL;

-- The ledger: one transaction per (job, kind), immutable balanced entries.
CREATE TABLE ledger_txns (
    id          uuid PRIMARY KEY,
    trabajo_id  text NOT NULL,
    tipo        text NOT NULL CHECK (tipo IN ('HOLD','RELEASE','PAYOUT','REFUND','CHARGEBACK')),
    referencia  text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (trabajo_id, tipo)
);

CREATE TABLE ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txn_id          uuid NOT NULL REFERENCES ledger_txns (id),
    trabajo_id      text NOT NULL,
    cuenta          text NOT NULL,
    usuario_id      text,
    monto_centavos  bigint NOT NULL CHECK (monto_centavos <> 0), -- debit > 0, credit < 0
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_txn ON ledger_entries (txn_id);
CREATE INDEX ledger_entries_cuenta ON ledger_entries (cuenta);
CREATE INDEX ledger_entries_trabajo ON ledger_entries (trabajo_id);

CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger rows are immutable (% on %)', TG_OP, TG_TABLE_NAME;
END $$;
CREATE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE TRIGGER ledger_txns_immutable BEFORE UPDATE OR DELETE ON ledger_txns
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

-- Checked at commit: a transaction whose entries do not sum to zero cannot commit.
CREATE FUNCTION ledger_txn_balanced() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE s bigint;
BEGIN
    SELECT COALESCE(sum(monto_centavos), 0) INTO s FROM ledger_entries WHERE txn_id = NEW.txn_id;
    IF s <> 0 THEN
        RAISE EXCEPTION 'ledger transaction % does not balance (sum %)', NEW.txn_id, s;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER ledger_entries_balanced AFTER INSERT ON ledger_entries
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION ledger_txn_balanced();

-- Transfers to professionals. One per job; the idempotency key is derived from the job.
CREATE TABLE payouts (
    id              uuid PRIMARY KEY,
    trabajo_id      text NOT NULL UNIQUE,
    profesional_id  text NOT NULL,
    cuenta_destino  text NOT NULL DEFAULT '',
    monto_centavos  bigint NOT NULL CHECK (monto_centavos >= 0),
    estado          text NOT NULL DEFAULT 'PENDIENTE', -- PENDIENTE | ENVIADO | FALLIDO
    intentos        int NOT NULL DEFAULT 0,
    ultimo_error    text,
    external_id     text,
    idempotency_key text NOT NULL,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    sent_at         timestamptz
);
CREATE INDEX payouts_due ON payouts (next_attempt_at) WHERE estado <> 'ENVIADO';

-- Refunds to clients through the refunds API.
CREATE TABLE refunds (
    id              uuid PRIMARY KEY,
    trabajo_id      text NOT NULL UNIQUE,
    payment_id      text NOT NULL,
    cliente_id      text NOT NULL,
    monto_centavos  bigint NOT NULL,
    estado          text NOT NULL DEFAULT 'PENDIENTE', -- PENDIENTE | EMITIDO | FALLIDO
    intentos        int NOT NULL DEFAULT 0,
    ultimo_error    text,
    external_id     text,
    motivo          text NOT NULL DEFAULT '',
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX refunds_due ON refunds (next_attempt_at) WHERE estado <> 'EMITIDO';

-- Replica of the professionals' level commission (LevelChanged) and payout account
-- (ProfessionalProfileUpdated), keyed by user id.
CREATE TABLE profesionales (
    usuario_id       text PRIMARY KEY,
    profesional_id   text,
    payout_account   text,
    nivel            text,
    tasa_comision_bp int,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

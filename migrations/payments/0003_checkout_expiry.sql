-- Unpaid checkouts expire. A checkout link lasts CHECKOUT_TTL from its creation: the
-- preference sent to MercadoPago carries the same deadline (expiration_date_to), and once
-- it has passed with no approved payment the job's money state is cancelled
-- (checkout_estado VENCIDO, estado_escrow CANCELADO) and PaymentCheckoutExpired goes out.
-- Times are the service's clock, not the database's, so tests can move them.
ALTER TABLE trabajos ADD COLUMN checkout_creado_at timestamptz;
ALTER TABLE trabajos ADD COLUMN checkout_vence_at timestamptz;
-- A replica that is asking MercadoPago about a due checkout holds it until this time, so
-- other replicas neither ask again nor expire it meanwhile; a crashed replica's hold lapses.
ALTER TABLE trabajos ADD COLUMN checkout_revision_hasta timestamptz;
ALTER TABLE trabajos ADD COLUMN checkout_vencido_at timestamptz;

-- Links created before this migration carry no deadline at MercadoPago; they get the
-- default one here so they do not wait for a payment forever.
UPDATE trabajos SET checkout_creado_at = created_at, checkout_vence_at = created_at + interval '72 hours'
WHERE checkout_estado = 'CREADO' AND checkout_vence_at IS NULL;

CREATE INDEX trabajos_checkout_due ON trabajos (checkout_vence_at)
    WHERE estado_escrow = 'PENDIENTE_PAGO' AND checkout_estado = 'CREADO';

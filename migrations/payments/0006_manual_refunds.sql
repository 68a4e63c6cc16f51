-- A refund MercadoPago cannot make (its payment was charged back, then given back to the
-- seller) waits for an admin, who transfers the money and records it: MANUAL → EMITIDO.
-- One under way when a chargeback gave the client the money stops (CONTRACARGO) and
-- becomes MANUAL should the chargeback be reversed.
ALTER TABLE refunds ADD CONSTRAINT refunds_estado_check
    CHECK (estado IN ('PENDIENTE', 'FALLIDO', 'EMITIDO', 'MANUAL', 'CONTRACARGO'));

-- The admin who recorded a manual refund.
ALTER TABLE refunds ADD COLUMN registrado_por text;

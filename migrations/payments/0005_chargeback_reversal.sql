-- A chargeback decided for the seller (status charged_back, status_detail reimbursed)
-- gives back what the chargeback took: one more kind of ledger transaction, still at
-- most one per job.
ALTER TABLE ledger_txns DROP CONSTRAINT ledger_txns_tipo_check;
ALTER TABLE ledger_txns ADD CONSTRAINT ledger_txns_tipo_check
    CHECK (tipo IN ('HOLD', 'RELEASE', 'PAYOUT', 'REFUND', 'CHARGEBACK', 'CHARGEBACK_REVERSAL', 'RESERVE', 'UNRESERVE'));

-- Whether a marketplace dispute about the job is open now. congelado also covers a
-- chargeback's freeze; when the chargeback is reversed the job thaws unless a dispute
-- still holds it.
ALTER TABLE trabajos ADD COLUMN disputa_abierta boolean NOT NULL DEFAULT false;
UPDATE trabajos SET disputa_abierta = true
    WHERE congelado AND disputa_id IS NOT NULL AND estado_escrow IN ('PENDIENTE_PAGO', 'PAGADO_EN_ESCROW');

-- Whether the job was cancelled (or its dispute decided for the client) while a
-- chargeback had its money: if the chargeback is reversed, the money that comes back is
-- owed to the client, not released. liberacion_pendiente is the same for a release.
ALTER TABLE trabajos ADD COLUMN reembolso_pendiente boolean NOT NULL DEFAULT false;

-- The jobs reconciliation re-reads now and then: held ones, and charged-back ones whose
-- chargeback may still be decided for the seller. A handful among all jobs; without this
-- each pass read the whole table.
CREATE INDEX trabajos_reread ON trabajos (updated_at)
    WHERE payment_id IS NOT NULL AND (estado_escrow = 'PAGADO_EN_ESCROW' OR alerta LIKE 'contracargo:%');

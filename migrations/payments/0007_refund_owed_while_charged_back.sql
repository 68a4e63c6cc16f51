-- A refund owed while a chargeback has the money is one refund row in CONTRACARGO, like a
-- refund under way when the chargeback came, rather than a flag on the job: the reversal
-- turns either into a MANUAL refund. Flags set before this migration become such rows.
INSERT INTO refunds (id, trabajo_id, payment_id, cliente_id, monto_centavos, motivo, estado, ultimo_error)
SELECT gen_random_uuid(), trabajo_id, payment_id, cliente_id, precio_centavos, 'cancelado durante un contracargo', 'CONTRACARGO',
       'El contracargo devolvió el dinero al cliente; si se revierte, el reembolso queda para un admin (MANUAL)'
FROM trabajos WHERE reembolso_pendiente AND payment_id IS NOT NULL
ON CONFLICT (trabajo_id) DO NOTHING;

ALTER TABLE trabajos DROP COLUMN reembolso_pendiente;

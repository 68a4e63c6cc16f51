-- The summary email of unread notifications (preferences.frecuencia_resumen): when the
-- last one was sent, or when the period started. NULL until the digest loop first sees a
-- person with a frequency other than 'nunca' (it then starts counting from that moment).
ALTER TABLE preferences ADD COLUMN last_digest_at timestamptz;
CREATE INDEX preferences_digest_due ON preferences (last_digest_at) WHERE frecuencia_resumen <> 'nunca';

-- Pending webhooks by payment: a worker that claims one delivery of a payment claims the
-- other pending deliveries of the same payment with it (one read from MercadoPago, one
-- apply for all of them), and the unsigned payment hint checks for a pending one.
CREATE INDEX webhook_inbox_pending_data_id ON webhook_inbox (data_id) WHERE processed_at IS NULL;

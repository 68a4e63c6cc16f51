-- POST /notificaciones/test is limited per person and hour. The sends are counted here,
-- not from the notifications they create, so deleting those does not reset the limit.
CREATE TABLE test_sends (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id  uuid        NOT NULL,
    sent_at  timestamptz NOT NULL
);
CREATE INDEX test_sends_user ON test_sends (user_id, sent_at);

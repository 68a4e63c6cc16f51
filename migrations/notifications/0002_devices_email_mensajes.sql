-- Native device tokens next to Web Push subscriptions, and an email preference for chat
-- messages.

-- A push registration is either a browser's Web Push subscription (endpoint URL plus
-- its p256dh/auth keys) or a device token an app obtained from Firebase Cloud Messaging
-- (kind 'fcm': endpoint holds the token, the keys stay empty). Both are stored per user,
-- unique by address, and removable the same way; only 'webpush' rows are delivered to,
-- since sending through FCM needs Firebase credentials this backend does not hold.
ALTER TABLE push_subscriptions
    ADD COLUMN kind       text        NOT NULL DEFAULT 'webpush' CHECK (kind IN ('webpush', 'fcm')),
    ADD COLUMN platform   text        NOT NULL DEFAULT 'web' CHECK (platform IN ('web', 'android', 'ios')),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT push_subscriptions_keys CHECK (kind <> 'webpush' OR (p256dh <> '' AND auth <> ''));

-- Off by default, like push_mensajes: a chat message per email is noise unless asked for.
ALTER TABLE preferences ADD COLUMN email_mensajes boolean NOT NULL DEFAULT false;

-- The list filters by category.
CREATE INDEX notifications_user_tipo_created ON notifications (user_id, tipo, created_at DESC, id DESC);

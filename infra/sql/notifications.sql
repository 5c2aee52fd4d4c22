-- Notifications: the SMS messages to send, and the local provider's outbox. Idempotent DDL.

-- One row per message ever decided on; the idempotency key makes a redelivered or
-- republished event yield the same row, never a second one.
CREATE TABLE IF NOT EXISTS sms_message (
    idempotency_key  text PRIMARY KEY,
    municipality     text NOT NULL,
    booking_id       uuid NOT NULL,
    kind             text NOT NULL,
    phone            text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending'
                     CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    last_error       text
);

CREATE INDEX IF NOT EXISTS sms_message_due
    ON sms_message (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS sms_message_booking
    ON sms_message (municipality, booking_id);

-- The local provider's outbox: what "was sent", for staff and tests to read. Keyed like
-- sms_message, so a send repeated after a crash never shows twice.
CREATE TABLE IF NOT EXISTS sms_outbox (
    idempotency_key  text PRIMARY KEY,
    municipality     text NOT NULL,
    phone            text NOT NULL,
    body             text NOT NULL,
    sent_at          timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS sms_outbox_municipality ON sms_outbox (municipality, sent_at);

-- Notifications: the SMS messages to send, what the service knows of each booking, and the
-- local provider's outbox. Idempotent DDL.

-- One row per message ever decided on; the idempotency key makes a redelivered or
-- republished event yield the same row, never a second one. Rows are never deleted: a
-- cancelled reminder stays, so that a republished event cannot bring it back.
CREATE TABLE IF NOT EXISTS sms_message (
    idempotency_key  text PRIMARY KEY,
    municipality     text NOT NULL,
    booking_id       uuid NOT NULL,
    kind             text NOT NULL,
    phone            text NOT NULL,
    body             text NOT NULL,
    status           text NOT NULL DEFAULT 'pending',
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    created_at       timestamptz NOT NULL DEFAULT now(),
    sent_at          timestamptz,
    last_error       text
);

-- Added with reminders; kept apart so that a database created before them is brought along.
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS booking_version integer NOT NULL DEFAULT 1;
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS due_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS appointment_at timestamptz;
-- pending → sent | failed (given up) | cancelled (booking moved or cancelled) |
-- dropped (its appointment began before it could go out)
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint WHERE conname = 'sms_message_status_check'
        AND pg_get_constraintdef(oid) LIKE '%dropped%'
    ) THEN
        ALTER TABLE sms_message DROP CONSTRAINT IF EXISTS sms_message_status_check;
        ALTER TABLE sms_message ADD CONSTRAINT sms_message_status_check
            CHECK (status IN ('pending', 'sent', 'failed', 'cancelled', 'dropped'));
    END IF;
END $$;

CREATE INDEX IF NOT EXISTS sms_message_due
    ON sms_message (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS sms_message_booking
    ON sms_message (municipality, booking_id);

-- The notifications read model of bookings: what later messages (reminder, notices) need
-- and later events do not carry. Only a newer booking version replaces a row.
CREATE TABLE IF NOT EXISTS notification_booking (
    booking_id    uuid PRIMARY KEY,
    municipality  text NOT NULL,
    version       integer NOT NULL,
    citizen_name  text NOT NULL,
    phone         text NOT NULL,
    service_name  text NOT NULL,
    site_name     text NOT NULL,
    documents     text[] NOT NULL,
    starts_at     timestamptz NOT NULL
);

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

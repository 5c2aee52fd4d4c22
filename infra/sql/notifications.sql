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
-- pending → sending (claimed by a dispatcher until lease_until) → sent | pending (retry) |
-- failed (given up); pending → cancelled (booking moved or cancelled) | dropped (its
-- appointment began before it could go out) | opted_out (the citizen wants no such SMS);
-- pending or sending → erased (its citizen was erased; phone and body are NULL)
DO $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_constraint WHERE conname = 'sms_message_status_check'
        AND pg_get_constraintdef(oid) LIKE '%erased%'
    ) THEN
        ALTER TABLE sms_message DROP CONSTRAINT IF EXISTS sms_message_status_check;
        ALTER TABLE sms_message ADD CONSTRAINT sms_message_status_check
            CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'cancelled', 'dropped',
                              'opted_out', 'erased'));
    END IF;
END $$;

-- A claim: the dispatcher that set `claim_id` sends the message; if it dies, the claim lapses
-- at `lease_until` (database time) and another dispatcher sends again under the same key.
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS claim_id uuid;
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS lease_until timestamptz;
-- The gateway's id for the message and its delivery receipt (first receipt wins).
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS provider_message_id text;
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS delivery_status text;
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS delivered_at timestamptz;
-- How many sms.* events this message has put on the bus (their aggregate version).
ALTER TABLE sms_message ADD COLUMN IF NOT EXISTS event_version integer NOT NULL DEFAULT 0;

CREATE INDEX IF NOT EXISTS sms_message_due
    ON sms_message (next_attempt_at) WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS sms_message_leased
    ON sms_message (lease_until) WHERE status = 'sending';
CREATE UNIQUE INDEX IF NOT EXISTS sms_message_provider_id
    ON sms_message (provider_message_id) WHERE provider_message_id IS NOT NULL;
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

-- The service's own events (sms.sent, sms.failed, sms.delivered), written in the transaction
-- that changes the message's status and relayed to JetStream in `id` order, each with its
-- stable `event_id` as Nats-Msg-Id. A row is marked published only after JetStream acked it.
CREATE TABLE IF NOT EXISTS sms_event_outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    subject       text NOT NULL,
    payload       bytea NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);

CREATE INDEX IF NOT EXISTS sms_event_outbox_unpublished
    ON sms_event_outbox (id) WHERE published_at IS NULL;

-- Citizens who want no reminders, notices or surveys, per municipality, by E.164 number.
CREATE TABLE IF NOT EXISTS sms_opt_out (
    municipality   text NOT NULL,
    phone          text NOT NULL,
    opted_out_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, phone)
);

-- Erasure (infra/personal_data.py): a citizen's bookings are found by their pseudonym, and on
-- `citizen.erased` their name, phone number and message texts become NULL here.
ALTER TABLE notification_booking ADD COLUMN IF NOT EXISTS subject_id uuid;
ALTER TABLE notification_booking ALTER COLUMN citizen_name DROP NOT NULL;
ALTER TABLE notification_booking ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE sms_message ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE sms_message ALTER COLUMN body DROP NOT NULL;
ALTER TABLE sms_outbox ALTER COLUMN phone DROP NOT NULL;
ALTER TABLE sms_outbox ALTER COLUMN body DROP NOT NULL;
CREATE INDEX IF NOT EXISTS notification_booking_subject
    ON notification_booking (municipality, subject_id) WHERE subject_id IS NOT NULL;

-- Added with `booking.manage_tokens_revoked`: the links in later messages carry the booking's
-- current generation; links of earlier generations were revoked.
ALTER TABLE notification_booking
    ADD COLUMN IF NOT EXISTS manage_generation integer NOT NULL DEFAULT 0;

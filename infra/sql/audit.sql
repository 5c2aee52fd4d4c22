-- The audit trail: who did what to which booking, one row per booking event (from the stream).
-- It holds no personal data: actors are staff accounts, a fingerprint of the citizen's manage
-- token, or the system; details are times and outcomes only.
CREATE TABLE IF NOT EXISTS audit_entry (
    event_id     uuid        PRIMARY KEY,
    municipality text        NOT NULL,
    booking_id   uuid        NOT NULL,
    version      integer     NOT NULL,
    occurred_at  timestamptz NOT NULL,
    action       text        NOT NULL,
    actor_kind   text        NOT NULL CHECK (actor_kind IN ('staff', 'citizen', 'system')),
    actor        text        NOT NULL,
    detail       jsonb       NOT NULL DEFAULT '{}'
);

CREATE INDEX IF NOT EXISTS audit_entry_booking
    ON audit_entry (municipality, booking_id, version);

-- Reporting read models (services/reporting), keyed by municipality. Applied idempotently at start.

-- Every municipality the reporting projection has seen an event of: known even with no bookings
-- in a requested period, so "no data" (200) and "no such municipality" (404) stay distinct.
CREATE TABLE IF NOT EXISTS report_municipality (
    municipality   text PRIMARY KEY,
    first_seen_at  timestamptz NOT NULL DEFAULT now()
);

-- From `municipality.registered`; null until that event is seen (reports then use the default).
ALTER TABLE report_municipality ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE report_municipality ADD COLUMN IF NOT EXISTS waiting_target_working_days integer;

-- One row per booking. `version` is the booking aggregate's version last applied: an event at or
-- below it (a republished one) changes nothing.
CREATE TABLE IF NOT EXISTS report_booking (
    booking_id            uuid PRIMARY KEY,
    municipality          text NOT NULL,
    site                  text NOT NULL,
    service               text NOT NULL,
    channel               text NOT NULL,
    booked_at             timestamptz NOT NULL,
    starts_at             timestamptz NOT NULL,
    waiting_working_days  integer NOT NULL CHECK (waiting_working_days >= 0),
    status                text NOT NULL CHECK (status IN ('booked', 'cancelled')),
    cancelled_at          timestamptz,
    version               integer NOT NULL,
    updated_at            timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS report_booking_municipality_booked_at
    ON report_booking (municipality, booked_at);

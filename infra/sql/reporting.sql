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

-- Operations (issue 5): what became of each booking. `outcome` is the visit's end: completed
-- (with the handling minutes), no-show, or solved online at pre-assessment without a visit.
ALTER TABLE report_booking ADD COLUMN IF NOT EXISTS acute boolean NOT NULL DEFAULT false;
ALTER TABLE report_booking ADD COLUMN IF NOT EXISTS cancelled_in_bulk boolean NOT NULL DEFAULT false;
ALTER TABLE report_booking ADD COLUMN IF NOT EXISTS outcome text
    CHECK (outcome IN ('completed', 'no_show', 'solved_online'));
ALTER TABLE report_booking ADD COLUMN IF NOT EXISTS handling_minutes double precision;

CREATE INDEX IF NOT EXISTS report_booking_municipality_starts_at
    ON report_booking (municipality, starts_at);

-- One survey answer per booking (`booking.survey_answered`).
CREATE TABLE IF NOT EXISTS report_survey_answer (
    booking_id              uuid PRIMARY KEY,
    municipality            text NOT NULL,
    site                    text,
    service                 text NOT NULL,
    answered_at             timestamptz NOT NULL,
    satisfied_with_booking  boolean NOT NULL,
    easy_to_find_time       boolean NOT NULL,
    score                   integer
);

CREATE INDEX IF NOT EXISTS report_survey_answer_municipality_answered_at
    ON report_survey_answer (municipality, answered_at);

-- Reporting's own view of the seats at each time (schedule events carry absolute counts).
-- `version` is the site day's aggregate version last applied to the row: an event at or below it
-- changes nothing.
CREATE TABLE IF NOT EXISTS report_slot (
    municipality      text NOT NULL,
    site              text NOT NULL,
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    capacity          integer NOT NULL,
    acute_capacity    integer NOT NULL,
    services          text[] NOT NULL,
    seats_left        integer NOT NULL,
    acute_seats_left  integer NOT NULL,
    closed            boolean NOT NULL DEFAULT false,
    version           integer NOT NULL,
    PRIMARY KEY (municipality, site, starts_at)
);

-- The times with a seat left: the first free time after a moment is the first entry here,
-- however many full times come before it (a rush fills weeks).
CREATE INDEX IF NOT EXISTS report_slot_free ON report_slot (municipality, site, starts_at)
    WHERE seats_left > 0 AND NOT closed;

-- The services each site has offered at some time (from its slots): the first free time of
-- each is then found from the slots' primary key, not by reading every future slot.
CREATE TABLE IF NOT EXISTS report_site_service (
    municipality  text NOT NULL,
    site          text NOT NULL,
    service       text NOT NULL,
    PRIMARY KEY (municipality, site, service)
);

DO $$ BEGIN  -- filled once from the slots of a read model built before it existed
    IF NOT EXISTS (SELECT 1 FROM report_site_service) THEN
        INSERT INTO report_site_service (municipality, site, service)
        SELECT DISTINCT municipality, site, unnest(services) FROM report_slot
        ON CONFLICT DO NOTHING;
    END IF;
END $$;

-- The first free time a citizen met per site and service, sampled after each schedule change
-- whenever it changed; null first_free_at: no time open at all.
CREATE TABLE IF NOT EXISTS report_lead_time (
    municipality   text NOT NULL,
    site           text NOT NULL,
    service        text NOT NULL,
    observed_at    timestamptz NOT NULL,
    first_free_at  timestamptz,
    working_days   integer,
    PRIMARY KEY (municipality, site, service, observed_at)
);

-- guarantee.breached / guarantee.restored, one row per event.
CREATE TABLE IF NOT EXISTS report_guarantee (
    event_id             uuid PRIMARY KEY,
    municipality         text NOT NULL,
    site                 text,
    service              text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('breached', 'restored')),
    observed_at          timestamptz NOT NULL,
    working_days         integer,
    target_working_days  integer NOT NULL
);

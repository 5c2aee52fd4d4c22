-- The booking service's own deadlines and waitlist, built from its events: what to do when.
CREATE TABLE IF NOT EXISTS booking_deadline (
    kind          text        NOT NULL,  -- 'hold', 'offer' or 'acute'
    key           text        NOT NULL,  -- hold id, booking id, or the site day
    municipality  text        NOT NULL,
    site          text        NOT NULL,
    day           date        NOT NULL,
    booking_id    uuid,
    due_at        timestamptz NOT NULL,
    fired_at      timestamptz,
    PRIMARY KEY (kind, key)
);
CREATE INDEX IF NOT EXISTS booking_deadline_due ON booking_deadline (due_at);

-- Bookings waiting for an earlier time, first come first served.
CREATE TABLE IF NOT EXISTS booking_waitlist (
    booking_id    uuid        PRIMARY KEY,
    municipality  text        NOT NULL,
    site          text        NOT NULL,
    service       text        NOT NULL,
    starts_at     timestamptz NOT NULL,
    waiting_since timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS booking_waitlist_site
    ON booking_waitlist (municipality, site, waiting_since);

-- An offer a booking let lapse is not made to it again for the same time.
CREATE TABLE IF NOT EXISTS booking_offer_lapsed (
    booking_id    uuid        NOT NULL,
    starts_at     timestamptz NOT NULL,
    PRIMARY KEY (booking_id, starts_at)
);

-- Times that freed up and are still to be offered to the waitlist.
CREATE TABLE IF NOT EXISTS booking_freed_time (
    municipality  text        NOT NULL,
    site          text        NOT NULL,
    starts_at     timestamptz NOT NULL,
    freed_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (municipality, site, starts_at)
);

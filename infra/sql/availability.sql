-- The availability projection: free times per site, with the seats left at each.
CREATE TABLE IF NOT EXISTS availability_slot (
    municipality  text        NOT NULL,
    site          text        NOT NULL,
    starts_at     timestamptz NOT NULL,
    ends_at       timestamptz NOT NULL,
    capacity      integer     NOT NULL,
    seats_left    integer     NOT NULL CHECK (seats_left >= 0),
    services      text[]      NOT NULL,
    PRIMARY KEY (municipality, site, starts_at)
);

CREATE INDEX IF NOT EXISTS availability_slot_free
    ON availability_slot (municipality, starts_at) WHERE seats_left > 0;

-- Added with `schedule.day_closed`: a closed day shows no free times, whatever follows.
ALTER TABLE availability_slot ADD COLUMN IF NOT EXISTS closed boolean NOT NULL DEFAULT false;

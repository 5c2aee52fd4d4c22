-- Positions shared by every consumer and the relay. Applied idempotently at start.
CREATE TABLE IF NOT EXISTS projection_position (
    projection  text PRIMARY KEY,
    stream_seq  bigint NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS relay_position (
    relay            text PRIMARY KEY,
    notification_id  bigint NOT NULL,
    updated_at       timestamptz NOT NULL DEFAULT now()
);

-- Events the relay could not publish for a reason no retry mends (it goes on without them):
-- kept with the reason until `borgerservice relay resend` asks for another try.
CREATE TABLE IF NOT EXISTS relay_parked (
    relay                text NOT NULL,
    notification_id      bigint NOT NULL,
    topic                text NOT NULL,
    reason               text NOT NULL,
    parked_at            timestamptz NOT NULL DEFAULT now(),
    resend_requested_at  timestamptz,
    PRIMARY KEY (relay, notification_id)
);

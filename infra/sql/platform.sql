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

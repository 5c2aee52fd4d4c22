-- Each citizen's own key to their personal data (infra/personal_data.py). Deleting a row is
-- erasing the citizen: what was sealed with the key is unreadable everywhere from then on.
CREATE TABLE IF NOT EXISTS personal_data_key (
    subject_id           uuid        PRIMARY KEY,  -- random: the citizen's pseudonym
    municipality         text        NOT NULL,
    lookup               bytea       NOT NULL UNIQUE,  -- HMAC of municipality and phone number
    wrapped_key          bytea       NOT NULL,  -- AES-256-GCM key, wrapped by the master key
    created_at           timestamptz NOT NULL DEFAULT now(),
    last_appointment_at  timestamptz NOT NULL,  -- retention runs from the latest appointment
    erase_requested_at   timestamptz,           -- staff asked: finished even after a crash
    erase_requested_by   text
);

CREATE INDEX IF NOT EXISTS personal_data_key_retention
    ON personal_data_key (last_appointment_at);
CREATE INDEX IF NOT EXISTS personal_data_key_requested
    ON personal_data_key (erase_requested_at) WHERE erase_requested_at IS NOT NULL;

-- Citizens who were erased: the pseudonym and when, nothing personal. Tells "erased" apart from
-- "never known".
CREATE TABLE IF NOT EXISTS personal_data_erased (
    subject_id    uuid        PRIMARY KEY,
    municipality  text        NOT NULL,
    reason        text        NOT NULL CHECK (reason IN ('requested', 'retention')),
    erased_at     timestamptz NOT NULL DEFAULT now()
);

-- Reporting's view of SMS delivery (services/reporting, projection `reporting_sms` on BS_SMS),
-- keyed by municipality. A file of its own: `replay reporting` rebuilds the tables of
-- reporting.sql from BS_EVENTS and must never replace these, which come from another stream.

-- One row per SMS message (the `sms.*` aggregate). `version` is the message's event version last
-- applied: an event at or below it (a republished one) changes nothing.
CREATE TABLE IF NOT EXISTS report_sms (
    message_id     uuid PRIMARY KEY,
    municipality   text NOT NULL,
    booking_id     uuid NOT NULL,
    kind           text NOT NULL,
    sent_at        timestamptz,
    delivered_at   timestamptz,
    failed_at      timestamptz,
    failure_stage  text CHECK (failure_stage IN ('sending', 'delivery')),
    version        integer NOT NULL
);

CREATE INDEX IF NOT EXISTS report_sms_municipality_sent_at ON report_sms (municipality, sent_at);
CREATE INDEX IF NOT EXISTS report_sms_municipality_delivered_at
    ON report_sms (municipality, delivered_at);
CREATE INDEX IF NOT EXISTS report_sms_municipality_failed_at
    ON report_sms (municipality, failed_at);

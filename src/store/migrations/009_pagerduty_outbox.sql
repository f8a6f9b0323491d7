-- 009_pagerduty_outbox: pages to send to PagerDuty (src/pagerduty/), recorded in the transaction of
-- the change that caused them and sent by the `pagerduty.send` timer (id `pagerduty:<id>`), with
-- retries; what PagerDuty answered is kept here (shown to the commander when it refused).
CREATE TABLE pagerduty_events (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  idempotency_key text NOT NULL CONSTRAINT pagerduty_events_idempotency_key_unique UNIQUE,
  incident_number integer REFERENCES incidents (number) ON DELETE CASCADE,
  kind text NOT NULL CONSTRAINT pagerduty_events_kind_known CHECK (kind IN ('alert', 'change')),
  -- As written in config (`${env:NAME}`): the key itself is never stored.
  routing_key_ref text NOT NULL,
  event jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending'
    CONSTRAINT pagerduty_events_state_known CHECK (state IN ('pending', 'sent', 'rejected', 'failed')),
  attempts integer NOT NULL DEFAULT 0,
  last_status integer,
  last_error text,
  dedup_key text,
  created_at timestamptz NOT NULL,
  sent_at timestamptz
);
CREATE INDEX pagerduty_events_incident_idx ON pagerduty_events (incident_number, created_at);

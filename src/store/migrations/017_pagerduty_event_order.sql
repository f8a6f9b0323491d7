-- 017_pagerduty_event_order: an incident's pages are sent in the order they were recorded. Ordering
-- by created_at (then by action) put a reopen's trigger before the resolve recorded just before it
-- at the same instant, leaving PagerDuty resolved while the incident was open; `seq` is the
-- insertion order. Pages already recorded are numbered in the order they were sent by until now.
ALTER TABLE pagerduty_events ADD COLUMN seq bigserial NOT NULL;

UPDATE pagerduty_events AS p
   SET seq = o.n
  FROM (
    SELECT id, row_number() OVER (
             ORDER BY created_at,
                      CASE event->>'action' WHEN 'trigger' THEN 0 WHEN 'acknowledge' THEN 1
                                            WHEN 'resolve' THEN 2 ELSE 3 END,
                      id) AS n
      FROM pagerduty_events
  ) AS o
 WHERE p.id = o.id;

SELECT setval(
  pg_get_serial_sequence('pagerduty_events', 'seq'),
  GREATEST((SELECT max(seq) FROM pagerduty_events), 1),
  (SELECT count(*) > 0 FROM pagerduty_events)
);

ALTER TABLE pagerduty_events ADD CONSTRAINT pagerduty_events_seq_unique UNIQUE (seq);
CREATE INDEX pagerduty_events_incident_seq_idx ON pagerduty_events (incident_number, seq);

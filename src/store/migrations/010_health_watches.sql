-- 010_health_watches: `/deploy health <svc> --watch` on durable ownership (src/health/watches.ts).
-- A watch is a row; each of its rounds is the durable timer `health-watch:<id>` (kind
-- health.watch-round), so the replica whose timer loop claimed the round owns the watch for the
-- round's lease: when it dies, another replica runs the round once the lease ran out, and a restart
-- goes on where the watch was. One running watch of a service per scope (the Slack channel).
CREATE TABLE health_watches (
  id text PRIMARY KEY,
  scope text NOT NULL,
  service text NOT NULL,
  environment text NOT NULL,
  interval_ms integer NOT NULL CONSTRAINT health_watches_interval_positive CHECK (interval_ms > 0),
  started_at timestamptz NOT NULL,
  deadline_at timestamptz NOT NULL,
  started_by text,
  -- Where it reports (the Slack message's ts), set once the message is posted.
  message_ref text,
  rounds integer NOT NULL DEFAULT 0,
  last_status text,
  state text NOT NULL DEFAULT 'running'
    CONSTRAINT health_watches_state_known
    CHECK (state IN ('running', 'healthy', 'deadline', 'stopped', 'failed')),
  ended_at timestamptz,
  ended_by text,
  end_reason text,
  CONSTRAINT health_watches_end_complete CHECK ((state = 'running') = (ended_at IS NULL))
);
CREATE UNIQUE INDEX health_watches_one_running ON health_watches (scope, service, environment)
  WHERE state = 'running';

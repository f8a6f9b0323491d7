-- 007_timers: durable timers (src/timers/). A timer is a row until its handler has run: a replica
-- claims due rows with a lease (FOR UPDATE SKIP LOCKED), runs the handler, and deletes the row only
-- then, so a handler that crashed runs again once its lease ran out, and a restart loses nothing.
-- Re-scheduling a timer (same id) bumps its version: a handler finishing an older version does not
-- delete the newer one. `subject` groups the timers of one thing ("incident:42") for cancelling them.
CREATE TABLE timers (
  id text PRIMARY KEY CONSTRAINT timers_id_bounded CHECK (length(id) BETWEEN 1 AND 300),
  kind text NOT NULL CONSTRAINT timers_kind_not_blank CHECK (btrim(kind) <> ''),
  subject text,
  payload jsonb NOT NULL DEFAULT '{}',
  due_at timestamptz NOT NULL,
  version integer NOT NULL DEFAULT 1,
  -- Claims so far of this version (a handler that keeps failing backs off, and is logged).
  attempts integer NOT NULL DEFAULT 0,
  lease_owner text,
  lease_until timestamptz,
  last_error text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT timers_lease_complete CHECK ((lease_owner IS NULL) = (lease_until IS NULL))
);
CREATE INDEX timers_due_idx ON timers (due_at);
CREATE INDEX timers_subject_idx ON timers (subject) WHERE subject IS NOT NULL;

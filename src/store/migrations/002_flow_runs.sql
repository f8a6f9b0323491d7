-- 002_flow_runs: multi-step flows recorded step by step (an incident's Slack setup: channel, invites,
-- topic, headline, pin, announcement; later deploy operations). A run is inserted in the same
-- transaction as its subject, and each step is recorded right after it succeeds (or fails for good),
-- so a crash part-way is finished on start-up or on a retry instead of staying half-made.
-- claimed_by/claimed_until is a lease, renewed at each step: one worker (replica) at a time runs it.
CREATE TABLE flow_runs (
  flow text NOT NULL CONSTRAINT flow_runs_flow_not_blank CHECK (btrim(flow) <> ''),
  -- What the run is about, e.g. the incident number.
  subject text NOT NULL CONSTRAINT flow_runs_subject_not_blank CHECK (btrim(subject) <> ''),
  -- What the flow needs to (re)start, e.g. whether to create a channel.
  input jsonb NOT NULL DEFAULT '{}',
  -- Step name → {"at": ISO time, "result": JSON or null, "failed": error code or null}.
  steps jsonb NOT NULL DEFAULT '{}',
  -- Claims so far (the first run counts); runs that keep failing are abandoned after a few.
  attempts integer NOT NULL DEFAULT 0 CONSTRAINT flow_runs_attempts_positive CHECK (attempts >= 0),
  claimed_by text,
  claimed_until timestamptz,
  outcome text CONSTRAINT flow_runs_outcome_known CHECK (outcome IN ('completed', 'abandoned')),
  finished_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (flow, subject),
  CONSTRAINT flow_runs_claim_complete CHECK ((claimed_by IS NULL) = (claimed_until IS NULL)),
  CONSTRAINT flow_runs_finished_complete CHECK ((outcome IS NULL) = (finished_at IS NULL))
);
CREATE INDEX flow_runs_pending_idx ON flow_runs (flow, created_at) WHERE finished_at IS NULL;

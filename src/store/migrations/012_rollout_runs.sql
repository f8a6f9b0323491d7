-- 012_rollout_runs: gradual roll-outs (/deploy rollout, src/deploy/rollout.ts). One row per roll-out
-- operation: the step it is at (a compare-and-set on step_index and version makes each step happen
-- once, across replicas and restarts), its state, and every analysis measurement taken.
CREATE TABLE rollout_runs (
  operation_id uuid PRIMARY KEY REFERENCES operations (id) ON DELETE CASCADE,
  state text NOT NULL CONSTRAINT rollout_runs_state_known
    CHECK (state IN ('running', 'paused', 'rolled_back', 'succeeded', 'aborted', 'inconclusive')),
  -- The step traffic is at (0-based into steps); -1 before the first shift.
  step_index integer NOT NULL DEFAULT -1,
  -- True once the platform took the current step's traffic.
  step_applied boolean NOT NULL DEFAULT false,
  step_started_at timestamptz,
  -- Each resume starts a fresh analysis round of the current step.
  analysis_round integer NOT NULL DEFAULT 0,
  -- The percentages, the interval and the metrics, fixed when the roll-out was asked for.
  plan jsonb NOT NULL,
  measurements jsonb NOT NULL DEFAULT '[]',
  -- Why it paused, rolled back or was aborted (the failed measurement and its value).
  reason text,
  next_step_at timestamptz,
  version integer NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT rollout_runs_step_bounded CHECK (step_index >= -1)
);

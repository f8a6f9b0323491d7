-- 011_approvals_windows_freezes: two-person approvals, deploy windows and freezes (issue 12).
-- An operation asked for approval keeps the rule it was asked under (so a config change or an
-- incident resolved meanwhile does not move the goalposts), whether it was asked as an emergency
-- (and why, by whom), and the last evaluation of the deploy window and freezes (shown on its card).
ALTER TABLE operations
  ADD COLUMN approval_rule jsonb,
  ADD COLUMN emergency_reason text,
  ADD COLUMN emergency_by text,
  ADD COLUMN gate jsonb;
CREATE INDEX operations_approval_expiry_idx ON operations (expires_at)
  WHERE state IN ('awaiting_approval', 'approved');

-- A rejection says why; the groups through which an approver counted are in approver_group.
ALTER TABLE approvals ADD COLUMN reason text;

-- /deploy freeze <env>: only emergency requests (and operations for an exempt incident) pass.
-- One unlifted freeze per environment; a freeze whose `until` passed is over without being lifted.
CREATE TABLE deploy_freezes (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  environment text NOT NULL,
  reason text NOT NULL,
  frozen_by text NOT NULL,
  frozen_at timestamptz NOT NULL,
  until timestamptz,
  lifted_at timestamptz,
  lifted_by text,
  CONSTRAINT deploy_freezes_lifted_complete CHECK ((lifted_at IS NULL) = (lifted_by IS NULL))
);
CREATE UNIQUE INDEX deploy_freezes_one_active_idx ON deploy_freezes (environment) WHERE lifted_at IS NULL;

-- 005_deploy_operations: /deploy operations as a state machine (see src/deploy/deploy-service.ts).
-- States gain 'expired' (an unconfirmed card ran out) and 'interrupted' (the bot stopped while it
-- ran and the platform did not show the target afterwards). At most one active operation per
-- service and environment, whatever Redis says: the partial unique index below.
ALTER TABLE operations DROP CONSTRAINT operations_state_known;
ALTER TABLE operations ADD CONSTRAINT operations_state_known CHECK (state IN (
  'requested', 'awaiting_approval', 'approved', 'running', 'verifying',
  'succeeded', 'failed', 'cancelled', 'rejected', 'expired', 'interrupted'
));
CREATE UNIQUE INDEX operations_one_active_idx ON operations (service, environment)
  WHERE state IN ('requested', 'awaiting_approval', 'approved', 'running', 'verifying');

ALTER TABLE operations
  ADD COLUMN reason text,
  ADD COLUMN confirmed_by text,
  -- The confirmation card (in the channel where it was asked) and the #deployments thread.
  ADD COLUMN card_channel_id text,
  ADD COLUMN card_ts text,
  ADD COLUMN notice_channel_id text,
  ADD COLUMN notice_ts text,
  -- An unconfirmed card expires then.
  ADD COLUMN expires_at timestamptz,
  ADD COLUMN started_at timestamptz,
  ADD COLUMN finished_at timestamptz,
  -- Who runs it (renewed while it runs): a replica that finds a running operation whose lease
  -- ran out resumes it (start-up recovery), and only one replica can hold it.
  ADD COLUMN lease_owner text,
  ADD COLUMN lease_until timestamptz;
CREATE INDEX operations_expiry_idx ON operations (expires_at) WHERE state = 'requested';

ALTER TABLE audit_records DROP CONSTRAINT audit_records_outcome_known;
ALTER TABLE audit_records ADD CONSTRAINT audit_records_outcome_known CHECK (outcome IN (
  'requested', 'approved', 'rejected', 'denied', 'succeeded', 'failed', 'cancelled',
  'started', 'verifying', 'expired', 'interrupted'
));

-- 008_change_control_and_clocks: the shared schema of change control (issue 12) and the incident
-- clocks (issue 13), in one place so that their features do not each redefine the same constraints.
-- Operations gain the gradual roll-out kind; audit outcomes gain approvals' and roll-outs' steps,
-- freezes, escalations and paging; incidents gain acknowledgement, escalation and mitigation times.
ALTER TABLE operations DROP CONSTRAINT operations_kind_known;
ALTER TABLE operations ADD CONSTRAINT operations_kind_known
  CHECK (kind IN ('rollback', 'restart', 'scale', 'maintenance', 'traffic', 'rollout'));

ALTER TABLE audit_records DROP CONSTRAINT audit_records_outcome_known;
ALTER TABLE audit_records ADD CONSTRAINT audit_records_outcome_known CHECK (outcome IN (
  'requested', 'approved', 'rejected', 'denied', 'succeeded', 'failed', 'cancelled',
  'started', 'verifying', 'expired', 'interrupted',
  -- change control: emergency requests, freezes, roll-out steps
  'awaiting_approval', 'frozen', 'unfrozen', 'step', 'paused', 'resumed', 'aborted', 'promoted',
  'rolled_back', 'inconclusive',
  -- incident clocks
  'acknowledged', 'escalated', 'paged'
));

ALTER TABLE incidents
  ADD COLUMN acknowledged_at timestamptz,
  ADD COLUMN acknowledged_by text,
  -- The escalation ladder's last level reached (0: none yet).
  ADD COLUMN escalation_level integer NOT NULL DEFAULT 0 CONSTRAINT incidents_escalation_level_bounded
    CHECK (escalation_level >= 0),
  -- First mitigation: a successful /deploy operation linked to it, or status identified/monitoring.
  ADD COLUMN mitigated_at timestamptz,
  ADD CONSTRAINT incidents_acknowledged_complete CHECK ((acknowledged_at IS NULL) = (acknowledged_by IS NULL));

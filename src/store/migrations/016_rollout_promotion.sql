-- 016_rollout_promotion: "Promote now" on a roll-out needs approvals as for any production change.
-- The promotion asked for on a run: the rule it is judged by, who asked and when, and who approved
-- it (through which groups). Changed with the run's compare-and-set on version, like the rest of the
-- row; null while nobody asked to promote.
ALTER TABLE rollout_runs ADD COLUMN promotion jsonb;

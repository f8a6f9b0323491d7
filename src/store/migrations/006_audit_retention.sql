-- 006_audit_retention: audit records stay append-only, except that records older than the retention
-- (audit.retention, the runbook: 7 years) can be deleted, by prune_audit_records(cutoff) alone.
--
-- UPDATE and TRUNCATE stay refused for everyone. A DELETE is checked row by row: it is let through
-- only for a row older than the transaction-local setting runbook.audit_retention_cutoff, which
-- prune_audit_records sets for its own DELETE and clears again. A DELETE anywhere else (no setting,
-- or a row at or after the cutoff) is refused like before.

DROP TRIGGER audit_records_append_only ON audit_records;
CREATE TRIGGER audit_records_append_only
  BEFORE UPDATE OR TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();

CREATE FUNCTION audit_records_delete_guard() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  cutoff_text text := current_setting('runbook.audit_retention_cutoff', true);
BEGIN
  IF cutoff_text IS NULL OR cutoff_text = '' THEN
    RAISE EXCEPTION 'audit_records is append-only: DELETE is not allowed (records past their retention are deleted by prune_audit_records)';
  END IF;
  IF OLD.at >= cutoff_text::timestamptz THEN
    RAISE EXCEPTION 'audit_records is append-only: record % (%) is within its retention', OLD.id, OLD.at;
  END IF;
  RETURN OLD;
END;
$$;
CREATE TRIGGER audit_records_delete_guard
  BEFORE DELETE ON audit_records
  FOR EACH ROW EXECUTE FUNCTION audit_records_delete_guard();

-- Deletes up to batch_size of the oldest records older than cutoff and returns how many it deleted
-- (callers repeat until fewer than batch_size, so that no statement runs long).
CREATE FUNCTION prune_audit_records(cutoff timestamptz, batch_size integer DEFAULT 10000)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
  deleted integer;
BEGIN
  IF cutoff IS NULL THEN
    RAISE EXCEPTION 'prune_audit_records: cutoff must not be null';
  END IF;
  IF batch_size IS NULL OR batch_size < 1 THEN
    RAISE EXCEPTION 'prune_audit_records: batch_size must be at least 1';
  END IF;
  PERFORM set_config('runbook.audit_retention_cutoff', cutoff::text, true);
  DELETE FROM audit_records
    WHERE id IN (
      SELECT id FROM audit_records WHERE at < cutoff ORDER BY at, id LIMIT batch_size
    );
  GET DIAGNOSTICS deleted = ROW_COUNT;
  PERFORM set_config('runbook.audit_retention_cutoff', '', true);
  RETURN deleted;
END;
$$;

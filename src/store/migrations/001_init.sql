-- 001_init: incidents, roles, timeline, audit, deploy operations and approvals.
-- All times are timestamptz (UTC); ids of Slack users and channels are text.

-- One row: the last incident number handed out. Declares lock and bump it inside their
-- transaction, so numbers are gap-free (a sequence would skip numbers on rollback).
CREATE TABLE incident_counter (
  singleton boolean PRIMARY KEY DEFAULT true CONSTRAINT incident_counter_singleton CHECK (singleton),
  last_number integer NOT NULL CHECK (last_number >= 0)
);
INSERT INTO incident_counter (singleton, last_number) VALUES (true, 0);

CREATE TABLE incidents (
  number integer PRIMARY KEY CHECK (number > 0),
  title text NOT NULL CONSTRAINT incidents_title_not_blank CHECK (btrim(title) <> ''),
  severity text NOT NULL,
  status text NOT NULL DEFAULT 'investigating'
    CONSTRAINT incidents_status_known CHECK (status IN ('investigating', 'identified', 'monitoring', 'resolved')),
  declared_by text NOT NULL,
  commander text,
  affected_services text[] NOT NULL DEFAULT '{}',
  impact text,
  summary text,
  -- Dedicated incident channel; null for lightweight incidents that live in the announcement thread.
  channel_id text CONSTRAINT incidents_channel_id_unique UNIQUE,
  -- The #incidents message whose thread carries the updates.
  announcement_channel_id text,
  announcement_ts text,
  -- The pinned state message.
  headline_channel_id text,
  headline_ts text,
  started_at timestamptz NOT NULL,
  last_update_at timestamptz,
  next_update_due_at timestamptz,
  resolved_at timestamptz,
  resolution text,
  root_cause text,
  dedupe_key text CONSTRAINT incidents_dedupe_key_unique UNIQUE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT incidents_resolved_at_matches_status CHECK ((status = 'resolved') = (resolved_at IS NOT NULL)),
  CONSTRAINT incidents_announcement_complete
    CHECK ((announcement_channel_id IS NULL) = (announcement_ts IS NULL)),
  CONSTRAINT incidents_headline_complete CHECK ((headline_channel_id IS NULL) = (headline_ts IS NULL))
);
CREATE INDEX incidents_open_idx ON incidents (number) WHERE status <> 'resolved';
CREATE INDEX incidents_announcement_idx ON incidents (announcement_channel_id, announcement_ts);

CREATE TABLE incident_roles (
  incident_number integer NOT NULL REFERENCES incidents (number) ON DELETE CASCADE,
  role text NOT NULL CONSTRAINT incident_roles_role_not_blank CHECK (btrim(role) <> ''),
  user_id text NOT NULL,
  assigned_by text NOT NULL,
  assigned_at timestamptz NOT NULL,
  PRIMARY KEY (incident_number, role)
);

CREATE TABLE timeline_events (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_number integer NOT NULL REFERENCES incidents (number) ON DELETE CASCADE,
  at timestamptz NOT NULL,
  -- Slack user id, or 'bot'.
  actor text NOT NULL,
  kind text NOT NULL,
  text text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}',
  -- Dedupe key of the source (e.g. a pinned Slack message): one event per source.
  source_key text CONSTRAINT timeline_events_source_key_unique UNIQUE,
  created_at timestamptz NOT NULL
);
CREATE INDEX timeline_events_incident_idx ON timeline_events (incident_number, at, id);

CREATE TABLE operations (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind text NOT NULL
    CONSTRAINT operations_kind_known CHECK (kind IN ('rollback', 'restart', 'scale', 'maintenance', 'traffic')),
  service text NOT NULL,
  environment text NOT NULL,
  state text NOT NULL CONSTRAINT operations_state_known CHECK (state IN (
    'requested', 'awaiting_approval', 'approved', 'running', 'verifying',
    'succeeded', 'failed', 'cancelled', 'rejected'
  )),
  requested_by text NOT NULL,
  params jsonb NOT NULL DEFAULT '{}',
  result jsonb,
  error text,
  incident_number integer REFERENCES incidents (number),
  idempotency_key text NOT NULL CONSTRAINT operations_idempotency_key_unique UNIQUE,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
);
CREATE INDEX operations_active_idx ON operations (service, environment, created_at)
  WHERE state IN ('requested', 'awaiting_approval', 'approved', 'running', 'verifying');
CREATE INDEX operations_service_idx ON operations (service, created_at DESC);

CREATE TABLE approvals (
  operation_id uuid NOT NULL REFERENCES operations (id) ON DELETE CASCADE,
  approver text NOT NULL,
  approver_group text NOT NULL,
  decision text NOT NULL CONSTRAINT approvals_decision_known CHECK (decision IN ('approved', 'rejected')),
  at timestamptz NOT NULL,
  PRIMARY KEY (operation_id, approver)
);

-- Append-only: what the bot did, who asked, and how it went.
CREATE TABLE audit_records (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  action text NOT NULL,
  service text,
  environment text,
  outcome text NOT NULL CONSTRAINT audit_records_outcome_known CHECK (outcome IN (
    'requested', 'approved', 'rejected', 'denied', 'succeeded', 'failed', 'cancelled'
  )),
  details jsonb NOT NULL DEFAULT '{}',
  incident_number integer REFERENCES incidents (number),
  operation_id uuid REFERENCES operations (id)
);
CREATE INDEX audit_records_at_idx ON audit_records (at DESC, id DESC);
CREATE INDEX audit_records_service_idx ON audit_records (service, at DESC, id DESC);

CREATE FUNCTION audit_records_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_records is append-only: % is not allowed', TG_OP;
END;
$$;
CREATE TRIGGER audit_records_append_only
  BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_records
  FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only();

-- 015_postmortems: post-mortems of incidents (src/incidents/postmortem-service.ts) and their
-- follow-ups (action items). One post-mortem per incident: drafted (posted in the incident's channel
-- and uploaded as a Markdown file), reminded once when not marked complete by `due_at` (timer
-- `postmortem-reminder:<n>`, subject `postmortem:<n>`), then complete. Follow-ups are numbered per
-- incident (#1, #2, …), have an owner and an optional due time (timer `followup-reminder:<id>`,
-- subject `followup:<id>`, cancelled when done).
CREATE TABLE postmortems (
  incident_number integer PRIMARY KEY REFERENCES incidents (number) ON DELETE CASCADE,
  status text NOT NULL DEFAULT 'pending'
    CONSTRAINT postmortems_status_known CHECK (status IN ('pending', 'drafted', 'complete')),
  -- Required by the severity (resolve), or asked for by hand (/incident postmortem).
  required boolean NOT NULL,
  due_at timestamptz NOT NULL,
  drafted_at timestamptz,
  drafted_by text,
  drafts integer NOT NULL DEFAULT 0,
  -- The summary message with its "Mark complete" button, and the uploaded Markdown file.
  message_channel_id text,
  message_ts text,
  file_id text,
  completed_at timestamptz,
  completed_by text,
  reminded_at timestamptz,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  CONSTRAINT postmortems_completed_complete CHECK ((completed_at IS NULL) = (completed_by IS NULL)),
  CONSTRAINT postmortems_complete_has_time CHECK ((status = 'complete') = (completed_at IS NOT NULL))
);

CREATE TABLE followups (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  incident_number integer NOT NULL REFERENCES incidents (number) ON DELETE CASCADE,
  -- #1, #2, … within the incident.
  number integer NOT NULL CONSTRAINT followups_number_positive CHECK (number > 0),
  owner text NOT NULL CONSTRAINT followups_owner_not_blank CHECK (btrim(owner) <> ''),
  text text NOT NULL CONSTRAINT followups_text_bounded CHECK (btrim(text) <> '' AND length(text) <= 2000),
  due_at timestamptz,
  status text NOT NULL DEFAULT 'open' CONSTRAINT followups_status_known CHECK (status IN ('open', 'done')),
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  done_at timestamptz,
  done_by text,
  reminded_at timestamptz,
  CONSTRAINT followups_number_unique UNIQUE (incident_number, number),
  CONSTRAINT followups_done_complete CHECK ((status = 'done') = (done_at IS NOT NULL AND done_by IS NOT NULL))
);

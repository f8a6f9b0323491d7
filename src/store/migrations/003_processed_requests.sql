-- 003_processed_requests: exactly-once for Slack deliveries, enforced here rather than in Redis.
-- One row per request or action already taken: a request signature (replay cache), a modal
-- submission, a button click, a slash command's trigger id, an Events API event id. Claiming is an
-- INSERT … ON CONFLICT; a row past expires_at may be claimed again and is pruned.
CREATE TABLE processed_requests (
  key text PRIMARY KEY CONSTRAINT processed_requests_key_bounded CHECK (length(key) BETWEEN 1 AND 500),
  -- What the key stands for ('signature', 'view_submission', 'button', 'slash_command', 'event').
  kind text NOT NULL,
  created_at timestamptz NOT NULL,
  expires_at timestamptz NOT NULL,
  CONSTRAINT processed_requests_expiry_after_creation CHECK (expires_at > created_at)
);
CREATE INDEX processed_requests_expires_idx ON processed_requests (expires_at);

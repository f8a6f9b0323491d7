/** Incident timeline events: what happened, when (UTC) and by whom. */
import type { JsonObject } from '../util/json.ts';

export const TIMELINE_KINDS = [
  'declared',
  'status_update',
  'severity_change',
  'role_change',
  'summary_update',
  'health_check',
  'deploy_action',
  'resolved',
  'reopened',
  'note',
  'pinned_message',
  'reminder',
  'acknowledged',
  'escalated',
  'paged',
  'postmortem',
  'followup',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];

/** The actor of events the bot itself records. */
export const BOT_ACTOR = 'bot';

export interface TimelineEvent {
  id: number;
  incidentNumber: number;
  at: Date;
  /** Slack user id, or 'bot'. */
  actor: string;
  kind: TimelineKind;
  text: string;
  data: JsonObject;
  sourceKey: string | null;
  createdAt: Date;
}

/** `pin:<channel>:<ts>`: one timeline event per pinned message. */
export function pinSourceKey(channel: string, ts: string): string {
  return `pin:${channel}:${ts}`;
}

/** `note:<delivery>`: one note per slash command delivery (its trigger id). */
export function noteSourceKey(delivery: string): string {
  return `note:${delivery}`;
}

/**
 * The incident timeline as Markdown, for post-mortems: a header with the incident's facts and a
 * table of events. Times are UTC ISO 8601 (Markdown has no Slack date tokens); user text is
 * escaped so that it shows as typed.
 */

import type { Incident } from './incident.ts';
import { incidentId } from './incident.ts';
import { type NameOf, replaceMentions } from './people.ts';
import { STATUS_LABEL } from './status.ts';
import type { TimelineEvent, TimelineKind } from './timeline.ts';

export const TIMELINE_KIND_LABELS: Record<TimelineKind, string> = {
  declared: 'Declared',
  status_update: 'Status update',
  severity_change: 'Severity change',
  role_change: 'Role change',
  summary_update: 'Summary update',
  health_check: 'Health check',
  deploy_action: 'Deploy action',
  resolved: 'Resolved',
  reopened: 'Reopened',
  note: 'Note',
  pinned_message: 'Pinned message',
  reminder: 'Reminder',
  acknowledged: 'Acknowledged',
  escalated: 'Escalated',
  paged: 'Paged',
  postmortem: 'Post-mortem',
  followup: 'Follow-up',
};

/** 2026-01-05T08:00:00Z (UTC, whole seconds). */
export function formatUtc(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Escapes Markdown syntax (and raw HTML) so text shows as typed, on one line. */
export function escapeMarkdown(text: string): string {
  return text
    .replace(/[\\`*_[\]<>|#~]/g, (c) => `\\${c}`)
    .replace(/\r\n|\r|\n/g, '<br>')
    .trim();
}

/**
 * A Slack user id becomes `@name` (by `nameOf`; `@U123` without one); the bot's own events read
 * `runbook-bot`.
 */
export function actorLabel(actor: string, nameOf?: NameOf): string {
  if (actor === 'bot') return 'runbook-bot';
  if (!/^[UW][A-Z0-9_]+$/.test(actor)) return escapeMarkdown(actor);
  return `@${nameOf ? escapeMarkdown(nameOf(actor)) : actor}`;
}

/** What a pinned message carries in its event data (see the 📌 listener). */
export interface PinnedMessageData {
  author: string | null;
  permalink: string | null;
  pinnedBy: string | null;
}

export function pinnedMessageData(data: Record<string, unknown>): PinnedMessageData {
  const text = (key: string): string | null => {
    const value = data[key];
    return typeof value === 'string' && value !== '' ? value : null;
  };
  const permalink = text('permalink');
  return {
    author: text('author'),
    permalink: permalink !== null && /^https:\/\/[^\s<>|]+$/.test(permalink) ? permalink : null,
    pinnedBy: text('pinnedBy'),
  };
}

function details(event: TimelineEvent, nameOf?: NameOf): string {
  const text = escapeMarkdown(nameOf ? replaceMentions(event.text, nameOf) : event.text);
  if (event.kind !== 'pinned_message') return text;
  const pin = pinnedMessageData(event.data);
  const parts = [text];
  if (pin.permalink) parts.push(`([message](${pin.permalink}))`);
  if (pin.pinnedBy) parts.push(`pinned by ${actorLabel(pin.pinnedBy, nameOf)}`);
  return parts.join(' ');
}

/** The events as a Markdown table (or a line saying there are none); people by `nameOf`. */
export function timelineTable(events: readonly TimelineEvent[], nameOf?: NameOf): string[] {
  if (events.length === 0) return ['_No events recorded._'];
  return [
    '| Time (UTC) | Actor | Event | Details |',
    '| --- | --- | --- | --- |',
    ...events.map(
      (e) =>
        `| ${formatUtc(e.at)} | ${actorLabel(e.actor, nameOf)} | ${TIMELINE_KIND_LABELS[e.kind]} | ${details(e, nameOf) || ' '} |`,
    ),
  ];
}

/**
 * The whole timeline of one incident as a Markdown document; events oldest first, people by
 * `nameOf` (their ids without one).
 */
export function timelineMarkdown(
  incident: Incident,
  events: readonly TimelineEvent[],
  nameOf?: NameOf,
): string {
  const facts = [
    `- **Severity:** ${escapeMarkdown(incident.severity)}`,
    `- **Status:** ${STATUS_LABEL[incident.status]}`,
    `- **Started:** ${formatUtc(incident.startedAt)}`,
    ...(incident.resolvedAt ? [`- **Resolved:** ${formatUtc(incident.resolvedAt)}`] : []),
    `- **Commander:** ${incident.commander ? actorLabel(incident.commander, nameOf) : 'unassigned'}`,
    ...(incident.affectedServices.length > 0
      ? [`- **Affected services:** ${incident.affectedServices.map(escapeMarkdown).join(', ')}`]
      : []),
    `- **Events:** ${events.length}`,
  ];
  return [
    `# ${incidentId(incident.number)}: ${escapeMarkdown(incident.title)}`,
    '',
    ...facts,
    '',
    '## Timeline (UTC)',
    '',
    ...timelineTable(events, nameOf),
    '',
  ].join('\n');
}

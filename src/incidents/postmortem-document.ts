/**
 * The post-mortem draft as Markdown, from the incident's record: facts (severity, roles, times and
 * durations), summary, impact, the real timeline, root cause, resolution, the /deploy operations run
 * for it, what went well and badly (what the record shows, for the review to complete), action
 * items (the follow-ups, with owners and due dates) and lessons learned, in the sections of the
 * runbooks' template, rendered from templates/postmortem.md. User text is escaped; people show by
 * name (`nameOf`).
 */
import { readFileSync } from 'node:fs';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { formatDuration } from '../config/duration.ts';
import type { SeverityConfig } from '../config/schema.ts';
import { renderTemplate } from '../util/template.ts';
import { type Incident, type IncidentRole, incidentId } from './incident.ts';
import { idsAsNames, type NameOf, replaceMentions } from './people.ts';
import type { Followup, LinkedOperation } from './postmortem.ts';
import { STATUS_LABEL } from './status.ts';
import type { TimelineEvent } from './timeline.ts';
import { actorLabel, escapeMarkdown, formatUtc, timelineTable } from './timeline-export.ts';

export const POSTMORTEM_TEMPLATE_URL = new URL('../../templates/postmortem.md', import.meta.url);

let template: string | undefined;

/** templates/postmortem.md, read once. */
export function postmortemTemplate(): string {
  template ??= readFileSync(POSTMORTEM_TEMPLATE_URL, 'utf8');
  return template;
}

/** The sections of the draft, as the runbooks name them (the summary message lists them). */
export const POSTMORTEM_SECTIONS = [
  'Summary',
  'Impact',
  'Timeline',
  'Root cause',
  'Resolution',
  'Changes made during the incident',
  'What went well',
  'What went badly',
  'Action items',
  'Lessons learned',
] as const;

const TO_FILL = '_To be completed at the review._';

export interface PostmortemRecord {
  incident: Incident;
  severity: SeverityConfig | undefined;
  roles: readonly IncidentRole[];
  /** The whole timeline, oldest first. */
  events: readonly TimelineEvent[];
  followups: readonly Followup[];
  operations: readonly LinkedOperation[];
  nameOf?: NameOf;
  /** When the draft is made. */
  now: Date;
}

function text(raw: string, nameOf: NameOf): string {
  return escapeMarkdown(replaceMentions(raw, nameOf));
}

function person(id: string | null, nameOf: NameOf): string {
  return id ? actorLabel(id, nameOf) : 'unassigned';
}

function duration(from: Date, to: Date | null): string | null {
  return to ? formatDuration(Math.max(0, differenceInMilliseconds(to, from))) : null;
}

function firstOf(events: readonly TimelineEvent[], kind: TimelineEvent['kind']): TimelineEvent | undefined {
  return events.find((e) => e.kind === kind);
}

function operationLine(op: LinkedOperation, nameOf: NameOf): string {
  const when = formatUtc(op.finishedAt ?? op.createdAt);
  const why = op.reason ? `: ${text(op.reason, nameOf)}` : '';
  const error = op.error ? ` (${text(op.error, nameOf)})` : '';
  return `- ${when} **${escapeMarkdown(op.kind)}** ${escapeMarkdown(op.service)} (${escapeMarkdown(op.environment)}), ${escapeMarkdown(op.state)}${error}, asked by ${person(op.requestedBy, nameOf)}${why}`;
}

function followupRow(f: Followup, nameOf: NameOf): string {
  const due = f.dueAt ? f.dueAt.toISOString().slice(0, 10) : '—';
  const status =
    f.status === 'done' ? `done${f.doneAt ? ` ${f.doneAt.toISOString().slice(0, 10)}` : ''}` : 'open';
  return `| ${f.number} | ${text(f.text, nameOf)} | ${person(f.owner, nameOf)} | ${due} | ${status} |`;
}

/** The facts table's rows. */
function facts(r: PostmortemRecord, nameOf: NameOf): string[] {
  const { incident, events } = r;
  const ack = firstOf(events, 'acknowledged');
  const mitigated =
    events.find(
      (e) => e.kind === 'status_update' && ['identified', 'monitoring'].includes(String(e.data.to)),
    ) ?? undefined;
  const rows: [string, string | null][] = [
    [
      'Severity',
      `${escapeMarkdown(incident.severity)}${r.severity ? ` (${escapeMarkdown(r.severity.label)})` : ''}`,
    ],
    ['Status', STATUS_LABEL[incident.status]],
    ['Declared by', person(incident.declaredBy, nameOf)],
    ...r.roles.map((role): [string, string] => [
      escapeMarkdown(role.role.charAt(0).toUpperCase() + role.role.slice(1)),
      person(role.userId, nameOf),
    ]),
    [
      'Affected services',
      incident.affectedServices.length > 0
        ? incident.affectedServices.map(escapeMarkdown).join(', ')
        : 'none named',
    ],
    ['Started', formatUtc(incident.startedAt)],
    ['Resolved', incident.resolvedAt ? formatUtc(incident.resolvedAt) : 'not yet'],
    ['Duration', duration(incident.startedAt, incident.resolvedAt)],
    ['Time to acknowledge', ack ? duration(incident.startedAt, ack.at) : null],
    ['Time to identify / mitigate', mitigated ? duration(incident.startedAt, mitigated.at) : null],
    ['Status updates', String(events.filter((e) => e.kind === 'status_update').length)],
    ['Timeline events', String(events.length)],
  ];
  return rows
    .filter((row): row is [string, string] => row[1] !== null)
    .map(([k, v]) => `| **${k}** | ${v} |`);
}

function wentWell(r: PostmortemRecord, nameOf: NameOf): string[] {
  const lines: string[] = [];
  const fixed = r.operations.filter((op) => op.state === 'succeeded');
  for (const op of fixed) {
    lines.push(
      `- ${escapeMarkdown(op.kind)} of ${escapeMarkdown(op.service)} (${escapeMarkdown(op.environment)}) succeeded, asked by ${person(op.requestedBy, nameOf)}`,
    );
  }
  const ack = firstOf(r.events, 'acknowledged');
  if (
    ack &&
    r.severity &&
    differenceInMilliseconds(ack.at, r.incident.startedAt) <= r.severity.responseTime
  ) {
    lines.push(
      `- Acknowledged within the ${escapeMarkdown(r.incident.severity)} response time (${formatDuration(r.severity.responseTime)})`,
    );
  }
  return lines;
}

function wentBadly(r: PostmortemRecord, nameOf: NameOf): string[] {
  const lines: string[] = [];
  for (const op of r.operations.filter((o) => ['failed', 'interrupted'].includes(o.state))) {
    lines.push(
      `- ${escapeMarkdown(op.kind)} of ${escapeMarkdown(op.service)} ${escapeMarkdown(op.state)}${op.error ? `: ${text(op.error, nameOf)}` : ''}`,
    );
  }
  for (const e of r.events.filter((x) => x.kind === 'escalated' || x.kind === 'reopened')) {
    lines.push(`- ${formatUtc(e.at)} ${text(e.text, nameOf)}`);
  }
  const { severity, incident } = r;
  if (severity && incident.resolvedAt && severity.updateCadence > 0) {
    const expected = Math.floor(
      differenceInMilliseconds(incident.resolvedAt, incident.startedAt) / severity.updateCadence,
    );
    const posted = r.events.filter((e) => e.kind === 'status_update').length;
    if (posted < expected) {
      lines.push(
        `- ${posted} status update${posted === 1 ? '' : 's'} posted; the ${escapeMarkdown(incident.severity)} cadence (every ${formatDuration(severity.updateCadence)}) expected ${expected}`,
      );
    }
  }
  return lines;
}

/** The post-mortem draft (Markdown) of a record, rendered from `templateText` (templates/postmortem.md). */
export function postmortemMarkdown(r: PostmortemRecord, templateText: string = postmortemTemplate()): string {
  const nameOf = r.nameOf ?? idsAsNames;
  const { incident } = r;
  const id = incidentId(incident.number);
  const list = (lines: string[], empty: string) => (lines.length > 0 ? lines.join('\n') : empty);
  const well = wentWell(r, nameOf);
  const badly = wentBadly(r, nameOf);
  const values: Record<string, string> = {
    id,
    title: escapeMarkdown(incident.title),
    drafted: formatUtc(r.now),
    facts: facts(r, nameOf).join('\n'),
    summary: incident.summary
      ? text(incident.summary, nameOf)
      : `${escapeMarkdown(incident.severity)} incident: ${escapeMarkdown(incident.title)}. ${TO_FILL}`,
    impact: incident.impact ? text(incident.impact, nameOf) : TO_FILL,
    timeline: timelineTable(r.events, nameOf).join('\n'),
    rootCause: incident.rootCause
      ? text(incident.rootCause, nameOf)
      : `Not recorded at resolution. ${TO_FILL}`,
    resolution: incident.resolution ? text(incident.resolution, nameOf) : TO_FILL,
    operations: list(
      r.operations.map((op) => operationLine(op, nameOf)),
      '_No /deploy operations were run for this incident._',
    ),
    wentWell: well.length > 0 ? `${well.join('\n')}\n\n${TO_FILL}` : TO_FILL,
    wentBadly: badly.length > 0 ? `${badly.join('\n')}\n\n${TO_FILL}` : TO_FILL,
    actionItems:
      r.followups.length > 0
        ? [
            '| # | Action | Owner | Due | Status |',
            '| --- | --- | --- | --- | --- |',
            ...r.followups.map((f) => followupRow(f, nameOf)),
          ].join('\n')
        : `_None yet: add them with \`/incident followup ${id} add @owner <what to do> due YYYY-MM-DD\`._`,
    lessons: TO_FILL,
  };
  return `${renderTemplate(templateText, values, 'templates/postmortem.md').trimEnd()}\n`;
}

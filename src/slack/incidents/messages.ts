/** Incident messages from templates/incident.ts, escaped and within Slack's limits. */
import type { Block, KnownBlock } from '@slack/types';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import {
  reopened,
  resolutionBody,
  resolutionSubject,
  roleAssigned,
  severityChanged,
  updateBody,
  updateSubject,
} from '../../../templates/incident.ts';
import { formatDuration } from '../../config/duration.ts';
import type { SeverityConfig } from '../../config/schema.ts';
import type { IncidentRole } from '../../incidents/incident.ts';
import { type Incident, incidentId } from '../../incidents/incident.ts';
import { STATUS_LABEL } from '../../incidents/status.ts';
import { escapeMrkdwn, slackDate, truncate } from '../kit/escape.ts';
import { LIMITS, truncateMrkdwn } from '../kit/limits.ts';

export interface SlackText {
  text: string;
  blocks?: (KnownBlock | Block)[];
}

const POST_MORTEM_WITHIN_MS = 48 * 3_600_000;

/** A message of one subject line and a body, as one section within the limits. */
function subjectAndBody(subject: string, body: string): SlackText {
  const text = truncateMrkdwn(`*${subject}*\n${body}`, LIMITS.sectionText);
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

const title = (incident: Incident): string => escapeMrkdwn(truncate(incident.title, 300));

/** Who runs the incident: the commander and the other role holders. */
export function teamLine(incident: Incident, roles: readonly IncidentRole[]): string {
  const parts = [`<@${incident.commander ?? incident.declaredBy}> (commander)`];
  for (const r of roles) if (r.role !== 'commander') parts.push(`<@${r.userId}> (${escapeMrkdwn(r.role)})`);
  return parts.join(', ');
}

export function updateMessage(
  incident: Incident,
  roles: readonly IncidentRole[],
  nextStep: string | null,
): SlackText {
  return subjectAndBody(
    updateSubject({ severity: incident.severity, title: title(incident) }),
    updateBody({
      severity: incident.severity,
      title: title(incident),
      status: STATUS_LABEL[incident.status],
      impact: incident.impact ? escapeMrkdwn(truncate(incident.impact, 1_000)) : 'Being assessed',
      started: slackDate(incident.startedAt),
      team: teamLine(incident, roles),
      ...(nextStep ? { nextStep: escapeMrkdwn(truncate(nextStep, 1_000)) } : {}),
      nextUpdate: incident.nextUpdateDueAt ? slackDate(incident.nextUpdateDueAt) : 'when there is news',
    }),
  );
}

/** `postmortemDue`: when the resolve scheduled the post-mortem (incidents.postmortemDue). */
export function resolutionMessage(
  incident: Incident,
  severity: SeverityConfig | undefined,
  postmortemDue?: Date,
): SlackText {
  const resolvedAt = incident.resolvedAt ?? incident.updatedAt;
  const due = postmortemDue ?? new Date(resolvedAt.getTime() + POST_MORTEM_WITHIN_MS);
  const within = differenceInMilliseconds(due, resolvedAt);
  const postMortemRequired = severity?.postMortemRequired ?? false;
  return subjectAndBody(
    resolutionSubject({ severity: incident.severity, title: title(incident) }),
    resolutionBody({
      severity: incident.severity,
      title: title(incident),
      resolution: escapeMrkdwn(truncate(incident.resolution ?? '', 1_000)),
      duration: formatDuration(differenceInMilliseconds(resolvedAt, incident.startedAt)),
      rootCause: incident.rootCause
        ? escapeMrkdwn(truncate(incident.rootCause, 1_000))
        : 'Under investigation',
      postMortemRequired,
      ...(postMortemRequired
        ? {
            postMortemDue: slackDate(due),
            ...(within !== POST_MORTEM_WITHIN_MS ? { postMortemWithin: formatDuration(within) } : {}),
          }
        : {}),
    }),
  );
}

export function severityMessage(
  incident: Incident,
  f: { from: string; actor: string; reason: string },
): SlackText {
  const text = truncateMrkdwn(
    severityChanged({
      id: incidentId(incident.number),
      from: f.from,
      to: incident.severity,
      actor: `<@${f.actor}>`,
      reason: escapeMrkdwn(f.reason),
    }),
    LIMITS.sectionText,
  );
  return { text };
}

export function roleMessage(
  incident: Incident,
  f: { role: string; userId: string; actor: string },
): SlackText {
  return {
    text: roleAssigned({
      id: incidentId(incident.number),
      role: escapeMrkdwn(f.role),
      user: `<@${f.userId}>`,
      actor: `<@${f.actor}>`,
    }),
  };
}

export function reopenedMessage(incident: Incident, actor: string): SlackText {
  return { text: reopened({ id: incidentId(incident.number), actor: `<@${actor}>` }) };
}

/**
 * The pinned headline of an incident: its current state (severity, status, commander and roles,
 * impact, started, last update, next update due) and the buttons that run it.
 */
import type { Block, KnownBlock } from '@slack/types';
import { Blocks, Elements, Message } from 'slack-block-builder';
import { z } from 'zod';
import type { SeverityConfig } from '../../../config/schema.ts';
import type { IncidentRole } from '../../../incidents/incident.ts';
import { type Incident, incidentId } from '../../../incidents/incident.ts';
import { STATUS_EMOJI, STATUS_LABEL } from '../../../incidents/status.ts';
import type { TimelineEvent } from '../../../incidents/timeline.ts';
import { ROLLBACK_TO_ACTION } from '../../deploy/blocks/card.ts';
import type { Reply } from '../../kit/command.ts';
import { escapeMrkdwn, slackDate, truncate } from '../../kit/escape.ts';
import { capBlocks, fieldText, headerText, LIMITS, truncateMrkdwn } from '../../kit/limits.ts';

export const INCIDENT_ACTIONS = {
  postUpdate: 'incident_post_update',
  changeSeverity: 'incident_change_severity',
  assignRole: 'incident_assign_role',
  runHealthCheck: 'incident_run_health_check',
  resolve: 'incident_resolve',
  reopen: 'incident_reopen',
  acknowledge: 'incident_acknowledge',
} as const;

/** Where the incident's escalation ladder stands, for the headline. */
export interface HeadlineEscalation {
  /** The level reached (0: none yet), its name, and the ladder's length. */
  level: number;
  levelName: string | null;
  of: number;
  /** When the next level is reached unless someone acknowledges (null: no level left). */
  nextAt: Date | null;
}

export interface HeadlineInput {
  incident: Incident;
  roles: readonly IncidentRole[];
  /** The incident's severity level (for its emoji and label). */
  severity: SeverityConfig | undefined;
  /** Roles configured, in their order. */
  roleNames: readonly string[];
  /** The incident's deploy_action timeline events: mitigations, and the recent changes at declare. */
  deployActions?: readonly TimelineEvent[];
  /** Without buttons (e.g. a private copy from `/incident status`). */
  withActions?: boolean;
  /** The escalation ladder's state (acknowledgement field). */
  escalation?: HeadlineEscalation;
}

const user = (id: string | null | undefined): string => (id ? `<@${id}>` : '_unassigned_');

/** One line: `INC-42 [P1] Checkout returns 500s`, escaped for mrkdwn. */
export function incidentLine(incident: Incident, max = 300): string {
  return `${incidentId(incident.number)} [${incident.severity}] ${escapeMrkdwn(truncate(incident.title, max))}`;
}

export function headlineText(incident: Incident): string {
  return truncateMrkdwn(`${incidentLine(incident)}: ${STATUS_LABEL[incident.status]}`, LIMITS.fallbackText);
}

export function buildHeadline(input: HeadlineInput): Reply {
  const { incident, severity } = input;
  const id = incidentId(incident.number);
  const value = String(incident.number);
  const holders = new Map(input.roles.map((r) => [r.role, r.userId]));
  const otherRoles = [
    ...input.roleNames.filter((r) => r !== 'commander'),
    ...input.roles.map((r) => r.role).filter((r) => r !== 'commander' && !input.roleNames.includes(r)),
  ];
  const fields = [
    `*Severity*\n${severity?.emoji ?? ''} ${incident.severity}${severity ? ` (${escapeMrkdwn(severity.label)})` : ''}`,
    `*Status*\n${STATUS_EMOJI[incident.status]} ${STATUS_LABEL[incident.status]}`,
    ...(incident.status === 'resolved' && !incident.acknowledgedAt
      ? []
      : [acknowledgementField(incident, input.escalation)]),
    `*Commander*\n${user(incident.commander)}`,
    ...otherRoles.map((role) => `*${escapeMrkdwn(capitalise(role))}*\n${user(holders.get(role))}`),
    `*Started*\n${slackDate(incident.startedAt)}`,
    `*Last update*\n${incident.lastUpdateAt ? slackDate(incident.lastUpdateAt) : '_none yet_'}`,
    incident.status === 'resolved' && incident.resolvedAt
      ? `*Resolved*\n${slackDate(incident.resolvedAt)}`
      : `*Next update due*\n${incident.nextUpdateDueAt ? slackDate(incident.nextUpdateDueAt) : '_not set_'}`,
  ]
    .slice(0, LIMITS.sectionFields)
    .map(fieldText);

  const sections: string[] = [];
  sections.push(`*Impact:* ${incident.impact ? escapeMrkdwn(incident.impact) : '_not assessed yet_'}`);
  if (incident.summary) sections.push(`*What we know:* ${escapeMrkdwn(incident.summary)}`);
  if (incident.affectedServices.length > 0)
    sections.push(`*Affected services:* ${escapeMrkdwn(incident.affectedServices.join(', '))}`);
  const deploy = deploySections(input.deployActions ?? []);
  sections.push(...deploy.sections);
  if (incident.status === 'resolved') {
    sections.push(`*Resolution:* ${escapeMrkdwn(incident.resolution ?? '')}`);
    sections.push(`*Root cause:* ${incident.rootCause ? escapeMrkdwn(incident.rootCause) : '_unknown_'}`);
  }

  const buttons =
    incident.status === 'resolved'
      ? [
          Elements.Button({ text: 'Reopen', actionId: INCIDENT_ACTIONS.reopen, value }),
          Elements.Button({ text: 'Run health check', actionId: INCIDENT_ACTIONS.runHealthCheck, value }),
        ]
      : [
          ...(incident.acknowledgedAt
            ? []
            : [
                Elements.Button({
                  text: 'Acknowledge',
                  actionId: INCIDENT_ACTIONS.acknowledge,
                  value,
                }).primary(),
              ]),
          Elements.Button({ text: 'Post update', actionId: INCIDENT_ACTIONS.postUpdate, value }).primary(),
          Elements.Button({ text: 'Change severity', actionId: INCIDENT_ACTIONS.changeSeverity, value }),
          Elements.Button({ text: 'Assign role', actionId: INCIDENT_ACTIONS.assignRole, value }),
          Elements.Button({ text: 'Run health check', actionId: INCIDENT_ACTIONS.runHealthCheck, value }),
          Elements.Button({ text: 'Resolve', actionId: INCIDENT_ACTIONS.resolve, value }).danger(),
        ];

  const context = [
    `Declared by ${user(incident.declaredBy)}`,
    ...(incident.channelId ? [`channel <#${incident.channelId}>`] : []),
  ].join(' · ');

  const text = headlineText(incident);
  const message = Message({ text })
    .blocks(
      Blocks.Header({ text: headerText(`${id} · ${incident.severity} · ${incident.title}`) }),
      Blocks.Section().fields(...fields),
      ...sections.map((s) => Blocks.Section({ text: truncateMrkdwn(s, LIMITS.sectionText) })),
      Blocks.Context().elements(context),
      ...(input.withActions === false
        ? []
        : [
            Blocks.Actions({ blockId: 'incident_actions' }).elements(...buttons),
            ...(deploy.rollbacks.length > 0 && incident.status !== 'resolved'
              ? [Blocks.Actions({ blockId: 'incident_rollbacks' }).elements(...deploy.rollbacks)]
              : []),
          ]),
    )
    .buildToObject();
  const blocks = capBlocks((message.blocks ?? []) as unknown as (KnownBlock | Block)[]);
  return { text, blocks };
}

const recentChangesData = z.object({
  event: z.literal('recent_changes'),
  services: z.array(
    z.object({
      service: z.string(),
      environment: z.string(),
      changes: z.array(z.object({ at: z.string(), what: z.string() })),
      previousGood: z.object({ revision: z.string(), image: z.string().nullable() }).nullable(),
      platform: z.string(),
    }),
  ),
});
const mitigationData = z.object({ event: z.literal('succeeded'), mitigation: z.string() });

/** Most rollback buttons one headline offers. */
const MAX_ROLLBACK_BUTTONS = 5;

/**
 * What deploy operations did for the incident ("rolled back barq-api to 1 at …"), and the changes of
 * its affected services in the 24 hours before it was declared, with a rollback button each.
 */
function deploySections(events: readonly TimelineEvent[]) {
  const sections: string[] = [];
  const rollbacks: ReturnType<typeof Elements.Button>[] = [];
  const mitigations = events.flatMap((e) => {
    const parsed = mitigationData.safeParse(e.data);
    return parsed.success ? [`${escapeMrkdwn(parsed.data.mitigation)} at ${slackDate(e.at)}`] : [];
  });
  if (mitigations.length > 0) sections.push(`*Mitigation:* ${mitigations.join('; ')}`);
  const recent = events.map((e) => recentChangesData.safeParse(e.data)).findLast((p) => p.success)?.data;
  for (const s of recent?.services ?? []) {
    const name = `${escapeMrkdwn(s.service)} (${escapeMrkdwn(s.environment)})`;
    const lines = s.changes.map((c) => {
      const at = new Date(c.at);
      return `• ${escapeMrkdwn(c.what)}${Number.isNaN(at.getTime()) ? '' : ` at ${slackDate(at)}`}`;
    });
    const platformNote =
      s.platform === 'read'
        ? ''
        : `\n_(the platform's revisions could not be read in time: ${escapeMrkdwn(s.platform)})_`;
    sections.push(`*Changed in the 24 h before:* ${name}\n${lines.join('\n')}${platformNote}`);
    if (s.previousGood && rollbacks.length < MAX_ROLLBACK_BUTTONS) {
      rollbacks.push(
        Elements.Button({
          text: truncate(`Roll back ${s.service} to ${s.previousGood.revision}`, 75),
          actionId: ROLLBACK_TO_ACTION,
          value: `${s.service}/${s.environment}/${s.previousGood.revision}`,
        }),
      );
    }
  }
  return { sections, rollbacks };
}

/** `*Acknowledged*`: by whom and when, or not yet (and when the ladder goes on), with the level reached. */
function acknowledgementField(incident: Incident, escalation: HeadlineEscalation | undefined): string {
  const level =
    escalation && escalation.level > 0
      ? ` · level ${escalation.level}/${escalation.of}${escalation.levelName ? ` (${escapeMrkdwn(escalation.levelName)})` : ''}`
      : '';
  if (incident.acknowledgedAt)
    return `*Acknowledged*\n${user(incident.acknowledgedBy)} ${slackDate(incident.acknowledgedAt)}${level}`;
  const next = escalation?.nextAt ? ` (escalates ${slackDate(escalation.nextAt)})` : '';
  return `*Acknowledged*\n_not yet_${next}${level}`;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

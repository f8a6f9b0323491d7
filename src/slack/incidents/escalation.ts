/**
 * The incident clocks in Slack: an escalation (invite the level's people to the channel, user groups
 * through their members, mention them with the reason, do the level's action, show the level on the
 * headline), the update reminders with their "Post update" button, and the Acknowledge flow.
 */
import type { Block, KnownBlock } from '@slack/types';
import { Blocks, Elements, Message } from 'slack-block-builder';
import { formatDuration } from '../../config/duration.ts';
import type { EscalateOutcome } from '../../incidents/escalation.ts';
import { incidentId } from '../../incidents/incident.ts';
import type { EscalateInput } from '../../incidents/incident-service.ts';
import type { EscalationNotice, UpdateReminderNotice } from '../../incidents/ports.ts';
import { escapeMrkdwn } from '../kit/escape.ts';
import { LIMITS, truncateMrkdwn } from '../kit/limits.ts';
import { type SlackStepFailure, SlackSteps } from '../kit/slack-steps.ts';
import { mention, usergroupMembers } from '../kit/usergroups.ts';
import { INCIDENT_ACTIONS } from './blocks/headline.ts';
import { asUserErrors } from './flows.ts';
import {
  type IncidentSlackContext,
  incidentWhere,
  postToIncident,
  refreshIncidentInSlack,
  type SlackOutcome,
} from './incident-slack.ts';

/** The people of a level: its users, and the members of its user groups (usergroups.users.list). */
async function peopleOf(ctx: IncidentSlackContext, notify: readonly string[]): Promise<string[]> {
  const people = new Set<string>();
  for (const id of notify) {
    if (!id.startsWith('S')) {
      people.add(id);
      continue;
    }
    try {
      for (const user of await usergroupMembers(ctx.client, id)) people.add(user);
    } catch (error) {
      ctx.logger.warn({ err: error, usergroup: id }, 'could not list the members of a user group to invite');
    }
  }
  return [...people];
}

function section(text: string): SlackText {
  const body = truncateMrkdwn(text, LIMITS.sectionText);
  return { text: body, blocks: [{ type: 'section', text: { type: 'mrkdwn', text: body } }] };
}

interface SlackText {
  text: string;
  blocks?: (KnownBlock | Block)[];
}

/** What telling an escalation did: its failures, and whether the incident heard of it at all. */
export interface EscalationAnnounced {
  failures: SlackStepFailure[];
  /** The notice was posted in the incident's channel or its announcement's thread (one at least). */
  told: boolean;
}

/** Says an escalation where the incident lives (and where the level's action says), then the headline. */
export async function announceEscalation(
  ctx: IncidentSlackContext,
  notice: EscalationNotice,
): Promise<EscalationAnnounced> {
  const { incident, level } = notice;
  const steps = new SlackSteps(ctx.logger.child({ incident: incident.number }));
  const people = await peopleOf(ctx, level.notify);
  if (incident.channelId && people.length > 0) {
    const channel = incident.channelId;
    await steps.run(`invite ${level.name} to the channel`, () =>
      ctx.client.conversations.invite({ channel, users: people.join(','), force: true }),
    );
  }
  const id = incidentId(incident.number);
  const who = level.notify.length > 0 ? `${level.notify.map(mention).join(' ')}: ` : '';
  const by = notice.actor === 'bot' ? '' : ` by <@${notice.actor}>`;
  const lines = [
    `:rotating_light: *${id} escalated to level ${level.level} of ${notice.of}: ${escapeMrkdwn(level.name)}*${by}`,
    `${who}${escapeMrkdwn(notice.reason)}.`,
    ...(level.action ? [`*Action:* ${escapeMrkdwn(level.action.text)}`] : []),
    ...(incident.acknowledgedAt ? [] : ['Press *Acknowledge* on the headline when you have it.']),
  ];
  const posted = await postToIncident(ctx, incident, section(lines.join('\n')));
  const places = (incident.channelId ? 1 : 0) + (incident.announcement ? 1 : 0);
  const told = posted.length < places;
  const failures = [...steps.failures, ...posted];
  for (const channel of level.action?.postIn ?? []) {
    const text = `:rotating_light: *${id} [${incident.severity}] ${escapeMrkdwn(incident.title)}* (${incidentWhere(incident, ctx.services)}): ${escapeMrkdwn(level.action?.text ?? '')}`;
    const posting = new SlackSteps(ctx.logger);
    await posting.run(`post the level's action in ${channel}`, () =>
      ctx.client.chat.postMessage({ channel, text: truncateMrkdwn(text, LIMITS.sectionText) }),
    );
    failures.push(...posting.failures);
  }
  failures.push(...(await refreshIncidentInSlack(ctx, incident)));
  return { failures, told };
}

/** The nudge of an update due (the commander) or overdue (the communications lead too), with a button. */
export async function remindUpdate(ctx: IncidentSlackContext, notice: UpdateReminderNotice): Promise<void> {
  const { incident } = notice;
  const id = incidentId(incident.number);
  const commander = notice.commander ? `<@${notice.commander}>` : 'Commander (nobody holds the role)';
  const grace = formatDuration(ctx.services.config.incidents.updateGrace);
  const text = notice.overdue
    ? `:warning: ${commander}, ${
        notice.communicationsLead
          ? `<@${notice.communicationsLead}> (communications lead)`
          : 'and the communications lead (nobody holds the role: `/incident role @user communications lead`)'
      }: the update of ${id} is ${grace} overdue. Please post one.`
    : `:memo: ${commander}: the next update of ${id} is due now.`;
  const message = Message({ text })
    .blocks(
      Blocks.Section({ text }),
      Blocks.Actions({ blockId: 'incident_update_reminder' }).elements(
        Elements.Button({
          text: 'Post update',
          actionId: INCIDENT_ACTIONS.postUpdate,
          value: String(incident.number),
        }).primary(),
      ),
    )
    .buildToObject();
  const channel = incident.channelId ?? incident.announcement?.channelId;
  if (!channel) return;
  await ctx.client.chat.postMessage({
    channel,
    text,
    blocks: (message.blocks ?? []) as unknown as (KnownBlock | Block)[],
    ...(incident.channelId || !incident.announcement ? {} : { thread_ts: incident.announcement.ts }),
  });
}

export interface AcknowledgeFlowOutcome extends SlackOutcome {
  changed: boolean;
}

/** Acknowledges (the ladder stops, PagerDuty acknowledged), says so in the incident, refreshes it. */
export async function acknowledgeFlow(
  ctx: IncidentSlackContext,
  number: number,
  actor: string,
): Promise<AcknowledgeFlowOutcome> {
  const outcome = await asUserErrors(() => ctx.services.incidents.acknowledge(number, { actor }));
  if (!outcome.changed) return { incident: outcome.incident, failures: [], changed: false };
  const text = `:white_check_mark: <@${actor}> acknowledged ${incidentId(number)} after ${formatDuration(
    outcome.timeToAcknowledgeMs,
  )}: escalation stops here.`;
  const failures = [
    ...(await postToIncident(ctx, outcome.incident, section(text))),
    ...(await refreshIncidentInSlack(ctx, outcome.incident)),
  ];
  return { incident: outcome.incident, failures, changed: true };
}

/** `/incident escalate`: the domain escalation, then the same notice as the ladder's. */
export async function escalateFlow(
  ctx: IncidentSlackContext,
  number: number,
  input: EscalateInput,
): Promise<SlackOutcome & { outcome: Extract<EscalateOutcome, { kind: 'escalated' }> }> {
  const outcome = await asUserErrors(() => ctx.services.incidents.escalate(number, input));
  if (outcome.kind !== 'escalated') throw new Error(`escalation skipped: ${outcome.why}`);
  const { failures } = await announceEscalation(ctx, {
    incident: outcome.incident,
    level: outcome.level,
    of: outcome.of,
    reason: outcome.reason,
    actor: outcome.actor,
  });
  return { incident: outcome.incident, failures, outcome };
}

/**
 * `/incident escalate [level] [reason]`'s words: a level by number (`2`, `L2`, `level 2`) or by its
 * name as configured (`tech lead`), then the reason; with no level first, all of it is the reason.
 */
export function escalateArgs(
  text: string,
  ladder: readonly { level: number; name: string }[],
): { level?: number; reason: string } {
  const rest = text.trim();
  const byNumber = /^(?:l|level\s*)?(\d{1,2})(?:\s+|$)/i.exec(rest);
  if (byNumber?.[1]) return { level: Number(byNumber[1]), reason: rest.slice(byNumber[0].length).trim() };
  const lower = rest.toLowerCase();
  const named = [...ladder]
    .sort((a, b) => b.name.length - a.name.length)
    .find((l) => {
      const name = l.name.toLowerCase();
      return lower === name || lower.startsWith(`${name} `);
    });
  if (named) return { level: named.level, reason: rest.slice(named.name.length).trim() };
  return { reason: rest };
}

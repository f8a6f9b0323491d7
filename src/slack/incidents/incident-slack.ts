/**
 * Where an incident lives in Slack: its channel (created with a suffix when the name is taken),
 * the pinned headline, the announcement in #incidents whose thread carries every update, and the
 * channel topic. Every step's failure is logged and returned, never losing the recorded incident.
 */
import type { Block, KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { channelTopic } from '../../../templates/incident.ts';
import { incidentChannelName } from '../../incidents/channel-name.ts';
import { IncidentService } from '../../incidents/incident-service.ts';
import { findSeverity } from '../../incidents/severity.ts';
import { STATUS_LABEL } from '../../incidents/status.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { type Incident, incidentId, type SlackMessageRef } from '../../store/repositories/incidents.ts';
import { buildHeadline } from '../blocks/incident-headline.ts';
import { LIMITS } from '../blocks/incident-limits.ts';
import { escapeMrkdwn, truncate } from '../escape.ts';
import { type SlackStepFailure, SlackSteps, slackErrorCode } from './slack-failure.ts';

export interface IncidentSlackContext {
  client: WebClient;
  services: Services;
  logger: Logger;
}

export interface SlackOutcome {
  incident: Incident;
  failures: SlackStepFailure[];
}

/** Channel names tried before giving up (`inc-42-x`, `inc-42-x-2`, …). */
const CHANNEL_NAME_ATTEMPTS = 5;

export function incidentService(services: Services): IncidentService {
  return new IncidentService({ db: services.db, clock: services.clock, config: services.config });
}

/** How to point at the incident: its channel, or its thread in #incidents. */
export function incidentWhere(incident: Incident, services: Services): string {
  if (incident.channelId) return `<#${incident.channelId}>`;
  if (incident.announcement)
    return `the ${incidentId(incident.number)} thread in <#${incident.announcement.channelId}>`;
  return services.config.channels.incidents;
}

/** The headline message of the incident's current state. */
export async function headlineFor(services: Services, incident: Incident, withActions = true) {
  const roles = await services.repos.roles.list(incident.number);
  return buildHeadline({
    incident,
    roles,
    severity: findSeverity(incident.severity, services.config.severities),
    roleNames: services.config.incidents.roles,
    withActions,
  });
}

/** Creates the channel, trying `-2`, `-3`… when the name is taken. Returns the channel id. */
async function createChannel(ctx: IncidentSlackContext, incident: Incident): Promise<string> {
  const template = ctx.services.config.incidents.channelNameTemplate;
  let lastError: unknown;
  for (let attempt = 1; attempt <= CHANNEL_NAME_ATTEMPTS; attempt++) {
    const name = incidentChannelName(
      template,
      { id: incident.number, title: incident.title, severity: incident.severity.toLowerCase() },
      attempt,
    );
    try {
      const created = await ctx.client.conversations.create({ name });
      const id = created.channel?.id;
      if (!id) throw new Error('conversations.create answered without a channel id');
      return id;
    } catch (error) {
      if (slackErrorCode(error) !== 'name_taken') throw error;
      ctx.logger.info({ name, attempt }, 'incident channel name taken; trying a suffix');
      lastError = error;
    }
  }
  throw lastError;
}

function topicOf(incident: Incident): string {
  return truncate(
    channelTopic({
      id: incidentId(incident.number),
      severity: incident.severity,
      status: STATUS_LABEL[incident.status],
      commander: incident.commander ? `<@${incident.commander}>` : 'unassigned',
      title: escapeMrkdwn(incident.title),
    }),
    LIMITS.topic,
  );
}

async function postMessage(
  ctx: IncidentSlackContext,
  channel: string,
  message: { text: string; blocks?: (KnownBlock | Block)[] },
  threadTs?: string,
): Promise<SlackMessageRef> {
  const posted = await ctx.client.chat.postMessage({
    channel,
    text: message.text,
    ...(message.blocks ? { blocks: message.blocks } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    unfurl_links: false,
  });
  if (!posted.ts || !posted.channel) throw new Error('chat.postMessage answered without channel and ts');
  return { channelId: posted.channel, ts: posted.ts };
}

/**
 * Sets up a newly declared incident in Slack: channel (when asked), invites, topic, pinned headline,
 * announcement in #incidents. Lightweight mode (no channel): the announcement is the headline.
 */
export async function setUpIncidentInSlack(
  ctx: IncidentSlackContext,
  declared: Incident,
  options: { createChannel: boolean },
): Promise<SlackOutcome> {
  const { services } = ctx;
  const steps = new SlackSteps(ctx.logger.child({ incident: declared.number }));
  let incident = declared;

  if (options.createChannel) {
    const channelId = await steps.run('create the incident channel', () => createChannel(ctx, incident));
    if (channelId) {
      incident = (await services.repos.incidents.setSlackRefs(incident.number, { channelId })) ?? incident;
      const people = [...new Set([incident.declaredBy, incident.commander])].filter(
        (u): u is string => typeof u === 'string',
      );
      await steps.run(`invite ${people.map((u) => `<@${u}>`).join(' and ')} to the channel`, () =>
        ctx.client.conversations.invite({ channel: channelId, users: people.join(','), force: true }),
      );
      const current = incident;
      const step = 'set the channel topic';
      await steps.run(step, () =>
        within(
          ctx,
          step,
          services.slackRate.setTopic(ctx.client, channelId, () => topicOf(current)),
          performance.now() + REFRESH_WAIT_MS,
        ),
      );
    }
  }

  const headline = await headlineFor(services, incident);
  let pinned: SlackMessageRef | undefined;
  if (incident.channelId) {
    const channelId = incident.channelId;
    pinned = await steps.run('post the headline in the incident channel', () =>
      postMessage(ctx, channelId, headline),
    );
    if (pinned) {
      const ref = pinned;
      await steps.run('pin the headline', () =>
        ctx.client.pins.add({ channel: ref.channelId, timestamp: ref.ts }),
      );
    }
  }
  const announcement = await steps.run(`announce the incident in ${services.config.channels.incidents}`, () =>
    postMessage(ctx, services.config.channels.incidents, headline),
  );
  const headlineRef = pinned ?? announcement;
  incident =
    (await services.repos.incidents.setSlackRefs(incident.number, {
      ...(announcement ? { announcement } : {}),
      ...(headlineRef ? { headline: headlineRef } : {}),
    })) ?? incident;
  return { incident, failures: steps.failures };
}

/** How long a flow waits for a headline refresh held back by the rate limiter; it still goes out later. */
export const REFRESH_WAIT_MS = 2_000;

const LATE = Symbol('late');

/**
 * The step's result, or undefined (logged, and its later failure logged) when it is not done by
 * `deadline` (performance.now() ms).
 */
async function within<T>(
  ctx: IncidentSlackContext,
  step: string,
  work: Promise<T>,
  deadline: number,
): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<typeof LATE>((resolve) => {
    timer = setTimeout(() => resolve(LATE), Math.max(0, deadline - performance.now()));
  });
  try {
    const outcome = await Promise.race([work, late]);
    if (outcome !== LATE) return outcome;
  } finally {
    clearTimeout(timer);
  }
  ctx.logger.info({ step }, 'Slack update held back by its rate limit; it goes out shortly');
  work.catch((error: unknown) =>
    ctx.logger.warn({ err: error, step, slackError: slackErrorCode(error) }, `could not ${step}`),
  );
  return undefined;
}

/**
 * Re-renders the headline (and the announcement, and the topic) from the incident's current state.
 * Refreshes go through the rate limiter: a burst of changes becomes one update per message, and
 * the update that runs renders the state stored when it runs (the latest), not the caller's copy.
 */
export async function refreshIncidentInSlack(
  ctx: IncidentSlackContext,
  incident: Incident,
): Promise<SlackStepFailure[]> {
  const { services } = ctx;
  const steps = new SlackSteps(ctx.logger.child({ incident: incident.number }));
  const deadline = performance.now() + REFRESH_WAIT_MS;
  const latest = async (): Promise<Incident> =>
    (await services.repos.incidents.get(incident.number)) ?? incident;
  const refs = [incident.headline, incident.announcement].filter((r): r is SlackMessageRef => r !== null);
  const unique = refs.filter(
    (r, i) => refs.findIndex((o) => o.channelId === r.channelId && o.ts === r.ts) === i,
  );
  await Promise.all(
    unique.map((ref) => {
      const step = ref === incident.headline ? 'refresh the headline' : 'refresh the announcement';
      return steps.run(step, () =>
        within(
          ctx,
          step,
          services.slackRate.updateMessage(ctx.client, { channel: ref.channelId, ts: ref.ts }, async () => {
            const headline = await headlineFor(services, await latest());
            return { channel: ref.channelId, ts: ref.ts, text: headline.text, blocks: headline.blocks ?? [] };
          }),
          deadline,
        ),
      );
    }),
  );
  if (incident.channelId) {
    const channelId = incident.channelId;
    const step = 'update the channel topic';
    await steps.run(step, () =>
      within(
        ctx,
        step,
        services.slackRate.setTopic(ctx.client, channelId, async () => topicOf(await latest())),
        deadline,
      ),
    );
  }
  return steps.failures;
}

/** Posts a message in the incident channel and in the announcement's thread in #incidents. */
export async function postToIncident(
  ctx: IncidentSlackContext,
  incident: Incident,
  message: { text: string; blocks?: (KnownBlock | Block)[] },
): Promise<SlackStepFailure[]> {
  const steps = new SlackSteps(ctx.logger.child({ incident: incident.number }));
  if (incident.channelId) {
    const channelId = incident.channelId;
    await steps.run('post in the incident channel', () => postMessage(ctx, channelId, message));
  }
  if (incident.announcement) {
    const { channelId, ts } = incident.announcement;
    await steps.run(`post in the ${incidentId(incident.number)} thread`, () =>
      postMessage(ctx, channelId, message, ts),
    );
  }
  return steps.failures;
}

/**
 * Tells one user something privately where they are (an ephemeral message in the channel), or in a
 * direct message when that fails. A failure of both is logged.
 */
export async function tellUser(
  ctx: IncidentSlackContext,
  where: { userId: string; channelId?: string | undefined },
  text: string,
): Promise<void> {
  if (where.channelId) {
    try {
      await ctx.client.chat.postEphemeral({ channel: where.channelId, user: where.userId, text });
      return;
    } catch (error) {
      ctx.logger.info({ err: error, channel: where.channelId }, 'ephemeral answer failed; sending a DM');
    }
  }
  try {
    await ctx.client.chat.postMessage({ channel: where.userId, text });
  } catch (error) {
    ctx.logger.error({ err: error, user: where.userId }, 'could not tell the user (ephemeral and DM failed)');
  }
}

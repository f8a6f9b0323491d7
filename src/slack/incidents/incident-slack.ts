/**
 * Where an incident lives in Slack: its channel (created with a suffix when the name is taken by
 * someone else, adopted when the bot made it already), the pinned headline, the announcement in
 * #incidents whose thread carries every update, and the channel topic. The setup is a recorded flow
 * (src/flows/recorded-flow.ts): each step is stored right after it is done, so a setup cut short by a
 * crash is finished by the next worker without doing anything twice. Every step's failure is logged
 * and returned, never losing the recorded incident.
 */
import type { Block, KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { z } from 'zod';
import { channelTopic } from '../../../templates/incident.ts';
import type { ClaimedRun } from '../../flows/recorded-flow.ts';
import { incidentChannelName } from '../../incidents/channel-name.ts';
import { type Incident, incidentId, type SlackMessageRef } from '../../incidents/incident.ts';
import type { SlackRefsPatch } from '../../incidents/ports.ts';
import { findSeverity } from '../../incidents/severity.ts';
import { STATUS_LABEL } from '../../incidents/status.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import type { Queryable } from '../../store/db.ts';
import { repositories } from '../../store/repositories/index.ts';
import { escapeMrkdwn, truncate } from '../kit/escape.ts';
import { LIMITS } from '../kit/limits.ts';
import { type SlackStepFailure, SlackSteps, slackErrorCode } from '../kit/slack-steps.ts';
import { buildHeadline } from './blocks/headline.ts';

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
/** A taken channel name is the bot's own from a cut-short setup only if created this close to the incident. */
const ADOPT_WINDOW_SECONDS = 600;
/** Pages of the bot's channels looked through for one to adopt (users.conversations, 200 a page). */
const ADOPT_MAX_PAGES = 10;

/** What the setup run of an incident needs (stored as the run's input). */
export const setupInputSchema = z.object({
  createChannel: z.boolean(),
  /** Where the declare came from: the declarer is told there when a later worker finishes the setup. */
  replyChannelId: z.string().optional(),
});
export type IncidentSetupInput = z.output<typeof setupInputSchema>;

/** The recorded steps of an incident's Slack setup, in order. */
export const SETUP_STEPS = ['channel', 'invite', 'topic', 'headline', 'pin', 'announcement'] as const;

const channelStep = z.object({ channelId: z.string(), adopted: z.boolean().optional() });
const messageStep = z.object({ channelId: z.string(), ts: z.string() });
const doneStep = z.object({});

/** A configured channel (`#incidents` or `C0123`) as Slack shows it: ids become channel links. */
export function channelMention(ref: string): string {
  return ref.startsWith('#') ? ref : `<#${ref}>`;
}

/** How to point at the incident: its channel, or its thread in #incidents (always a link, never a raw id). */
export function incidentWhere(incident: Incident, services: Services): string {
  if (incident.channelId) return `<#${incident.channelId}>`;
  if (incident.announcement)
    return `the ${incidentId(incident.number)} thread in <#${incident.announcement.channelId}>`;
  return `${channelMention(services.config.channels.incidents)} (it is not announced there yet)`;
}

/** incidentWhere, with a permalink to the thread for an incident living in #incidents. */
export async function incidentLink(ctx: IncidentSlackContext, incident: Incident): Promise<string> {
  const where = incidentWhere(incident, ctx.services);
  if (incident.channelId || !incident.announcement) return where;
  const { channelId, ts } = incident.announcement;
  try {
    const { permalink } = await ctx.client.chat.getPermalink({ channel: channelId, message_ts: ts });
    if (permalink) return `<${permalink}|the ${incidentId(incident.number)} thread> in <#${channelId}>`;
  } catch (error) {
    ctx.logger.info({ err: error, incident: incident.number }, 'no permalink for the announcement');
  }
  return where;
}

/** The headline message of the incident's current state. */
export async function headlineFor(services: Services, incident: Incident, withActions = true) {
  const [roles, deployActions, round] = await Promise.all([
    services.repos.roles.list(incident.number),
    services.repos.timeline.listOfKind(incident.number, 'deploy_action'),
    services.incidents.round(incident),
  ]);
  const ladder = services.incidents.ladder(incident.severity);
  const next = ladder.find((l) => l.level > incident.escalationLevel);
  return buildHeadline({
    escalation: {
      level: incident.escalationLevel,
      levelName: ladder[incident.escalationLevel - 1]?.name ?? null,
      of: ladder.length,
      nextAt: next ? addMilliseconds(round.from, next.delayMs) : null,
    },
    incident,
    roles,
    deployActions,
    severity: findSeverity(incident.severity, services.config.severities),
    roleNames: services.config.incidents.roles,
    withActions,
  });
}

/** The bot's own user id (auth.test), asked once per client. */
const botUserIds = new WeakMap<WebClient, Promise<string>>();
function botUserId(client: WebClient): Promise<string> {
  let id = botUserIds.get(client);
  if (!id) {
    id = client.auth.test().then((answer) => {
      if (!answer.user_id) throw new Error('auth.test answered without user_id');
      return answer.user_id;
    });
    id.catch(() => botUserIds.delete(client));
    botUserIds.set(client, id);
  }
  return id;
}

const listedChannel = z.object({
  id: z.string(),
  name: z.string(),
  creator: z.string().optional(),
  created: z.number().optional(),
  is_archived: z.boolean().optional(),
  topic: z.object({ value: z.string() }).optional(),
});
type ListedChannel = z.output<typeof listedChannel>;

/** The channels the bot is a member of (it is a member of every channel it created). */
async function botChannels(ctx: IncidentSlackContext): Promise<ListedChannel[]> {
  const channels: ListedChannel[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < ADOPT_MAX_PAGES; page++) {
    const answer = await ctx.client.users.conversations({
      types: 'public_channel,private_channel',
      exclude_archived: true,
      limit: 200,
      ...(cursor ? { cursor } : {}),
    });
    for (const raw of answer.channels ?? []) {
      const parsed = listedChannel.safeParse(raw);
      if (parsed.success) channels.push(parsed.data);
    }
    cursor = answer.response_metadata?.next_cursor || undefined;
    if (!cursor) break;
  }
  return channels;
}

/**
 * The channel by this name when it is this incident's, made by the bot in a setup that was cut short
 * before it recorded the channel: created by the bot around the incident's time, not archived, with no
 * topic or this incident's, and not another incident's channel. A person's channel is never adopted.
 */
async function adoptableChannel(
  ctx: IncidentSlackContext,
  incident: Incident,
  name: string,
  listed: () => Promise<ListedChannel[]>,
): Promise<string | undefined> {
  let channels: ListedChannel[];
  let bot: string;
  try {
    [bot, channels] = await Promise.all([botUserId(ctx.client), listed()]);
  } catch (error) {
    ctx.logger.warn({ err: error, name }, "could not list the bot's channels to adopt one; using a suffix");
    return undefined;
  }
  const channel = channels.find((c) => c.name === name);
  if (!channel || channel.creator !== bot || channel.is_archived) return undefined;
  const declaredAt = Math.floor(incident.createdAt.getTime() / 1000);
  if (channel.created === undefined || channel.created < declaredAt - ADOPT_WINDOW_SECONDS) return undefined;
  const topic = channel.topic?.value ?? '';
  if (topic !== '' && !topic.startsWith(`${incidentId(incident.number)} `)) return undefined;
  const owner = await ctx.services.repos.incidents.findByChannel(channel.id);
  if (owner && owner.number !== incident.number) return undefined;
  return channel.id;
}

/**
 * Creates the channel, trying `-2`, `-3`… when the name is taken by someone else; a taken name that is
 * this incident's own channel (made before a crash) is adopted instead.
 */
async function createOrAdoptChannel(
  ctx: IncidentSlackContext,
  incident: Incident,
): Promise<{ channelId: string; adopted?: boolean }> {
  const template = ctx.services.config.incidents.channelNameTemplate;
  let channels: Promise<ListedChannel[]> | undefined;
  const listed = () => {
    channels ??= botChannels(ctx);
    return channels;
  };
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
      return { channelId: id };
    } catch (error) {
      if (slackErrorCode(error) !== 'name_taken') throw error;
      lastError = error;
    }
    const adopted = await adoptableChannel(ctx, incident, name, listed);
    if (adopted) {
      ctx.logger.info({ name, channel: adopted }, 'adopting the incident channel made before a restart');
      return { channelId: adopted, adopted: true };
    }
    ctx.logger.info({ name, attempt }, 'incident channel name taken; trying a suffix');
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
 * Runs one setup step unless the run has it recorded already; records its result (with `effect`,
 * what it changes on the incident, in the same transaction) or the error it failed with, for good.
 * Answers the step's result; undefined when it failed (now or in an earlier run).
 */
async function setupStep<T extends object>(
  run: ClaimedRun,
  steps: SlackSteps,
  step: { name: (typeof SETUP_STEPS)[number]; label: string; schema: z.ZodType<T> },
  fn: () => Promise<T>,
  effect?: (value: T, tx: Queryable) => Promise<void>,
): Promise<T | undefined> {
  if (run.step(step.name)) return run.result(step.name, step.schema);
  const outcome = await steps.attempt(step.label, fn);
  if (!outcome.ok) {
    await run.record(step.name, { failed: outcome.error });
    return undefined;
  }
  const { value } = outcome;
  await run.record(step.name, { result: value }, effect ? (tx) => effect(value, tx) : undefined);
  return value;
}

/**
 * Sets up a declared incident in Slack, or finishes a setup cut short: channel (when asked; a channel
 * the bot made already under the incident's name is adopted), invites, topic, pinned headline,
 * announcement in #incidents. Lightweight mode (no channel): the announcement is the headline. Steps
 * the run has recorded are skipped. Throws FlowClaimLostError when another worker took the run over.
 */
export async function setUpIncidentInSlack(
  ctx: IncidentSlackContext,
  run: ClaimedRun,
): Promise<SlackOutcome> {
  const { services } = ctx;
  const number = Number(run.subject);
  const options = setupInputSchema.parse(run.input);
  const steps = new SlackSteps(ctx.logger.child({ incident: number }));
  const found = await services.repos.incidents.get(number);
  if (!found) throw new Error(`the setup run of ${incidentId(number)} has no incident`);
  let incident = found;
  /** Records where the incident lives, in the step's transaction. */
  const setRefs = async (tx: Queryable, refs: SlackRefsPatch): Promise<void> => {
    incident = (await repositories(tx, services.clock).incidents.setSlackRefs(number, refs)) ?? incident;
  };

  if (options.createChannel) {
    await setupStep(
      run,
      steps,
      { name: 'channel', label: 'create the incident channel', schema: channelStep },
      () => createOrAdoptChannel(ctx, incident),
      (value, tx) => setRefs(tx, { channelId: value.channelId }),
    );
  }
  if (incident.channelId) {
    const channelId = incident.channelId;
    const people = [...new Set([incident.declaredBy, incident.commander])].filter(
      (u): u is string => typeof u === 'string',
    );
    await setupStep(
      run,
      steps,
      {
        name: 'invite',
        label: `invite ${people.map((u) => `<@${u}>`).join(' and ')} to the channel`,
        schema: doneStep,
      },
      async () => {
        await ctx.client.conversations.invite({ channel: channelId, users: people.join(','), force: true });
        return {};
      },
    );
    await setupStep(
      run,
      steps,
      { name: 'topic', label: 'set the channel topic', schema: doneStep },
      async () => {
        await ctx.client.conversations.setTopic({ channel: channelId, topic: topicOf(incident) });
        return {};
      },
    );
  }

  let headline: Awaited<ReturnType<typeof headlineFor>> | undefined;
  const headlineNow = async () => {
    headline ??= await headlineFor(services, incident);
    return headline;
  };
  if (incident.channelId) {
    const channelId = incident.channelId;
    const pinned = await setupStep(
      run,
      steps,
      { name: 'headline', label: 'post the headline in the incident channel', schema: messageStep },
      async () => postMessage(ctx, channelId, await headlineNow()),
      (ref, tx) => setRefs(tx, { headline: ref }),
    );
    if (pinned) {
      await setupStep(run, steps, { name: 'pin', label: 'pin the headline', schema: doneStep }, async () => {
        try {
          await ctx.client.pins.add({ channel: pinned.channelId, timestamp: pinned.ts });
        } catch (error) {
          if (slackErrorCode(error) !== 'already_pinned') throw error;
        }
        return {};
      });
    }
  }
  await setupStep(
    run,
    steps,
    {
      name: 'announcement',
      label: `announce the incident in ${services.config.channels.incidents}`,
      schema: messageStep,
    },
    async () => postMessage(ctx, services.config.channels.incidents, await headlineNow()),
    (ref, tx) => setRefs(tx, { announcement: ref, ...(incident.headline ? {} : { headline: ref }) }),
  );
  await run.finish();
  return { incident: (await services.repos.incidents.get(number)) ?? incident, failures: steps.failures };
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

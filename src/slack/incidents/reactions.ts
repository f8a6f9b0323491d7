/**
 * 📌 on a message in an incident channel adds the message (author, text, permalink) to the incident's
 * timeline; taking the last 📌 off removes it. Events API deliveries are deduplicated by event_id
 * across replicas, so a Slack retry (X-Slack-Retry-Num) never adds or removes twice
 * (claimed in Postgres, so with Redis down too).
 */
import type { App } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { z } from 'zod';
import { incidentId } from '../../incidents/incident.ts';
import type { Logger } from '../../logger.ts';
import type { Services } from '../../services.ts';
import { claimOnce, releaseClaim } from '../kit/once.ts';

export const PIN_REACTION = 'pushpin';
/** Slack retries for about an hour at most; keep claimed event ids that long. */
export const EVENT_CLAIM_TTL_MS = 60 * 60_000;

/** Reading or linking the reacted-to message failed; the message says what to check. */
export class PinnedMessageError extends Error {
  override name = 'PinnedMessageError';
}

const reactionEvent = z.object({
  type: z.enum(['reaction_added', 'reaction_removed']),
  user: z.string().min(1),
  reaction: z.string(),
  item_user: z.string().optional(),
  item: z.object({ type: z.string(), channel: z.string().optional(), ts: z.string().optional() }),
  event_ts: z.string(),
});
export type ReactionEvent = z.infer<typeof reactionEvent>;

const envelope = z.object({ event_id: z.string().min(1).max(200) });

const slackMessage = z.object({
  ts: z.string(),
  text: z.string().optional(),
  user: z.string().optional(),
  bot_id: z.string().optional(),
  files: z.array(z.unknown()).optional(),
  reactions: z.array(z.object({ name: z.string(), count: z.number().optional() })).optional(),
});
type SlackMessage = z.infer<typeof slackMessage>;

const messagesAnswer = z.object({ messages: z.array(slackMessage).default([]) });
const permalinkAnswer = z.object({ permalink: z.url() });

export type ReactionOutcome =
  | 'ignored'
  | 'duplicate'
  | 'pinned'
  | 'already_pinned'
  | 'unpinned'
  | 'still_pinned'
  | 'not_pinned';

/** A Slack ts (`1712345678.000100`, seconds.microseconds) as a Date. */
export function slackTsToDate(ts: string): Date {
  const [seconds = '0', fraction = '0'] = ts.split('.');
  return new Date(Number(seconds) * 1000 + Math.floor(Number(fraction.padEnd(6, '0').slice(0, 6)) / 1000));
}

function slackErrorCode(error: unknown): string {
  const data = z.object({ data: z.object({ error: z.string() }) }).safeParse(error);
  if (data.success) return data.data.data.error;
  return error instanceof Error ? error.message : String(error);
}

async function call<T>(what: string, run: () => Promise<unknown>, schema: z.ZodType<T>): Promise<T> {
  let answer: unknown;
  try {
    answer = await run();
  } catch (error) {
    throw new PinnedMessageError(`${what} failed: ${slackErrorCode(error)}`, { cause: error });
  }
  const parsed = schema.safeParse(answer);
  if (!parsed.success) throw new PinnedMessageError(`${what} answered in an unexpected shape`);
  return parsed.data;
}

/** The message at `ts`: a channel message (history) or a thread reply (replies); null if deleted. */
async function fetchMessage(client: WebClient, channel: string, ts: string): Promise<SlackMessage | null> {
  const where = `message ${ts} in ${channel}`;
  const history = await call(
    `conversations.history for ${where}`,
    () => client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 }),
    messagesAnswer,
  );
  const top = history.messages.find((m) => m.ts === ts);
  if (top) return top;
  try {
    const replies = await client.conversations.replies({
      channel,
      ts,
      oldest: ts,
      latest: ts,
      inclusive: true,
    });
    return messagesAnswer.parse(replies).messages.find((m) => m.ts === ts) ?? null;
  } catch (error) {
    if (slackErrorCode(error) === 'thread_not_found') return null;
    throw new PinnedMessageError(`conversations.replies for ${where} failed: ${slackErrorCode(error)}`, {
      cause: error,
    });
  }
}

function stillPinned(message: SlackMessage): boolean {
  return (message.reactions ?? []).some((r) => r.name === PIN_REACTION && (r.count ?? 1) > 0);
}

export interface ReactionDelivery {
  event: unknown;
  body: unknown;
  client: WebClient;
  retryNum?: number | undefined;
}

/** Handles one reaction_added / reaction_removed delivery. */
export async function handleReactionEvent(
  services: Services,
  delivery: ReactionDelivery,
  logger: Logger,
): Promise<ReactionOutcome> {
  const event = reactionEvent.parse(delivery.event);
  const { channel, ts } = event.item;
  if (event.reaction !== PIN_REACTION || event.item.type !== 'message' || !channel || !ts) return 'ignored';
  const incident = await services.repos.incidents.findByChannel(channel);
  if (!incident) {
    logger.debug({ channel, ts }, '📌 outside an incident channel ignored');
    return 'ignored';
  }
  const { event_id: eventId } = envelope.parse(delivery.body);
  const claimKey = `slack-event:${eventId}`;
  if (!(await claimOnce(services, claimKey, 'event', EVENT_CLAIM_TTL_MS))) {
    logger.info({ eventId, retryNum: delivery.retryNum }, 'duplicate Slack event delivery ignored');
    return 'duplicate';
  }
  const log = logger.child({ eventId, incident: incidentId(incident.number), channel, ts });
  try {
    const message = await fetchMessage(delivery.client, channel, ts);
    if (event.type === 'reaction_removed') {
      if (message && stillPinned(message)) {
        log.info('📌 removed, but others still have it on the message: kept on the timeline');
        return 'still_pinned';
      }
      const removed = await services.incidents.removePin({ channelId: channel, ts });
      log.info({ removed }, '📌 removed: message taken off the timeline');
      return removed ? 'unpinned' : 'not_pinned';
    }
    if (!message) {
      throw new PinnedMessageError(
        `📌 on message ${ts} in ${channel}, but the message cannot be read (deleted?); nothing was added to ${incidentId(incident.number)}'s timeline`,
      );
    }
    const { permalink } = await call(
      `chat.getPermalink for message ${ts} in ${channel}`,
      () => delivery.client.chat.getPermalink({ channel, message_ts: ts }),
      permalinkAnswer,
    );
    const author = message.user ?? event.item_user ?? message.bot_id ?? 'unknown';
    const text = message.text ?? '';
    const { created } = await services.incidents.recordPin(incident.number, {
      message: { channelId: channel, ts },
      author,
      text: text === '' && (message.files?.length ?? 0) > 0 ? '(file)' : text,
      permalink,
      pinnedBy: event.user,
      at: slackTsToDate(ts),
    });
    log.info({ created }, '📌 added: message on the timeline');
    return created ? 'pinned' : 'already_pinned';
  } catch (error) {
    // Let a later retry (or another 📌) try again.
    await releaseClaim(services, claimKey);
    throw error;
  }
}

/** Registers the reaction listeners. */
export function registerReactionEvents(app: App, services: Services): void {
  for (const type of ['reaction_added', 'reaction_removed'] as const) {
    app.event(type, async ({ event, body, client, context }) => {
      const logger = services.logger.child({ listener: type });
      const outcome = await handleReactionEvent(
        services,
        { event, body, client, retryNum: context.retryNum },
        logger,
      );
      logger.debug({ outcome }, 'reaction event handled');
    });
  }
}

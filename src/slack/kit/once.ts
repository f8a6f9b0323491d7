/**
 * Exactly-once for Slack deliveries and actions, enforced in Postgres (processed_requests): a key
 * claimed after the ack, within a deadline. Redis is not involved, so losing it loses or
 * duplicates nothing.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { Services } from '../../services.ts';
import type { ProcessedRequestKind } from '../../store/repositories/processed-requests.ts';
import { StoreUnavailableError } from './errors.ts';

/** How long a claim may wait for Postgres before the user is told it is not answering. */
export const CLAIM_DEADLINE_MS = 2_000;
/** Before the ack (the replay cache) the wait must be short: Slack gives up after 3 s. */
export const SIGNATURE_DEADLINE_MS = 500;

/** Signatures are remembered past the ±5 minute window in which a request is accepted. */
export const SIGNATURE_TTL_MS = 10 * 60_000;
/** A modal is submitted once; Slack keeps a view at most a day. */
export const VIEW_SUBMISSION_TTL_MS = 24 * 3_600_000;
/** Clicks of one button on one message within this long count once (double clicks, replicas). */
export const DOUBLE_CLICK_MS = 10_000;
/** One delivery of a slash command (its trigger id). */
export const SLASH_COMMAND_TTL_MS = 3_600_000;
/** Slack retries an event for about an hour at most. */
export const EVENT_TTL_MS = 3_600_000;

/** A short, fixed-length stand-in for text that may be long (button values, signatures). */
export function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 32);
}

export interface ClaimOptions {
  deadlineMs?: number;
}

/**
 * Claims `key` for `ttlMs`: true the first time, false for a repeat (a second replica, a retry,
 * a double click). Throws StoreUnavailableError (a plain answer for the user) when Postgres fails
 * or does not answer within the deadline; a claim that lands after the deadline is given back so
 * that trying again works.
 */
export async function claimOnce(
  services: Pick<Services, 'repos' | 'logger'>,
  key: string,
  kind: ProcessedRequestKind,
  ttlMs: number,
  options: ClaimOptions = {},
): Promise<boolean> {
  const deadlineMs = options.deadlineMs ?? CLAIM_DEADLINE_MS;
  const { processed } = services.repos;
  const attempt = processed.claim(key, kind, ttlMs);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), deadlineMs);
  });
  try {
    const outcome = await Promise.race([attempt, late]);
    if (outcome === 'late') {
      attempt
        .then((claimed) => (claimed ? processed.release(key) : false))
        .catch((error: unknown) =>
          services.logger.warn({ err: error, key }, 'late exactly-once claim could not be given back'),
        );
      services.logger.warn({ key, deadlineMs }, 'Postgres did not answer an exactly-once claim in time');
      throw new StoreUnavailableError();
    }
    return outcome;
  } catch (error) {
    if (error instanceof StoreUnavailableError) throw error;
    services.logger.warn({ err: error, key }, 'exactly-once claim failed');
    throw new StoreUnavailableError({ cause: error });
  } finally {
    clearTimeout(timer);
  }
}

/** Gives a claimed key back after the action failed, so that a retry runs it; never throws. */
export async function releaseClaim(services: Pick<Services, 'repos' | 'logger'>, key: string): Promise<void> {
  try {
    await services.repos.processed.release(key);
  } catch (error) {
    services.logger.warn({ err: error, key }, 'could not give an exactly-once claim back');
  }
}

const clickBody = z.object({
  actions: z.array(z.object({ action_id: z.string(), value: z.string().optional() })).min(1),
  container: z
    .object({
      message_ts: z.string().optional(),
      view_id: z.string().optional(),
      channel_id: z.string().optional(),
    })
    .optional(),
  message: z.object({ ts: z.string() }).optional(),
  channel: z.object({ id: z.string() }).optional(),
  view: z.object({ id: z.string() }).optional(),
});

/**
 * The key of a button click that a double click, a second replica and a redelivery share: the
 * button, the message (or modal) it is on, and its value. Not the trigger id, which differs per
 * click. undefined when the payload is not a click.
 */
export function clickKey(body: unknown): string | undefined {
  const parsed = clickBody.safeParse(body);
  if (!parsed.success) return undefined;
  const { actions, container, message, channel, view } = parsed.data;
  const action = actions[0];
  if (!action) return undefined;
  const where = container?.message_ts ?? message?.ts ?? container?.view_id ?? view?.id ?? 'nowhere';
  const channelId = container?.channel_id ?? channel?.id ?? '';
  return `click:${digest(`${action.action_id}\n${channelId}\n${where}\n${action.value ?? ''}`)}`;
}

/**
 * Runs `work` once per key: false, without running it, for a repeat. A run that throws gives the
 * key back, so that trying again works.
 */
export async function runOnce(
  services: Pick<Services, 'repos' | 'logger'>,
  key: string,
  kind: ProcessedRequestKind,
  ttlMs: number,
  work: () => Promise<void>,
): Promise<boolean> {
  if (!(await claimOnce(services, key, kind, ttlMs))) return false;
  try {
    await work();
    return true;
  } catch (error) {
    await releaseClaim(services, key);
    throw error;
  }
}

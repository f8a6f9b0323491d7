/**
 * Sending the outbox: the `pagerduty.send` timer (scheduled by PagerDutyEventRepository.enqueue in the
 * transaction that recorded the page) reads its row, resolves the routing key reference, and sends it.
 *   202 → sent (with PagerDuty's dedup key);
 *   400 (any 4xx but 408/429) → rejected, never retried, and the incident's commander is told why;
 *   429, 5xx, network, no answer within the deadline → tried again `retry.delay` × the tries so far
 *   later, up to `retry.attempts` tries in all; then failed, and the commander is told.
 * Every try is recorded in the row (attempts, last_status, last_error). The row's state guards our
 * side (a compare-and-set on the attempt count: a page is sent by one replica at a time and never
 * again once it left 'pending'); PagerDuty's dedup key makes a repeated alert harmless on theirs.
 * The pages of one incident go in order: a page waits while an earlier one of its incident is
 * pending (an acknowledge never overtakes its trigger), and finishing a page wakes the next.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { PagerDutyConfig } from '../config/schema.ts';
import { resolveSecrets, SecretResolutionError } from '../config/secrets.ts';
import type { Incident } from '../incidents/incident.ts';
import type { Logger } from '../logger.ts';
import type { Db, Queryable } from '../store/db.ts';
import {
  PAGERDUTY_SEND_TIMER,
  type PageOutcome,
  PagerDutyEventRepository,
  pagerDutyTimerId,
  type StoredPage,
} from '../store/repositories/pagerduty.ts';
import { TimerRepository } from '../store/repositories/timers.ts';
import { type DueTimer, readPayload, type TimerHandler } from '../timers/timers.ts';
import type { PagerDuty, PagerDutyAction, PagerDutyResult } from './pagerduty.ts';

export { PAGERDUTY_SEND_TIMER };

/** What the commander is told when a page did not get through. */
export interface PagerDutyNotice {
  outcome: 'rejected' | 'failed';
  incident: Pick<Incident, 'number' | 'title' | 'channelId' | 'announcement' | 'commander'>;
  /** What was paged. */
  action: PagerDutyAction | 'change';
  /** PagerDuty's last HTTP status (null: no answer, or the key could not be resolved). */
  status: number | null;
  message: string;
  /** PagerDuty's own list of what was wrong (a 400). */
  errors: string[];
  attempts: number;
}

/** The sender's port to where people follow the incident (src/slack/pagerduty/notifier.ts). */
export interface PagerDutyNotifier {
  refused(notice: PagerDutyNotice): Promise<void>;
}

export interface PagerDutySenderDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  pagerduty: PagerDuty;
  config: PagerDutyConfig;
  /** Where routing key references are resolved, at send time. */
  env: NodeJS.ProcessEnv;
  incidents: { find(number: number): Promise<Incident | null> };
  notifier: PagerDutyNotifier;
}

const payloadSchema = z.object({ event: z.uuid() });
const isoDate = z.iso.datetime({ offset: true }).transform((t) => new Date(t));
const link = z.object({ href: z.string(), text: z.string().optional() });

const storedAlert = z.object({
  action: z.enum(['trigger', 'acknowledge', 'resolve']),
  dedupKey: z.string().min(1),
  payload: z
    .object({
      summary: z.string(),
      source: z.string(),
      severity: z.enum(['critical', 'error', 'warning', 'info']),
      timestamp: isoDate.optional(),
      component: z.string().optional(),
      group: z.string().optional(),
      class: z.string().optional(),
      customDetails: z.record(z.string(), z.unknown()).optional(),
    })
    .optional(),
  links: z.array(link).optional(),
});

const storedChange = z.object({
  summary: z.string(),
  source: z.string().optional(),
  timestamp: isoDate,
  customDetails: z.record(z.string(), z.unknown()).optional(),
  links: z.array(link).optional(),
});

/** PagerDuty's answer, or why the page could not even be sent (an unset routing key variable): not retried. */
type SendResult = PagerDutyResult | { kind: 'unsendable'; message: string };

type Decision =
  | { kind: 'done' }
  | { kind: 'waiting'; earlier: StoredPage }
  | { kind: 'send'; page: StoredPage }
  | { kind: 'give_up'; page: StoredPage };

function actionOf(page: StoredPage): PagerDutyAction | 'change' {
  if (page.kind === 'change') return 'change';
  const action = page.event.action;
  return action === 'acknowledge' || action === 'resolve' ? action : 'trigger';
}

export function pagerDutySendHandler(deps: PagerDutySenderDeps): TimerHandler {
  const { db, clock, config } = deps;
  const pages = (q: Queryable) => new PagerDutyEventRepository(q, clock);
  const timers = (q: Queryable) => new TimerRepository(q, clock);

  async function reschedule(q: Queryable, page: StoredPage, dueAt: Date): Promise<void> {
    await timers(q).schedule({
      id: pagerDutyTimerId(page.id),
      kind: PAGERDUTY_SEND_TIMER,
      subject: null,
      payload: { event: page.id },
      dueAt,
    });
  }

  /** Whether to send now: not when done, nor while an earlier page of its incident is pending. */
  function decide(id: string): Promise<Decision> {
    return db.transaction(async (tx) => {
      const found = await pages(tx).get(id);
      if (found?.state !== 'pending') return { kind: 'done' };
      if (found.incidentNumber !== null) await pages(tx).lockIncident(found.incidentNumber);
      const page = await pages(tx).get(id);
      if (page?.state !== 'pending') return { kind: 'done' };
      const earlier = await pages(tx).earlierPending(page);
      if (earlier) {
        // Woken by the earlier page when it is done; this is only the fallback.
        await reschedule(tx, page, addMilliseconds(clock.now(), config.retry.delay));
        return { kind: 'waiting', earlier };
      }
      // A crash after the last try began (its outcome never recorded): no more tries.
      if (page.attempts >= config.retry.attempts) return { kind: 'give_up', page };
      const started = await pages(tx).startAttempt(page.id, page.attempts);
      return started ? { kind: 'send', page: started } : { kind: 'done' };
    });
  }

  async function send(page: StoredPage): Promise<SendResult> {
    let routingKey: string;
    try {
      routingKey = resolveSecrets(page.routingKeyRef, deps.env);
    } catch (error) {
      if (error instanceof SecretResolutionError) {
        return {
          kind: 'unsendable',
          message: `the routing key could not be resolved: ${error.message}`,
        };
      }
      throw error;
    }
    if (page.kind === 'alert') {
      const event = storedAlert.safeParse(page.event);
      if (!event.success)
        return {
          kind: 'unsendable',
          message: `the recorded page is malformed: ${event.error.message}`,
        };
      return deps.pagerduty.sendAlert({ routingKey, ...stripUndefined(event.data) });
    }
    const event = storedChange.safeParse(page.event);
    if (!event.success)
      return {
        kind: 'unsendable',
        message: `the recorded change is malformed: ${event.error.message}`,
      };
    return deps.pagerduty.sendChange({ routingKey, ...stripUndefined(event.data) });
  }

  /** Records the outcome, schedules the retry or wakes the incident's next page; null if it moved meanwhile. */
  function finish(page: StoredPage, result: SendResult | 'gave_up'): Promise<StoredPage | null> {
    return db.transaction(async (tx) => {
      if (page.incidentNumber !== null) await pages(tx).lockIncident(page.incidentNumber);
      const now = clock.now();
      let outcome: PageOutcome;
      let retryAt: Date | null = null;
      if (result === 'gave_up') {
        outcome = {
          state: 'failed',
          lastStatus: page.lastStatus,
          lastError: `gave up after ${page.attempts} tries (the last one's outcome was lost): ${page.lastError ?? 'no answer recorded'}`,
        };
      } else if (result.kind === 'accepted') {
        outcome = {
          state: 'sent',
          lastStatus: result.status,
          lastError: null,
          dedupKey: result.dedupKey,
          sentAt: now,
        };
      } else if (result.kind === 'unsendable') {
        outcome = { state: 'failed', lastStatus: null, lastError: result.message };
      } else if (result.kind === 'invalid') {
        const errors = result.errors.length > 0 ? `: ${result.errors.join('; ')}` : '';
        outcome = {
          state: 'rejected',
          lastStatus: result.status,
          lastError: `${result.message}${errors}`,
        };
      } else if (page.attempts < config.retry.attempts) {
        outcome = { state: 'pending', lastStatus: result.status, lastError: result.message };
        retryAt = addMilliseconds(now, config.retry.delay * page.attempts);
      } else {
        outcome = { state: 'failed', lastStatus: result.status, lastError: result.message };
      }
      const recorded = await pages(tx).record(page.id, page.attempts, outcome);
      if (!recorded) return null;
      if (retryAt) {
        await reschedule(tx, recorded, retryAt);
      } else if (recorded.incidentNumber !== null) {
        const next = await pages(tx).nextPending(recorded.incidentNumber, recorded.id);
        if (next) await reschedule(tx, next, now);
      }
      return recorded;
    });
  }

  async function tell(page: StoredPage, result: SendResult | 'gave_up', logger: Logger): Promise<void> {
    const outcome = page.state === 'rejected' ? 'rejected' : 'failed';
    const errors = result !== 'gave_up' && result.kind === 'invalid' ? result.errors : [];
    const message =
      result === 'gave_up'
        ? (page.lastError ?? 'no answer')
        : result.kind === 'accepted'
          ? ''
          : result.message;
    logger.warn(
      { outcome, attempts: page.attempts, status: page.lastStatus, error: page.lastError },
      outcome === 'rejected'
        ? 'PagerDuty refused a page: not retried'
        : 'a page could not be sent to PagerDuty: given up',
    );
    if (page.incidentNumber === null) return;
    try {
      const incident = await deps.incidents.find(page.incidentNumber);
      if (!incident) return;
      await deps.notifier.refused({
        outcome,
        incident,
        action: actionOf(page),
        status: page.lastStatus,
        message,
        errors,
        attempts: page.attempts,
      });
    } catch (error) {
      logger.warn({ err: error }, 'could not tell the commander that a page did not get through');
    }
  }

  return async (timer: DueTimer) => {
    const payload = readPayload(payloadSchema, timer, deps.logger, 'pagerduty.send timer');
    if (payload === null) return;
    const logger = deps.logger.child({ component: 'pagerduty', page: payload.event });
    const decision = await decide(payload.event);
    if (decision.kind === 'done') return;
    if (decision.kind === 'waiting') {
      logger.debug(
        { earlier: decision.earlier.id },
        'an earlier page of the incident is pending: waiting for it',
      );
      return;
    }
    const result = decision.kind === 'give_up' ? 'gave_up' : await send(decision.page);
    const recorded = await finish(decision.page, result);
    if (!recorded) return;
    const context = {
      incident: recorded.incidentNumber,
      action: actionOf(recorded),
      attempts: recorded.attempts,
    };
    if (recorded.state === 'sent')
      logger.info({ ...context, dedupKey: recorded.dedupKey }, 'page sent to PagerDuty');
    else if (recorded.state === 'pending')
      logger.info(
        { ...context, status: recorded.lastStatus, error: recorded.lastError },
        'PagerDuty did not take the page: tried again later',
      );
    else await tell(recorded, result, logger.child(context));
  };
}

/** Optional fields absent rather than undefined (exactOptionalPropertyTypes). */
function stripUndefined<T extends Record<string, unknown>>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The PagerDuty module's timers: kind → handler factory (src/runtime.ts merges them into the loop). */
export const PAGERDUTY_TIMERS: Record<string, (deps: PagerDutySenderDeps) => TimerHandler> = {
  [PAGERDUTY_SEND_TIMER]: pagerDutySendHandler,
};

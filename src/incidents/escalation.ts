/**
 * Escalation ladders on durable timers: declaring (or reopening) schedules one `incident.escalate`
 * timer per level, due at the level's delay; its handler escalates unless the incident was
 * acknowledged (which cancels them), resolved (which cancels every timer of the incident) or reopened
 * since (another round). Reaching a level that pages records a PagerDuty trigger in the outbox, in the
 * escalation's transaction; acknowledging and resolving record the acknowledge and resolve for every
 * routing key the round's triggers went to (read from the outbox: what was paged, whatever the
 * severity is now). What people see goes through the IncidentNotifier.
 */
import { createHash } from 'node:crypto';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { RunbookConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { incidentDedupKey, pagerDutySeverity } from '../pagerduty/alerts.ts';
import type { PageRequest, PagerDutyOutbox } from '../pagerduty/pagerduty.ts';
import {
  type DueTimer,
  incidentSubject,
  readPayload,
  type TimerHandler,
  type TimerRecords,
} from '../timers/timers.ts';
import { slackArchiveLink } from '../util/slack-links.ts';
import { type Incident, incidentId } from './incident.ts';
import { type LadderLevel, longestLadder } from './ladder.ts';
import type { IncidentNotifier } from './ports.ts';

export const ESCALATE_TIMER_KIND = 'incident.escalate';
export const escalateTimerId = (number: number, level: number): string =>
  `incident-escalate:${number}:${level}`;

/** What an escalation did: the level reached (fresh: recorded now, else by an earlier run of the timer). */
export type EscalateOutcome =
  | {
      kind: 'escalated';
      incident: Incident;
      level: LadderLevel;
      of: number;
      reason: string;
      actor: string;
      fresh: boolean;
      /** A PagerDuty trigger was recorded in the outbox. */
      paged: boolean;
    }
  | { kind: 'skipped'; why: string };

/** The ladder's timers of one round, for the levels above `above`, due `delay` after `from`. */
export async function scheduleLadder(
  timers: TimerRecords,
  input: { number: number; ladder: readonly LadderLevel[]; from: Date; round: number; above: number },
): Promise<void> {
  for (const level of input.ladder) {
    if (level.level <= input.above) continue;
    await timers.schedule({
      id: escalateTimerId(input.number, level.level),
      kind: ESCALATE_TIMER_KIND,
      subject: incidentSubject(input.number),
      payload: { incident: input.number, level: level.level, round: input.round },
      dueAt: addMilliseconds(input.from, level.delayMs),
    });
  }
}

/** Stops the ladder: every level's timer of the incident. */
export async function cancelLadder(
  timers: TimerRecords,
  number: number,
  config: RunbookConfig,
): Promise<void> {
  for (let level = 1; level <= longestLadder(config); level++)
    await timers.cancel(escalateTimerId(number, level));
}

/**
 * A short, stable tag of a routing key reference (never the key itself: the reference as written in
 * config), in the pages' idempotency keys: two levels (or two severities' ladders) paging different
 * keys at one level number record two triggers, and the follow-ups are one per key.
 */
export const routingKeyTag = (routingKeyRef: string): string =>
  createHash('sha256').update(routingKeyRef).digest('hex').slice(0, 8);

/** The trigger of a level that pages. */
export function triggerPage(
  config: RunbookConfig,
  incident: Incident,
  level: LadderLevel,
  round: number,
  reason: string,
): PageRequest | null {
  if (!level.routingKeyRef) return null;
  const dedupKey = incidentDedupKey(config.organisation, incident.number);
  return {
    idempotencyKey: `${dedupKey}:trigger:L${level.level}:${routingKeyTag(level.routingKeyRef)}:r${round}`,
    incidentNumber: incident.number,
    kind: 'alert',
    routingKeyRef: level.routingKeyRef,
    event: {
      action: 'trigger',
      dedupKey,
      payload: {
        summary: `${incidentId(incident.number)} [${incident.severity}] ${incident.title}`.slice(0, 1024),
        source: config.pagerduty.source,
        severity: pagerDutySeverity(incident.severity, config.severities),
        timestamp: incident.startedAt,
        customDetails: {
          incident: incidentId(incident.number),
          severity: incident.severity,
          status: incident.status,
          level: `${level.level}: ${level.name}`,
          reason,
          commander: incident.commander,
          affectedServices: incident.affectedServices,
        },
      },
      // Where responders follow it: the incident channel (or the #incidents thread of a lightweight one).
      ...(incident.channelId
        ? {
            links: [
              {
                href: slackArchiveLink(incident.channelId),
                text: `${incidentId(incident.number)} channel`,
              },
            ],
          }
        : incident.announcement
          ? {
              links: [
                {
                  href: slackArchiveLink(incident.announcement.channelId, incident.announcement.ts),
                  text: `${incidentId(incident.number)} thread`,
                },
              ],
            }
          : {}),
    },
  };
}

/**
 * Acknowledges or resolves in PagerDuty what the round paged: one follow-up per routing key its
 * triggers were recorded for (the outbox's, not the current severity's ladder, which may page
 * elsewhere or not at all since). Returns how many were recorded now.
 */
export async function followUpPages(
  outbox: PagerDutyOutbox,
  config: RunbookConfig,
  incident: Incident,
  action: 'acknowledge' | 'resolve',
  round: number,
): Promise<number> {
  const dedupKey = incidentDedupKey(config.organisation, incident.number);
  let recorded = 0;
  for (const routingKeyRef of await outbox.triggeredRoutingKeys(incident.number, round)) {
    const page: PageRequest = {
      idempotencyKey: `${dedupKey}:${action}:${routingKeyTag(routingKeyRef)}:r${round}`,
      incidentNumber: incident.number,
      kind: 'alert',
      routingKeyRef,
      event: { action, dedupKey },
    };
    if (await outbox.enqueue(page)) recorded++;
  }
  return recorded;
}

const payloadSchema = z.object({
  incident: z.number().int().positive(),
  level: z.number().int().positive(),
  round: z.number().int().nonnegative(),
});

export interface EscalationTimerDeps {
  /** The incident service (src/runtime.ts passes services.incidents). */
  incidents: {
    find(number: number): Promise<Incident | null>;
    escalateOnSchedule(number: number, at: { level: number; round: number }): Promise<EscalateOutcome>;
  };
  notifier: IncidentNotifier;
  /** To wait for the Slack setup: the timer again (the repository), and now. */
  timers: TimerRecords;
  clock: Clock;
  logger: Logger;
}

/** How long an escalation waits for the incident's Slack setup before it goes on without it. */
const SETUP_WAIT_MS = 15_000;

function escalateTimerHandler(deps: EscalationTimerDeps): TimerHandler {
  return async (timer: DueTimer) => {
    const payload = readPayload(payloadSchema, timer, deps.logger, 'escalation timer');
    if (payload === null) return;
    const { incident: number, level, round } = payload;
    const logger = deps.logger.child({ incident: number, timer: timer.id, level });
    // A level due at once can come before the incident's Slack setup is done: it waits for it (the
    // timer again at the next poll), up to SETUP_WAIT_MS after it was due, then goes on without it.
    const found = await deps.incidents.find(number);
    const waited = deps.clock.now().getTime() - timer.dueAt.getTime();
    if (found && found.status !== 'resolved' && !found.headline && waited < SETUP_WAIT_MS) {
      await deps.timers.schedule({
        id: timer.id,
        kind: timer.kind,
        subject: timer.subject,
        payload: timer.payload,
        dueAt: timer.dueAt,
      });
      logger.debug('escalation due before the Slack setup is done: waiting for it');
      return;
    }
    const outcome = await deps.incidents.escalateOnSchedule(number, { level, round });
    if (outcome.kind === 'skipped') {
      logger.info({ why: outcome.why }, 'escalation timer due: nothing to do');
      return;
    }
    // Recorded by an earlier run whose notice failed (the timer ran again): say it now.
    if (!outcome.fresh && timer.attempt <= 1) return;
    // A level with nobody to tell, nothing to page and no action is reached quietly (the timeline has it).
    const { notify, routingKeyRef, action } = outcome.level;
    if (notify.length === 0 && !routingKeyRef && !action) {
      logger.info('escalated to a level with nobody to notify: not announced');
      return;
    }
    await deps.notifier.escalated({
      incident: outcome.incident,
      level: outcome.level,
      of: outcome.of,
      reason: outcome.reason,
      actor: outcome.actor,
    });
    logger.info({ paged: outcome.paged }, 'incident escalated by its ladder');
  };
}

/** The escalation module's timers (src/runtime.ts merges them into the loop). */
export const ESCALATION_TIMERS: Record<string, (deps: EscalationTimerDeps) => TimerHandler> = {
  [ESCALATE_TIMER_KIND]: escalateTimerHandler,
};

/**
 * Archiving a resolved incident's channel `incidents.archiveAfter` after it was resolved: resolving
 * schedules the `incident.archive` timer, reopening cancels it, and its handler (merged into the timer
 * loop by src/runtime.ts) archives the channel through the notifier when it comes due.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { DueTimer } from '../coordination/coordination.ts';
import { CoordinationError } from '../coordination/errors.ts';
import type { TimerHandler } from '../coordination/timer-loop.ts';
import type { Logger } from '../logger.ts';
import type { Incident } from './incident.ts';
import type { IncidentNotifier, IncidentTimers } from './ports.ts';

export const ARCHIVE_TIMER_KIND = 'incident.archive';
export const archiveTimerId = (number: number): string => `incident-archive:${number}`;

/** The archive timer of a resolve: when it is due, and whether it could be scheduled. */
export interface ArchivePlan {
  dueAt: Date;
  /** False when the timer queue (Redis) was unreachable: the resolve stands, the channel stays. */
  scheduled: boolean;
}

/**
 * Schedules archiving the channel of a resolved incident (none without a channel, or with
 * archiveAfter 0). A timer queue that cannot be reached is an outcome (scheduled: false), not an error.
 */
export async function scheduleArchive(
  deps: { timers: IncidentTimers; clock: Clock; logger: Logger; archiveAfterMs: number },
  incident: Incident,
): Promise<ArchivePlan | null> {
  if (!incident.channelId || deps.archiveAfterMs <= 0) return null;
  const dueAt = addMilliseconds(incident.resolvedAt ?? deps.clock.now(), deps.archiveAfterMs);
  try {
    await deps.timers.schedule({
      id: archiveTimerId(incident.number),
      kind: ARCHIVE_TIMER_KIND,
      payload: { incident: incident.number },
      dueAt,
    });
    return { dueAt, scheduled: true };
  } catch (error) {
    if (!(error instanceof CoordinationError && error.transient)) throw error;
    deps.logger.error({ err: error, incident: incident.number }, 'could not schedule archiving the channel');
    return { dueAt, scheduled: false };
  }
}

/**
 * Cancels the archive timer of a reopened incident. The timer checks the status when due, so one
 * left behind (Redis unreachable) archives nothing.
 */
export async function cancelArchive(
  deps: { timers: IncidentTimers; logger: Logger },
  number: number,
): Promise<void> {
  await deps.timers.cancel(archiveTimerId(number)).catch((error: unknown) => {
    if (!(error instanceof CoordinationError && error.transient)) throw error;
    deps.logger.warn(
      { err: error, incident: number },
      'could not cancel the archive timer; it will find the incident open',
    );
  });
}

const payloadSchema = z.object({ incident: z.number().int().positive() });

export interface IncidentTimerDeps {
  /** The incident service (src/runtime.ts passes services.incidents). */
  incidents: { find(number: number): Promise<Incident | null> };
  notifier: IncidentNotifier;
  logger: Logger;
}

function archiveTimerHandler(deps: IncidentTimerDeps): TimerHandler {
  return async (timer: DueTimer) => {
    const { incident: number } = payloadSchema.parse(timer.payload);
    const incident = await deps.incidents.find(number);
    const logger = deps.logger.child({ incident: number, timer: timer.id });
    if (!incident?.channelId || incident.status !== 'resolved') {
      logger.info(
        { status: incident?.status },
        'archive timer due, but the incident is not resolved (or has no channel): kept',
      );
      return;
    }
    const outcome = await deps.notifier.archiveChannel(incident.channelId);
    if (outcome === 'archived') logger.info({ channel: incident.channelId }, 'incident channel archived');
  };
}

/** The incident module's timers: kind → handler factory (src/runtime.ts merges them into the loop). */
export const INCIDENT_TIMERS: Record<string, (deps: IncidentTimerDeps) => TimerHandler> = {
  [ARCHIVE_TIMER_KIND]: archiveTimerHandler,
};

/**
 * Archiving a resolved incident's channel `incidents.archiveAfter` after it was resolved: resolving
 * schedules the `incident.archive` timer in its own transaction (every other timer of the incident is
 * cancelled there), reopening cancels it, and its handler (merged into the timer loop by
 * src/runtime.ts) archives the channel through the notifier when it comes due.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { z } from 'zod';
import type { Logger } from '../logger.ts';
import {
  type DueTimer,
  incidentSubject,
  readPayload,
  type TimerHandler,
  type TimerRecords,
} from '../timers/timers.ts';
import type { Incident } from './incident.ts';
import type { IncidentNotifier } from './ports.ts';

export const ARCHIVE_TIMER_KIND = 'incident.archive';
export const archiveTimerId = (number: number): string => `incident-archive:${number}`;

/** The archive timer of a resolve: when it is due. */
export interface ArchivePlan {
  dueAt: Date;
}

/** Schedules archiving the channel of a resolved incident (none without a channel, or with archiveAfter 0). */
export async function scheduleArchive(
  timers: TimerRecords,
  incident: Incident,
  archiveAfterMs: number,
): Promise<ArchivePlan | null> {
  if (!incident.channelId || archiveAfterMs <= 0 || !incident.resolvedAt) return null;
  const dueAt = addMilliseconds(incident.resolvedAt, archiveAfterMs);
  await timers.schedule({
    id: archiveTimerId(incident.number),
    kind: ARCHIVE_TIMER_KIND,
    subject: incidentSubject(incident.number),
    payload: { incident: incident.number },
    dueAt,
  });
  return { dueAt };
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
    const payload = readPayload(payloadSchema, timer, deps.logger, 'archive timer');
    if (payload === null) return;
    const number = payload.incident;
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

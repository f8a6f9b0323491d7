/**
 * Update reminders on durable timers: whenever the next update's due time is set (declare, an update,
 * a severity change, a reopen) two timers are (re)scheduled with it: `incident.update-due` at the due
 * time (the commander is nudged) and `incident.update-overdue` `incidents.updateGrace` later (the
 * communications lead is told too). A handler whose due time is no longer the incident's (an update
 * moved it) does nothing; resolving cancels both with every timer of the incident.
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

export const UPDATE_DUE_TIMER_KIND = 'incident.update-due';
export const UPDATE_OVERDUE_TIMER_KIND = 'incident.update-overdue';
export const updateDueTimerId = (number: number): string => `incident-update-due:${number}`;
export const updateOverdueTimerId = (number: number): string => `incident-update-overdue:${number}`;

/** Schedules (or moves) both reminders to the incident's next update; cancels them when there is none. */
export async function scheduleUpdateReminders(
  timers: TimerRecords,
  incident: Incident,
  graceMs: number,
): Promise<void> {
  const due = incident.nextUpdateDueAt;
  if (!due || incident.status === 'resolved') {
    await timers.cancel(updateDueTimerId(incident.number));
    await timers.cancel(updateOverdueTimerId(incident.number));
    return;
  }
  const payload = { incident: incident.number, due: due.toISOString() };
  const subject = incidentSubject(incident.number);
  await timers.schedule({
    id: updateDueTimerId(incident.number),
    kind: UPDATE_DUE_TIMER_KIND,
    subject,
    payload,
    dueAt: due,
  });
  await timers.schedule({
    id: updateOverdueTimerId(incident.number),
    kind: UPDATE_OVERDUE_TIMER_KIND,
    subject,
    payload,
    dueAt: addMilliseconds(due, graceMs),
  });
}

/** What a reminder handler found: whether to say it (recorded now, or by a run whose notice failed). */
export type ReminderOutcome =
  | {
      kind: 'remind';
      incident: Incident;
      commander: string | null;
      communicationsLead: string | null;
      fresh: boolean;
    }
  | { kind: 'skipped'; why: string };

const payloadSchema = z.object({ incident: z.number().int().positive(), due: z.iso.datetime() });

export interface UpdateReminderTimerDeps {
  incidents: {
    recordUpdateReminder(number: number, input: { due: Date; overdue: boolean }): Promise<ReminderOutcome>;
  };
  notifier: IncidentNotifier;
  logger: Logger;
}

function reminderHandler(overdue: boolean) {
  return (deps: UpdateReminderTimerDeps): TimerHandler =>
    async (timer: DueTimer) => {
      const payload = readPayload(payloadSchema, timer, deps.logger, 'update reminder');
      if (payload === null) return;
      const number = payload.incident;
      const outcome = await deps.incidents.recordUpdateReminder(number, {
        due: new Date(payload.due),
        overdue,
      });
      const logger = deps.logger.child({ incident: number, timer: timer.id });
      if (outcome.kind === 'skipped') {
        logger.info({ why: outcome.why }, 'update reminder due: nothing to do');
        return;
      }
      if (!outcome.fresh && timer.attempt <= 1) return;
      await deps.notifier.updateReminder({
        incident: outcome.incident,
        overdue,
        commander: outcome.commander,
        communicationsLead: outcome.communicationsLead,
      });
    };
}

/** The update reminders' timers (src/runtime.ts merges them into the loop). */
export const UPDATE_REMINDER_TIMERS: Record<string, (deps: UpdateReminderTimerDeps) => TimerHandler> = {
  [UPDATE_DUE_TIMER_KIND]: reminderHandler(false),
  [UPDATE_OVERDUE_TIMER_KIND]: reminderHandler(true),
};

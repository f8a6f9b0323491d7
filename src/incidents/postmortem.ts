/**
 * Post-mortems and follow-ups (action items) of incidents: their records, the ports the store
 * implements, scheduling the post-mortem on resolve, and the reminder timers. A post-mortem is
 * required by the severity (`severities[].postMortemRequired`, P0/P1 by default) or asked for by hand;
 * it is reminded once to the commander when not marked complete `incidents.postmortemDue` after the
 * resolution (timer subject `postmortem:<n>`, not `incident:<n>`, which resolving cancels). A
 * follow-up with a due time reminds its owner once (subject `followup:<id>`, cancelled when done).
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { z } from 'zod';
import type { SeverityConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { type DueTimer, readPayload, type TimerHandler, type TimerRecords } from '../timers/timers.ts';
import type { Incident, SlackMessageRef } from './incident.ts';

export type PostmortemStatus = 'pending' | 'drafted' | 'complete';

export interface Postmortem {
  incidentNumber: number;
  status: PostmortemStatus;
  /** Required by the severity (false: asked for by hand). */
  required: boolean;
  /** The commander is reminded when it is not complete by then. */
  dueAt: Date;
  draftedAt: Date | null;
  draftedBy: string | null;
  drafts: number;
  /** The summary message with the "Mark complete" button. */
  message: SlackMessageRef | null;
  /** The uploaded Markdown file. */
  fileId: string | null;
  completedAt: Date | null;
  completedBy: string | null;
  remindedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export type FollowupStatus = 'open' | 'done';

export interface Followup {
  id: number;
  incidentNumber: number;
  /** #1, #2, … within the incident. */
  number: number;
  /** Slack user id. */
  owner: string;
  text: string;
  dueAt: Date | null;
  status: FollowupStatus;
  createdBy: string;
  createdAt: Date;
  doneAt: Date | null;
  doneBy: string | null;
  remindedAt: Date | null;
}

/** A /deploy operation run for the incident (operations.incident_number). */
export interface LinkedOperation {
  id: string;
  kind: string;
  service: string;
  environment: string;
  state: string;
  requestedBy: string;
  reason: string | null;
  error: string | null;
  createdAt: Date;
  finishedAt: Date | null;
}

export interface PostmortemRecords {
  get(incidentNumber: number): Promise<Postmortem | null>;
  /** With a row lock (inside a transaction). */
  lock(incidentNumber: number): Promise<Postmortem | null>;
  /**
   * Creates the post-mortem, or (not complete yet) sets its due time again and forgets an earlier
   * reminder (a resolve after a reopen). A complete one is returned as it is.
   */
  upsert(input: { incidentNumber: number; required: boolean; dueAt: Date }): Promise<Postmortem>;
  /** Creates it only when missing; returns it either way. */
  ensure(input: { incidentNumber: number; required: boolean; dueAt: Date }): Promise<{
    postmortem: Postmortem;
    created: boolean;
  }>;
  recordDraft(
    incidentNumber: number,
    input: { at: Date; by: string; message: SlackMessageRef | null; fileId: string | null },
  ): Promise<Postmortem | null>;
  /** Compare-and-set: null when it is complete already (or missing). */
  complete(incidentNumber: number, input: { at: Date; by: string }): Promise<Postmortem | null>;
  /** Compare-and-set: false when reminded before or complete. */
  markReminded(incidentNumber: number, at: Date): Promise<boolean>;
  linkedOperations(incidentNumber: number): Promise<LinkedOperation[]>;
}

export interface FollowupRecords {
  /** Numbers it after the incident's last follow-up (the caller holds the incident's row lock). */
  add(input: {
    incidentNumber: number;
    owner: string;
    text: string;
    dueAt: Date | null;
    createdBy: string;
  }): Promise<Followup>;
  list(incidentNumber: number): Promise<Followup[]>;
  get(id: number): Promise<Followup | null>;
  byNumber(incidentNumber: number, number: number): Promise<Followup | null>;
  /** Compare-and-set open → done: null when it was done already (or missing). */
  markDone(incidentNumber: number, number: number, input: { at: Date; by: string }): Promise<Followup | null>;
  /** Compare-and-set: false when reminded before or done. */
  markReminded(id: number, at: Date): Promise<boolean>;
}

export const POSTMORTEM_REMINDER_KIND = 'postmortem.reminder';
export const FOLLOWUP_REMINDER_KIND = 'followup.reminder';
export const postmortemSubject = (number: number): string => `postmortem:${number}`;
export const postmortemReminderId = (number: number): string => `postmortem-reminder:${number}`;
export const followupSubject = (id: number): string => `followup:${id}`;
export const followupReminderId = (id: number): string => `followup-reminder:${id}`;

/** When the post-mortem of a resolve is due (null: the severity requires none). */
export interface PostmortemPlan {
  dueAt: Date;
}

export async function schedulePostmortemReminder(
  timers: TimerRecords,
  incidentNumber: number,
  dueAt: Date,
): Promise<void> {
  await timers.schedule({
    id: postmortemReminderId(incidentNumber),
    kind: POSTMORTEM_REMINDER_KIND,
    subject: postmortemSubject(incidentNumber),
    payload: { incident: incidentNumber },
    dueAt,
  });
}

/**
 * In the resolve's transaction: a severity that requires a post-mortem gets one, due
 * `postmortemDueMs` after the resolution, with its reminder timer. A complete one stays complete.
 */
export async function schedulePostmortem(
  repos: { postmortems: PostmortemRecords; timers: TimerRecords },
  incident: Incident,
  severity: SeverityConfig | undefined,
  postmortemDueMs: number,
): Promise<PostmortemPlan | null> {
  if (!severity?.postMortemRequired || !incident.resolvedAt) return null;
  const dueAt = addMilliseconds(incident.resolvedAt, postmortemDueMs);
  const postmortem = await repos.postmortems.upsert({
    incidentNumber: incident.number,
    required: true,
    dueAt,
  });
  if (postmortem.status === 'complete') return null;
  await schedulePostmortemReminder(repos.timers, incident.number, dueAt);
  return { dueAt };
}

/** What the domain has to say about post-mortems and follow-ups (Slack implements it). */
export interface PostmortemNotifier {
  /** The post-mortem is not marked complete by its due time: remind the commander. */
  remindPostmortem(input: { incident: Incident; postmortem: Postmortem }): Promise<void>;
  /** The follow-up is due: remind its owner. */
  remindFollowup(input: { incident: Incident; followup: Followup }): Promise<void>;
}

export interface PostmortemTimerDeps {
  incidents: { find(number: number): Promise<Incident | null> };
  postmortems: {
    find(number: number): Promise<Postmortem | null>;
    followup(id: number): Promise<Followup | null>;
    markReminded(number: number): Promise<boolean>;
    markFollowupReminded(id: number): Promise<boolean>;
  };
  notifier: PostmortemNotifier;
  logger: Logger;
}

const postmortemPayload = z.object({ incident: z.number().int().positive() });
const followupPayload = z.object({ followup: z.number().int().positive() });

function postmortemReminderHandler(deps: PostmortemTimerDeps): TimerHandler {
  return async (timer: DueTimer) => {
    const payload = readPayload(postmortemPayload, timer, deps.logger, 'post-mortem reminder');
    if (payload === null) return;
    const number = payload.incident;
    const logger = deps.logger.child({ incident: number, timer: timer.id });
    const [incident, postmortem] = await Promise.all([
      deps.incidents.find(number),
      deps.postmortems.find(number),
    ]);
    if (!incident || !postmortem || incident.status !== 'resolved') {
      logger.info({ status: incident?.status }, 'post-mortem reminder due, but nothing to remind of');
      return;
    }
    if (postmortem.status === 'complete' || postmortem.remindedAt) {
      logger.info({ status: postmortem.status }, 'post-mortem reminder due: complete or reminded already');
      return;
    }
    await deps.notifier.remindPostmortem({ incident, postmortem });
    await deps.postmortems.markReminded(number);
    logger.info('post-mortem reminder sent');
  };
}

function followupReminderHandler(deps: PostmortemTimerDeps): TimerHandler {
  return async (timer: DueTimer) => {
    const payload = readPayload(followupPayload, timer, deps.logger, 'follow-up reminder');
    if (payload === null) return;
    const followup = await deps.postmortems.followup(payload.followup);
    const logger = deps.logger.child({ followup: payload.followup, timer: timer.id });
    if (!followup || followup.status === 'done' || followup.remindedAt) {
      logger.info({ status: followup?.status }, 'follow-up reminder due: done, reminded or gone');
      return;
    }
    const incident = await deps.incidents.find(followup.incidentNumber);
    if (!incident) return;
    await deps.notifier.remindFollowup({ incident, followup });
    await deps.postmortems.markFollowupReminded(followup.id);
    logger.info({ incident: incident.number }, 'follow-up reminder sent');
  };
}

/** Kind → handler factory (src/runtime.ts merges them into the timer loop). */
export const POSTMORTEM_TIMERS: Record<string, (deps: PostmortemTimerDeps) => TimerHandler> = {
  [POSTMORTEM_REMINDER_KIND]: postmortemReminderHandler,
  [FOLLOWUP_REMINDER_KIND]: followupReminderHandler,
};

/**
 * Durable timers: what a module schedules (in its own transaction, through its repositories) and the
 * handlers that run when they come due. Rows in Postgres (src/store/repositories/timers.ts), claimed
 * with a lease by exactly one replica and deleted only after their handler ran, so a crash mid-handler
 * runs it again after the lease, and a restart loses nothing. Handlers must be idempotent: they check
 * the state they act on (an escalation due for an incident acknowledged meanwhile does nothing).
 * Redis plays no part in correctness. Time is the injected clock's, so tests run in virtual time.
 */
import type { z } from 'zod';
import type { Logger } from '../logger.ts';
import type { TimerSpec } from '../store/repositories/timers.ts';
import type { JsonObject } from '../util/json.ts';

export type { TimerSpec };

/** What a module needs to schedule its timers (the repository, over the Db or inside a tx). */
export interface TimerRecords {
  /** Schedules, or moves by id (a new version: unclaimed, attempts reset). */
  schedule(timer: TimerSpec): Promise<void>;
  cancel(id: string): Promise<boolean>;
  /** Cancels every timer of a subject ("incident:42"); returns how many. */
  cancelSubject(subject: string): Promise<number>;
}

/** A timer handed to its handler: claimed by this replica until its lease runs out. */
export interface DueTimer {
  id: string;
  kind: string;
  subject: string | null;
  payload: JsonObject;
  dueAt: Date;
  /** 1 the first time this version runs; more when an earlier run failed or its replica died. */
  attempt: number;
}

/**
 * Runs a due timer. Resolving completes it (the row is deleted, unless the handler re-scheduled the
 * same id); throwing retries it later with backoff. It may schedule follow-up timers itself.
 */
export type TimerHandler = (timer: DueTimer) => Promise<void>;

/** Timer handlers by kind, made from a module's factories (e.g. INCIDENT_TIMERS) and their deps. */
export function bindTimerHandlers<D>(
  factories: Record<string, (deps: D) => TimerHandler>,
  deps: D,
): Record<string, TimerHandler> {
  return Object.fromEntries(Object.entries(factories).map(([kind, factory]) => [kind, factory(deps)]));
}

/** The subject of an incident's timers: resolving cancels them all. */
export const incidentSubject = (number: number): string => `incident:${number}`;

/**
 * A due timer's payload, parsed; null (logged at error level) when it cannot be read (another bot
 * version, a hand edit): the handler then returns and the timer is dropped rather than retried forever.
 */
export function readPayload<S extends z.ZodType>(
  schema: S,
  timer: DueTimer,
  logger: Pick<Logger, 'error'>,
  what: string,
): z.output<S> | null {
  const parsed = schema.safeParse(timer.payload);
  if (parsed.success) return parsed.data;
  logger.error({ timer: timer.id, payload: timer.payload }, `${what} with a bad payload: dropped`);
  return null;
}

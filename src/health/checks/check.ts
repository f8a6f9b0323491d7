import type { Redactor } from '../redact.ts';
import type { CheckResult } from '../types.ts';

/** What a check found; the runner adds name, type, target, timeouts and redaction. */
export type CheckOutcome = Omit<CheckResult, 'name' | 'type' | 'target'> & { latencyMs: number };

/** A check with its secrets resolved, ready to run. */
export interface PreparedCheck {
  /** URL or host, credentials removed. */
  target: string;
  /**
   * Runs the check. Resolves with an outcome for every failure it can describe; the signal aborts
   * when the check's timeout or the overall deadline passes, and the check must then let go of
   * its connections.
   */
  run(signal: AbortSignal, timeoutMs: number): Promise<CheckOutcome>;
}

export interface PrepareContext {
  env: NodeJS.ProcessEnv;
  /** Every secret resolved while preparing is added here. */
  redactor: Redactor;
  /**
   * What this check kept from its previous run (e.g. Redis counters, for a rate between two
   * runs); absent when the caller keeps nothing between runs.
   */
  memory?: CheckMemory;
}

/** A value a check keeps from one run to the next, per check (service, name, URL). */
export interface CheckMemory {
  get(): unknown;
  set(value: unknown): void;
}

/** Milliseconds since `started` (a performance.now() reading), rounded to 0.1 ms. */
export function elapsedSince(started: number): number {
  return Math.round((performance.now() - started) * 10) / 10;
}

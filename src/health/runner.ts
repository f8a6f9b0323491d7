import type { HealthCheckConfig } from '../config/schema.ts';
import type { CheckMemory, CheckOutcome, PrepareContext, PreparedCheck } from './checks/check.ts';
import { elapsedSince } from './checks/check.ts';
import { prepareHttpCheck } from './checks/http.ts';
import { preparePostgresCheck } from './checks/postgres.ts';
import { preparePrometheusCheck } from './checks/prometheus.ts';
import { prepareRedisCheck } from './checks/redis.ts';
import { formatMs } from './format.ts';
import { innermostMessage } from './network-errors.ts';
import { displayUrl, Redactor } from './redact.ts';
import { checkTimeoutMs } from './timeouts.ts';
import type { CheckResult } from './types.ts';

/** Overall deadline of a run when none is given: the longest default timeout (/health/startup). */
export const DEFAULT_DEADLINE_MS = 10_000;

export interface RunChecksOptions {
  /** Where `${env:NAME}` references are resolved; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** No check runs past this, whatever its own timeout. */
  deadlineMs?: number;
  /** Cancels the run: unfinished checks report that they were cancelled. */
  signal?: AbortSignal;
  /**
   * What checks keep between runs (Redis counters for the hit rate between two runs), by check;
   * the HealthService keeps one per service. Without it every run is a first run.
   */
  memory?: Map<string, unknown>;
}

/**
 * Runs the checks in parallel, each under its own timeout and all under one overall deadline.
 * Resolves with one result per check, in config order; never rejects and never hangs. Results
 * carry no resolved secret.
 */
export async function runChecks(
  checks: readonly HealthCheckConfig[],
  options: RunChecksOptions = {},
): Promise<CheckResult[]> {
  const env = options.env ?? process.env;
  const deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
  const stop = new AbortController();
  let stopReason = `no answer before the overall deadline of ${formatMs(deadlineMs)}`;
  const deadline = setTimeout(() => stop.abort(), deadlineMs);
  const onCancel = (): void => {
    stopReason = 'cancelled before it finished';
    stop.abort();
  };
  if (options.signal?.aborted) onCancel();
  options.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    const names = checkNames(checks);
    return await Promise.all(
      checks.map((check, i) => {
        const name = names[i] ?? check.type;
        return runOne(check, name, env, stop.signal, () => stopReason, memoryOf(options.memory, check, name));
      }),
    );
  } finally {
    clearTimeout(deadline);
    options.signal?.removeEventListener('abort', onCancel);
  }
}

/** One check's slot in the memory: by name, type and configured URL (references unresolved, so no secret). */
function memoryOf(
  memory: Map<string, unknown> | undefined,
  check: HealthCheckConfig,
  name: string,
): CheckMemory | undefined {
  if (!memory) return undefined;
  const key = JSON.stringify([name, check.type, check.url]);
  return { get: () => memory.get(key), set: (value) => memory.set(key, value) };
}

/** Configured names, else the check type; repeated names get a number ("http", "http 2"). */
export function checkNames(checks: readonly HealthCheckConfig[]): string[] {
  const seen = new Map<string, number>();
  return checks.map((check) => {
    const base = check.name ?? check.type;
    const count = (seen.get(base) ?? 0) + 1;
    seen.set(base, count);
    return count === 1 ? base : `${base} ${count}`;
  });
}

export function prepareCheck(check: HealthCheckConfig, context: PrepareContext): PreparedCheck {
  switch (check.type) {
    case 'http':
      return prepareHttpCheck(check, context);
    case 'postgres':
      return preparePostgresCheck(check, context);
    case 'redis':
      return prepareRedisCheck(check, context);
    case 'prometheus':
      return preparePrometheusCheck(check, context);
  }
}

/** The configured URL (references unresolved) without credentials, for checks that cannot start. */
function configuredTarget(url: string): string {
  try {
    return displayUrl(new URL(url));
  } catch {
    return url.replace(/\/\/[^/@]*@/, '//');
  }
}

async function runOne(
  check: HealthCheckConfig,
  name: string,
  env: NodeJS.ProcessEnv,
  stopped: AbortSignal,
  stopReason: () => string,
  memory: CheckMemory | undefined,
): Promise<CheckResult> {
  const redactor = new Redactor();
  const timeoutMs = checkTimeoutMs(check);
  const base = { name, type: check.type, target: configuredTarget(check.url) };
  let prepared: PreparedCheck;
  try {
    prepared = prepareCheck(check, { env, redactor, ...(memory ? { memory } : {}) });
  } catch (error) {
    const reason = `cannot run the check: ${innermostMessage(error)}`;
    return redactor.redactResult({ ...base, status: 'unhealthy', latencyMs: 0, reason });
  }
  base.target = prepared.target;
  if (stopped.aborted)
    return redactor.redactResult({ ...base, status: 'unhealthy', latencyMs: 0, reason: stopReason() });

  const controller = new AbortController();
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let onStop: (() => void) | undefined;
  const cutOff = new Promise<CheckResult>((resolve) => {
    const unanswered = (reason: string): void =>
      resolve({ ...base, status: 'unhealthy', latencyMs: elapsedSince(started), reason });
    timer = setTimeout(() => unanswered(`timed out after ${formatMs(timeoutMs)}`), timeoutMs);
    onStop = () => unanswered(stopReason());
    stopped.addEventListener('abort', onStop, { once: true });
  });
  const ran = Promise.resolve()
    .then(() => prepared.run(controller.signal, timeoutMs))
    .then(
      (outcome: CheckOutcome): CheckResult => ({ ...base, ...outcome }),
      (error: unknown): CheckResult => ({
        ...base,
        status: 'unhealthy',
        latencyMs: elapsedSince(started),
        reason: `check failed: ${innermostMessage(error)}`,
      }),
    );
  try {
    const result = await Promise.race([ran, cutOff]);
    return redactor.redactResult(applyWarnLatency(result, check.warnLatency));
  } finally {
    clearTimeout(timer);
    if (onStop) stopped.removeEventListener('abort', onStop);
    // A check that lost the race lets go of its sockets; a finished one ignores this.
    controller.abort();
  }
}

/** An answering check slower than warnLatency is degraded (BARQ SLO p95 < 500 ms). */
export function applyWarnLatency(result: CheckResult, warnLatencyMs: number | undefined): CheckResult {
  if (warnLatencyMs === undefined || result.status === 'unhealthy' || result.latencyMs === undefined)
    return result;
  if (result.latencyMs <= warnLatencyMs) return result;
  const slow = `slow: answered in ${formatMs(result.latencyMs)}, above the ${formatMs(warnLatencyMs)} warning latency`;
  return { ...result, status: 'degraded', reason: result.reason ? `${result.reason}; ${slow}` : slow };
}

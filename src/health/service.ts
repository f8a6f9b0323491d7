import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { type Clock, systemClock } from '../clock.ts';
import type { RunbookConfig, ServiceConfig } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import { closestMatches } from '../util/closest.ts';
import { elapsedSince } from './checks/check.ts';
import { AmbiguousServiceError, NoHealthChecksError, UnknownServiceError } from './errors.ts';
import { DEFAULT_DEADLINE_MS, runChecks } from './runner.ts';
import { type HealthReport, worstStatus } from './types.ts';

export interface HealthServiceOptions {
  config: RunbookConfig;
  clock?: Clock;
  /** Where `${env:NAME}` references are resolved; default process.env. */
  env?: NodeJS.ProcessEnv;
  logger?: Logger;
  /** Overall deadline of one service's checks; default 10 s. */
  deadlineMs?: number;
  /** Waits between watch rounds; injected with a ManualClock in tests. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

export interface WatchOptions {
  environment?: string;
  /** Pause between the end of one round and the start of the next. */
  intervalMs: number;
  /** Give up once this long has passed since the watch began. */
  maxDurationMs: number;
  /** Called with each round's report, before the next round; an error thrown here ends the watch. */
  onReport?: (report: HealthReport, round: number) => void | Promise<void>;
  signal?: AbortSignal;
}

export interface WatchResult {
  /** healthy: the last report is healthy; deadline: maxDuration passed first; cancelled: the signal fired. */
  outcome: 'healthy' | 'deadline' | 'cancelled';
  healthy: boolean;
  /** The last report (the healthy one, or the last seen before giving up). */
  report: HealthReport;
  rounds: number;
  /** From the start of the watch to its end, by the service's clock. */
  elapsedMs: number;
}

/** Abortable sleep on real timers. */
export function realSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Checks the health of configured services: every check of a service in parallel, under one
 * deadline, into one report. Independent of Slack: the /incident and /deploy handlers render it.
 */
export class HealthService {
  readonly #config: RunbookConfig;
  readonly #clock: Clock;
  readonly #env: NodeJS.ProcessEnv;
  readonly #logger: Logger | undefined;
  readonly #deadlineMs: number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** What each service's checks keep between runs (Redis counters for the hit rate), by service. */
  readonly #memory = new Map<string, Map<string, unknown>>();

  constructor(options: HealthServiceOptions) {
    this.#config = options.config;
    this.#clock = options.clock ?? systemClock;
    this.#env = options.env ?? process.env;
    this.#logger = options.logger;
    this.#deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINE_MS;
    this.#sleep = options.sleep ?? realSleep;
  }

  /**
   * Finds a configured service. Without an environment, a name configured in one environment
   * only is enough. Throws UnknownServiceError (listing the known ones) or AmbiguousServiceError.
   */
  findService(name: string, environment?: string): ServiceConfig {
    const services = this.#config.services;
    const byName = services.filter((s) => s.name === name);
    if (byName.length === 0) {
      const known = [...new Set(services.map((s) => s.name))];
      const suggestions = closestMatches(name, known);
      const hint = suggestions.length > 0 ? ` Did you mean ${suggestions.join(' or ')}?` : '';
      const list =
        known.length > 0
          ? `Known services: ${known.join(', ')}.`
          : 'No services are configured in runbook.yml.';
      throw new UnknownServiceError(
        name,
        environment,
        known,
        suggestions,
        `unknown service "${name}".${hint} ${list}`,
      );
    }
    if (environment === undefined) {
      const [only] = byName;
      if (byName.length === 1 && only) return only;
      throw new AmbiguousServiceError(
        name,
        byName.map((s) => s.environment),
      );
    }
    const match = byName.find((s) => s.environment === environment);
    if (match) return match;
    const environments = byName.map((s) => s.environment);
    const suggestions = closestMatches(environment, environments);
    throw new UnknownServiceError(
      name,
      environment,
      environments,
      suggestions,
      `service ${name} has no environment "${environment}": it is configured for ${environments.join(', ')}.`,
    );
  }

  /** Runs every health check of the service; throws for an unknown service or one without checks. */
  async checkService(
    name: string,
    environment?: string,
    options: { deadlineMs?: number; signal?: AbortSignal } = {},
  ): Promise<HealthReport> {
    const service = this.findService(name, environment);
    if (service.healthChecks.length === 0) throw new NoHealthChecksError(service.name, service.environment);
    return this.#check(service, options.deadlineMs ?? this.#deadlineMs, options.signal);
  }

  /**
   * Checks every configured service that has health checks, all in parallel; one report per
   * service in config order. Services without checks are left out (see NoHealthChecksError).
   */
  async checkAll(options: { signal?: AbortSignal } = {}): Promise<HealthReport[]> {
    const services = this.#config.services.filter((s) => s.healthChecks.length > 0);
    return Promise.all(services.map((s) => this.#check(s, this.#deadlineMs, options.signal)));
  }

  /**
   * Checks the service again and again until it is healthy or maxDurationMs has passed (for
   * `/deploy health <svc> --watch`, and to verify a rollback). No round runs past the deadline.
   */
  async watch(name: string, options: WatchOptions): Promise<WatchResult> {
    const service = this.findService(name, options.environment);
    if (service.healthChecks.length === 0) throw new NoHealthChecksError(service.name, service.environment);
    const began = this.#clock.now();
    const elapsed = (): number => differenceInMilliseconds(this.#clock.now(), began);
    for (let round = 1; ; round++) {
      const remaining = Math.max(1, options.maxDurationMs - elapsed());
      const report = await this.#check(service, Math.min(this.#deadlineMs, remaining), options.signal);
      await options.onReport?.(report, round);
      const finish = (outcome: WatchResult['outcome']): WatchResult => {
        const result = {
          outcome,
          healthy: outcome === 'healthy',
          report,
          rounds: round,
          elapsedMs: elapsed(),
        };
        this.#logger?.info(
          {
            service: service.name,
            environment: service.environment,
            outcome,
            rounds: round,
            elapsedMs: result.elapsedMs,
          },
          'health watch finished',
        );
        return result;
      };
      if (report.status === 'healthy') return finish('healthy');
      if (options.signal?.aborted) return finish('cancelled');
      if (elapsed() + options.intervalMs >= options.maxDurationMs) return finish('deadline');
      await this.#sleep(options.intervalMs, options.signal);
      if (options.signal?.aborted) return finish('cancelled');
    }
  }

  async #check(
    service: ServiceConfig,
    deadlineMs: number,
    signal: AbortSignal | undefined,
  ): Promise<HealthReport> {
    const startedAt = this.#clock.now();
    const started = performance.now();
    const key = `${service.name}\u0000${service.environment}`;
    let memory = this.#memory.get(key);
    if (!memory) {
      memory = new Map();
      this.#memory.set(key, memory);
    }
    const results = await runChecks(service.healthChecks, {
      env: this.#env,
      deadlineMs,
      memory,
      ...(signal ? { signal } : {}),
    });
    const report: HealthReport = {
      service: service.name,
      environment: service.environment,
      status: worstStatus(results.map((r) => r.status)),
      startedAt,
      durationMs: elapsedSince(started),
      results,
    };
    this.#logger?.info(
      {
        service: report.service,
        environment: report.environment,
        status: report.status,
        durationMs: report.durationMs,
        checks: results.map((r) => ({
          name: r.name,
          status: r.status,
          latencyMs: r.latencyMs,
          reason: r.reason,
        })),
      },
      'health checked',
    );
    return report;
  }
}

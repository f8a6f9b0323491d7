/**
 * Health watches: a service's checks run again every `intervalMs` until it is healthy or
 * `maxDurationMs` has passed (`/deploy health <service> --watch`, "Watch until healthy").
 *
 * A watch is durable: a row (health_watches) and, for its next round, the durable timer
 * `health-watch:<id>` (kind `health.watch-round`). The replica whose timer loop claims a round owns
 * the watch for that round's lease; when it dies another replica runs the round once the lease ran
 * out, and after a restart (or a rolling deploy) the watch goes on where it was, updating the same
 * message. Stopping a watch, or its deadline, ends the row and cancels its timer. One running watch
 * of a service per scope (where it reports, a Slack channel), guarded by a unique index.
 * What a watch has to say goes through its WatchNotifier (the Slack layer updates a message).
 */
import { randomUUID } from 'node:crypto';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { differenceInMilliseconds } from 'date-fns/differenceInMilliseconds';
import { z } from 'zod';
import type { Clock } from '../clock.ts';
import type { Logger } from '../logger.ts';
import type { Db, Queryable } from '../store/db.ts';
import { isStoreError, SQLSTATE } from '../store/errors.ts';
import {
  type HealthWatchRecord,
  HealthWatchRepository,
  type WatchEnd,
} from '../store/repositories/health-watches.ts';
import { TimerRepository } from '../store/repositories/timers.ts';
import { type DueTimer, readPayload, type TimerHandler } from '../timers/timers.ts';
import {
  NoHealthChecksError,
  WatchAlreadyRunningError,
  WatchesStoppingError,
  WatchTooFrequentError,
} from './errors.ts';
import { DEFAULT_DEADLINE_MS } from './runner.ts';
import type { HealthService, WatchResult } from './service.ts';
import type { HealthReport } from './types.ts';

export type { HealthWatchRecord };

/**
 * Nothing more often: each round is told to people (a Slack message updated, and Slack allows
 * about 50 `chat.update` a minute for the whole app). Input is refused with this minimum where it
 * is parsed; this is the guard behind it.
 */
export const MIN_WATCH_INTERVAL_MS = 10_000;

export const WATCH_ROUND_TIMER_KIND = 'health.watch-round';
export const watchTimerId = (id: string): string => `health-watch:${id}`;
/**
 * A watch whose message was never posted (its replica died between the row and the post) is ended
 * by its first timer this long after it started, so it does not keep the service "being watched".
 */
export const WATCH_OPEN_GRACE_MS = 60_000;

/**
 * What a watch says, in order: opened, then round after round, then finished or failed. Stateless:
 * any replica can say the next round of a watch another one started (everything is in the record).
 */
export interface WatchNotifier {
  /** Before the first round: posts where the rounds will be said; returns its reference (a message ts). */
  opened(watch: HealthWatchRecord): Promise<string>;
  /** Each round's report but the last (finished() says that one); throwing ends the watch (failed). */
  round(watch: HealthWatchRecord, report: HealthReport, round: number): Promise<void>;
  /** The verdict, with the last round's report: healthy, or deadline (gave up). */
  finished(watch: HealthWatchRecord, result: WatchResult): Promise<void>;
  /** Someone stopped the watch (watch.endedBy). */
  stopped(watch: HealthWatchRecord): Promise<void>;
  /** The watch stopped on an error (a round that could not run, round() or finished() throwing). */
  failed(watch: HealthWatchRecord, error: unknown): Promise<void>;
}

export interface WatchSpec {
  service: string;
  environment: string;
  /** Pause between the end of one round and the start of the next; at least MIN_WATCH_INTERVAL_MS. */
  intervalMs: number;
  /** Give up once this long has passed since the watch began. */
  maxDurationMs: number;
  /** Where the watch reports (a Slack channel): one watch of a service per scope. */
  scope: string;
  /** Who started it (a Slack user id). */
  startedBy?: string;
}

export interface HealthWatchesOptions {
  health: HealthService;
  db: Db;
  clock: Clock;
  logger: Logger;
  /** Asks this replica's timer loop to poll soon (a round due now). */
  nudge?: () => void;
}

export type StopWatchOutcome = { outcome: 'stopped'; watch: HealthWatchRecord } | { outcome: 'not-running' };

const payloadSchema = z.object({ watch: z.string().min(1) });

/** Health watches over Postgres and the durable timers; any replica runs any watch's next round. */
export class HealthWatches {
  readonly #health: HealthService;
  readonly #db: Db;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #nudge: (() => void) | undefined;
  #stopping = false;

  constructor(options: HealthWatchesOptions) {
    this.#health = options.health;
    this.#db = options.db;
    this.#clock = options.clock;
    this.#logger = options.logger;
    this.#nudge = options.nudge;
  }

  /** Reads the watches (the Slack layer only reads). */
  get repo(): HealthWatchRepository {
    return new HealthWatchRepository(this.#db, this.#clock);
  }

  /** The running watches (of every replica), oldest first. */
  running(scope?: string): Promise<HealthWatchRecord[]> {
    return this.repo.listRunning(scope);
  }

  /** True once close() was called: no new watch starts here (the running ones go on, elsewhere too). */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Starts a watch: records it, posts its message through the notifier, and schedules its first
   * round at once; resolves with the record once the message is posted. Throws, and nothing runs,
   * for an interval under the minimum, an unknown service or one without checks
   * (HealthServiceError), a running watch of the service in that scope, on any replica
   * (WatchAlreadyRunningError), or a process shutting down (WatchesStoppingError). When the notifier
   * cannot open, the watch ends (failed) and start() rejects with its error.
   */
  async start(spec: WatchSpec, notifier: WatchNotifier): Promise<HealthWatchRecord> {
    if (!(spec.intervalMs >= MIN_WATCH_INTERVAL_MS))
      throw new WatchTooFrequentError(spec.intervalMs, MIN_WATCH_INTERVAL_MS);
    const service = this.#health.findService(spec.service, spec.environment);
    if (service.healthChecks.length === 0) throw new NoHealthChecksError(service.name, service.environment);
    if (this.#stopping) throw new WatchesStoppingError();

    const now = this.#clock.now();
    const id = randomUUID();
    let watch: HealthWatchRecord;
    try {
      watch = await this.#db.transaction(async (tx) => {
        const created = await new HealthWatchRepository(tx, this.#clock).insert({
          id,
          scope: spec.scope,
          service: service.name,
          environment: service.environment,
          intervalMs: spec.intervalMs,
          startedAt: now,
          deadlineAt: addMilliseconds(now, spec.maxDurationMs),
          startedBy: spec.startedBy ?? null,
        });
        // The guard against a message never posted; moved to "now" once it is.
        await this.#scheduleRound(tx, id, addMilliseconds(now, WATCH_OPEN_GRACE_MS));
        return created;
      });
    } catch (error) {
      if (isStoreError(error, SQLSTATE.uniqueViolation))
        throw new WatchAlreadyRunningError(service.name, service.environment);
      throw error;
    }

    let messageRef: string;
    try {
      messageRef = await notifier.opened(watch);
    } catch (error) {
      await this.#end(watch, 'failed', { reason: describe(error) }).catch((cause: unknown) =>
        this.#logger.warn({ err: cause, watch: id }, 'could not end a health watch that failed to open'),
      );
      throw error;
    }
    await this.#db.transaction(async (tx) => {
      if (await new HealthWatchRepository(tx, this.#clock).setMessage(id, messageRef))
        await this.#scheduleRound(tx, id, this.#clock.now());
    });
    this.#nudge?.();
    return { ...watch, messageRef };
  }

  /**
   * Stops a running watch (its Stop button): the row ends and its timer is cancelled in one
   * transaction, then the notifier says so. A round in flight elsewhere finds it ended and stops.
   */
  async stop(id: string, by: string, notifier: WatchNotifier): Promise<StopWatchOutcome> {
    const watch = await this.repo.get(id);
    if (watch?.state !== 'running') return { outcome: 'not-running' };
    const ended = await this.#end(watch, 'stopped', { by });
    if (!ended) return { outcome: 'not-running' };
    if (ended.messageRef !== null) {
      await notifier
        .stopped(ended)
        .catch((error: unknown) =>
          this.#logger.warn({ err: error, watch: id }, 'could not say that the health watch stopped'),
        );
    }
    return { outcome: 'stopped', watch: ended };
  }

  /** At shutdown: refuses new watches here. Running ones stay: their rounds go on (here after a restart, or on another replica). */
  close(): void {
    this.#stopping = true;
  }

  /**
   * One round of a watch (the `health.watch-round` timer's handler): checks the service once, says
   * it, and either ends the watch (healthy, or the deadline) or schedules the next round. Idempotent:
   * a watch that ended meanwhile does nothing; a round re-run after a crash says the same round again.
   */
  async runRound(watchId: string, notifier: WatchNotifier): Promise<void> {
    const watch = await this.repo.get(watchId);
    if (watch?.state !== 'running') return;
    const logger = this.#logger.child({
      watch: `${watch.scope}:${watch.service}:${watch.environment}`,
      watchId,
    });
    if (watch.messageRef === null) {
      logger.warn('health watch never posted its message (its replica stopped first): ended');
      await this.#end(watch, 'failed', { reason: 'its message was never posted' });
      return;
    }
    const round = watch.rounds + 1;
    const elapsed = (): number => differenceInMilliseconds(this.#clock.now(), watch.startedAt);
    const maxDurationMs = differenceInMilliseconds(watch.deadlineAt, watch.startedAt);
    let report: HealthReport;
    try {
      const remaining = Math.max(1, maxDurationMs - elapsed());
      report = await this.#health.checkService(watch.service, watch.environment, {
        deadlineMs: Math.min(DEFAULT_DEADLINE_MS, remaining),
      });
    } catch (error) {
      await this.#fail(watch, error, notifier, logger);
      return;
    }
    const verdict: WatchResult['outcome'] | null =
      report.status === 'healthy'
        ? 'healthy'
        : elapsed() + watch.intervalMs >= maxDurationMs
          ? 'deadline'
          : null;

    if (verdict === null) {
      // Recorded first: a round that ran is not run again when saying it fails or the replica dies.
      const goesOn = await this.#db.transaction(async (tx) => {
        if (!(await new HealthWatchRepository(tx, this.#clock).recordRound(watch.id, round, report.status)))
          return false;
        await this.#scheduleRound(tx, watch.id, addMilliseconds(this.#clock.now(), watch.intervalMs));
        return true;
      });
      if (!goesOn) return; // stopped meanwhile: its message says so
      try {
        await notifier.round(watch, report, round);
      } catch (error) {
        await this.#fail(watch, error, notifier, logger);
      }
      return;
    }

    // The verdict is said first, then recorded: a replica dying in between says it again.
    const result: WatchResult = {
      outcome: verdict,
      healthy: verdict === 'healthy',
      report,
      rounds: round,
      elapsedMs: elapsed(),
    };
    try {
      await notifier.finished(watch, result);
    } catch (error) {
      await this.#fail(watch, error, notifier, logger);
      return;
    }
    await this.#end(watch, verdict, { rounds: round, lastStatus: report.status });
    logger.info(
      { service: watch.service, environment: watch.environment, outcome: verdict, rounds: round },
      'health watch finished',
    );
  }

  async #fail(watch: HealthWatchRecord, error: unknown, notifier: WatchNotifier, logger: Logger) {
    logger.error({ err: error }, 'health watch stopped by an error');
    const ended = await this.#end(watch, 'failed', { reason: describe(error) });
    if (ended) await notifier.failed(ended, error).catch(() => {});
  }

  /** Ends the watch and cancels its timer, in one transaction; null when it had already ended. */
  #end(
    watch: HealthWatchRecord,
    state: WatchEnd,
    detail: { rounds?: number; lastStatus?: string; by?: string; reason?: string },
  ): Promise<HealthWatchRecord | null> {
    return this.#db.transaction(async (tx) => {
      const ended = await new HealthWatchRepository(tx, this.#clock).end(watch.id, state, detail);
      if (ended) await new TimerRepository(tx, this.#clock).cancel(watchTimerId(watch.id));
      return ended;
    });
  }

  #scheduleRound(tx: Queryable, id: string, dueAt: Date): Promise<void> {
    return new TimerRepository(tx, this.#clock).schedule({
      id: watchTimerId(id),
      kind: WATCH_ROUND_TIMER_KIND,
      subject: watchTimerId(id),
      payload: { watch: id },
      dueAt,
    });
  }
}

const describe = (error: unknown): string => (error instanceof Error ? error.message : String(error));

export interface HealthTimerDeps {
  watches: HealthWatches;
  /** Says the rounds of any watch (the Slack layer's, with the bot's client). */
  notifier: WatchNotifier;
  logger: Logger;
}

function watchRoundHandler(deps: HealthTimerDeps): TimerHandler {
  return async (timer: DueTimer) => {
    const payload = readPayload(payloadSchema, timer, deps.logger, 'health watch timer');
    if (payload === null) return;
    await deps.watches.runRound(payload.watch, deps.notifier);
  };
}

/** The health module's timers: kind → handler factory (src/runtime.ts merges them into the loop). */
export const HEALTH_TIMERS: Record<string, (deps: HealthTimerDeps) => TimerHandler> = {
  [WATCH_ROUND_TIMER_KIND]: watchRoundHandler,
};

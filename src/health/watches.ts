/**
 * Health watches: a service's checks run again every `intervalMs` until it is healthy or
 * `maxDurationMs` has passed (`/deploy health <service> --watch`, "Watch until healthy"), on the
 * health service's injected clock and sleep. Watches run in the background, one per service and
 * scope (where it reports, such as a Slack channel), and are kept here so that shutdown stops
 * them. What a watch has to say goes through its WatchObserver (the Slack layer updates a message).
 */
import type { Logger } from '../logger.ts';
import {
  NoHealthChecksError,
  WatchAlreadyRunningError,
  WatchesStoppingError,
  WatchTooFrequentError,
} from './errors.ts';
import type { HealthService, WatchResult } from './service.ts';
import type { HealthReport } from './types.ts';

/**
 * Nothing more often: each round is told to people (a Slack message updated, and Slack allows
 * about 50 `chat.update` a minute for the whole app). Input is refused with this minimum where it
 * is parsed; this is the guard behind it.
 */
export const MIN_WATCH_INTERVAL_MS = 10_000;

/** What a watch says, in order: opened, then round after round, then finished or failed. */
export interface WatchObserver {
  /**
   * Before the first round (the Slack layer posts the message the rounds update). When it throws,
   * no round runs and `start()` rejects with its error.
   */
  opened(): Promise<void>;
  /** Each round's report, the last one included, before the next round; throwing ends the watch (failed). */
  round(report: HealthReport, round: number): void;
  /** The verdict: healthy, deadline (gave up), or cancelled (stopAll at shutdown). */
  finished(result: WatchResult): Promise<void>;
  /** The watch stopped on an error (a round that could not run, round() or finished() throwing). */
  failed(error: unknown): Promise<void>;
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
}

interface RunningWatch {
  controller: AbortController;
  done: Promise<void>;
}

export interface HealthWatchesOptions {
  health: HealthService;
  logger: Logger;
}

/** The watches running in this process; `stopAll()` at shutdown. */
export class HealthWatches {
  readonly #health: HealthService;
  readonly #logger: Logger;
  readonly #running = new Map<string, RunningWatch>();
  #stopping = false;

  constructor(options: HealthWatchesOptions) {
    this.#health = options.health;
    this.#logger = options.logger;
  }

  /** How many watches are running. */
  get size(): number {
    return this.#running.size;
  }

  /** True once stopAll() was called: no new watch starts. */
  get stopping(): boolean {
    return this.#stopping;
  }

  /**
   * Starts a watch in the background; resolves once its observer has opened. Throws, and nothing
   * runs, for an interval under the minimum, an unknown service or one without checks
   * (HealthServiceError), a watch of the service already running in that scope
   * (WatchAlreadyRunningError) or a process shutting down (WatchesStoppingError).
   */
  async start(spec: WatchSpec, observer: WatchObserver): Promise<void> {
    if (!(spec.intervalMs >= MIN_WATCH_INTERVAL_MS))
      throw new WatchTooFrequentError(spec.intervalMs, MIN_WATCH_INTERVAL_MS);
    const service = this.#health.findService(spec.service, spec.environment);
    if (service.healthChecks.length === 0) throw new NoHealthChecksError(service.name, service.environment);
    if (this.#stopping) throw new WatchesStoppingError();
    const key = `${spec.scope}:${service.name}:${service.environment}`;
    if (this.#running.has(key)) throw new WatchAlreadyRunningError(service.name, service.environment);

    const logger = this.#logger.child({ watch: key });
    const controller = new AbortController();
    let opened!: () => void;
    let openFailed!: (error: unknown) => void;
    const started = new Promise<void>((resolve, reject) => {
      opened = resolve;
      openFailed = reject;
    });
    const watch: RunningWatch = { controller, done: Promise.resolve() };
    this.#running.set(key, watch);
    watch.done = (async () => {
      try {
        try {
          await observer.opened();
        } catch (error) {
          openFailed(error);
          return;
        }
        opened();
        await this.#rounds(spec, observer, controller.signal, logger);
      } catch (error) {
        logger.error({ err: error }, 'health watch failed');
      } finally {
        this.#running.delete(key);
      }
    })();
    return started;
  }

  /** Stops every watch and waits for each to say its last word. */
  async stopAll(): Promise<void> {
    this.#stopping = true;
    const running = [...this.#running.values()];
    for (const watch of running) watch.controller.abort();
    await Promise.all(running.map((w) => w.done));
  }

  async #rounds(
    spec: WatchSpec,
    observer: WatchObserver,
    signal: AbortSignal,
    logger: Logger,
  ): Promise<void> {
    try {
      const result = await this.#health.watch(spec.service, {
        environment: spec.environment,
        intervalMs: spec.intervalMs,
        maxDurationMs: spec.maxDurationMs,
        signal,
        onReport: (report, round) => observer.round(report, round),
      });
      await observer.finished(result);
    } catch (error) {
      logger.error({ err: error }, 'health watch stopped by an error');
      await observer.failed(error);
    }
  }
}

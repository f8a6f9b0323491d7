/**
 * Readiness of the bot's own dependencies (database, coordination), probed in the background so that
 * /health/readiness answers at once from the last results and never waits on a hung dependency.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../logger.ts';
import type { Services } from '../services.ts';

export const READINESS_PROBE = {
  /** How often each dependency is pinged (one ping in flight at a time). */
  intervalMs: 250,
  /** A ping without an answer after this long makes the dependency unreachable, answer or not. */
  slowMs: 500,
} as const;

type CheckStatus = 'ok' | 'error';

export interface ReadinessCheck {
  status: CheckStatus;
  message: string;
  latency?: number;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** One dependency: its last ping's outcome, and the ping in flight, if any. */
class DependencyProbe {
  readonly #name: string;
  readonly #ping: () => Promise<number>;
  readonly #logger: Logger;
  #last: ReadinessCheck | undefined;
  #inFlight: Promise<void> | undefined;
  #inFlightSince = 0;
  #reportedDown = false;

  constructor(name: string, ping: () => Promise<number>, logger: Logger) {
    this.#name = name;
    this.#ping = ping;
    this.#logger = logger;
  }

  /** Starts a ping unless one is still in flight (a hung dependency never piles pings up). */
  tick(): void {
    if (this.#inFlight) return;
    this.#inFlightSince = performance.now();
    this.#inFlight = this.#ping().then(
      (latency) => {
        this.#last = {
          status: 'ok',
          message: `${this.#name} reachable`,
          latency: Math.round(latency * 100) / 100,
        };
      },
      (error: unknown) => {
        this.#last = { status: 'error', message: `${this.#name} unreachable: ${errorText(error)}` };
      },
    );
    this.#inFlight.finally(() => {
      this.#inFlight = undefined;
      this.#report(this.check());
    });
  }

  /** The state now: unreachable while a ping has been waiting longer than `slowMs`. */
  check(): ReadinessCheck {
    const waited = this.#inFlight ? performance.now() - this.#inFlightSince : 0;
    if (waited > READINESS_PROBE.slowMs) {
      const down: ReadinessCheck = {
        status: 'error',
        message: `${this.#name} unreachable: no answer for ${Math.round(waited)} ms`,
      };
      this.#report(down);
      return down;
    }
    return this.#last ?? { status: 'error', message: `${this.#name}: not checked yet` };
  }

  /** Before the first answer: waits for it, at most `slowMs`. */
  async settled(): Promise<void> {
    if (this.#last !== undefined) return;
    if (!this.#inFlight) this.tick();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#inFlight,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, READINESS_PROBE.slowMs + 10);
      }),
    ]);
    clearTimeout(timer);
  }

  #report(check: ReadinessCheck): void {
    const down = check.status === 'error';
    if (down === this.#reportedDown) return;
    this.#reportedDown = down;
    if (down) this.#logger.warn({ check: check.message }, `${this.#name} unreachable: not ready`);
    else this.#logger.info(`${this.#name} reachable again: ready`);
  }
}

export class ReadinessProbe {
  readonly #services: Services;
  readonly #database: DependencyProbe;
  readonly #coordination: DependencyProbe;
  #timer: NodeJS.Timeout | undefined;

  constructor(services: Services) {
    this.#services = services;
    this.#database = new DependencyProbe(
      `database (${services.db.kind})`,
      () => services.db.ping(),
      services.logger,
    );
    this.#coordination = new DependencyProbe(
      `coordination (${services.coordination.kind})`,
      () => services.coordination.ping(),
      services.logger,
    );
  }

  start(): void {
    if (this.#timer) return;
    const tick = () => {
      this.#database.tick();
      this.#coordination.tick();
    };
    tick();
    this.#timer = setInterval(tick, READINESS_PROBE.intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** The readiness answer, in the runbooks' JSON health format (status, timestamp, checks with latency). */
  async readiness(): Promise<{ httpStatus: number; body: unknown }> {
    await Promise.all([this.#database.settled(), this.#coordination.settled()]);
    const database = this.#database.check();
    const coordination = this.#coordination.check();
    const healthy = database.status === 'ok' && coordination.status === 'ok';
    const services = this.#services;
    const now = services.clock.now();
    return {
      httpStatus: healthy ? 200 : 503,
      body: {
        status: healthy ? 'healthy' : 'unhealthy',
        timestamp: now.toISOString(),
        uptime: Math.round((now.getTime() - services.startedAt.getTime()) / 1000),
        version: services.version,
        checks: { database, coordination },
      },
    };
  }
}

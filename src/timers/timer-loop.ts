/**
 * The timer loop: every `intervalMs` of real time, claims the timers due at the clock's now (a lease
 * in Postgres, SKIP LOCKED, so each goes to one replica), runs their handlers, renews the lease while
 * a handler runs, deletes the timer when it succeeded and backs it off when it failed. A replica that
 * dies mid-handler leaves its timers leased: another replica (or this one after a restart) runs them
 * again once the lease ran out. Tests call `poll()` after moving a ManualClock.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import type { Clock } from '../clock.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { StoredTimer, TimerRepository } from '../store/repositories/timers.ts';
import type { DueTimer, TimerHandler } from './timers.ts';

export const DEFAULT_TIMER_LEASE_MS = 30_000;
/** A failing handler is tried again after lease × attempts, at most this long after. */
const MAX_BACKOFF_MS = 15 * 60_000;

export interface TimerLoopOptions {
  timers: TimerRepository;
  clock: Clock;
  /** Real time between polls. */
  intervalMs: number;
  /** By timer kind ("incident.escalate", …). */
  handlers: Record<string, TimerHandler>;
  /** A claimed timer whose handler died runs again after this (config `timers.lease`). */
  leaseMs?: number;
  logger?: Logger;
  /** Timers claimed per query; default 50. */
  batchSize?: number;
  /** Batches per poll at most (a full batch is followed by another at once); default 20. */
  maxBatchesPerPoll?: number;
  /** This replica's name in the lease (tests give two loops two names). */
  owner?: string;
  /**
   * Tells the other replicas a timer is due now or soon (Redis pub/sub: coordination's
   * publishTimerWake); they poll then instead of at their next interval. Only an accelerator.
   */
  publishWake?: (dueAt: Date) => Promise<void>;
}

export interface PollResult {
  /** Timers claimed (each by this replica alone). */
  taken: number;
  /** Handlers that resolved. */
  handled: number;
  /** Handlers that threw, plus timers of a kind with no handler: logged, and tried again later. */
  failed: number;
}

export interface TimerPump {
  /**
   * Polls now (after any poll in flight) and waits for the handlers running in this loop, the ones
   * its own polls started included (those polls do not wait: handlers run alongside). A claim
   * failure (Postgres down) rejects.
   */
  poll(): Promise<PollResult>;
  /** Polls soon, e.g. after scheduling a timer due now; with `dueAt`, then (when sooner than the next poll). */
  nudge(dueAt?: Date): void;
  /**
   * A timer was scheduled (and committed) due at `dueAt`: when that is within one poll interval,
   * this replica polls then, and the others are woken to (publishWake). Never needed for correctness.
   */
  scheduled(dueAt: Date): void;
  /** Stops claiming and waits for the poll in flight and the handlers running here to finish. */
  stop(): Promise<void>;
}

function toDue(timer: StoredTimer): DueTimer {
  return {
    id: timer.id,
    kind: timer.kind,
    subject: timer.subject,
    payload: timer.payload,
    dueAt: timer.dueAt,
    attempt: timer.attempts,
  };
}

export function startTimerLoop(options: TimerLoopOptions): TimerPump {
  const { timers, clock, handlers } = options;
  const logger = options.logger ?? createLogger();
  const leaseMs = options.leaseMs ?? DEFAULT_TIMER_LEASE_MS;
  const batchSize = options.batchSize ?? 50;
  const maxBatches = options.maxBatchesPerPoll ?? 20;
  const owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
    throw new RangeError(`startTimerLoop: intervalMs must be a positive number, got ${options.intervalMs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`startTimerLoop: batchSize must be a whole number ≥ 1, got ${batchSize}`);
  }

  let stopped = false;
  let timeout: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();

  async function settle(timer: StoredTimer, error: unknown): Promise<void> {
    const backoff = Math.min(leaseMs * Math.max(1, timer.attempts), MAX_BACKOFF_MS);
    const message = error instanceof Error ? error.message : String(error);
    await timers
      .retryLater(timer.id, timer.version, owner, addMilliseconds(clock.now(), backoff), message)
      .catch((cause: unknown) => {
        logger.warn(
          { err: cause, timerId: timer.id },
          'could not record the failed timer; its lease will run out',
        );
      });
  }

  async function dispatch(timer: StoredTimer): Promise<boolean> {
    const handler = handlers[timer.kind];
    const context = { timerId: timer.id, timerKind: timer.kind, attempt: timer.attempts };
    if (handler === undefined) {
      logger.error(context, `no handler for timer kind ${timer.kind}; kept, and tried again later`);
      await settle(timer, new Error(`no handler for ${timer.kind}`));
      return false;
    }
    // A handler that takes longer than a third of the lease keeps it.
    const renew = setInterval(() => {
      void timers
        .renewLease(timer.id, timer.version, owner, addMilliseconds(clock.now(), leaseMs))
        .catch(() => {});
    }, leaseMs / 3);
    renew.unref();
    try {
      await handler(toDue(timer));
    } catch (error) {
      clearInterval(renew);
      logger.error({ ...context, err: error }, `timer handler for ${timer.kind} failed; tried again later`);
      await settle(timer, error);
      return false;
    }
    clearInterval(renew);
    await timers.complete(timer.id, timer.version, owner).catch((error: unknown) => {
      // The handler ran; it runs again after the lease (handlers are idempotent).
      logger.warn({ ...context, err: error }, 'could not mark the timer done; it will run again');
    });
    return true;
  }

  /** Handlers running now (each holds its timer's lease); at most `batchSize` at once. */
  const running = new Set<Promise<boolean>>();
  const kinds = Object.keys(handlers);

  function start(timer: StoredTimer): Promise<boolean> {
    const work = dispatch(timer).catch(() => false);
    running.add(work);
    void work.finally(() => running.delete(work));
    return work;
  }

  /**
   * Claims what is due, as many as there is room for next to the handlers still running, and starts
   * their handlers: a slow handler (a Slack rate limit, a platform call) never holds up the timers due
   * after it. `wait`: resolves once the handlers started here are done (tests, `poll()`).
   */
  async function pollOnce(wait: boolean): Promise<PollResult> {
    const result: PollResult = { taken: 0, handled: 0, failed: 0 };
    // A stopped loop still claims when polled by hand (tests stop the background polls, then poll()).
    for (let batch = 0; batch < maxBatches && (wait || !stopped); batch++) {
      const room = wait ? batchSize : batchSize - running.size;
      if (room <= 0) break;
      const now = clock.now();
      const due = await timers.claimDue(now, room, owner, addMilliseconds(now, leaseMs), kinds);
      result.taken += due.length;
      const work = due.map(start);
      if (wait) {
        for (const ok of await Promise.all(work)) {
          if (ok) result.handled++;
          else result.failed++;
        }
      }
      if (due.length < room) break;
    }
    // By hand (tests): also the handlers the loop's own polls started, so that what was due when
    // poll() was called has run when it resolves, whichever poll claimed it.
    if (wait) await Promise.all([...running]);
    return result;
  }

  /** Claims never overlap (one poll at a time); handlers run alongside. */
  function pollWith(wait: boolean): Promise<PollResult> {
    const next = inFlight.then(
      () => pollOnce(wait),
      () => pollOnce(wait),
    );
    inFlight = next.catch(() => undefined);
    return next;
  }

  const poll = (): Promise<PollResult> => pollWith(true);

  function scheduleNext(delayMs: number): void {
    if (stopped) return;
    if (timeout !== undefined) clearTimeout(timeout);
    timeout = setTimeout(() => {
      timeout = undefined;
      pollWith(false)
        .catch((error: unknown) => {
          logger.error({ err: error }, 'polling due timers failed; trying again at the next interval');
        })
        .finally(() => scheduleNext(options.intervalMs));
    }, delayMs);
    timeout.unref();
  }

  scheduleNext(options.intervalMs);

  /** Delay until `dueAt` by the clock, or undefined when it is not sooner than the next regular poll. */
  function soonerThanNextPoll(dueAt: Date | undefined): number | undefined {
    if (dueAt === undefined) return 0;
    const delay = Math.max(0, dueAt.getTime() - clock.now().getTime());
    return Number.isFinite(delay) && delay < options.intervalMs ? delay : undefined;
  }

  function nudge(dueAt?: Date): void {
    const delay = soonerThanNextPoll(dueAt);
    if (delay !== undefined) scheduleNext(delay);
  }

  return {
    poll,
    nudge,
    scheduled(dueAt) {
      if (stopped || soonerThanNextPoll(dueAt) === undefined) return;
      nudge(dueAt);
      options.publishWake?.(dueAt).catch((error: unknown) => {
        logger.debug({ err: error }, 'could not wake the other replicas (they poll at their interval)');
      });
    },
    async stop() {
      stopped = true;
      if (timeout !== undefined) clearTimeout(timeout);
      await inFlight;
      await Promise.all([...running]);
    },
  };
}

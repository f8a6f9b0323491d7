import type { Clock } from '../clock.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { Coordination, DueTimer } from './coordination.ts';

export type TimerHandler = (timer: DueTimer) => Promise<void>;

export interface TimerLoopOptions {
  coordination: Coordination;
  /** Decides what is due: `takeDue(clock.now())`. */
  clock: Clock;
  /** Real time between polls. */
  intervalMs: number;
  /** By timer kind ("incident.update-reminder", …). */
  handlers: Record<string, TimerHandler>;
  logger?: Logger;
  /** Timers taken per takeDue call; default 50. */
  batchSize?: number;
  /** Batches taken per poll at most (a full batch is followed by another at once); default 20. */
  maxBatchesPerPoll?: number;
}

export interface PollResult {
  /** Timers taken from the queue (each by this replica alone). */
  taken: number;
  /** Handlers that resolved. */
  handled: number;
  /** Handlers that threw, plus timers of a kind with no handler: all logged at error level. */
  failed: number;
}

export interface TimerPump {
  /**
   * Polls now (after any poll in flight): takes due timers and dispatches them. A takeDue failure
   * rejects; handler failures are logged and counted.
   */
  poll(): Promise<PollResult>;
  /** Stops polling and waits for the poll in flight to finish. */
  stop(): Promise<void>;
}

/**
 * Polls the due-timer queue every `intervalMs` and hands each due timer to the handler for its kind.
 * Delivery is at most once: a timer is removed when taken, so a handler that must not lose its work
 * on failure reschedules it itself. Handler errors and queue errors are logged, never dropped silently.
 */
export function startTimerLoop(options: TimerLoopOptions): TimerPump {
  const { coordination, clock, handlers } = options;
  const logger = options.logger ?? createLogger();
  const batchSize = options.batchSize ?? 50;
  const maxBatches = options.maxBatchesPerPoll ?? 20;
  if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
    throw new RangeError(`startTimerLoop: intervalMs must be a positive number, got ${options.intervalMs}`);
  }
  if (!Number.isInteger(batchSize) || batchSize < 1) {
    throw new RangeError(`startTimerLoop: batchSize must be a whole number ≥ 1, got ${batchSize}`);
  }

  let stopped = false;
  let timeout: NodeJS.Timeout | undefined;
  /** The poll in flight (polls never overlap). */
  let inFlight: Promise<unknown> = Promise.resolve();

  async function dispatch(timer: DueTimer): Promise<boolean> {
    const handler = handlers[timer.kind];
    const context = { timerId: timer.id, timerKind: timer.kind, dueAt: timer.dueAt.toISOString() };
    if (handler === undefined) {
      logger.error(context, `no handler for timer kind ${timer.kind}; the timer was taken and dropped`);
      return false;
    }
    try {
      await handler(timer);
      return true;
    } catch (error) {
      logger.error({ ...context, err: error }, `timer handler for ${timer.kind} failed`);
      return false;
    }
  }

  async function pollOnce(): Promise<PollResult> {
    const result: PollResult = { taken: 0, handled: 0, failed: 0 };
    for (let batch = 0; batch < maxBatches; batch++) {
      const due = await coordination.takeDue(clock.now(), batchSize);
      result.taken += due.length;
      const outcomes = await Promise.all(due.map(dispatch));
      for (const ok of outcomes) {
        if (ok) result.handled++;
        else result.failed++;
      }
      if (due.length < batchSize || stopped) break;
    }
    return result;
  }

  function poll(): Promise<PollResult> {
    const next = inFlight.then(pollOnce, pollOnce);
    inFlight = next.catch(() => undefined);
    return next;
  }

  function scheduleNext(): void {
    if (stopped) return;
    timeout = setTimeout(() => {
      poll()
        .catch((error: unknown) => {
          logger.error({ err: error }, 'polling due timers failed; trying again at the next interval');
        })
        .finally(scheduleNext);
    }, options.intervalMs);
    timeout.unref();
  }

  scheduleNext();

  return {
    poll,
    async stop() {
      stopped = true;
      if (timeout !== undefined) clearTimeout(timeout);
      await inFlight;
    },
  };
}

/** Timer handlers by kind, made from a module's factories (e.g. INCIDENT_TIMERS) and their deps. */
export function bindTimerHandlers<D>(
  factories: Record<string, (deps: D) => TimerHandler>,
  deps: D,
): Record<string, TimerHandler> {
  return Object.fromEntries(Object.entries(factories).map(([kind, factory]) => [kind, factory(deps)]));
}

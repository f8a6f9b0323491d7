/**
 * Work in progress in this process (Slack requests being handled, incident setups being finished),
 * so that stopping (SIGTERM, a rolling restart) waits for it, bounded, before Postgres and Redis
 * close: a restart then never leaves anything half-made.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.ts';

export class InFlight {
  readonly #work = new Map<Promise<unknown>, string>();

  /** Tracks `work` until it settles; returns it unchanged. */
  track<T>(label: string, work: Promise<T>): Promise<T> {
    this.#work.set(work, label);
    const forget = () => this.#work.delete(work);
    work.then(forget, forget);
    return work;
  }

  get size(): number {
    return this.#work.size;
  }

  /**
   * Waits until nothing is in flight (work started meanwhile included), at most `timeoutMs`.
   * Returns the labels of what was still running when the time ran out (logged).
   */
  async drain(timeoutMs: number, logger: Logger): Promise<string[]> {
    if (this.#work.size === 0) return [];
    logger.info({ inFlight: [...this.#work.values()] }, 'waiting for work in progress before stopping');
    const timedOut = sleep(timeoutMs, 'timeout', { ref: false });
    while (this.#work.size > 0) {
      const settled = Promise.allSettled([...this.#work.keys()]).then(() => 'settled');
      if ((await Promise.race([settled, timedOut])) === 'timeout') {
        const left = [...this.#work.values()];
        logger.warn({ inFlight: left, timeoutMs }, 'stopping with work still in progress');
        return left;
      }
    }
    return [];
  }
}

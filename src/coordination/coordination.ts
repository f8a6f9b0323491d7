/**
 * Coordination between replicas: idempotency keys and locks. Redis when REDIS_URL is set, an
 * in-process implementation otherwise; both meet one contract test suite. Durable timers are not
 * here: they live in Postgres (src/timers/), and Redis only accelerates them.
 */

export interface Lock {
  readonly name: string;
  /** Owner token: only the holder can extend or release. */
  readonly token: string;
  /** Extends the lock if still held by this token; false when it was lost. */
  extend(ttlMs: number): Promise<boolean>;
  /** Releases the lock if still held by this token; false when it was lost. */
  release(): Promise<boolean>;
}

/** A timer of the old Redis queue, as it was stored (unreadable entries are left out, and logged). */
export interface LegacyTimer {
  id: string;
  kind: string;
  payload: Record<string, unknown>;
  dueAt: Date;
}

export interface Coordination {
  readonly kind: 'redis' | 'memory';
  /**
   * Claims an idempotency key: true the first time within `ttlMs`, false for a repeat (a Slack
   * retry, a double click, another replica).
   */
  claimOnce(key: string, ttlMs: number): Promise<boolean>;
  /** Forgets a key, so that a failed first attempt can be retried. */
  forget(key: string): Promise<void>;
  /** Takes the named lock for `ttlMs`, or null when someone else holds it. */
  acquireLock(name: string, ttlMs: number): Promise<Lock | null>;
  /**
   * Tells every replica (this one too) that a timer is due at `dueAt` (now or soon): each polls its
   * timer loop then. Best effort, an accelerator only: a lost wake-up costs at most one poll interval.
   */
  publishTimerWake(dueAt: Date): Promise<void>;
  /**
   * Calls `listener` for every wake-up any replica published, until the returned stop is called.
   * With Redis, a connection of its own (pub/sub); it resubscribes by itself after a reconnect.
   */
  subscribeTimerWake(listener: (dueAt: Date) => void): Promise<() => Promise<void>>;
  /**
   * Timers a bot before durable timers left in the Redis queue (`timers:due` / `timers:data`), for
   * start-up to move into Postgres; `forgetLegacyTimers` deletes them once moved. None in memory.
   */
  legacyTimers(): Promise<LegacyTimer[]>;
  forgetLegacyTimers(ids: readonly string[]): Promise<void>;
  /** Round trip latency in ms, for readiness. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

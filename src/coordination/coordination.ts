/**
 * Coordination between replicas: idempotency keys, locks and a due-timer queue. Redis when
 * REDIS_URL is set, an in-process implementation otherwise; both meet one contract test suite.
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

export interface DueTimer {
  id: string;
  /** What the timer is for ("incident.update-reminder", …), for dispatch. */
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
  /** Schedules (or re-schedules, by id) a timer. */
  schedule(timer: DueTimer): Promise<void>;
  cancel(id: string): Promise<boolean>;
  /**
   * Atomically takes up to `limit` timers due at `now`: each due timer is handed to exactly one
   * caller across replicas, and removed from the queue.
   */
  takeDue(now: Date, limit: number): Promise<DueTimer[]>;
  /** Round trip latency in ms, for readiness. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

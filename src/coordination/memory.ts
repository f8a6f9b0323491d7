import { randomUUID } from 'node:crypto';
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { type Clock, systemClock } from '../clock.ts';
import type { Coordination, Lock } from './coordination.ts';
import { CoordinationError } from './errors.ts';
import { epochMillis, nonEmpty, ttlMillis } from './validate.ts';

export interface MemoryCoordinationOptions {
  /** Expiry of idempotency keys and locks is judged against this clock (a ManualClock in tests). */
  clock?: Clock;
}

/** Sweep expired keys and locks after this many writes, so the maps do not grow without bound. */
const SWEEP_EVERY = 256;

/**
 * Coordination inside one process (a single replica, when REDIS_URL is unset). Same semantics as the
 * Redis implementation: every method does its work synchronously before it yields, so concurrent
 * callers in this process see each operation as atomic.
 */
export function createMemoryCoordination(options: MemoryCoordinationOptions = {}): Coordination {
  const clock = options.clock ?? systemClock;
  /** Idempotency key → expiry (epoch ms). */
  const claims = new Map<string, number>();
  /** Lock name → holder. */
  const locks = new Map<string, { token: string; expiresAt: number }>();
  const wakeListeners = new Set<(dueAt: Date) => void>();
  let writes = 0;
  let closed = false;

  const now = (): number => clock.now().getTime();
  const expiry = (ttlMs: number): number => addMilliseconds(clock.now(), ttlMs).getTime();
  const alive = (expiresAt: number): boolean => now() < expiresAt;

  function open(action: string): void {
    if (closed)
      throw new CoordinationError('closed', `cannot ${action}: the in-memory coordinator was closed`);
  }

  function sweep(): void {
    if (++writes % SWEEP_EVERY !== 0) return;
    for (const [key, expiresAt] of claims) if (!alive(expiresAt)) claims.delete(key);
    for (const [name, held] of locks) if (!alive(held.expiresAt)) locks.delete(name);
  }

  function heldBy(name: string, token: string): boolean {
    const held = locks.get(name);
    return held !== undefined && held.token === token && alive(held.expiresAt);
  }

  function makeLock(name: string, token: string): Lock {
    return {
      name,
      token,
      extend: async (ttlMs) => {
        open(`extend lock ${name}`);
        const ttl = ttlMillis(ttlMs, `extend lock ${name}`);
        if (!heldBy(name, token)) return false;
        locks.set(name, { token, expiresAt: expiry(ttl) });
        return true;
      },
      release: async () => {
        open(`release lock ${name}`);
        if (!heldBy(name, token)) return false;
        locks.delete(name);
        return true;
      },
    };
  }

  return {
    kind: 'memory',

    async claimOnce(key, ttlMs) {
      open('claim an idempotency key');
      nonEmpty(key, 'claimOnce: the key');
      const ttl = ttlMillis(ttlMs, `claimOnce ${key}`);
      const expiresAt = claims.get(key);
      if (expiresAt !== undefined && alive(expiresAt)) return false;
      claims.set(key, expiry(ttl));
      sweep();
      return true;
    },

    async forget(key) {
      open('forget an idempotency key');
      claims.delete(nonEmpty(key, 'forget: the key'));
    },

    async acquireLock(name, ttlMs) {
      open('acquire a lock');
      nonEmpty(name, 'acquireLock: the lock name');
      const ttl = ttlMillis(ttlMs, `acquireLock ${name}`);
      const held = locks.get(name);
      if (held !== undefined && alive(held.expiresAt)) return null;
      const token = randomUUID();
      locks.set(name, { token, expiresAt: expiry(ttl) });
      sweep();
      return makeLock(name, token);
    },

    async legacyTimers() {
      return [];
    },

    async forgetLegacyTimers() {},

    async publishTimerWake(dueAt) {
      open('publish a timer wake-up');
      const at = new Date(epochMillis(dueAt, 'publishTimerWake: dueAt'));
      for (const listener of [...wakeListeners]) queueMicrotask(() => listener(at));
    },

    async subscribeTimerWake(listener) {
      open('subscribe to timer wake-ups');
      const own = (at: Date) => listener(at);
      wakeListeners.add(own);
      return async () => {
        wakeListeners.delete(own);
      };
    },

    async ping() {
      open('ping');
      return 0;
    },

    async close() {
      closed = true;
      claims.clear();
      locks.clear();
      wakeListeners.clear();
    },
  };
}

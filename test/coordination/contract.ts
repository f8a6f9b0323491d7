import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Coordination } from '../../src/coordination/coordination.ts';
import { CoordinationError } from '../../src/coordination/errors.ts';

/** What an implementation offers the shared contract suite. */
export interface CoordinationHarness {
  /** The coordinator under test. */
  coordination: Coordination;
  /**
   * Another replica's coordinator over the same state (a second Redis connection); the in-process
   * implementation, being single-replica, hands back the same coordinator.
   */
  replica(): Promise<Coordination>;
  /** Lets `ms` pass for key and lock expiry: real time for Redis, a ManualClock for memory. */
  elapse(ms: number): Promise<void>;
  /** A TTL short enough to wait out in a test. */
  shortTtlMs: number;
  /** Closes every coordinator and deletes what the test stored. */
  cleanup(): Promise<void>;
}

const LONG_TTL = 60_000;

async function until(done: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('not heard in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The one contract both implementations meet. */
export function describeCoordinationContract(name: string, setup: () => Promise<CoordinationHarness>): void {
  describe(`${name} coordination contract`, () => {
    let h: CoordinationHarness;
    let c: Coordination;
    beforeEach(async () => {
      h = await setup();
      c = h.coordination;
    });
    afterEach(async () => {
      await h.cleanup();
    });

    describe('claimOnce', () => {
      it('is true the first time and false for a repeat within the TTL', async () => {
        expect(await c.claimOnce('slack:retry:1', LONG_TTL)).toBe(true);
        expect(await c.claimOnce('slack:retry:1', LONG_TTL)).toBe(false);
        expect(await c.claimOnce('slack:retry:2', LONG_TTL)).toBe(true);
      });

      it('is true again after the TTL has passed', async () => {
        expect(await c.claimOnce('k', h.shortTtlMs)).toBe(true);
        await h.elapse(h.shortTtlMs);
        expect(await c.claimOnce('k', LONG_TTL)).toBe(true);
        expect(await c.claimOnce('k', LONG_TTL)).toBe(false);
      });

      it('is true again after forget, so a failed first attempt can be retried', async () => {
        expect(await c.claimOnce('k', LONG_TTL)).toBe(true);
        await c.forget('k');
        expect(await c.claimOnce('k', LONG_TTL)).toBe(true);
        await c.forget('never-claimed');
      });

      it('is a repeat for another replica', async () => {
        const other = await h.replica();
        expect(await c.claimOnce('k', LONG_TTL)).toBe(true);
        expect(await other.claimOnce('k', LONG_TTL)).toBe(false);
      });

      it('gives exactly one true among 10 concurrent claims on one key', async () => {
        const replicas = [c, await h.replica()];
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) => replicas[i % 2]!.claimOnce('double-click', LONG_TTL)),
        );
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('rejects a TTL that is not a positive number', async () => {
        await expect(c.claimOnce('k', 0)).rejects.toMatchObject({
          name: 'CoordinationError',
          code: 'invalid',
        });
        await expect(c.claimOnce('k', Number.NaN)).rejects.toBeInstanceOf(CoordinationError);
      });
    });

    describe('locks', () => {
      it('is exclusive while held, with a token per holder', async () => {
        const lock = await c.acquireLock('deploy:api', LONG_TTL);
        expect(lock).not.toBeNull();
        expect(lock?.name).toBe('deploy:api');
        expect(lock?.token).toBeTruthy();
        expect(await c.acquireLock('deploy:api', LONG_TTL)).toBeNull();
        expect(await (await h.replica()).acquireLock('deploy:api', LONG_TTL)).toBeNull();
        expect(await c.acquireLock('deploy:web', LONG_TTL)).not.toBeNull();
      });

      it('is free again after release, and a second release is false', async () => {
        const lock = await c.acquireLock('l', LONG_TTL);
        expect(await lock?.release()).toBe(true);
        expect(await lock?.release()).toBe(false);
        const again = await c.acquireLock('l', LONG_TTL);
        expect(again).not.toBeNull();
        expect(again?.token).not.toBe(lock?.token);
      });

      it('expires after its TTL, and the lost lock can be neither extended nor released', async () => {
        const lost = await c.acquireLock('l', h.shortTtlMs);
        await h.elapse(h.shortTtlMs);
        expect(await lost?.extend(LONG_TTL)).toBe(false);
        const taker = await (await h.replica()).acquireLock('l', LONG_TTL);
        expect(taker).not.toBeNull();
        expect(await lost?.release()).toBe(false);
        expect(await lost?.extend(LONG_TTL)).toBe(false);
        // The new holder still holds it.
        expect(await c.acquireLock('l', LONG_TTL)).toBeNull();
        expect(await taker?.release()).toBe(true);
      });

      it('extends while held, so it outlives its first TTL', async () => {
        const lock = await c.acquireLock('l', h.shortTtlMs);
        expect(await lock?.extend(LONG_TTL)).toBe(true);
        await h.elapse(h.shortTtlMs);
        expect(await c.acquireLock('l', LONG_TTL)).toBeNull();
        expect(await lock?.release()).toBe(true);
      });

      it('gives the lock to exactly one of 10 concurrent takers', async () => {
        const replicas = [c, await h.replica()];
        const locks = await Promise.all(
          Array.from({ length: 10 }, (_, i) => replicas[i % 2]!.acquireLock('l', LONG_TTL)),
        );
        expect(locks.filter((l) => l !== null)).toHaveLength(1);
      });
    });

    describe('timer wake-ups', () => {
      it('reach every subscribed replica, the publisher too, until they stop listening', async () => {
        const other = await h.replica();
        const heard: string[] = [];
        const at = new Date('2026-01-05T08:00:30Z');
        const stopMine = await c.subscribeTimerWake((dueAt) => heard.push(`mine ${dueAt.toISOString()}`));
        const stopTheirs = await other.subscribeTimerWake((dueAt) =>
          heard.push(`theirs ${dueAt.toISOString()}`),
        );
        await c.publishTimerWake(at);
        await until(() => heard.length >= 2);
        expect(heard.sort()).toEqual([`mine ${at.toISOString()}`, `theirs ${at.toISOString()}`]);

        await stopTheirs();
        heard.length = 0;
        await other.publishTimerWake(at);
        await until(() => heard.length >= 1);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect(heard).toEqual([`mine ${at.toISOString()}`]);
        await expect(c.publishTimerWake(new Date('nope'))).rejects.toMatchObject({ code: 'invalid' });
        await stopMine();
      });
    });

    it('pings with a round trip in milliseconds', async () => {
      const ms = await c.ping();
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(Number.isFinite(ms)).toBe(true);
    });

    it('refuses work once closed, with a typed error', async () => {
      await c.close();
      await expect(c.claimOnce('k', LONG_TTL)).rejects.toMatchObject({
        name: 'CoordinationError',
        code: 'closed',
      });
      await expect(c.acquireLock('l', LONG_TTL)).rejects.toMatchObject({ code: 'closed' });
      await c.close();
    });
  });
}

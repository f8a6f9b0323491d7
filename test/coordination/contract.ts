import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Coordination, DueTimer } from '../../src/coordination/coordination.ts';
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

const BASE = Date.parse('2026-01-05T08:00:00Z');
const at = (offsetMs: number) => new Date(BASE + offsetMs);
const LONG_TTL = 60_000;

function timer(id: string, offsetMs: number, payload: Record<string, unknown> = {}): DueTimer {
  return { id, kind: 'incident.update-reminder', payload, dueAt: at(offsetMs) };
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

    describe('timers', () => {
      it('takes only due timers, in due order, and removes them', async () => {
        await c.schedule(timer('later', 60_000));
        await c.schedule(timer('second', 2_000, { incident: 'INC-7', n: 2 }));
        await c.schedule(timer('first', 1_000, { nested: { list: [1, 'two'] } }));
        await c.schedule(timer('exactly-now', 5_000));

        const due = await c.takeDue(at(5_000), 10);
        expect(due.map((t) => t.id)).toEqual(['first', 'second', 'exactly-now']);
        expect(due[0]).toEqual({
          id: 'first',
          kind: 'incident.update-reminder',
          payload: { nested: { list: [1, 'two'] } },
          dueAt: at(1_000),
        });
        expect(due[1]?.payload).toEqual({ incident: 'INC-7', n: 2 });
        expect(await c.takeDue(at(5_000), 10)).toEqual([]);
        expect((await c.takeDue(at(60_000), 10)).map((t) => t.id)).toEqual(['later']);
      });

      it('orders timers due at the same moment by id', async () => {
        for (const id of ['c', 'a', 'b']) await c.schedule(timer(id, 1_000));
        expect((await c.takeDue(at(1_000), 10)).map((t) => t.id)).toEqual(['a', 'b', 'c']);
      });

      it('respects the limit, leaving the rest for the next call', async () => {
        for (let i = 0; i < 5; i++) await c.schedule(timer(`t${i}`, i * 10));
        expect((await c.takeDue(at(1_000), 2)).map((t) => t.id)).toEqual(['t0', 't1']);
        expect(await c.takeDue(at(1_000), 0)).toEqual([]);
        expect((await c.takeDue(at(1_000), 10)).map((t) => t.id)).toEqual(['t2', 't3', 't4']);
      });

      it('re-schedules by id: new due time, kind and payload, one entry', async () => {
        await c.schedule(timer('reminder:INC-1', 1_000, { round: 1 }));
        await c.schedule({
          id: 'reminder:INC-1',
          kind: 'incident.escalate',
          payload: { round: 2 },
          dueAt: at(3_000),
        });
        expect(await c.takeDue(at(2_000), 10)).toEqual([]);
        const due = await c.takeDue(at(3_000), 10);
        expect(due).toEqual([
          { id: 'reminder:INC-1', kind: 'incident.escalate', payload: { round: 2 }, dueAt: at(3_000) },
        ]);
      });

      it('cancels by id, true only when there was something to cancel', async () => {
        await c.schedule(timer('a', 1_000));
        await c.schedule(timer('b', 1_000));
        expect(await c.cancel('a')).toBe(true);
        expect(await c.cancel('a')).toBe(false);
        expect(await c.cancel('never')).toBe(false);
        expect((await c.takeDue(at(1_000), 10)).map((t) => t.id)).toEqual(['b']);
      });

      it('hands back a copy of the payload, not the caller’s object', async () => {
        const payload: Record<string, unknown> = { step: 1 };
        await c.schedule(timer('t', 0, payload));
        payload.step = 99;
        expect((await c.takeDue(at(0), 1))[0]?.payload).toEqual({ step: 1 });
      });

      it('rejects a timer it could not hand back', async () => {
        const invalid = { code: 'invalid' };
        await expect(c.schedule({ ...timer('', 0) })).rejects.toMatchObject(invalid);
        await expect(c.schedule({ ...timer('t', 0), kind: '' })).rejects.toMatchObject(invalid);
        await expect(c.schedule({ ...timer('t', 0), dueAt: new Date('nope') })).rejects.toMatchObject(
          invalid,
        );
        await expect(c.schedule(timer('t', 0, { big: 1n }))).rejects.toMatchObject(invalid);
        await expect(c.takeDue(at(0), -1)).rejects.toMatchObject(invalid);
        expect(await c.takeDue(at(0), 10)).toEqual([]);
      });

      it('gives each due timer to exactly one of two replicas taking concurrently', async () => {
        const other = await h.replica();
        const ids = Array.from({ length: 60 }, (_, i) => `t${String(i).padStart(2, '0')}`);
        await Promise.all(ids.map((id, i) => c.schedule(timer(id, i))));
        await c.schedule(timer('not-yet', 10_000));

        const drain = async (replica: Coordination): Promise<string[]> => {
          const got: string[] = [];
          for (;;) {
            const batch = await replica.takeDue(at(1_000), 7);
            if (batch.length === 0) return got;
            got.push(...batch.map((t) => t.id));
          }
        };
        const [mine, theirs] = await Promise.all([drain(c), drain(other)]);
        const all = [...mine, ...theirs];
        expect(all).toHaveLength(ids.length);
        expect(new Set(all)).toEqual(new Set(ids));
        expect((await c.takeDue(at(10_000), 10)).map((t) => t.id)).toEqual(['not-yet']);
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
      await expect(c.takeDue(at(0), 1)).rejects.toMatchObject({ code: 'closed' });
      await c.close();
    });
  });
}

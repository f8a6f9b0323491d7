/**
 * Durable timers (src/timers/, src/store/repositories/timers.ts) against the real Postgres, in virtual
 * time: a ManualClock decides what is due, the tests call `poll()` after moving it. The loops' own
 * interval is an hour of real time, so nothing polls behind the tests' backs.
 */
import { addMilliseconds } from 'date-fns/addMilliseconds';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createRedisCoordination } from '../../src/coordination/redis.ts';
import { createLogger } from '../../src/logger.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres, type PostgresDb } from '../../src/store/postgres.ts';
import { TimerRepository, type TimerSpec } from '../../src/store/repositories/timers.ts';
import { startTimerLoop, type TimerLoopOptions, type TimerPump } from '../../src/timers/timer-loop.ts';
import type { DueTimer, TimerHandler } from '../../src/timers/timers.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';
import { openPostgresForTest, type TestDatabase } from '../store/databases.ts';

const logger = createLogger({ level: 'silent' });
const LEASE_MS = 30_000;
const HOUR = 3_600_000;

let database: TestDatabase;
let clock: ManualClock;
let repo: TimerRepository;
const loops: TimerPump[] = [];
const extraDbs: Db[] = [];

beforeEach(async () => {
  database = await openPostgresForTest();
  await migrate(database.db);
  clock = new ManualClock('2026-01-05T08:00:00Z');
  repo = new TimerRepository(database.db, clock);
});

afterEach(async () => {
  await Promise.all(loops.splice(0).map((l) => l.stop()));
  await Promise.all(extraDbs.splice(0).map((db) => db.close().catch(() => {})));
  await database.dispose();
});

const at = (offsetMs: number): Date => addMilliseconds(new Date('2026-01-05T08:00:00Z'), offsetMs);

function timer(id: string, dueInMs: number, extra: Partial<TimerSpec> = {}): TimerSpec {
  return { id, kind: 'test.ping', payload: { id }, dueAt: at(dueInMs), ...extra };
}

function loop(
  handlers: Record<string, TimerHandler>,
  options: Partial<TimerLoopOptions> & { db?: Db } = {},
): TimerPump {
  const { db = database.db, ...rest } = options;
  const pump = startTimerLoop({
    timers: new TimerRepository(db, clock),
    clock,
    intervalMs: HOUR,
    leaseMs: LEASE_MS,
    logger,
    handlers,
    ...rest,
  });
  loops.push(pump);
  return pump;
}

/** A handler whose runs stay open until released. */
function gate(): { handler: TimerHandler; started: Promise<DueTimer>; release(): void; runs: DueTimer[] } {
  let release!: () => void;
  let started!: (t: DueTimer) => void;
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const runs: DueTimer[] = [];
  return {
    runs,
    started: new Promise((resolve) => {
      started = resolve;
    }),
    release,
    handler: async (t) => {
      runs.push(t);
      started(t);
      await released;
    },
  };
}

async function until(what: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await what())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('TimerRepository', () => {
  it('schedules, moves by id (a new version, attempts reset), cancels and cancels by subject', async () => {
    await repo.schedule(timer('a', 1_000, { subject: 'incident:1' }));
    await repo.schedule(timer('b', 2_000, { subject: 'incident:1' }));
    await repo.schedule(
      timer('c', 3_000, { subject: 'incident:2', payload: { nested: { list: [1, 'x'] } } }),
    );
    expect(await repo.get('a')).toMatchObject({
      id: 'a',
      kind: 'test.ping',
      subject: 'incident:1',
      payload: { id: 'a' },
      dueAt: at(1_000),
      version: 1,
      attempts: 0,
      leaseOwner: null,
      leaseUntil: null,
      lastError: null,
    });
    expect((await repo.get('c'))?.payload).toEqual({ nested: { list: [1, 'x'] } });

    // Claimed, then moved: the move is a new version, unclaimed, with its attempts reset.
    clock.set(at(1_000));
    expect((await repo.claimDue(clock.now(), 10, 'me', at(31_000))).map((t) => t.id)).toEqual(['a']);
    await repo.schedule(
      timer('a', 10_000, { kind: 'test.other', subject: 'incident:1', payload: { moved: true } }),
    );
    expect(await repo.get('a')).toMatchObject({
      kind: 'test.other',
      payload: { moved: true },
      dueAt: at(10_000),
      version: 2,
      attempts: 0,
      leaseOwner: null,
      leaseUntil: null,
    });
    expect(await repo.list({ subject: 'incident:1' })).toHaveLength(2);

    expect(await repo.cancel('b')).toBe(true);
    expect(await repo.cancel('b')).toBe(false);
    expect(await repo.cancel('never')).toBe(false);
    expect(await repo.cancelSubject('incident:1')).toBe(1);
    expect(await repo.cancelSubject('incident:1')).toBe(0);
    expect((await repo.list()).map((t) => t.id)).toEqual(['c']);
    expect(await repo.nextDueAt()).toEqual(at(3_000));
  });

  it('claims only due timers whose lease is free, in due order (then by id), each once', async () => {
    await repo.schedule(timer('later', 60_000));
    await repo.schedule(timer('second', 2_000));
    await repo.schedule(timer('first', 1_000));
    await repo.schedule(timer('now-b', 5_000));
    await repo.schedule(timer('now-a', 5_000));
    const now = at(5_000);
    const claimed = await repo.claimDue(now, 10, 'me', addMilliseconds(now, LEASE_MS));
    expect(claimed.map((t) => t.id)).toEqual(['first', 'second', 'now-a', 'now-b']);
    expect(claimed[0]).toMatchObject({ attempts: 1, leaseOwner: 'me', leaseUntil: at(35_000) });
    // Leased: nobody else gets them, even well past their due time, until the lease ran out.
    expect(await repo.claimDue(at(34_999), 10, 'other', at(60_000))).toEqual([]);
    const again = await repo.claimDue(at(35_000), 2, 'other', at(65_000));
    expect(again.map((t) => [t.id, t.attempts, t.leaseOwner])).toEqual([
      ['first', 2, 'other'],
      ['second', 2, 'other'],
    ]);
  });
});

describe('the timer loop', () => {
  it('runs only what is due, in due order, and deletes each after its handler ran', async () => {
    const ran: string[] = [];
    const pump = loop({ 'test.ping': async (t) => void ran.push(t.id) });
    await repo.schedule(timer('c', 3_000));
    await repo.schedule(timer('a', 1_000));
    await repo.schedule(timer('b', 2_000));
    await repo.schedule(timer('z', HOUR));

    expect(await pump.poll()).toEqual({ taken: 0, handled: 0, failed: 0 });
    clock.set(at(2_000));
    expect(await pump.poll()).toEqual({ taken: 2, handled: 2, failed: 0 });
    expect(ran).toEqual(['a', 'b']);
    clock.set(at(3_000));
    await pump.poll();
    expect(ran).toEqual(['a', 'b', 'c']);
    expect((await repo.list()).map((t) => t.id)).toEqual(['z']);
  });

  it('hands the handler the timer with its attempt', async () => {
    const seen: DueTimer[] = [];
    const pump = loop({ 'test.ping': async (t) => void seen.push(t) });
    await repo.schedule(timer('t', 0, { subject: 'incident:9', payload: { n: 1 } }));
    await pump.poll();
    expect(seen).toEqual([
      { id: 't', kind: 'test.ping', subject: 'incident:9', payload: { n: 1 }, dueAt: at(0), attempt: 1 },
    ]);
  });

  it('retries a handler that throws later, backing off, with its error recorded, until it succeeds', async () => {
    let failures = 2;
    const attempts: number[] = [];
    const pump = loop({
      'test.ping': async (t) => {
        attempts.push(t.attempt);
        if (failures-- > 0) throw new Error(`Slack said ratelimited (${t.attempt})`);
      },
    });
    await repo.schedule(timer('flaky', 0));

    expect(await pump.poll()).toEqual({ taken: 1, handled: 0, failed: 1 });
    expect(await repo.get('flaky')).toMatchObject({
      dueAt: at(LEASE_MS),
      attempts: 1,
      leaseOwner: null,
      leaseUntil: null,
      lastError: 'Slack said ratelimited (1)',
    });
    clock.set(at(LEASE_MS - 1));
    expect((await pump.poll()).taken).toBe(0);
    clock.set(at(LEASE_MS));
    expect(await pump.poll()).toEqual({ taken: 1, handled: 0, failed: 1 });
    // Backs off further: lease × attempts.
    expect(await repo.get('flaky')).toMatchObject({
      dueAt: at(LEASE_MS + 2 * LEASE_MS),
      attempts: 2,
      lastError: 'Slack said ratelimited (2)',
    });
    clock.set(at(3 * LEASE_MS - 1));
    expect((await pump.poll()).taken).toBe(0);
    clock.set(at(3 * LEASE_MS));
    expect(await pump.poll()).toEqual({ taken: 1, handled: 1, failed: 0 });
    expect(attempts).toEqual([1, 2, 3]);
    expect(await repo.get('flaky')).toBeNull();
  });

  it('never backs off more than 15 minutes', async () => {
    const pump = loop(
      {
        'test.ping': async () => {
          throw new Error('down');
        },
      },
      { leaseMs: 10 * 60_000 },
    );
    await repo.schedule(timer('t', 0));
    await pump.poll();
    expect((await repo.get('t'))?.dueAt).toEqual(at(10 * 60_000));
    clock.set(at(10 * 60_000));
    await pump.poll();
    expect((await repo.get('t'))?.dueAt).toEqual(at(25 * 60_000));
  });

  it('does not delete a timer re-scheduled while an older version ran, nor retry the old one over it', async () => {
    const g = gate();
    const pump = loop({ 'test.ping': g.handler });
    await repo.schedule(timer('reminder', 0, { payload: { round: 1 } }));
    const polled = pump.poll();
    await g.started;
    // While round 1 runs, the timer moves (a new update resets the reminder).
    await repo.schedule(timer('reminder', 15 * 60_000, { payload: { round: 2 } }));
    g.release();
    expect(await polled).toEqual({ taken: 1, handled: 1, failed: 0 });
    expect(await repo.get('reminder')).toMatchObject({
      version: 2,
      payload: { round: 2 },
      dueAt: at(15 * 60_000),
      attempts: 0,
      leaseOwner: null,
    });

    // The same for a failing old version: its retry does not touch the new one.
    let fail = true;
    const failing = loop({
      'test.ping': async () => {
        if (fail) {
          await repo.schedule(timer('reminder', HOUR, { payload: { round: 3 } }));
          throw new Error('old round failed');
        }
      },
    });
    clock.set(at(15 * 60_000));
    expect(await failing.poll()).toEqual({ taken: 1, handled: 0, failed: 1 });
    expect(await repo.get('reminder')).toMatchObject({
      version: 3,
      payload: { round: 3 },
      dueAt: at(HOUR),
      lastError: null,
    });
    fail = false;
  });

  it('lets a handler re-schedule its own timer (the next round) without it being deleted', async () => {
    let rounds = 0;
    const pump = loop({
      'test.ping': async (t) => {
        rounds++;
        if (rounds < 3)
          await repo.schedule({ ...timer(t.id, 0), dueAt: addMilliseconds(clock.now(), 10_000) });
      },
    });
    await repo.schedule(timer('watch', 0));
    for (let i = 0; i < 4; i++) {
      await pump.poll();
      clock.advance(10_000);
    }
    expect(rounds).toBe(3);
    expect(await repo.get('watch')).toBeNull();
  });

  it('runs each of N timers exactly once with two replicas polling concurrently', async () => {
    const N = 60;
    const runs = new Map<string, string[]>();
    const handlerOf =
      (owner: string): TimerHandler =>
      async (t) => {
        runs.set(t.id, [...(runs.get(t.id) ?? []), owner]);
        // Some work, so the two loops' batches overlap in time.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 5));
      };
    const a = loop({ 'test.ping': handlerOf('A') }, { owner: 'replica-a', batchSize: 7 });
    const b = loop({ 'test.ping': handlerOf('B') }, { owner: 'replica-b', batchSize: 7, db: database.peer });
    const ids = Array.from({ length: N }, (_, i) => `t${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id, i) => repo.schedule(timer(id, i * 10))));
    await repo.schedule(timer('not-yet', HOUR));

    clock.set(at(N * 10));
    const results = await Promise.all([a.poll(), b.poll(), a.poll(), b.poll()]);
    expect(results.reduce((sum, r) => sum + r.handled, 0)).toBe(N);
    expect([...runs.keys()].sort()).toEqual(ids);
    for (const [id, owners] of runs) expect(owners, id).toHaveLength(1);
    // Both took part (batches of 7 over 60 timers).
    expect(new Set([...runs.values()].flat())).toEqual(new Set(['A', 'B']));
    expect((await repo.list()).map((t) => t.id)).toEqual(['not-yet']);
  });

  it('runs a timer again on another replica once the lease of a replica killed mid-handler ran out, not before', async () => {
    // Replica A: its own connections, a handler that never returns (killed with -9 while it ran).
    const dbA = await openPostgres(TEST_DATABASE_URL, { schema: (database.db as PostgresDb).schema, max: 2 });
    extraDbs.push(dbA);
    const hung = gate();
    const a = startTimerLoop({
      timers: new TimerRepository(dbA, clock),
      clock,
      intervalMs: HOUR,
      leaseMs: LEASE_MS,
      logger,
      owner: 'replica-a',
      handlers: { 'test.ping': hung.handler },
    });
    await repo.schedule(timer('escalate', 0, { payload: { level: 2 } }));
    void a.poll();
    await hung.started;
    expect(await repo.get('escalate')).toMatchObject({ leaseOwner: 'replica-a', leaseUntil: at(LEASE_MS) });
    // The process is gone: no more polls, no lease renewal, its connections dropped.
    await dbA.close();

    const ranOnB: DueTimer[] = [];
    const b = loop({ 'test.ping': async (t) => void ranOnB.push(t) }, { owner: 'replica-b' });
    clock.set(at(LEASE_MS - 1));
    expect(await b.poll()).toEqual({ taken: 0, handled: 0, failed: 0 });
    expect(ranOnB).toEqual([]);
    clock.set(at(LEASE_MS));
    expect(await b.poll()).toEqual({ taken: 1, handled: 1, failed: 0 });
    expect(ranOnB.map((t) => [t.id, t.attempt, t.payload])).toEqual([['escalate', 2, { level: 2 }]]);
    expect(await repo.get('escalate')).toBeNull();
    hung.release();
  });

  it('after a restart, a new loop over the same database runs what came due while it was down', async () => {
    const before: string[] = [];
    const first = loop({ 'test.ping': async (t) => void before.push(t.id) }, { owner: 'boot-1' });
    await repo.schedule(timer('early', 1_000));
    await repo.schedule(timer('while-down-1', 60_000));
    await repo.schedule(timer('while-down-2', 120_000));
    await repo.schedule(timer('future', 10 * HOUR));
    clock.set(at(1_000));
    await first.poll();
    await first.stop();
    expect(before).toEqual(['early']);

    clock.set(at(HOUR)); // down for an hour
    const after: string[] = [];
    const second = loop({ 'test.ping': async (t) => void after.push(t.id) }, { owner: 'boot-2' });
    expect(await second.poll()).toEqual({ taken: 2, handled: 2, failed: 0 });
    expect(after).toEqual(['while-down-1', 'while-down-2']);
    expect((await repo.list()).map((t) => t.id)).toEqual(['future']);
  });

  it('renews the lease while a long handler runs, so no other replica takes it', async () => {
    // A 3 s lease is renewed every second of real time, from the clock's now.
    const leaseMs = 3_000;
    const slow = gate();
    const a = loop({ 'test.ping': slow.handler }, { owner: 'replica-a', leaseMs });
    const ranOnB: string[] = [];
    const b = loop(
      { 'test.ping': async (t) => void ranOnB.push(t.id) },
      { owner: 'replica-b', leaseMs, db: database.peer },
    );
    await repo.schedule(timer('long', 0));
    const polled = a.poll();
    await slow.started;
    expect((await repo.get('long'))?.leaseUntil).toEqual(at(leaseMs));

    clock.set(at(2_000));
    await until(async () => ((await repo.get('long'))?.leaseUntil?.getTime() ?? 0) > at(leaseMs).getTime());
    clock.set(at(leaseMs + 500)); // past the first lease: without the renewal B would take it
    expect((await b.poll()).taken).toBe(0);
    expect(await repo.get('long')).toMatchObject({ leaseOwner: 'replica-a', attempts: 1 });

    slow.release();
    expect(await polled).toEqual({ taken: 1, handled: 1, failed: 0 });
    expect(slow.runs).toHaveLength(1);
    expect(ranOnB).toEqual([]);
    expect(await repo.get('long')).toBeNull();
  });

  it('leaves a timer of a kind it has no handler for to a replica that has one (a rolling upgrade)', async () => {
    const old = loop({ 'test.ping': async () => {} }, { owner: 'old-version' });
    await repo.schedule(timer('new-kind', 0, { kind: 'incident.escalate' }));
    // Not claimed, not pushed back: it stays due for the newer replica.
    expect(await old.poll()).toEqual({ taken: 0, handled: 0, failed: 0 });
    expect(await repo.get('new-kind')).toMatchObject({
      kind: 'incident.escalate',
      dueAt: at(0),
      attempts: 0,
      leaseOwner: null,
    });

    const ran: string[] = [];
    const upgraded = loop(
      { 'incident.escalate': async (t) => void ran.push(t.id) },
      { owner: 'new-version' },
    );
    expect(await upgraded.poll()).toEqual({ taken: 1, handled: 1, failed: 0 });
    expect(ran).toEqual(['new-kind']);
    expect(await repo.get('new-kind')).toBeNull();
  });

  it('a slow handler does not hold up the timers due after it (the loop’s own polls do not wait)', async () => {
    const slow = gate();
    const ran: string[] = [];
    const ticking = loop(
      {
        'test.slow': slow.handler,
        'test.ping': async (t) => void ran.push(t.id),
      },
      { intervalMs: 20 },
    );
    await repo.schedule(timer('slow', 0, { kind: 'test.slow' }));
    await until(async () => (await repo.get('slow'))?.leaseOwner !== null);
    await repo.schedule(timer('after', 0));
    await until(async () => ran.includes('after'));
    expect((await repo.get('slow'))?.leaseOwner).not.toBeNull();
    slow.release();
    await until(async () => (await repo.get('slow')) === null);
    await ticking.stop();
  });

  it('a claim whose lease was taken over, or whose timer was cancelled and scheduled again, completes nothing', async () => {
    await repo.schedule(timer('t', 0));
    const [first] = await repo.claimDue(clock.now(), 1, 'a', at(LEASE_MS));
    if (!first) throw new Error('not claimed');
    // Cancelled and scheduled again while A's handler ran: a fresh row (version 1 again), unclaimed.
    await repo.cancel('t');
    await repo.schedule(timer('t', 5_000));
    expect(await repo.complete('t', first.version, 'a')).toBe(false);
    await repo.retryLater('t', first.version, 'a', at(60_000), 'boom');
    expect(await repo.get('t')).toMatchObject({ dueAt: at(5_000), leaseOwner: null, lastError: null });
    // Taken over by B after A's lease: A's late completion leaves B's claim alone.
    clock.set(at(5_000));
    const [b] = await repo.claimDue(clock.now(), 1, 'b', at(35_000));
    expect(await repo.complete('t', b?.version ?? 0, 'a')).toBe(false);
    expect((await repo.get('t'))?.leaseOwner).toBe('b');
    expect(await repo.complete('t', b?.version ?? 0, 'b')).toBe(true);
  });

  it('claims in batches until nothing due is left, in one poll', async () => {
    const ran: string[] = [];
    const pump = loop({ 'test.ping': async (t) => void ran.push(t.id) }, { batchSize: 4 });
    for (let i = 0; i < 10; i++) await repo.schedule(timer(`t${i}`, i));
    clock.set(at(100));
    expect(await pump.poll()).toEqual({ taken: 10, handled: 10, failed: 0 });
    expect(ran).toEqual(Array.from({ length: 10 }, (_, i) => `t${i}`));
  });

  it('polls by itself on its interval, and at once when nudged', async () => {
    const ran: string[] = [];
    const ticking = loop({ 'test.ping': async (t) => void ran.push(t.id) }, { intervalMs: 50 });
    await repo.schedule(timer('tick', 0));
    await until(async () => ran.includes('tick'));
    await ticking.stop();

    const nudged = loop({ 'test.ping': async (t) => void ran.push(t.id) });
    await repo.schedule(timer('nudge', 0));
    nudged.nudge();
    await until(async () => ran.includes('nudge'));
  });

  it('wakes on Redis when another replica schedules a timer due now, without waiting for its interval', async () => {
    const keyPrefix = `test:timers:${crypto.randomUUID()}:`;
    const publisher = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger });
    const listener = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger });
    try {
      const ran: string[] = [];
      // Replica B polls once an hour: only a wake-up makes it run a timer now.
      const b = loop({ 'test.ping': async (t) => void ran.push(t.id) }, { owner: 'replica-b' });
      const stop = await listener.subscribeTimerWake((dueAt) => b.nudge(dueAt));

      // Replica A scheduled (and committed) a timer due now, then said so: it polls, B is woken.
      const published: Date[] = [];
      const a = loop(
        {},
        {
          owner: 'replica-a',
          publishWake: async (dueAt) => {
            published.push(dueAt);
            await publisher.publishTimerWake(dueAt);
          },
        },
      );
      a.scheduled(at(HOUR * 2)); // beyond the interval: nothing to say
      await a.stop();
      a.scheduled(clock.now()); // a stopped loop says nothing either
      expect(published).toEqual([]);

      await repo.schedule(timer('now', 0));
      await publisher.publishTimerWake(clock.now());
      await until(async () => ran.includes('now'));
      expect(await repo.get('now')).toBeNull();

      // A wake-up for a time beyond B's interval changes nothing.
      await repo.schedule(timer('later', HOUR * 2));
      await publisher.publishTimerWake(at(HOUR * 2));
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(ran).toEqual(['now']);
      await stop();

      // And scheduled() on a running loop publishes.
      const c = loop({}, { owner: 'replica-c', publishWake: async (dueAt) => void published.push(dueAt) });
      c.scheduled(clock.now());
      expect(published).toEqual([clock.now()]);
    } finally {
      await publisher.close();
      await listener.close();
    }
  });
});

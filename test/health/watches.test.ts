import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { configSchema, type RunbookConfig } from '../../src/config/schema.ts';
import {
  NoHealthChecksError,
  WatchAlreadyRunningError,
  WatchesStoppingError,
  WatchTooFrequentError,
} from '../../src/health/errors.ts';
import { HealthService, type WatchResult } from '../../src/health/service.ts';
import type { HealthReport } from '../../src/health/types.ts';
import {
  HEALTH_TIMERS,
  HealthWatches,
  type HealthWatchRecord,
  MIN_WATCH_INTERVAL_MS,
  WATCH_OPEN_GRACE_MS,
  type WatchNotifier,
  watchTimerId,
} from '../../src/health/watches.ts';
import { createLogger } from '../../src/logger.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { TimerRepository } from '../../src/store/repositories/timers.ts';
import { startTimerLoop, type TimerPump } from '../../src/timers/timer-loop.ts';
import { bindTimerHandlers } from '../../src/timers/timers.ts';
import { openPostgresForTest, type TestDatabase } from '../store/databases.ts';
import { FLEET_HEALTHY, type LocalServer, sendJson, startHttpServer } from './helpers/servers.ts';

let server: LocalServer;
const hits = new Map<string, number>();

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    if (path.startsWith('/recovers-after-2/'))
      return count <= 2 ? sendJson(res, 503, { status: 'unhealthy' }) : sendJson(res, 200, FLEET_HEALTHY);
    sendJson(res, 503, { status: 'unhealthy' });
  });
});
afterAll(() => server.close());

const platform = { kind: 'kubernetes', namespace: 'ops', deployment: 'app' };

function config(): RunbookConfig {
  return configSchema.parse({
    services: [
      {
        name: 'flaky',
        platform,
        healthChecks: [{ type: 'http', url: `${server.url}/recovers-after-2/health` }],
      },
      { name: 'dead', platform, healthChecks: [{ type: 'http', url: `${server.url}/down/health` }] },
      { name: 'bare', platform, healthChecks: [] },
    ],
  });
}

const logger = createLogger({ level: 'silent' });

/** A notifier as the Slack layer (or a web page) would implement it: here it writes down what it is told. */
class RecordingNotifier implements WatchNotifier {
  readonly said: string[] = [];
  readonly refs: (string | null)[] = [];
  result: WatchResult | undefined;
  error: unknown;
  #openError: unknown;
  #roundError: unknown;
  #openHangs: boolean;

  constructor(options: { openError?: unknown; roundError?: unknown; openHangs?: boolean } = {}) {
    this.#openError = options.openError;
    this.#roundError = options.roundError;
    this.#openHangs = options.openHangs ?? false;
  }

  async opened(): Promise<string> {
    if (this.#openHangs) await new Promise(() => {});
    if (this.#openError !== undefined) throw this.#openError;
    this.said.push('opened');
    return 'ts-1';
  }

  async round(watch: HealthWatchRecord, report: HealthReport, round: number): Promise<void> {
    this.refs.push(watch.messageRef);
    this.said.push(`${round}:${report.status}`);
    if (this.#roundError !== undefined) throw this.#roundError;
  }

  async finished(watch: HealthWatchRecord, result: WatchResult): Promise<void> {
    this.refs.push(watch.messageRef);
    this.said.push(`${result.rounds}:${result.report.status}`, `finished:${result.outcome}`);
    this.result = result;
  }

  async stopped(watch: HealthWatchRecord): Promise<void> {
    this.said.push(`stopped by ${watch.endedBy}`);
  }

  async failed(_watch: HealthWatchRecord, error: unknown): Promise<void> {
    this.said.push('failed');
    this.error = error;
  }
}

const spec = { environment: 'production', intervalMs: 10_000, maxDurationMs: 120_000, scope: 'C1' };

let database: TestDatabase;
let clock: ManualClock;
const loops: TimerPump[] = [];

beforeEach(async () => {
  database = await openPostgresForTest();
  await migrate(database.db);
  clock = new ManualClock();
  hits.clear();
});
afterEach(async () => {
  await Promise.all(loops.splice(0).map((l) => l.stop()));
  await database.dispose();
});

/** A replica: its watches and its timer loop (driven by hand: poll() after moving the clock). */
function replica(notifier: WatchNotifier, db: Db = database.db, owner = 'replica-a') {
  const health = new HealthService({ config: config(), clock, logger });
  const watches = new HealthWatches({ health, db, clock, logger });
  const timers = startTimerLoop({
    timers: new TimerRepository(db, clock),
    clock,
    intervalMs: 3_600_000,
    owner,
    logger,
    handlers: bindTimerHandlers(HEALTH_TIMERS, { watches, notifier, logger }),
  });
  loops.push(timers);
  return { watches, timers };
}

/** Runs the rounds due now, then moves the clock one interval, `times` times. */
async function rounds(timers: TimerPump, times: number): Promise<void> {
  for (let i = 0; i < times; i++) {
    await timers.poll();
    clock.advance(10_000);
  }
}

describe('HealthWatches (the domain part of a watch, no Slack)', () => {
  it('reports each round and the verdict through its notifier, each round a durable timer in virtual time', async () => {
    const notifier = new RecordingNotifier();
    const { watches, timers } = replica(notifier);
    const watch = await watches.start({ ...spec, service: 'flaky' }, notifier);
    expect(watch).toMatchObject({ state: 'running', messageRef: 'ts-1', service: 'flaky', scope: 'C1' });
    expect(await new TimerRepository(database.db, clock).get(watchTimerId(watch.id))).toMatchObject({
      kind: 'health.watch-round',
      dueAt: clock.now(),
    });
    await rounds(timers, 3);
    expect(notifier.said).toEqual(['opened', '1:unhealthy', '2:unhealthy', '3:healthy', 'finished:healthy']);
    expect(notifier.result).toMatchObject({ outcome: 'healthy', rounds: 3, elapsedMs: 20_000 });
    expect(await watches.repo.get(watch.id)).toMatchObject({
      state: 'healthy',
      rounds: 3,
      lastStatus: 'healthy',
    });
    expect(await watches.running()).toEqual([]);
    expect(await new TimerRepository(database.db, clock).list()).toEqual([]);
  });

  it('gives up once `maxDurationMs` has passed, with the last report', async () => {
    const notifier = new RecordingNotifier();
    const { watches, timers } = replica(notifier);
    await watches.start({ ...spec, service: 'dead', maxDurationMs: 30_000 }, notifier);
    await rounds(timers, 5);
    expect(notifier.said).toEqual([
      'opened',
      '1:unhealthy',
      '2:unhealthy',
      '3:unhealthy',
      'finished:deadline',
    ]);
    expect(notifier.result).toMatchObject({ outcome: 'deadline', rounds: 3, elapsedMs: 20_000 });
  });

  it('keeps one running watch of a service per scope across replicas; close() refuses new ones here and keeps the running', async () => {
    const notifier = new RecordingNotifier();
    const a = replica(notifier);
    const b = replica(notifier, database.peer, 'replica-b');
    const dead = { ...spec, service: 'dead', intervalMs: 60_000, maxDurationMs: 600_000 };
    await a.watches.start(dead, notifier);
    await a.watches.start({ ...dead, scope: 'C2' }, notifier);
    expect(await a.watches.running()).toHaveLength(2);

    const again = new RecordingNotifier();
    await expect(b.watches.start(dead, again)).rejects.toThrow(WatchAlreadyRunningError);
    await expect(a.watches.start(dead, again)).rejects.toThrow(WatchAlreadyRunningError);
    expect(again.said).toEqual([]);

    a.watches.close();
    await expect(a.watches.start({ ...dead, scope: 'C3' }, again)).rejects.toThrow(WatchesStoppingError);
    expect(again.said).toEqual([]);
    expect(await b.watches.running()).toHaveLength(2);
  });

  it(`guards the minimum interval (${MIN_WATCH_INTERVAL_MS} ms) and the service, before anything is said`, async () => {
    const notifier = new RecordingNotifier();
    const { watches } = replica(notifier);
    await expect(watches.start({ ...spec, service: 'dead', intervalMs: 100 }, notifier)).rejects.toThrow(
      WatchTooFrequentError,
    );
    await expect(watches.start({ ...spec, service: 'bare' }, notifier)).rejects.toThrow(NoHealthChecksError);
    expect(notifier.said).toEqual([]);
    expect(await watches.running()).toEqual([]);
  });

  it('start() fails with the notifier when it cannot open: the watch ends, no round runs, another can start', async () => {
    const notifier = new RecordingNotifier({ openError: new Error('channel_not_found') });
    const { watches, timers } = replica(notifier);
    await expect(watches.start({ ...spec, service: 'dead' }, notifier)).rejects.toThrow('channel_not_found');
    await rounds(timers, 2);
    expect(notifier.said).toEqual([]);
    expect(await watches.running()).toEqual([]);
    expect(await new TimerRepository(database.db, clock).list()).toEqual([]);
    await watches.start({ ...spec, service: 'dead' }, new RecordingNotifier());
  });

  it('a notifier failing a round ends the watch: it is told why', async () => {
    const notifier = new RecordingNotifier({ roundError: new Error('message_not_found') });
    const { watches, timers } = replica(notifier);
    const watch = await watches.start({ ...spec, service: 'dead' }, notifier);
    await rounds(timers, 3);
    expect(notifier.said).toEqual(['opened', '1:unhealthy', 'failed']);
    expect(String(notifier.error)).toContain('message_not_found');
    expect(await watches.repo.get(watch.id)).toMatchObject({
      state: 'failed',
      endReason: 'message_not_found',
    });
    expect(await new TimerRepository(database.db, clock).list()).toEqual([]);
  });

  it('stop() ends the watch and cancels its timer: no round runs after it', async () => {
    const notifier = new RecordingNotifier();
    const { watches, timers } = replica(notifier);
    const watch = await watches.start({ ...spec, service: 'dead' }, notifier);
    await rounds(timers, 2);
    expect(await watches.stop(watch.id, 'U_BOB', notifier)).toMatchObject({ outcome: 'stopped' });
    expect(await watches.stop(watch.id, 'U_BOB', notifier)).toEqual({ outcome: 'not-running' });
    await rounds(timers, 3);
    expect(notifier.said).toEqual(['opened', '1:unhealthy', '2:unhealthy', 'stopped by U_BOB']);
    expect(await watches.repo.get(watch.id)).toMatchObject({ state: 'stopped', endedBy: 'U_BOB', rounds: 2 });
    expect(await new TimerRepository(database.db, clock).list()).toEqual([]);
  });

  it('another replica goes on with a watch whose replica stopped, saying its rounds in the same message', async () => {
    const onA = new RecordingNotifier();
    const a = replica(onA);
    const watch = await a.watches.start({ ...spec, service: 'flaky' }, onA);
    await rounds(a.timers, 1);
    await a.timers.stop(); // replica A is gone
    expect(onA.said).toEqual(['opened', '1:unhealthy']);

    const onB = new RecordingNotifier();
    const b = replica(onB, database.peer, 'replica-b');
    await rounds(b.timers, 3);
    expect(onB.said).toEqual(['2:unhealthy', '3:healthy', 'finished:healthy']);
    expect(onB.refs).toEqual(['ts-1', 'ts-1']);
    expect(onB.result).toMatchObject({ outcome: 'healthy', rounds: 3, elapsedMs: 20_000 });
    expect(await b.watches.repo.get(watch.id)).toMatchObject({ state: 'healthy' });
  });

  it('a watch whose replica died before its message was posted is ended after a grace, not watched forever', async () => {
    const hangs = new RecordingNotifier({ openHangs: true });
    const a = replica(hangs);
    void a.watches.start({ ...spec, service: 'dead' }, hangs);
    await expect.poll(async () => (await a.watches.running()).length).toBe(1);

    const notifier = new RecordingNotifier();
    const b = replica(notifier, database.peer, 'replica-b');
    await expect(b.watches.start({ ...spec, service: 'dead' }, notifier)).rejects.toThrow(
      WatchAlreadyRunningError,
    );
    clock.advance(WATCH_OPEN_GRACE_MS);
    await b.timers.poll();
    expect(await b.watches.running()).toEqual([]);
    await b.watches.start({ ...spec, service: 'dead' }, notifier);
    await b.timers.poll();
    expect(notifier.said).toEqual(['opened', '1:unhealthy']);
  });
});

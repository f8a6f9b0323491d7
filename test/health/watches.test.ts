import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
import { HealthWatches, MIN_WATCH_INTERVAL_MS, type WatchObserver } from '../../src/health/watches.ts';
import { createLogger } from '../../src/logger.ts';
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

/** An observer as the Slack layer (or a web page) would implement it: here it writes down what it is told. */
class RecordingObserver implements WatchObserver {
  readonly said: string[] = [];
  result: WatchResult | undefined;
  error: unknown;
  readonly #ended: Promise<void>;
  #end!: () => void;
  #openError: unknown;
  #roundError: unknown;

  constructor(options: { openError?: unknown; roundError?: unknown } = {}) {
    this.#openError = options.openError;
    this.#roundError = options.roundError;
    this.#ended = new Promise((resolve) => {
      this.#end = resolve;
    });
  }

  /** Resolves once the watch said its last word (finished or failed). */
  ended(): Promise<void> {
    return this.#ended;
  }

  async opened(): Promise<void> {
    if (this.#openError !== undefined) throw this.#openError;
    this.said.push('opened');
  }

  round(report: HealthReport, round: number): void {
    this.said.push(`${round}:${report.status}`);
    if (this.#roundError !== undefined) throw this.#roundError;
  }

  async finished(result: WatchResult): Promise<void> {
    this.said.push(`finished:${result.outcome}`);
    this.result = result;
    this.#end();
  }

  async failed(error: unknown): Promise<void> {
    this.said.push('failed');
    this.error = error;
    this.#end();
  }
}

function virtualTime(): { health: HealthService; clock: ManualClock } {
  const clock = new ManualClock();
  const health = new HealthService({
    config: config(),
    clock,
    logger,
    sleep: async (ms) => clock.advance(ms),
  });
  return { health, clock };
}

const spec = { environment: 'production', intervalMs: 10_000, maxDurationMs: 120_000, scope: 'C1' };

describe('HealthWatches (the domain part of a watch, no Slack)', () => {
  it('reports each round and the verdict through its observer, on the injected clock and sleep', async () => {
    hits.delete('/recovers-after-2/health');
    const watches = new HealthWatches({ ...virtualTime(), logger });
    const observer = new RecordingObserver();
    await watches.start({ ...spec, service: 'flaky' }, observer);
    await observer.ended();
    expect(observer.said).toEqual(['opened', '1:unhealthy', '2:unhealthy', '3:healthy', 'finished:healthy']);
    expect(observer.result).toMatchObject({ outcome: 'healthy', rounds: 3, elapsedMs: 20_000 });
    await watches.stopAll();
    expect(watches.size).toBe(0);
  });

  it('gives up once `maxDurationMs` has passed, with the last report', async () => {
    const watches = new HealthWatches({ ...virtualTime(), logger });
    const observer = new RecordingObserver();
    await watches.start({ ...spec, service: 'dead', maxDurationMs: 30_000 }, observer);
    await observer.ended();
    expect(observer.said).toEqual([
      'opened',
      '1:unhealthy',
      '2:unhealthy',
      '3:unhealthy',
      'finished:deadline',
    ]);
    expect(observer.result).toMatchObject({ outcome: 'deadline', rounds: 3, elapsedMs: 20_000 });
  });

  it('keeps one watch of a service per scope; stopAll cancels them (their observers say so) and refuses new ones', async () => {
    // Real timers and a long interval: the watches wait between rounds until stopped.
    const watches = new HealthWatches({ health: new HealthService({ config: config(), logger }), logger });
    const first = new RecordingObserver();
    const elsewhere = new RecordingObserver();
    const dead = { ...spec, service: 'dead', intervalMs: 60_000, maxDurationMs: 600_000 };
    await watches.start(dead, first);
    await watches.start({ ...dead, scope: 'C2' }, elsewhere);
    expect(watches.size).toBe(2);

    const again = new RecordingObserver();
    await expect(watches.start(dead, again)).rejects.toThrow(WatchAlreadyRunningError);
    expect(again.said).toEqual([]);

    await watches.stopAll();
    expect(watches.size).toBe(0);
    expect(first.said).toEqual(['opened', '1:unhealthy', 'finished:cancelled']);
    expect(elsewhere.result?.outcome).toBe('cancelled');
    await expect(watches.start(dead, again)).rejects.toThrow(WatchesStoppingError);
    expect(again.said).toEqual([]);
  });

  it(`guards the minimum interval (${MIN_WATCH_INTERVAL_MS} ms) and the service, before anything is said`, async () => {
    const watches = new HealthWatches({ ...virtualTime(), logger });
    const observer = new RecordingObserver();
    await expect(watches.start({ ...spec, service: 'dead', intervalMs: 100 }, observer)).rejects.toThrow(
      WatchTooFrequentError,
    );
    await expect(watches.start({ ...spec, service: 'bare' }, observer)).rejects.toThrow(NoHealthChecksError);
    expect(observer.said).toEqual([]);
    expect(watches.size).toBe(0);
  });

  it('start() fails with the observer when it cannot open, and no round runs', async () => {
    const watches = new HealthWatches({ ...virtualTime(), logger });
    const observer = new RecordingObserver({ openError: new Error('channel_not_found') });
    await expect(watches.start({ ...spec, service: 'dead' }, observer)).rejects.toThrow('channel_not_found');
    await watches.stopAll();
    expect(observer.said).toEqual([]);
    expect(watches.size).toBe(0);
  });

  it('an observer failing a round ends the watch: it is told why', async () => {
    const watches = new HealthWatches({ ...virtualTime(), logger });
    const observer = new RecordingObserver({ roundError: new Error('message_not_found') });
    await watches.start({ ...spec, service: 'dead' }, observer);
    await observer.ended();
    expect(observer.said).toEqual(['opened', '1:unhealthy', 'failed']);
    expect(String(observer.error)).toContain('message_not_found');
    await watches.stopAll();
    expect(watches.size).toBe(0);
  });
});

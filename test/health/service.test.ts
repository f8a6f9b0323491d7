import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { configSchema, type RunbookConfig } from '../../src/config/schema.ts';
import { AmbiguousServiceError, NoHealthChecksError, UnknownServiceError } from '../../src/health/errors.ts';
import { HealthService } from '../../src/health/service.ts';
import { summarizeReport } from '../../src/health/summary.ts';
import { createLogger } from '../../src/logger.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';
import { ref } from './helpers/refs.ts';
import {
  FLEET_DEGRADED,
  FLEET_HEALTHY,
  type LocalServer,
  sendJson,
  startHttpServer,
} from './helpers/servers.ts';

let server: LocalServer;
/** Requests seen per path, so a path can turn healthy after a few rounds. */
const hits = new Map<string, number>();

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const count = (hits.get(path) ?? 0) + 1;
    hits.set(path, count);
    if (path.startsWith('/recovers-after-2/')) {
      return count <= 2 ? sendJson(res, 503, { status: 'unhealthy' }) : sendJson(res, 200, FLEET_HEALTHY);
    }
    if (path.startsWith('/down/')) return sendJson(res, 503, { status: 'unhealthy' });
    if (path.startsWith('/degraded/')) return sendJson(res, 200, FLEET_DEGRADED);
    sendJson(res, 200, FLEET_HEALTHY);
  });
});
afterAll(() => server.close());

const platform = { kind: 'kubernetes', namespace: 'ops', deployment: 'app' };

function config(): RunbookConfig {
  return configSchema.parse({
    services: [
      {
        name: 'barq-api',
        platform,
        healthChecks: [
          {
            name: 'api',
            type: 'http',
            url: `${server.url}/barq/health`,
            headers: { 'X-Api-Key': ref('BARQ_KEY') },
          },
          { name: 'database', type: 'postgres', url: ref('BARQ_DATABASE_URL') },
          { name: 'cache', type: 'redis', url: TEST_REDIS_URL, hitRateTarget: 0 },
        ],
      },
      {
        name: 'fleet-api',
        platform,
        healthChecks: [{ type: 'http', url: `${server.url}/degraded/health` }],
      },
      {
        name: 'floyo',
        environment: 'production',
        platform,
        healthChecks: [{ type: 'http', url: `${server.url}/f/health` }],
      },
      { name: 'floyo', environment: 'staging', platform, healthChecks: [] },
      {
        name: 'flaky',
        platform,
        healthChecks: [{ type: 'http', url: `${server.url}/recovers-after-2/health` }],
      },
      { name: 'dead', platform, healthChecks: [{ type: 'http', url: `${server.url}/down/health` }] },
    ],
  });
}

const env = { BARQ_KEY: 'barq-key-77e1c0', BARQ_DATABASE_URL: TEST_DATABASE_URL };

/** A sleep that moves the manual clock instead of waiting. */
function clockSleep(clock: ManualClock) {
  return async (ms: number): Promise<void> => {
    clock.advance(ms);
  };
}

describe('HealthService', () => {
  it('checks every check of a service into one report, with the clock time', async () => {
    const clock = new ManualClock('2026-01-05T08:00:00Z');
    const service = new HealthService({ config: config(), clock, env });
    const report = await service.checkService('barq-api');
    expect(report).toMatchObject({ service: 'barq-api', environment: 'production', status: 'healthy' });
    expect(report.startedAt.toISOString()).toBe('2026-01-05T08:00:00.000Z');
    expect(report.results.map((r) => [r.name, r.type, r.status])).toEqual([
      ['api', 'http', 'healthy'],
      ['database', 'postgres', 'healthy'],
      ['cache', 'redis', 'healthy'],
    ]);
    expect(report.durationMs).toBeGreaterThan(0);
    expect(summarizeReport(report)).toMatch(
      /^barq-api \(production\) healthy — 3 of 3 checks healthy \(\d+(\.\d)?m?s\)$/,
    );
  });

  it('the report is the worst of its results, and degraded stays distinct from down', async () => {
    const service = new HealthService({ config: config(), env });
    const degraded = await service.checkService('fleet-api');
    expect(degraded.status).toBe('degraded');
    expect(summarizeReport(degraded)).toContain(
      'http degraded: body reports degraded: database degraded (Database responding slowly, 1200ms)',
    );
    expect((await service.checkService('dead')).status).toBe('unhealthy');
  });

  it('an unknown service is a typed error listing the known ones', async () => {
    const service = new HealthService({ config: config(), env });
    const error = await service.checkService('barq-apu').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownServiceError);
    expect((error as UnknownServiceError).known).toEqual(['barq-api', 'fleet-api', 'floyo', 'flaky', 'dead']);
    expect((error as Error).message).toBe(
      'unknown service "barq-apu". Did you mean barq-api? Known services: barq-api, fleet-api, floyo, flaky, dead.',
    );
  });

  it('environments: ambiguous without one, unknown ones named, no checks said so', async () => {
    const service = new HealthService({ config: config(), env });
    await expect(service.checkService('floyo')).rejects.toThrow(AmbiguousServiceError);
    await expect(service.checkService('floyo')).rejects.toThrow('service floyo runs in production, staging');
    await expect(service.checkService('floyo', 'prod')).rejects.toThrow(
      'service floyo has no environment "prod": it is configured for production, staging.',
    );
    await expect(service.checkService('floyo', 'staging')).rejects.toThrow(NoHealthChecksError);
    expect((await service.checkService('floyo', 'production')).status).toBe('healthy');
  });

  it('checkAll reports every service that has checks', async () => {
    const service = new HealthService({ config: config(), env });
    const reports = await service.checkAll();
    expect(reports.map((r) => [r.service, r.environment])).toEqual([
      ['barq-api', 'production'],
      ['fleet-api', 'production'],
      ['floyo', 'production'],
      ['flaky', 'production'],
      ['dead', 'production'],
    ]);
  });

  it('never logs a secret', async () => {
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const password = 'pg-pw-9d8c7b';
    const { host, pathname } = new URL(TEST_DATABASE_URL);
    const secretEnv = {
      ...env,
      BARQ_DATABASE_URL: `postgres://nobody_health:${password}@${host}${pathname}`,
    };
    const service = new HealthService({
      config: config(),
      env: secretEnv,
      logger: createLogger({ destination }),
    });
    const report = await service.checkService('barq-api');
    expect(report.results[1]?.reason).toBe('authentication failed: role "nobody_health" does not exist');
    expect(lines.join('')).toContain('health checked');
    for (const text of [lines.join(''), JSON.stringify(report)]) {
      expect(text).not.toContain(password);
      expect(text).not.toContain(env.BARQ_KEY);
    }
  });
});

describe('HealthService keeps what checks need between runs', () => {
  it('the Redis hit rate: not enough data on the first check of a service, measured between checks after', async () => {
    const service = new HealthService({ config: config(), env });
    const cache = async () =>
      (await service.checkService('barq-api')).results.find((r) => r.name === 'cache');
    const first = await cache();
    expect(first?.note).toBe('hit rate: not enough data yet (it is measured between two checks)');
    const second = await cache();
    expect(second?.note ?? '').not.toContain('not enough data yet');
    expect(second?.details?.hitRateWindowMs).toBeGreaterThan(0);
    // Per service: another service's (or another process's) first check starts over.
    const other = new HealthService({ config: config(), env });
    const fresh = (await other.checkService('barq-api')).results.find((r) => r.name === 'cache');
    expect(fresh?.note).toContain('not enough data yet');
  });
});

describe('HealthService.watch', () => {
  it('returns once healthy, with the rounds and how long it took', async () => {
    hits.delete('/recovers-after-2/health'); // checkAll above already called it once
    const clock = new ManualClock();
    const service = new HealthService({ config: config(), clock, env, sleep: clockSleep(clock) });
    const seen: string[] = [];
    const result = await service.watch('flaky', {
      intervalMs: 10_000,
      maxDurationMs: 120_000,
      onReport: (report, round) => {
        seen.push(`${round}:${report.status}`);
      },
    });
    expect(seen).toEqual(['1:unhealthy', '2:unhealthy', '3:healthy']);
    expect(result).toMatchObject({ outcome: 'healthy', healthy: true, rounds: 3, elapsedMs: 20_000 });
    expect(result.report.status).toBe('healthy');
  });

  it('gives up at the deadline with the last report', async () => {
    const clock = new ManualClock();
    const service = new HealthService({ config: config(), clock, env, sleep: clockSleep(clock) });
    const result = await service.watch('dead', { intervalMs: 10_000, maxDurationMs: 30_000 });
    expect(result).toMatchObject({ outcome: 'deadline', healthy: false, rounds: 3, elapsedMs: 20_000 });
    expect(result.report.results[0]?.reason).toBe('HTTP 503, expected 200; body reports unhealthy');
  });

  it('stops when cancelled, on real timers', async () => {
    const service = new HealthService({ config: config(), env });
    const controller = new AbortController();
    const result = await service.watch('dead', {
      intervalMs: 60_000,
      maxDurationMs: 600_000,
      signal: controller.signal,
      onReport: () => controller.abort(),
    });
    expect(result).toMatchObject({ outcome: 'cancelled', healthy: false, rounds: 1 });
  });

  it('an unknown service fails before any round', async () => {
    const service = new HealthService({ config: config(), env });
    await expect(service.watch('nope', { intervalMs: 1, maxDurationMs: 1 })).rejects.toThrow(
      UnknownServiceError,
    );
  });
});

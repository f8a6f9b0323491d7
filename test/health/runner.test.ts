import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../src/config/schema.ts';
import { applyWarnLatency, checkNames, runChecks } from '../../src/health/runner.ts';
import { ref } from './helpers/refs.ts';
import { closedPort, FLOYO_HEALTHY, type LocalServer, sendJson, startHttpServer } from './helpers/servers.ts';

const BARRIER = 4;
let waiting: ServerResponse[] = [];
let server: LocalServer;

beforeAll(async () => {
  server = await startHttpServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (path === '/hang') return;
    if (path === '/barrier') {
      // Answers only once BARRIER requests are in flight together: sequential checks would time out.
      waiting.push(res);
      if (waiting.length === BARRIER) {
        for (const r of waiting) sendJson(r, 200, FLOYO_HEALTHY);
        waiting = [];
      }
      return;
    }
    sendJson(res, 200, FLOYO_HEALTHY);
  });
});
afterAll(() => server.close());

const http = (url: string, extra: Record<string, unknown> = {}) =>
  healthCheckSchema.parse({ type: 'http', url, expectBody: 'auto', ...extra });

describe('runner', () => {
  it('runs the checks of a request at the same time', async () => {
    const checks = Array.from({ length: BARRIER }, (_, i) =>
      http(`${server.url}/barrier`, { name: `c${i}`, timeout: '3s' }),
    );
    const results = await runChecks(checks, { env: {} });
    expect(results.map((r) => [r.name, r.status])).toEqual(checks.map((c) => [c.name, 'healthy']));
  });

  it('one result per check in config order, whatever fails and however', async () => {
    const port = await closedPort();
    const results = await runChecks(
      [
        http(`${server.url}/ok`, { name: 'fine' }),
        http(`${server.url}/hang`, { name: 'hung', timeout: '200ms' }),
        http(`http://127.0.0.1:${port}/`, { name: 'refused' }),
        http(`${server.url}/ok`, { name: 'no secret', headers: { Authorization: ref('MISSING') } }),
        healthCheckSchema.parse({ type: 'redis', name: 'cache', url: 'redis://cache.runner.invalid:6379' }),
      ],
      { env: {} },
    );
    expect(results.map((r) => [r.name, r.status, r.reason])).toEqual([
      ['fine', 'healthy', undefined],
      ['hung', 'unhealthy', 'timed out after 200ms'],
      ['refused', 'unhealthy', `connection refused by 127.0.0.1:${port}`],
      [
        'no secret',
        'unhealthy',
        `cannot run the check: environment variable MISSING (referenced as ${ref('MISSING')}) is not set`,
      ],
      ['cache', 'unhealthy', 'DNS lookup failed for cache.runner.invalid'],
    ]);
  });

  it('the overall deadline cuts off checks whose own timeout is longer', async () => {
    const results = await runChecks(
      [
        http(`${server.url}/hang`, { name: 'hung', timeout: '10s' }),
        http(`${server.url}/ok`, { name: 'fine' }),
      ],
      { env: {}, deadlineMs: 200 },
    );
    expect(results.map((r) => [r.status, r.reason])).toEqual([
      ['unhealthy', 'no answer before the overall deadline of 200ms'],
      ['healthy', undefined],
    ]);
  });

  it('a cancelled run reports its unfinished checks as cancelled', async () => {
    const controller = new AbortController();
    const running = runChecks([http(`${server.url}/hang`, { timeout: '10s' })], {
      env: {},
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 50);
    const [result] = await running;
    expect(result?.reason).toBe('cancelled before it finished');
  });

  it('names checks by type when unnamed, numbering repeats', () => {
    const names = checkNames([
      http('http://a/'),
      http('http://b/'),
      healthCheckSchema.parse({ type: 'redis', url: 'redis://c' }),
      http('http://d/', { name: 'api' }),
    ]);
    expect(names).toEqual(['http', 'http 2', 'redis', 'api']);
  });

  it('warnLatency degrades answering checks only', () => {
    const base = { name: 'api', type: 'http' as const, target: 'http://x/' };
    expect(applyWarnLatency({ ...base, status: 'healthy', latencyMs: 812 }, 500)).toMatchObject({
      status: 'degraded',
      reason: 'slow: answered in 812ms, above the 500ms warning latency',
    });
    expect(
      applyWarnLatency(
        { ...base, status: 'degraded', latencyMs: 1500, reason: 'body reports degraded' },
        500,
      ),
    ).toMatchObject({
      reason: 'body reports degraded; slow: answered in 1.5s, above the 500ms warning latency',
    });
    expect(
      applyWarnLatency(
        { ...base, status: 'unhealthy', latencyMs: 900, reason: 'HTTP 503, expected 200' },
        500,
      ),
    ).toMatchObject({ status: 'unhealthy', reason: 'HTTP 503, expected 200' });
    expect(applyWarnLatency({ ...base, status: 'healthy', latencyMs: 100 }, 500).status).toBe('healthy');
  });
});

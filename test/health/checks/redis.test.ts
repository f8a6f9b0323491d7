import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { healthCheckSchema } from '../../../src/config/schema.ts';
import { runChecks } from '../../../src/health/runner.ts';
import type { CheckResult } from '../../../src/health/types.ts';
import { TEST_REDIS_URL } from '../../helpers/services.ts';
import { ref } from '../helpers/refs.ts';
import { closedPort, type LocalServer, startSilentTcpServer } from '../helpers/servers.ts';

let silent: LocalServer;
let redis: Redis;
beforeAll(async () => {
  silent = await startSilentTcpServer();
  redis = new Redis(TEST_REDIS_URL, { lazyConnect: true });
  await redis.connect();
});
afterAll(async () => {
  await silent.close();
  redis.disconnect();
});

async function check(
  input: Record<string, unknown>,
  env: NodeJS.ProcessEnv = {},
  memory?: Map<string, unknown>,
): Promise<CheckResult> {
  const config = healthCheckSchema.parse({ type: 'redis', name: 'cache', timeout: '2s', ...input });
  const [result] = await runChecks([config], { env, ...(memory ? { memory } : {}) });
  if (!result) throw new Error('no result');
  return result;
}

function variant(change: (url: URL) => void): string {
  const url = new URL(TEST_REDIS_URL);
  change(url);
  return url.href;
}

describe('redis check against the real Redis', () => {
  it('PING and INFO: healthy, with memory and hit-rate details', async () => {
    const result = await check({ url: ref('REDIS_URL'), hitRateTarget: 0 }, { REDIS_URL: TEST_REDIS_URL });
    expect(result).toMatchObject({ name: 'cache', type: 'redis', status: 'healthy' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.details?.usedMemory).toBeGreaterThan(0);
    expect(result.details).toHaveProperty('keyspaceHits');
    expect(result.target).toBe(`redis://${new URL(TEST_REDIS_URL).host}`);
  });

  it('hit rate between two checks: the first says not enough data yet, the next counts only the lookups in between', async () => {
    // The Redis is shared (other tests, other clients): its totals since start mean nothing here.
    const memory = new Map<string, unknown>();
    const prefix = `health-test:${randomUUID()}:`;
    await redis.set(`${prefix}present`, '1', 'EX', 60);
    const lookups = async (key: (i: number) => string): Promise<void> => {
      const pipeline = redis.pipeline();
      for (let i = 0; i < 2_000; i++) pipeline.get(key(i));
      await pipeline.exec();
    };

    const first = await check({ url: TEST_REDIS_URL, hitRateTarget: 0.5 }, {}, memory);
    expect(first).toMatchObject({
      status: 'healthy',
      note: 'hit rate: not enough data yet (it is measured between two checks)',
      details: { hitRate: null },
    });
    expect(first.reason).toBeUndefined();

    await lookups((i) => `${prefix}missing:${i}`);
    const second = await check({ url: TEST_REDIS_URL, hitRateTarget: 0.5 }, {}, memory);
    expect(second.status).toBe('degraded');
    expect(second.reason).toMatch(
      /^cache hit rate [\d.]+% over the last \d+m?s below target 50% \(\d+ hits, \d+ misses\)$/,
    );
    expect(second.details?.windowMisses).toBeGreaterThanOrEqual(2_000);
    expect(second.details?.hitRateWindowMs).toBeGreaterThan(0);

    await lookups(() => `${prefix}present`);
    const third = await check({ url: TEST_REDIS_URL, hitRateTarget: 0.5 }, {}, memory);
    expect(third.status).toBe('healthy');
    expect(third.details?.windowHits).toBeGreaterThanOrEqual(2_000);
    expect(third.details?.hitRate).toBeGreaterThan(0.5);
    await redis.del(`${prefix}present`);
  });

  it('hitRateTarget off (a Redis for queues or locks): never a hit-rate verdict or note', async () => {
    const memory = new Map<string, unknown>();
    for (const hitRateTarget of ['off', false]) {
      await redis.get(`health-test:${randomUUID()}:missing`);
      const result = await check({ url: TEST_REDIS_URL, hitRateTarget }, {}, memory);
      expect(result).toMatchObject({ status: 'healthy', details: { hitRate: 'off' } });
      expect(result.note).toBeUndefined();
    }
  });

  it('a closed port', async () => {
    const port = await closedPort();
    const result = await check({ url: `redis://127.0.0.1:${port}` });
    expect(result).toMatchObject({ status: 'unhealthy', reason: `connection refused by 127.0.0.1:${port}` });
  });

  it('a database index the server does not have', async () => {
    const result = await check({ url: variant((u) => (u.pathname = '/999')) });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toBe('Redis error: ERR DB index is out of range');
  });

  it('a server that accepts but never answers times out', async () => {
    const result = await check({ url: `redis://127.0.0.1:${silent.port}`, timeout: '200ms' });
    expect(result.status).toBe('unhealthy');
    expect(result.reason).toMatch(/timed out after 200ms$|^no answer from .* within 200ms$/);
  });

  it('DNS failure', async () => {
    const result = await check({ url: 'redis://cache.health.invalid:6379' });
    expect(result.reason).toBe('DNS lookup failed for cache.health.invalid');
  });

  it('a password from a reference never shows', async () => {
    const password = 'redis-secret-Qw77';
    const port = await closedPort();
    const result = await check(
      { url: `redis://:\${env:REDIS_PW}@127.0.0.1:${port}` },
      { REDIS_PW: password },
    );
    expect(result.reason).toBe(`connection refused by 127.0.0.1:${port}`);
    expect(JSON.stringify(result)).not.toContain(password);
    expect(result.target).toBe(`redis://127.0.0.1:${port}`);
  });
});

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

async function check(input: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<CheckResult> {
  const config = healthCheckSchema.parse({ type: 'redis', name: 'cache', timeout: '2s', ...input });
  const [result] = await runChecks([config], { env });
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

  it('a hit rate below the target is degraded', async () => {
    // A lookup of a key that does not exist guarantees at least one miss, so the rate is below 100 %.
    await redis.get(`health-test:${randomUUID()}:missing`);
    const result = await check({ url: TEST_REDIS_URL, hitRateTarget: 1 });
    expect(result.status).toBe('degraded');
    expect(result.reason).toMatch(/^cache hit rate [\d.]+% below target 100% \(\d+ hits, \d+ misses\)$/);
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

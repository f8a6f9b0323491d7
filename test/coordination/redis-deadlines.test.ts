/**
 * Every Redis call fails within about a second when Redis is unreachable, a command that timed out
 * never runs later, and the coordinator reconnects by itself.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Coordination } from '../../src/coordination/coordination.ts';
import { CoordinationError } from '../../src/coordination/errors.ts';
import { openCoordination } from '../../src/coordination/open.ts';
import { createLogger } from '../../src/logger.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually } from '../helpers/until.ts';

const quiet = createLogger({ level: 'silent' });

async function failure(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const started = performance.now();
  const error = await promise.then(
    () => new Error('expected a failure'),
    (e: unknown) => e,
  );
  return { error, ms: performance.now() - started };
}

describe('redis deadlines', () => {
  const keyPrefix = `test:deadlines:${randomUUID()}:`;
  let proxy: TcpProxy;
  let through: Coordination;
  let direct: Coordination;
  beforeAll(async () => {
    const target = new URL(TEST_REDIS_URL);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 6379) });
    through = await openCoordination({ redisUrl: proxy.via(TEST_REDIS_URL), keyPrefix, logger: quiet });
    direct = await openCoordination({ redisUrl: TEST_REDIS_URL, keyPrefix, logger: quiet });
  });
  afterAll(async () => {
    await proxy?.restore();
    for (const key of ['lost', 'later']) await direct?.forget(key);
    await through?.close();
    await direct?.close();
    await proxy?.close();
  });

  it('fails fast under a blackhole, never runs the timed-out command later, and reconnects', async () => {
    proxy.blackhole();
    const first = await failure(through.claimOnce('lost', 60_000));
    expect(first.error).toBeInstanceOf(CoordinationError);
    expect(first.error).toMatchObject({ code: 'timeout', transient: true });
    expect(first.ms).toBeLessThan(2_000);
    for (let i = 0; i < 3; i++) {
      const next = await failure(through.ping());
      expect(next.error).toMatchObject({ transient: true });
      expect(next.ms).toBeLessThan(2_000);
    }

    await proxy.restore();
    expect(await eventually(() => through.claimOnce('later', 60_000), 5_000)).toBe(true);
    // The claim that timed out was held in the network when its connection was reset: it never ran.
    expect(await direct.claimOnce('lost', 60_000)).toBe(true);
  });

  it('fails at once while Redis refuses connections, and reconnects when it is back', async () => {
    await proxy.refuse();
    const refused = await failure(through.ping());
    expect(refused.error).toMatchObject({ code: 'unavailable', transient: true });
    expect(refused.ms).toBeLessThan(2_000);
    await proxy.restore();
    expect(await eventually(() => through.ping(), 5_000)).toBeGreaterThanOrEqual(0);
  });
});

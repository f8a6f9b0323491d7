import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { openCoordination } from '../../src/coordination/open.ts';
import { createLogger } from '../../src/logger.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';

const quiet = createLogger({ level: 'silent' });

describe('openCoordination', () => {
  it('is in-process when no Redis URL is set, with expiry on the given clock', async () => {
    const clock = new ManualClock();
    const c = await openCoordination({ clock });
    try {
      expect(c.kind).toBe('memory');
      expect(await c.claimOnce('k', 1_000)).toBe(true);
      clock.advance(1_000);
      expect(await c.claimOnce('k', 1_000)).toBe(true);
    } finally {
      await c.close();
    }
    const blank = await openCoordination({ redisUrl: '' });
    expect(blank.kind).toBe('memory');
    await blank.close();
  });

  it('is Redis, under the key prefix, when a URL is set', async () => {
    const keyPrefix = `test:open:${randomUUID()}:`;
    const c = await openCoordination({ redisUrl: TEST_REDIS_URL, keyPrefix, logger: quiet });
    const admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      expect(c.kind).toBe('redis');
      expect(await c.claimOnce('k', 60_000)).toBe(true);
      expect(await admin.exists(`${keyPrefix}once:k`)).toBe(1);
    } finally {
      await c.close();
      await admin.del(`${keyPrefix}once:k`);
      await admin.quit();
    }
  });

  it('fails at start-up with a typed error when Redis is unreachable', async () => {
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    await expect(
      openCoordination({ redisUrl: `redis://127.0.0.1:${port}`, logger: quiet }),
    ).rejects.toMatchObject({
      name: 'CoordinationError',
      code: 'unavailable',
    });
  });
});

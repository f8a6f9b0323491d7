import { randomUUID } from 'node:crypto';
import { createServer, type Server, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Coordination } from '../../src/coordination/coordination.ts';
import { CoordinationError } from '../../src/coordination/errors.ts';
import { createRedisCoordination } from '../../src/coordination/redis.ts';
import { createLogger } from '../../src/logger.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';
import { captureLogger } from './capture-logger.ts';
import { describeCoordinationContract } from './contract.ts';

const quiet = createLogger({ level: 'silent' });
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const uniquePrefix = () => `test:coordination:${randomUUID()}:`;

/** Deletes every key under a prefix. */
async function deletePrefix(admin: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 200);
    cursor = next;
    if (keys.length > 0) await admin.del(...keys);
  } while (cursor !== '0');
}

let admin: Redis;
beforeAll(() => {
  admin = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
});
afterAll(async () => {
  await admin.quit();
});

describeCoordinationContract('redis', async () => {
  const keyPrefix = uniquePrefix();
  const open: Coordination[] = [];
  const make = () => {
    const c = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger: quiet });
    open.push(c);
    return c;
  };
  return {
    coordination: make(),
    replica: async () => make(),
    // Redis expires by its own clock: wait the TTL out for real, with a margin.
    elapse: (ms) => sleep(ms + 30),
    shortTtlMs: 50,
    cleanup: async () => {
      await Promise.all(open.map((c) => c.close()));
      await deletePrefix(admin, keyPrefix);
    },
  };
});

describe('redis coordination', () => {
  let keyPrefix: string;
  beforeEach(() => {
    keyPrefix = uniquePrefix();
  });
  afterEach(async () => {
    await deletePrefix(admin, keyPrefix);
  });

  it('keeps its keys under the prefix, with PX expiry on claims and locks', async () => {
    const c = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger: quiet });
    try {
      await c.claimOnce('evt-1', 60_000);
      const lock = await c.acquireLock('deploy', 30_000);

      expect((await admin.keys(`${keyPrefix}*`)).sort()).toEqual(
        [`${keyPrefix}lock:deploy`, `${keyPrefix}once:evt-1`].sort(),
      );
      const claimTtl = await admin.pttl(`${keyPrefix}once:evt-1`);
      expect(claimTtl).toBeGreaterThan(0);
      expect(claimTtl).toBeLessThanOrEqual(60_000);
      expect(await admin.get(`${keyPrefix}lock:deploy`)).toBe(lock?.token);

      await lock?.extend(120_000);
      expect(await admin.pttl(`${keyPrefix}lock:deploy`)).toBeGreaterThan(60_000);
    } finally {
      await c.close();
    }
  });

  it('never releases or extends a lock someone else holds under the same name', async () => {
    const c = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger: quiet });
    try {
      const lock = await c.acquireLock('deploy', 60_000);
      // Someone else's token now holds the key (e.g. ours expired and another replica took it).
      await admin.set(`${keyPrefix}lock:deploy`, 'someone-else', 'PX', 60_000);
      expect(await lock?.release()).toBe(false);
      expect(await lock?.extend(60_000)).toBe(false);
      expect(await admin.get(`${keyPrefix}lock:deploy`)).toBe('someone-else');
    } finally {
      await c.close();
    }
  });

  it('loads its scripts again after SCRIPT FLUSH', async () => {
    const c = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger: quiet });
    try {
      const lock = await c.acquireLock('deploy', 60_000);
      await admin.script('FLUSH');
      expect(await lock?.extend(60_000)).toBe(true);
      expect(await lock?.release()).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('leaves a connection it was given open on close', async () => {
    const client = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 1 });
    try {
      const c = createRedisCoordination({ client, keyPrefix, logger: quiet });
      expect(await c.claimOnce('k', 60_000)).toBe(true);
      await c.close();
      await expect(c.claimOnce('k', 60_000)).rejects.toMatchObject({ code: 'closed' });
      expect(await client.ping()).toBe('PONG');
    } finally {
      await client.quit();
    }
  });

  it('fails with a typed, actionable error when Redis refuses connections', async () => {
    // A port that was just free: nothing listens there.
    const port = await freePort();
    const { logger, lines } = captureLogger();
    const c = createRedisCoordination({
      url: `redis://bot:s3cret-pass@127.0.0.1:${port}`,
      keyPrefix,
      logger,
      connectTimeoutMs: 500,
    });
    try {
      const error = await c.claimOnce('k', 1_000).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(CoordinationError);
      expect(error).toMatchObject({ code: 'unavailable', transient: true });
      const message = (error as Error).message;
      expect(message).toContain(`127.0.0.1:${port}`);
      expect(message).toContain('REDIS_URL');
      expect(message).not.toContain('s3cret-pass');
      expect(JSON.stringify(lines)).not.toContain('s3cret-pass');
      expect(lines.some((l) => l.level === 40)).toBe(true);
    } finally {
      await c.close();
    }
  });

  describe('against a server that accepts connections and never answers', () => {
    let server: Server;
    const sockets = new Set<Socket>();
    let port: number;
    beforeAll(async () => {
      server = createServer((socket) => {
        sockets.add(socket);
        socket.on('close', () => sockets.delete(socket));
        socket.resume();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterAll(async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('times out with a typed error instead of hanging', async () => {
      const c = createRedisCoordination({
        url: `redis://127.0.0.1:${port}`,
        keyPrefix,
        logger: quiet,
        commandTimeoutMs: 300,
      });
      try {
        const error = await c.ping().catch((e: unknown) => e);
        expect(error).toBeInstanceOf(CoordinationError);
        expect(error).toMatchObject({ code: 'timeout', transient: true });
        expect((error as Error).message).toContain(`127.0.0.1:${port}`);
      } finally {
        await c.close();
      }
    });
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Upgrading from the Redis timer queue: what an older bot left in `timers:due` / `timers:data`
 * moves into Postgres at start-up (same id and due time), once, and is deleted from Redis; an entry
 * that cannot be read stays in Redis and is logged.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createRedisCoordination } from '../../src/coordination/redis.ts';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/store/migrate.ts';
import { TimerRepository } from '../../src/store/repositories/timers.ts';
import { importLegacyTimers } from '../../src/timers/legacy.ts';
import { TEST_REDIS_URL } from '../helpers/services.ts';
import { openPostgresForTest, type TestDatabase } from '../store/databases.ts';

describe('moving the old Redis timer queue into Postgres', () => {
  let database: TestDatabase;
  let admin: Redis;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const logger = createLogger({ level: 'silent' });
  const keyPrefix = `test:legacy-timers:${randomUUID()}:`;

  beforeAll(async () => {
    database = await openPostgresForTest();
    await migrate(database.db);
    admin = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    await admin?.quit();
    await database?.dispose();
  });

  it('moves each readable timer once, keeps its id and due time, and leaves the unreadable one', async () => {
    const due = '2026-03-03T09:00:00.000Z';
    const json = JSON.stringify({
      id: 'incident-archive:7',
      kind: 'incident.archive',
      payload: { incident: 7 },
      dueAt: due,
    });
    await admin.zadd(`${keyPrefix}timers:due`, Date.parse(due), 'incident-archive:7');
    await admin.hset(`${keyPrefix}timers:data`, 'incident-archive:7', json);
    await admin.zadd(`${keyPrefix}timers:due`, Date.parse(due), 'garbled');
    await admin.hset(`${keyPrefix}timers:data`, 'garbled', '{"id":');

    const coordination = createRedisCoordination({ url: TEST_REDIS_URL, keyPrefix, logger });
    const timers = new TimerRepository(database.db, clock);
    try {
      expect(await importLegacyTimers(coordination, timers, logger)).toBe(1);
      expect(await timers.get('incident-archive:7')).toMatchObject({
        kind: 'incident.archive',
        subject: 'incident:7',
        payload: { incident: 7 },
        dueAt: new Date(due),
      });
      expect(await admin.zrange(`${keyPrefix}timers:due`, '0', '-1')).toEqual(['garbled']);
      // A second start (another replica): nothing more.
      expect(await importLegacyTimers(coordination, timers, logger)).toBe(0);
      expect((await timers.list()).map((t) => t.id)).toEqual(['incident-archive:7']);
    } finally {
      await coordination.close();
      await admin.del(`${keyPrefix}timers:due`, `${keyPrefix}timers:data`);
    }
  });
});

/**
 * Audit retention: records older than audit.retention (plus a day's grace) are deleted, at start-up
 * and daily, by one replica at a time; everything else stays append-only.
 */
import { Writable } from 'node:stream';
import { addDays } from 'date-fns/addDays';
import { subDays } from 'date-fns/subDays';
import { subHours } from 'date-fns/subHours';
import { subMilliseconds } from 'date-fns/subMilliseconds';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { YEAR_MS } from '../../src/config/duration.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { AuditLog } from '../../src/deploy/audit.ts';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/store/migrate.ts';
import { AuditRepository } from '../../src/store/repositories/audit.ts';
import { startTestBot, type TestBot } from '../helpers/bot.ts';
import { openPgliteForTest, openPostgresForTest, type TestDatabase } from '../store/databases.ts';

const SEVEN_YEARS = 7 * YEAR_MS;
const silent = createLogger({
  level: 'silent',
  destination: new Writable({ write: (_c, _e, done) => done() }),
});

describe('audit.retention config', () => {
  it('defaults to 7 years, takes durations in years, and refuses less than a day', () => {
    expect(parseConfigText('').audit.retention).toBe(SEVEN_YEARS);
    expect(parseConfigText('audit: { retention: 10y }').audit.retention).toBe(10 * YEAR_MS);
    expect(parseConfigText('audit: { retention: 90d }').audit.retention).toBe(90 * 86_400_000);
    expect(() => parseConfigText('audit: { retention: 7m }')).toThrow(/at least a day/);
    expect(() => parseConfigText('audit: { retention: seven years }')).toThrow(/is not a duration/);
  });
});

describe('AuditLog.prune on Postgres', () => {
  const clock = new ManualClock('2026-06-01T00:00:00Z');
  let t: TestDatabase;
  let repo: AuditRepository;

  beforeAll(async () => {
    t = await openPostgresForTest();
    await migrate(t.db);
    repo = new AuditRepository(t.db, clock);
  });
  afterAll(async () => {
    await t?.dispose();
  });

  const cutoff = () => subMilliseconds(clock.now(), SEVEN_YEARS);
  const append = (actor: string, at: Date) =>
    repo.append({ actor, action: 'deploy.restart', outcome: 'succeeded', service: 'svc', at });

  it('deletes the records past the retention and a day, keeps the rest', async () => {
    await append('past', subDays(cutoff(), 2));
    await append('grace', subHours(cutoff(), 12));
    await append('kept', addDays(cutoff(), 1));
    await append('new', subHours(clock.now(), 1));
    const outcome = await new AuditLog({ db: t.db, clock, logger: silent }).prune(SEVEN_YEARS);
    expect(outcome).toMatchObject({ kind: 'pruned', deleted: 1 });
    expect((await repo.list({ service: 'svc' })).map((r) => r.actor)).toEqual(['new', 'kept', 'grace']);
    await expect(t.db.query("DELETE FROM audit_records WHERE actor = 'kept'")).rejects.toThrow(/append-only/);
    await expect(t.db.query("UPDATE audit_records SET actor = 'x' WHERE actor = 'kept'")).rejects.toThrow(
      /append-only/,
    );
  });

  it('leaves the pruning to the replica holding the lock', async () => {
    await append('past-2', subDays(cutoff(), 30));
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const lockTaken = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = t.peer.transaction(async (tx) => {
      await tx.query(
        "SELECT pg_advisory_xact_lock(hashtext('runbook-bot.audit-retention'), hashtext(current_schema()))",
      );
      locked();
      await held;
    });
    await lockTaken;
    const busy = await new AuditLog({ db: t.db, clock, logger: silent }).prune(SEVEN_YEARS);
    release();
    await holder;
    expect(busy).toMatchObject({ kind: 'busy', deleted: 0 });
    expect((await repo.list({ service: 'svc' })).map((r) => r.actor)).toContain('past-2');

    // Two replicas pruning together delete each record once.
    for (let i = 0; i < 30; i++) await append(`old-${i}`, subDays(cutoff(), 40 + i));
    const outcomes = await Promise.all([
      new AuditLog({ db: t.db, clock, logger: silent }).prune(SEVEN_YEARS),
      new AuditLog({ db: t.peer, clock, logger: silent }).prune(SEVEN_YEARS),
    ]);
    expect(outcomes.reduce((sum, o) => sum + o.deleted, 0)).toBe(31);
    expect(await repo.count({ service: 'svc' })).toBe(3);
  });
});

describe('AuditLog.prune on PGlite (local mode)', () => {
  it('deletes the records past the retention under the same lock', async () => {
    const t = await openPgliteForTest();
    try {
      await migrate(t.db);
      const clock = new ManualClock('2026-06-01T00:00:00Z');
      const repo = new AuditRepository(t.db, clock);
      const cutoff = subMilliseconds(clock.now(), SEVEN_YEARS);
      for (const [actor, at] of [
        ['past', subDays(cutoff, 2)],
        ['kept', addDays(cutoff, 1)],
      ] as const) {
        await repo.append({ actor, action: 'deploy.restart', outcome: 'succeeded', at });
      }
      expect(await new AuditLog({ db: t.db, clock, logger: silent }).prune(SEVEN_YEARS)).toMatchObject({
        kind: 'pruned',
        deleted: 1,
      });
      expect((await repo.list()).map((r) => r.actor)).toEqual(['kept']);
    } finally {
      await t.dispose();
    }
  });
});

describe('audit retention at start-up, end to end', () => {
  let bot: TestBot;
  let replica: TestBot | undefined;
  beforeAll(async () => {
    bot = await startTestBot();
  });
  afterAll(async () => {
    await replica?.stop();
    await bot?.stop();
  });

  it('a starting replica deletes the records older than 7 years and keeps the rest', async () => {
    const now = new Date();
    const repos = bot.runtime.services.repos;
    const cutoff = subMilliseconds(now, SEVEN_YEARS);
    const add = (actor: string, at: Date) =>
      repos.audit.append({ actor, action: 'deploy.rollback', outcome: 'succeeded', service: 'api', at });
    await add('expired', subDays(cutoff, 3));
    await add('within', addDays(cutoff, 3));
    await add('today', subHours(now, 1));

    replica = await startTestBot({ replicaOf: bot });
    const deadline = Date.now() + 5_000;
    while (
      !replica.logs.some((l) => l.includes('audit retention: deleted 1 audit record')) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 25));
    }
    expect((await repos.audit.list({ service: 'api' })).map((r) => r.actor)).toEqual(['today', 'within']);
    const kept = await repos.audit.list({ service: 'api' });
    await expect(
      bot.runtime.services.db.query('DELETE FROM audit_records WHERE id = $1', [kept[1]?.id]),
    ).rejects.toThrow(/append-only/);
  });
});

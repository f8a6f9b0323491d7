import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { configSchema } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { prom } from '../../src/metrics.ts';
import { budgetMinutes } from '../../src/stats/figures.ts';
import { registerStatsMetrics } from '../../src/stats/metrics.ts';
import { Stats } from '../../src/stats/stats.ts';
import type { Db, Queryable } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { StatsRepository } from '../../src/store/repositories/stats.ts';
import { openPgliteForTest, openPostgresForTest, type TestDatabase } from '../store/databases.ts';
import { FIXTURE_CONFIG, insertFixture, NOW } from './fixture.ts';

const MIN = 60_000;
const DAY = 86_400_000;

const backends: [string, () => Promise<TestDatabase>][] = [
  ['postgres', openPostgresForTest],
  ['pglite', openPgliteForTest],
];

describe.each(backends)('Stats on %s', (_name, open) => {
  let t: TestDatabase;
  let db: Db;
  const config = configSchema.parse(FIXTURE_CONFIG);
  const clock = new ManualClock(NOW);

  beforeAll(async () => {
    t = await open();
    db = t.db;
    await migrate(db);
    await insertFixture(db);
  });

  afterAll(async () => {
    await t?.dispose();
  });

  const stats = () => new Stats({ stats: new StatsRepository(db), config, clock });

  it('uses the runbook month: 99.9 % is 43.8 minutes', () => {
    expect(budgetMinutes(99.9)).toBeCloseTo(43.83, 10);
    expect(budgetMinutes(99.9).toFixed(1)).toBe('43.8');
  });

  it('computes MTTA, time to mitigate, MTTR, punctuality and escalations per severity and service', async () => {
    const report = await stats().report({ sinceMs: 30 * DAY });
    expect(report.since.toISOString()).toBe('2026-11-20T12:00:00.000Z');
    const { overall } = report;
    expect(overall.incidents).toBe(4);
    expect(overall.open).toBe(1);
    expect(overall.acknowledge).toEqual({ count: 2, meanMs: 12.5 * MIN, medianMs: 12.5 * MIN });
    // Incident 1: identified at 10:20 comes before its rollback's 10:30; incident 2: recorded 30m.
    expect(overall.mitigate).toEqual({ count: 2, meanMs: 25 * MIN, medianMs: 25 * MIN });
    expect(overall.resolve).toEqual({ count: 3, meanMs: 80 * MIN, medianMs: 60 * MIN });
    // Incident 1: 2 of 3 on time; incident 3: overdue now.
    expect(overall.updates).toEqual({ due: 4, onTime: 2, ratio: 0.5 });
    expect(overall.escalations).toEqual({ total: 2, incidents: 1 });

    expect(report.bySeverity.map((s) => [s.severity, s.figures.incidents])).toEqual([
      ['P0', 1],
      ['P1', 2],
      ['P2', 1],
    ]);
    const p1 = report.bySeverity[1]?.figures;
    expect(p1?.acknowledge).toEqual({ count: 1, meanMs: 20 * MIN, medianMs: 20 * MIN });
    expect(p1?.resolve).toEqual({ count: 2, meanMs: 90 * MIN, medianMs: 90 * MIN });
    expect(p1?.updates).toEqual({ due: 0, onTime: 0, ratio: null });
    expect(report.bySeverity[0]?.figures.updates).toEqual({ due: 3, onTime: 2, ratio: 2 / 3 });

    expect(report.byService.map((s) => [s.service, s.figures.incidents])).toEqual([
      ['barq-api', 3],
      ['fleet-api', 2],
    ]);
    expect(report.byService[1]?.figures.resolve).toEqual({
      count: 1,
      meanMs: 120 * MIN,
      medianMs: 120 * MIN,
    });
  });

  it('computes change frequency, change failure rate and time to restore from /deploy operations', async () => {
    const { deploys, deploysByService } = await stats().report({ sinceMs: 30 * DAY });
    expect(deploys.executed).toBe(5);
    expect(deploys.succeeded).toBe(4);
    expect(deploys.perDay).toBeCloseTo(4 / 30, 12);
    expect(deploys.perWeek).toBeCloseTo(28 / 30, 12);
    // A (incident 1 and rollback B after it), B (incident 2 after it), D (failed).
    expect(deploys.failedChanges).toBe(3);
    expect(deploys.changeFailureRate).toBe(0.6);
    expect(deploys.restore).toEqual({ count: 3, meanMs: 91 * MIN, medianMs: 85 * MIN });
    expect(deploys.unrestored).toBe(0);
    expect(
      deploysByService.map((s) => [s.service, s.environment, s.figures.executed, s.figures.failedChanges]),
    ).toEqual([
      ['barq-api', 'production', 2, 2],
      ['fleet-api', 'production', 2, 1],
      ['fleet-api', 'staging', 1, 0],
    ]);
  });

  it("spends each service's error budget with P0/P1 incidents, overlapping ones once, within the month", async () => {
    const { budget } = await stats().report({ sinceMs: 30 * DAY });
    expect(budget.month.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    const [barq, fleet] = budget.services;
    // Incident 5's 30 December minutes, incidents 1 and 2 overlapping (10:00–12:30); the P2 is not downtime.
    expect(barq).toMatchObject({ service: 'barq-api', slo: 99.9, spentMinutes: 180 });
    expect(barq?.budgetMinutes).toBeCloseTo(43.83, 10);
    expect(barq?.remainingMinutes).toBeCloseTo(43.83 - 180, 10);
    expect(fleet).toMatchObject({ service: 'fleet-api', slo: 99.5, spentMinutes: 120 });
    expect(fleet?.remainingMinutes).toBeCloseTo(219.15 - 120, 10);
  });

  it('narrows everything to one service', async () => {
    const report = await stats().report({ sinceMs: 30 * DAY, service: 'fleet-api' });
    expect(report.overall.incidents).toBe(2);
    expect(report.byService.map((s) => s.service)).toEqual(['fleet-api']);
    expect(report.deploys.executed).toBe(3);
    expect(report.deploys.failedChanges).toBe(1);
    expect(report.deploys.restore).toEqual({ count: 1, meanMs: 68 * MIN, medianMs: 68 * MIN });
    expect(report.budget.services.map((s) => s.service)).toEqual(['fleet-api']);
  });

  it('serves the previous figures on /metrics when the read runs past its deadline, and counts it', async () => {
    let hang = false;
    const q: Queryable = {
      query: <R>(sql: string, params?: readonly unknown[]) =>
        hang ? new Promise<never>(() => undefined) : db.query<R>(sql, params),
    };
    const registry = new prom.Registry();
    registerStatsMetrics({
      registry,
      stats: new StatsRepository(q),
      config,
      clock,
      logger: createLogger({ level: 'silent' }),
      ttlMs: 0,
      deadlineMs: 200,
    });
    const first = await registry.metrics();
    expect(first).toContain('runbook_error_budget_spent_minutes{service="barq-api"} 180');
    expect(first).toContain(
      'runbook_incident_updates_total{severity="P0",service="barq-api",punctuality="late"} 1',
    );
    expect(first).toContain(
      'runbook_deploy_time_to_restore_seconds_sum{service="barq-api",environment="production"} 12300',
    );
    hang = true;
    const started = performance.now();
    const second = await registry.metrics();
    expect(performance.now() - started).toBeLessThan(1_500);
    expect(second).toContain('runbook_error_budget_spent_minutes{service="barq-api"} 180');
    expect(await registry.getSingleMetricAsString('runbook_stats_collect_failures_total')).toContain(
      'runbook_stats_collect_failures_total 1',
    );
  });
});

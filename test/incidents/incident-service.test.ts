import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { configSchema } from '../../src/config/schema.ts';
import { IncidentInputError, IncidentStateError, UnknownRoleError } from '../../src/incidents/errors.ts';
import { INCIDENT_SETUP_FLOW, IncidentService } from '../../src/incidents/incident-service.ts';
import { UnknownSeverityError } from '../../src/incidents/severity.ts';
import { createLogger } from '../../src/logger.ts';
import { migrate } from '../../src/store/migrate.ts';
import type { FlowRun } from '../../src/store/repositories/flow-runs.ts';
import { incidentStore, repositories } from '../../src/store/repositories/index.ts';
import { openPostgresForTest, type TestDatabase } from '../store/databases.ts';

describe('IncidentService against real Postgres', () => {
  let database: TestDatabase;
  let service: IncidentService<FlowRun>;
  const clock = new ManualClock('2026-03-02T09:00:00Z');
  const config = configSchema.parse({});
  beforeAll(async () => {
    database = await openPostgresForTest();
    await migrate(database.db);
    service = new IncidentService({
      store: incidentStore(database.db, clock),
      clock,
      config,
      logger: createLogger({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    await database?.dispose();
  });
  const timeline = (n: number) => repositories(database.db, clock).timeline.list(n);

  it('declares with a tolerant severity, the declarer as commander, next update by the cadence', async () => {
    const { incident, created } = await service.declare({
      title: ' DB down ',
      severity: 'sev1',
      declaredBy: 'U1',
    });
    expect(created).toBe(true);
    expect(incident.title).toBe('DB down');
    expect(incident.severity).toBe('P1');
    expect(incident.commander).toBe('U1');
    expect(incident.nextUpdateDueAt?.toISOString()).toBe('2026-03-02T09:15:00.000Z');
    expect((await service.roles(incident.number)).map((r) => [r.role, r.userId])).toEqual([
      ['commander', 'U1'],
    ]);
    const events = await timeline(incident.number);
    expect(events.map((e) => [e.kind, e.actor, e.at.toISOString()])).toEqual([
      ['declared', 'U1', '2026-03-02T09:00:00.000Z'],
    ]);
  });

  it('refuses unknown severities and blank titles', async () => {
    await expect(service.declare({ title: 'x', severity: 'P9', declaredBy: 'U1' })).rejects.toThrow(
      UnknownSeverityError,
    );
    await expect(service.declare({ title: '  ', severity: 'P1', declaredBy: 'U1' })).rejects.toThrow(
      IncidentInputError,
    );
  });

  it('gives concurrent declares with one dedupe key one incident, and distinct keys gap-free numbers', async () => {
    const same = await Promise.all(
      Array.from({ length: 5 }, () =>
        service.declare({ title: 'dup', severity: 'P2', declaredBy: 'U1', dedupeKey: 'k1' }),
      ),
    );
    expect(new Set(same.map((r) => r.incident.number)).size).toBe(1);
    expect(same.filter((r) => r.created)).toHaveLength(1);
    const distinct = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        service.declare({ title: `t${i}`, severity: 'P2', declaredBy: 'U1' }),
      ),
    );
    const numbers = distinct.map((r) => r.incident.number).sort((a, b) => a - b);
    expect(numbers).toEqual(numbers.map((_, i) => (numbers[0] ?? 0) + i));
  });

  it('records the setup run in the declare transaction, claimed by the caller; a repeat creates none', async () => {
    const claim = { owner: 'worker-1', until: new Date('2026-03-02T09:00:30Z') };
    const setup = { input: { createChannel: true }, claim };
    const first = await service.declare({
      title: 'Setup',
      severity: 'P2',
      declaredBy: 'U1',
      dedupeKey: 'k-s',
      setup,
    });
    expect(first.setup).toMatchObject({
      flow: INCIDENT_SETUP_FLOW,
      subject: String(first.incident.number),
      input: { createChannel: true },
      claimedBy: 'worker-1',
      attempts: 1,
      outcome: null,
    });
    const repeat = await service.declare({
      title: 'Setup',
      severity: 'P2',
      declaredBy: 'U1',
      dedupeKey: 'k-s',
      setup,
    });
    expect(repeat).toMatchObject({ created: false, setup: null });
    const { rows } = await database.db.query<{ n: number }>('SELECT count(*)::int AS n FROM flow_runs');
    expect(rows[0]?.n).toBe(1);
  });

  it('runs an incident: update, severity, role, resolve, reopen — each on the timeline', async () => {
    const { incident } = await service.declare({ title: 'Checkout 500s', severity: 'P2', declaredBy: 'U1' });
    const n = incident.number;
    clock.advance(10 * 60_000);
    const updated = await service.postUpdate(n, { actor: 'U2', status: 'identified', impact: '5% of users' });
    expect(updated.incident.status).toBe('identified');
    expect(updated.incident.nextUpdateDueAt?.toISOString()).toBe('2026-03-02T10:10:00.000Z');
    // Identified: mitigated now; a later update keeps that first time.
    expect(updated.incident.mitigatedAt?.toISOString()).toBe('2026-03-02T09:10:00.000Z');
    await expect(service.changeSeverity(n, { actor: 'U2', severity: 'P0', reason: ' ' })).rejects.toThrow(
      IncidentInputError,
    );
    const sev = await service.changeSeverity(n, { actor: 'U2', severity: 'p0', reason: 'all down' });
    expect([sev.from, sev.incident.severity]).toEqual(['P2', 'P0']);
    expect(sev.incident.nextUpdateDueAt?.toISOString()).toBe('2026-03-02T09:25:00.000Z');
    const role = await service.assignRole(n, { actor: 'U1', role: 'Commander', userId: 'U3' });
    expect(role.incident.commander).toBe('U3');
    await expect(service.assignRole(n, { actor: 'U1', role: 'janitor', userId: 'U3' })).rejects.toThrow(
      UnknownRoleError,
    );
    expect((await service.assignRole(n, { actor: 'U1', role: 'comms', userId: 'U4' })).role).toBe(
      'communications lead',
    );
    clock.advance(50 * 60_000);
    const { incident: resolved } = await service.resolve(n, {
      actor: 'U3',
      resolution: 'Rolled back',
      rootCause: 'Bad deploy',
    });
    expect(resolved.status).toBe('resolved');
    expect(resolved.resolvedAt?.toISOString()).toBe('2026-03-02T10:00:00.000Z');
    await expect(service.postUpdate(n, { actor: 'U2', status: 'monitoring' })).rejects.toThrow(
      IncidentStateError,
    );
    const reopened = await service.reopen(n, { actor: 'U3' });
    expect(reopened.status).toBe('investigating');
    expect(reopened.resolvedAt).toBeNull();
    await expect(service.reopen(n, { actor: 'U3' })).rejects.toThrow(IncidentStateError);
    expect((await timeline(n)).map((e) => e.kind)).toEqual([
      'declared',
      'status_update',
      'severity_change',
      'role_change',
      'role_change',
      'resolved',
      'reopened',
    ]);
  });

  it('counts every reopen in the ladder round: the 55th reopen is round 55, its ladder due from it', async () => {
    const laddered = new IncidentService({
      store: incidentStore(database.db, clock),
      clock,
      config: configSchema.parse({
        escalation: { ladders: { P1: [{ name: 'On-call', delay: '5m', notify: ['U_BOB'] }] } },
      }),
      logger: createLogger({ level: 'silent' }),
    });
    const { incident } = await laddered.declare({ title: 'Flapping', severity: 'P1', declaredBy: 'U1' });
    const n = incident.number;
    for (let i = 0; i < 55; i++) {
      clock.advance(60_000);
      await laddered.resolve(n, { actor: 'U1', resolution: `flap ${i}` });
      clock.advance(60_000);
      await laddered.reopen(n, { actor: 'U1' });
    }
    const reopenedAt = clock.now();
    const current = await laddered.find(n);
    if (!current) throw new Error(`no incident ${n}`);
    const round = await laddered.round(current);
    expect(round.round).toBe(55);
    expect(round.from.toISOString()).toBe(reopenedAt.toISOString());
    const [timer] = (await repositories(database.db, clock).timers.list({ subject: `incident:${n}` })).filter(
      (t) => t.kind === 'incident.escalate',
    );
    expect(timer?.payload).toEqual({ incident: n, level: 1, round: 55 });
    expect(timer?.dueAt.getTime()).toBe(reopenedAt.getTime() + 5 * 60_000);
    clock.advance(5 * 60_000);
    const escalated = await laddered.escalateOnSchedule(n, { level: 1, round: 55 });
    expect(escalated).toMatchObject({ kind: 'escalated', fresh: true, level: { level: 1 } });
  });
});

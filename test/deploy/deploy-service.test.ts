import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { configSchema, type RunbookConfig } from '../../src/config/schema.ts';
import type { Coordination } from '../../src/coordination/coordination.ts';
import { openCoordination } from '../../src/coordination/open.ts';
import { type DeployEvent, DeployService } from '../../src/deploy/deploy-service.ts';
import { previousGood } from '../../src/deploy/plan.ts';
import { HealthService } from '../../src/health/service.ts';
import { createLogger } from '../../src/logger.ts';
import { PlatformRegistry } from '../../src/platform/factory.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openDb } from '../../src/store/open.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { repositories } from '../../src/store/repositories/index.ts';
import { TEST_DATABASE_URL, TEST_REDIS_URL } from '../helpers/services.ts';
import { type KubeSetup, NO_CHANGE_CONTROL, patchCount, startKubeSetup } from './helpers.ts';

/** The state machine on real Postgres and Redis, against the Kubernetes fake through the real adapter. */
describe('DeployService', () => {
  let kube: KubeSetup;
  let db: Db;
  let coordination: Coordination;
  let config: RunbookConfig;
  let platforms: PlatformRegistry;
  const schema = `deploy_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const logger = createLogger({ level: 'silent' });
  let events: { id: string; event: DeployEvent }[] = [];

  function service(): DeployService {
    return new DeployService({
      db,
      clock: systemClock,
      logger,
      config,
      coordination,
      health: new HealthService({ config, clock: systemClock, logger, env: {} }),
      platformFor: (s) => platforms.for(s),
      notifier: {
        async changed(operation, event) {
          events.push({ id: operation.id, event });
        },
      },
    });
  }
  const barq = () => config.services[0]!;

  beforeAll(async () => {
    kube = await startKubeSetup();
    config = configSchema.parse({
      services: [
        {
          name: 'barq-api',
          platform: {
            kind: 'kubernetes',
            namespace: 'prod',
            deployment: 'barq-api',
            container: 'api',
            endpoint: kube.fake.url,
          },
          scaling: { min: 1, max: 5 },
        },
      ],
      approvals: NO_CHANGE_CONTROL.approvals,
      deploy: {
        settleTimeout: { kubernetes: '20s' },
        verifyTimeout: '5s',
        windows: NO_CHANGE_CONTROL.windows,
      },
    });
    platforms = new PlatformRegistry(config.services);
    db = await openDb({ databaseUrl: TEST_DATABASE_URL, dataDir: '', schema });
    await migrate(db);
    coordination = await openCoordination({
      redisUrl: TEST_REDIS_URL,
      keyPrefix: `test:${randomUUID()}:`,
      clock: systemClock,
      logger,
    });
  });

  afterAll(async () => {
    await coordination?.close();
    await db?.close();
    const admin = await openPostgres(TEST_DATABASE_URL);
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).finally(() => admin.close());
    await kube?.close();
  });

  beforeEach(async () => {
    events = [];
    // Each test starts with no active operation.
    await db.query(
      `UPDATE operations SET state = 'cancelled' WHERE state IN ('requested', 'running', 'verifying')`,
    );
  });

  it('the default setting has the documented defaults', () => {
    const defaults = configSchema.parse({}).deploy;
    expect(defaults.confirmTimeout).toBe(15 * 60_000);
    expect(defaults.verifyTimeout).toBe(2 * 60_000);
    expect(defaults.settleTimeout).toEqual({ kubernetes: 600_000, cloudrun: 300_000, appservice: 600_000 });
    expect(defaults.allowed).toEqual({});
    expect(config.deploy.settleTimeout.cloudrun).toBe(300_000);
  });

  it('requests, confirms, runs, settles and verifies a rollback; every transition is audited', async () => {
    const deploy = service();
    const requested = await deploy.request({
      service: barq(),
      request: { kind: 'rollback' },
      requestedBy: 'U_ALICE',
      reason: 'errors after v2',
      idempotencyKey: randomUUID(),
    });
    expect(requested.kind).toBe('created');
    if (requested.kind !== 'created') return;
    const op = requested.operation;
    expect(op.params).toMatchObject({
      fromRevision: '2',
      toRevision: '1',
      toImage: 'registry.example.com/app:v1',
    });
    expect(op.params.why).toBe('the newest revision before the current one');

    const confirmed = await deploy.confirm(op.id, 'U_ALICE');
    expect(confirmed.kind).toBe('done');
    if (confirmed.kind !== 'done') return;
    const final = await confirmed.run;
    expect(final?.state).toBe('succeeded');
    expect(final?.result).toMatchObject({ imageAfter: 'registry.example.com/app:v1', failedChecks: [] });
    expect(events.map((e) => e.event)).toEqual(['started', 'verifying', 'succeeded']);
    const audit = await repositories(db).audit.list({ operationId: op.id });
    expect(audit.map((a) => a.outcome).reverse()).toEqual(['requested', 'started', 'verifying', 'succeeded']);
    expect(audit.at(-1)?.details).toMatchObject({ reason: 'errors after v2' });
    await expect(db.query('DELETE FROM audit_records')).rejects.toThrow(/append-only/);
  });

  it('refuses a second operation on the same service while one is active, naming it', async () => {
    const deploy = service();
    const first = await deploy.request({
      service: barq(),
      request: { kind: 'restart' },
      requestedBy: 'U_ALICE',
      idempotencyKey: randomUUID(),
    });
    expect(first.kind).toBe('created');
    const second = await deploy.request({
      service: barq(),
      request: { kind: 'scale', replicas: 2 },
      requestedBy: 'U_BOB',
      idempotencyKey: randomUUID(),
    });
    expect(second).toMatchObject({ kind: 'busy', active: { kind: 'restart', requestedBy: 'U_ALICE' } });
  });

  it('two replicas requesting at once: the unique index lets one through', async () => {
    const [a, b] = await Promise.all([
      service().request({
        service: barq(),
        request: { kind: 'restart' },
        requestedBy: 'U_ALICE',
        idempotencyKey: randomUUID(),
      }),
      service().request({
        service: barq(),
        request: { kind: 'restart' },
        requestedBy: 'U_BOB',
        idempotencyKey: randomUUID(),
      }),
    ]);
    expect([a.kind, b.kind].sort()).toEqual(['busy', 'created']);
  });

  it('a repeated request (a Slack retry) returns the first operation', async () => {
    const key = randomUUID();
    const input = {
      service: barq(),
      request: { kind: 'restart' as const },
      requestedBy: 'U_ALICE',
      idempotencyKey: key,
    };
    const first = await service().request(input);
    const again = await service().request(input);
    expect(again.kind).toBe('repeat');
    expect(
      first.kind === 'created' && again.kind === 'repeat' && again.operation.id === first.operation.id,
    ).toBe(true);
  });

  it('a double Confirm on two replicas runs the change once', async () => {
    const requested = await service().request({
      service: barq(),
      request: { kind: 'scale', replicas: 3 },
      requestedBy: 'U_ALICE',
      idempotencyKey: randomUUID(),
    });
    if (requested.kind !== 'created') throw new Error(requested.kind);
    const before = patchCount(kube.fake);
    const outcomes = await Promise.all([
      service().confirm(requested.operation.id, 'U_ALICE'),
      service().confirm(requested.operation.id, 'U_ALICE'),
    ]);
    const done = outcomes.filter((o) => o.kind === 'done');
    expect(done).toHaveLength(1);
    const final = await (done[0] as { run: Promise<{ state: string }> }).run;
    expect(final.state).toBe('succeeded');
    expect(patchCount(kube.fake) - before).toBe(1);
    const audit = await repositories(db).audit.list({ operationId: requested.operation.id });
    expect(audit.filter((a) => a.outcome === 'started')).toHaveLength(1);
  });

  it('only the requester confirms or cancels; a cancelled card cannot be confirmed', async () => {
    const deploy = service();
    const requested = await deploy.request({
      service: barq(),
      request: { kind: 'restart' },
      requestedBy: 'U_ALICE',
      idempotencyKey: randomUUID(),
    });
    if (requested.kind !== 'created') throw new Error(requested.kind);
    const id = requested.operation.id;
    expect((await deploy.confirm(id, 'U_BOB')).kind).toBe('not_requester');
    expect((await deploy.cancel(id, 'U_BOB')).kind).toBe('not_requester');
    expect(await deploy.cancel(id, 'U_ALICE')).toMatchObject({
      kind: 'done',
      operation: { state: 'cancelled' },
    });
    expect((await deploy.confirm(id, 'U_ALICE')).kind).toBe('moved');
    expect((await deploy.cancel(id, 'U_ALICE')).kind).toBe('moved');
  });

  it('an unconfirmed card past its time expires, once', async () => {
    const deploy = service();
    const requested = await deploy.request({
      service: barq(),
      request: { kind: 'restart' },
      requestedBy: 'U_ALICE',
      idempotencyKey: randomUUID(),
    });
    if (requested.kind !== 'created') throw new Error(requested.kind);
    const id = requested.operation.id;
    expect(await deploy.expire(id)).toBeNull();
    await db.query(`UPDATE operations SET expires_at = now() - interval '1 second' WHERE id = $1`, [id]);
    const [a, b] = await Promise.all([service().expireDue(), service().expireDue()]);
    expect(a + b).toBe(1);
    expect((await deploy.get(id))?.state).toBe('expired');
    expect((await deploy.confirm(id, 'U_ALICE')).kind).toBe('moved');
  });

  it('resumes an orphaned operation: verification when the platform shows the target, else interrupted', async () => {
    const deploy = service();
    const make = async (replicas: number) => {
      const requested = await deploy.request({
        service: barq(),
        request: { kind: 'scale', replicas },
        requestedBy: 'U_ALICE',
        idempotencyKey: randomUUID(),
      });
      if (requested.kind !== 'created') throw new Error(requested.kind);
      // As a crashed replica leaves it: running, its lease run out.
      await db.query(
        `UPDATE operations SET state = 'running', lease_owner = 'gone', lease_until = now() - interval '1 second' WHERE id = $1`,
        [requested.operation.id],
      );
      return requested.operation.id;
    };
    const current = (await (await platforms.for(barq())).status()).replicas.desired;
    const shown = await make(current === 4 ? 3 : 4);
    // As if the change had gone through before the crash: the platform shows its target.
    await db.query(
      `UPDATE operations SET params = jsonb_set(params, '{toReplicas}', $2::jsonb) WHERE id = $1`,
      [shown, JSON.stringify(current)],
    );
    const resumed = await Promise.all(await deploy.resumeOrphaned());
    expect(resumed.map((o) => [o.id, o.state])).toEqual([[shown, 'succeeded']]);
    expect(await deploy.resumeOrphaned()).toEqual([]);

    const before = patchCount(kube.fake);
    const notShown = await make(5);
    const [interrupted] = await Promise.all(await service().resumeOrphaned());
    expect(interrupted).toMatchObject({ id: notShown, state: 'interrupted' });
    expect(interrupted?.error).toContain('nothing was re-run');
    expect(patchCount(kube.fake)).toBe(before);
    expect(events.filter((e) => e.id === notShown).map((e) => e.event)).toEqual(['interrupted']);
  });

  it('the previous good revision skips maintenance toggles and failed revisions, and says so', () => {
    const rev = (id: string, current = false, cause?: string) => ({
      id,
      image: `img:${id}`,
      createdAt: undefined,
      current,
      ...(cause ? { cause } : {}),
    });
    const history = [rev('5', true), rev('4'), rev('3', false, 'maintenance on'), rev('2')];
    const bad = new Map([['4', 'the outcome of a failed rollback']]);
    const found = previousGood(history, bad);
    expect(found?.revision.id).toBe('2');
    expect(found?.why).toContain('skipped 4 (the outcome of a failed rollback), 3 (a maintenance toggle)');
  });
});

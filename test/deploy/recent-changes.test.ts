import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.ts';
import { configSchema, type RunbookConfig } from '../../src/config/schema.ts';
import { recentChanges } from '../../src/deploy/recent-changes.ts';
import { PlatformRegistry } from '../../src/platform/factory.ts';
import type { Db } from '../../src/store/db.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openDb } from '../../src/store/open.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { repositories } from '../../src/store/repositories/index.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';
import { type KubeSetup, startKubeSetup } from './helpers.ts';

/** Deploy-aware incidents: the recent changes of a service, with a platform that does not answer. */
describe('recentChanges', () => {
  let kube: KubeSetup;
  let hanging: Server;
  let db: Db;
  let config: RunbookConfig;
  const schema = `recent_${randomUUID().replaceAll('-', '').slice(0, 12)}`;

  beforeAll(async () => {
    kube = await startKubeSetup();
    // A Kubernetes API that accepts the connection and never answers.
    hanging = createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    const platform = (endpoint: string) => ({
      kind: 'kubernetes',
      namespace: 'prod',
      deployment: 'barq-api',
      container: 'api',
      endpoint,
    });
    config = configSchema.parse({
      services: [
        { name: 'barq-api', platform: platform(kube.fake.url) },
        { name: 'barq-api', environment: 'staging', platform: platform(`http://127.0.0.1:${port}`) },
      ],
    });
    db = await openDb({ databaseUrl: TEST_DATABASE_URL, dataDir: '', schema });
    await migrate(db);
  });

  afterAll(async () => {
    await db?.close();
    hanging?.closeAllConnections();
    await new Promise((resolve) => hanging?.close(resolve));
    await kube?.close();
    const admin = await openPostgres(TEST_DATABASE_URL);
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });

  it("lists the bot's operations of the last 24 h and the platform's new revisions; a silent platform is skipped at the deadline", async () => {
    const now = systemClock.now();
    const at = (hoursAgo: number) => ({ now: () => new Date(now.getTime() - hoursAgo * 3_600_000) });
    for (const [hoursAgo, environment] of [
      [1, 'staging'],
      [25, 'staging'],
    ] as const) {
      const { operation } = await repositories(db, at(hoursAgo)).operations.create({
        kind: 'restart',
        service: 'barq-api',
        environment,
        requestedBy: 'U_ALICE',
        idempotencyKey: `k-${hoursAgo}`,
        params: { fromRevision: `r${hoursAgo}` },
      });
      await repositories(db).operations.transition(operation.id, ['requested'], 'succeeded', {
        startedAt: at(hoursAgo).now(),
      });
    }
    const platforms = new PlatformRegistry(config.services);
    // The adapter's first call loads its client: warm it, so the deadline measures the platform.
    await (await platforms.for(config.services[0]!)).history(1);
    const found = await recentChanges({
      services: config.services,
      operations: repositories(db).operations,
      platformFor: (s) => platforms.for(s),
      clock: systemClock,
      deadlineMs: 1_000,
    });
    const production = found.find((s) => s.environment === 'production');
    expect(production?.platform).toBe('read');
    expect(production?.changes.map((c) => c.what)).toEqual([
      expect.stringMatching(/^new revision 2 \(registry.example.com\/app:v2\).*serving now$/),
      expect.stringMatching(/^new revision 1 /),
    ]);
    expect(production?.previousGood).toEqual({ revision: '1', image: 'registry.example.com/app:v1' });
    const staging = found.find((s) => s.environment === 'staging');
    expect(staging?.platform).toBe('no answer within 1 s');
    expect(staging?.changes.map((c) => c.what)).toEqual([
      'restart by the bot: rolling restart of revision r1 (succeeded)',
    ]);
    expect(staging?.previousGood).toBeNull();
  });
});

import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.ts';
import { openDb } from '../../src/store/open.ts';
import { repositories } from '../../src/store/repositories/index.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';
import { uniqueSchema } from './databases.ts';

describe('openDb', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('uses Postgres when a database URL is set', async () => {
    const schema = uniqueSchema();
    const db = await openDb({ databaseUrl: TEST_DATABASE_URL, dataDir: 'memory://', schema });
    cleanups.push(async () => {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    });
    expect(db.kind).toBe('postgres');
    const { rows } = await db.query<{ schema: string }>('SELECT current_schema() AS schema');
    expect(rows[0]?.schema).toBe(schema);
  });

  it('uses PGlite when the URL is unset or blank', async () => {
    const db = await openDb({ databaseUrl: '  ', dataDir: 'memory://' });
    cleanups.push(() => db.close());
    expect(db.kind).toBe('pglite');
  });

  it('persists PGlite under <dataDir>/pglite across restarts', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'runbook-store-'));
    cleanups.push(() => rm(dataDir, { recursive: true, force: true }));

    const first = await openDb({ dataDir });
    await migrate(first);
    const { incident } = await repositories(first).incidents.declare({
      title: 'Persisted',
      severity: 'P2',
      declaredBy: 'U1',
    });
    await first.close();
    expect((await stat(join(dataDir, 'pglite'))).isDirectory()).toBe(true);

    const second = await openDb({ dataDir });
    try {
      expect((await migrate(second)).applied).toEqual([]);
      expect((await repositories(second).incidents.get(incident.number))?.title).toBe('Persisted');
    } finally {
      await second.close();
    }
  });
});

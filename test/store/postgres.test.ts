import { afterAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.ts';
import { migrate } from '../../src/store/migrate.ts';
import { openPostgres, type PostgresDb } from '../../src/store/postgres.ts';
import { repositories } from '../../src/store/repositories/index.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';
import { openPostgresForTest, uniqueSchema } from './databases.ts';
import { describeRepositories } from './repositories-suite.ts';

describeRepositories('postgres', openPostgresForTest);

describe('openPostgres', () => {
  const opened: { db: PostgresDb; schema: string }[] = [];
  afterAll(async () => {
    for (const { db, schema } of opened) {
      await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await db.close();
    }
  });

  it('pins every pooled connection to its own schema, created when missing', async () => {
    const schemaA = uniqueSchema();
    const schemaB = uniqueSchema();
    const a = await openPostgres(TEST_DATABASE_URL, { schema: schemaA, max: 3 });
    opened.push({ db: a, schema: schemaA });
    const b = await openPostgres(TEST_DATABASE_URL, { schema: schemaB, max: 3 });
    opened.push({ db: b, schema: schemaB });
    expect(a.schema).toBe(schemaA);

    const schemas = await Promise.all(
      Array.from({ length: 6 }, () =>
        a.transaction(async (tx) => {
          const { rows } = await tx.query<{ schema: string; tz: string }>(
            "SELECT current_schema() AS schema, current_setting('TimeZone') AS tz, pg_sleep(0.01)",
          );
          return rows[0];
        }),
      ),
    );
    expect(new Set(schemas.map((s) => s?.schema))).toEqual(new Set([schemaA]));
    expect(schemas[0]?.tz).toBe('UTC');

    await migrate(a);
    await migrate(b);
    const inA = await repositories(a).incidents.declare({
      title: 'only in A',
      severity: 'P3',
      declaredBy: 'U1',
    });
    expect(inA.incident.number).toBe(1);
    expect(await repositories(b).incidents.get(1)).toBeNull();
    const inB = await repositories(b).incidents.declare({
      title: 'only in B',
      severity: 'P3',
      declaredBy: 'U1',
    });
    expect(inB.incident.number).toBe(1);
  });

  it('survives two replicas creating the same schema at once', async () => {
    const schema = uniqueSchema();
    const [first, second] = await Promise.all([
      openPostgres(TEST_DATABASE_URL, { schema, max: 1 }),
      openPostgres(TEST_DATABASE_URL, { schema, max: 1 }),
    ]);
    opened.push({ db: first, schema });
    await second.close();
    await second.close();
    const { rows } = await first.query<{ schema: string }>('SELECT current_schema() AS schema');
    expect(rows[0]?.schema).toBe(schema);
  });

  it('refuses a schema name that would need quoting', async () => {
    await expect(openPostgres(TEST_DATABASE_URL, { schema: 'Robert"; DROP' })).rejects.toThrow(/not allowed/);
  });

  it('fails with an actionable StoreError, and no password, when the server is unreachable', async () => {
    const db = await openPostgres('postgres://bot:s3cr3t-pw@127.0.0.1:1/runbook', {
      connectionTimeoutMs: 2_000,
    });
    try {
      const error = await db.query('SELECT 1').catch((e) => e);
      expect(error).toBeInstanceOf(StoreError);
      expect(error.message).toMatch(/postgres query failed: .*ECONNREFUSED|connect/);
      expect(error.message).not.toContain('s3cr3t-pw');
      await expect(db.transaction(async () => 1)).rejects.toBeInstanceOf(StoreError);
    } finally {
      await db.close();
    }
  });
});

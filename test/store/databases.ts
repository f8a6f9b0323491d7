/** Opens isolated test databases for the store suites: a unique Postgres schema, or PGlite in memory. */
import { randomUUID } from 'node:crypto';
import type { Db } from '../../src/store/db.ts';
import { IN_MEMORY, openPglite } from '../../src/store/pglite.ts';
import { openPostgres } from '../../src/store/postgres.ts';
import { TEST_DATABASE_URL } from '../helpers/services.ts';

export interface TestDatabase {
  db: Db;
  /** A second, separate connection to the same database (another pool; PGlite: the same instance). */
  peer: Db;
  /** Drops what the test created and closes the connections. */
  dispose(): Promise<void>;
}

export function uniqueSchema(prefix = 'store_test'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`;
}

export async function openPostgresForTest(): Promise<TestDatabase> {
  const schema = uniqueSchema();
  const db = await openPostgres(TEST_DATABASE_URL, { schema, max: 12 });
  const peer = await openPostgres(TEST_DATABASE_URL, { schema, max: 4 });
  return {
    db,
    peer,
    async dispose() {
      await peer.close();
      try {
        await db.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await db.close();
      }
    },
  };
}

export async function openPgliteForTest(): Promise<TestDatabase> {
  const db = await openPglite(IN_MEMORY);
  return { db, peer: db, dispose: () => db.close() };
}

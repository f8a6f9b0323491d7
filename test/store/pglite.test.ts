import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.ts';
import { IN_MEMORY, openPglite, type PgliteDb } from '../../src/store/pglite.ts';
import { openPgliteForTest } from './databases.ts';
import { describeRepositories } from './repositories-suite.ts';

const run = promisify(execFile);

describeRepositories('pglite', openPgliteForTest);

describe('openPglite', () => {
  let db: PgliteDb;
  beforeAll(async () => {
    db = await openPglite(IN_MEMORY);
  });
  afterAll(async () => {
    await db.close();
  });

  it('refuses a query on the Db from inside its own transaction instead of deadlocking', async () => {
    expect(db.dataDir).toBe(IN_MEMORY);
    const error = await db
      .transaction(async (tx) => {
        await tx.query('SELECT 1');
        return db.query('SELECT 2');
      })
      .catch((e) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect(error.message).toContain('use the tx argument');
    await expect(db.transaction(() => db.transaction(async () => 1))).rejects.toThrow(/deadlock/);
    expect((await db.query('SELECT 3 AS n')).rows).toEqual([{ n: 3 }]);
  });

  it('runs concurrent transactions one at a time, each seeing the previous one', async () => {
    await db.query('CREATE TABLE counter (n integer NOT NULL)');
    await db.query('INSERT INTO counter (n) VALUES (0)');
    await Promise.all(
      Array.from({ length: 10 }, () =>
        db.transaction(async (tx) => {
          const { rows } = await tx.query<{ n: number }>('SELECT n FROM counter');
          await tx.query('UPDATE counter SET n = $1', [(rows[0]?.n ?? 0) + 1]);
        }),
      ),
    );
    expect((await db.query('SELECT n FROM counter')).rows).toEqual([{ n: 10 }]);
  });

  it('keeps a small buffer cache (16 MB, not 128 MB): the rest of it would be resident for nothing', async () => {
    const { rows } = await db.query<{ shared_buffers: string }>('SHOW shared_buffers');
    expect(rows).toEqual([{ shared_buffers: '16MB' }]);
  });

  it('creates a new data directory in a process of its own (initdb leaves ~400 MB behind until a major GC)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'runbook-pglite-first-'));
    try {
      const script = fileURLToPath(new URL('../../src/store/pglite-initdb.ts', import.meta.url));
      await run(process.execPath, [script, join(dir, 'created')]);
      expect(existsSync(join(dir, 'created', 'PG_VERSION'))).toBe(true);
      const usage = await run(process.execPath, [script]).catch((e: { code: number; stderr: string }) => e);
      expect(usage).toMatchObject({ code: 2, stderr: expect.stringContaining('usage:') });

      // openPglite on a directory without a database: created by that process, then opened here.
      const fresh = await openPglite(join(dir, 'pglite'));
      try {
        expect(existsSync(join(dir, 'pglite', 'PG_VERSION'))).toBe(true);
        expect((await fresh.query('SHOW shared_buffers')).rows).toEqual([{ shared_buffers: '16MB' }]);
      } finally {
        await fresh.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

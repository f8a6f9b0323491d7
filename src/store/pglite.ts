/** The Db on embedded PGlite (Postgres in WebAssembly): used when DATABASE_URL is unset. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { PGlite, type Results, type Transaction, TransactionAbortedError } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './db.ts';
import { StoreError, toStoreError } from './errors.ts';
import { scalarParsers } from './type-parsers.ts';

export interface PgliteDb extends Db {
  readonly kind: 'pglite';
  /** Absolute data directory, or 'memory://'. */
  readonly dataDir: string;
}

export const IN_MEMORY = 'memory://';

/**
 * PGlite's start parameters plus a smaller buffer cache. With Postgres's default shared_buffers
 * (128 MB) a started PGlite is resident for about 100 MB more (measured: 300 → 200 MB for PGlite
 * alone, see bench/footprint.ts), for a database of a few MB; 16 MB holds the bot's data many times over.
 */
export const PGLITE_START_PARAMS: readonly string[] = [
  ...PGlite.defaultStartParams,
  '-c',
  'shared_buffers=16MB',
];

type Runner = Pick<Transaction, 'query' | 'exec'>;

function normalize<R>(result: Results<unknown> | undefined): QueryResult<R> {
  if (!result) return { rows: [], rowCount: 0 };
  return { rows: result.rows as R[], rowCount: result.rowCount ?? result.affectedRows ?? 0 };
}

/**
 * Like pg: with parameters, one statement over the extended protocol; without, the simple protocol,
 * which also accepts several statements (migrations) and answers the last one's result.
 */
async function run<R>(
  runner: Runner,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  try {
    if (params && params.length > 0) return normalize<R>(await runner.query<unknown>(sql, [...params]));
    const results = await runner.exec(sql);
    return normalize<R>(results.at(-1));
  } catch (error) {
    throw toStoreError(error, 'pglite');
  }
}

/** A first run's initdb may take a while on a busy machine; past this the bot says so and stops. */
const INITDB_TIMEOUT_MS = 120_000;

/**
 * A first run: creates the database in `location` in a process of its own (src/store/pglite-initdb.ts),
 * so that what initdb leaves behind (~400 MB resident until a major GC) ends with that process.
 */
async function initialiseDataDir(location: string): Promise<void> {
  const script = fileURLToPath(new URL('./pglite-initdb.ts', import.meta.url));
  await new Promise<void>((done, fail) => {
    // Only the flag that keeps its WebAssembly memory small (see the Dockerfile), not the parent's.
    execFile(
      process.execPath,
      ['--liftoff-only', script, location],
      { timeout: INITDB_TIMEOUT_MS, maxBuffer: 1024 * 1024 },
      (error, _stdout, stderr) => {
        if (!error) return done();
        const detail = stderr.trim().split('\n').slice(-3).join(' ') || error.message;
        fail(
          new StoreError(`cannot create the embedded database in ${location}: ${detail}`, { cause: error }),
        );
      },
    );
  });
}

/**
 * Opens PGlite: `dataDir` is a directory (created if missing; production uses
 * `${RUNBOOK_DATA_DIR}/pglite`) or 'memory://' for tests. PGlite has one connection, so
 * transactions run one at a time and other queries wait for them.
 */
export async function openPglite(dataDir: string): Promise<PgliteDb> {
  const location = dataDir === IN_MEMORY ? IN_MEMORY : resolve(dataDir);
  if (location !== IN_MEMORY) {
    await mkdir(location, { recursive: true });
    if (!existsSync(join(location, 'PG_VERSION'))) await initialiseDataDir(location);
  }
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(location, {
      parsers: { ...scalarParsers },
      startParams: [...PGLITE_START_PARAMS],
    });
  } catch (error) {
    throw new StoreError(
      `cannot open the embedded database in ${location}: ${error instanceof Error ? error.message : String(error)}` +
        ' (is another bot process using the same RUNBOOK_DATA_DIR?)',
      { cause: error },
    );
  }
  await run(pglite, 'SET TimeZone = UTC', undefined);

  // PGlite's queries wait for the running transaction; one issued from inside it would wait forever.
  const insideTransaction = new AsyncLocalStorage<true>();
  const refuseNested = (what: string): void => {
    if (insideTransaction.getStore()) {
      throw new StoreError(
        `${what} on the Db inside db.transaction() would deadlock PGlite (one connection): use the tx argument`,
      );
    }
  };

  let closed = false;
  const db: PgliteDb = {
    kind: 'pglite',
    dataDir: location,
    async query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      refuseNested('query');
      return run<R>(pglite, sql, params);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      refuseNested('transaction');
      let failedInside = false;
      try {
        return await pglite.transaction(async (transaction) => {
          let finished = false;
          const tx: Queryable = {
            query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
              if (finished) {
                return Promise.reject(
                  new StoreError('query on a finished transaction: use the tx only inside its callback'),
                );
              }
              return run<R>(transaction, sql, params);
            },
          };
          try {
            return await insideTransaction.run(true, () => fn(tx));
          } catch (error) {
            failedInside = true;
            throw error;
          } finally {
            finished = true;
          }
        });
      } catch (error) {
        // The callback's own error passes through untouched (PGlite has rolled back).
        if (failedInside) throw error;
        if (error instanceof TransactionAbortedError) {
          throw new StoreError(
            'transaction was rolled back at COMMIT because a statement inside it failed (the error was caught)',
            { cause: error },
          );
        }
        throw toStoreError(error, 'pglite');
      }
    },
    async ping() {
      refuseNested('ping');
      const started = performance.now();
      await run(pglite, 'SELECT 1', undefined);
      return performance.now() - started;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pglite.close();
    },
  };
  return db;
}

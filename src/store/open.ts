/**
 * Picks the store backend: Postgres when DATABASE_URL is set, embedded PGlite otherwise. Only the
 * chosen one is loaded (PGlite's module and WebAssembly cost a replica on Postgres for nothing).
 */
import { join } from 'node:path';
import type { Db } from './db.ts';
import type { PostgresOptions } from './postgres.ts';

/** RUNBOOK_DATA_DIR value that keeps PGlite in memory (tests); the same as pglite.ts's IN_MEMORY. */
const IN_MEMORY = 'memory://';

export interface OpenDbOptions {
  /** DATABASE_URL; unset or empty → PGlite. */
  databaseUrl?: string | undefined;
  /** RUNBOOK_DATA_DIR: PGlite lives in `${dataDir}/pglite`; 'memory://' keeps it in memory (tests). */
  dataDir: string;
  /** Postgres only: the schema every connection uses (created if missing). */
  schema?: string | undefined;
  /** Postgres only: pool size. */
  max?: number | undefined;
  /** Postgres only: see PostgresOptions.onIdleError. */
  onIdleError?: PostgresOptions['onIdleError'];
}

/** Opens the store. Call migrate(db) next, before serving. */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  const url = options.databaseUrl?.trim();
  if (url) {
    const { openPostgres } = await import('./postgres.ts');
    return openPostgres(url, {
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.max !== undefined ? { max: options.max } : {}),
      ...(options.onIdleError !== undefined ? { onIdleError: options.onIdleError } : {}),
    });
  }
  const { openPglite } = await import('./pglite.ts');
  return openPglite(options.dataDir === IN_MEMORY ? IN_MEMORY : join(options.dataDir, 'pglite'));
}

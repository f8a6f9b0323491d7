/** Picks the store backend: Postgres when DATABASE_URL is set, embedded PGlite otherwise. */
import { join } from 'node:path';
import type { Db } from './db.ts';
import { IN_MEMORY, openPglite } from './pglite.ts';
import { openPostgres, type PostgresOptions } from './postgres.ts';

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
    return openPostgres(url, {
      ...(options.schema !== undefined ? { schema: options.schema } : {}),
      ...(options.max !== undefined ? { max: options.max } : {}),
      ...(options.onIdleError !== undefined ? { onIdleError: options.onIdleError } : {}),
    });
  }
  return openPglite(options.dataDir === IN_MEMORY ? IN_MEMORY : join(options.dataDir, 'pglite'));
}

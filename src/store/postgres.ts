/** The Db on a real PostgreSQL server, through a pg Pool. */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import type { Db, Queryable, QueryResult } from './db.ts';
import { SQLSTATE, StoreError, toStoreError } from './errors.ts';
import { arrayElementOids, mapArrayLeaves, OID, scalarParsers, type TextParser } from './type-parsers.ts';

export interface PostgresOptions {
  /**
   * Schema every connection uses (search_path), created when missing. Tests pass a unique one to
   * isolate; production leaves it unset (the server's default, normally public).
   */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** How long to wait for a connection before failing (default 10 s). */
  connectionTimeoutMs?: number;
  /**
   * Called when an idle pooled connection fails (server restart, network drop). The pool drops that
   * connection and the next query opens a new one; pass a logger here so the failure is seen.
   */
  onIdleError?: (error: StoreError) => void;
}

export interface PostgresDb extends Db {
  readonly kind: 'postgres';
  readonly schema: string | undefined;
}

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const defaultParser = pg.types.getTypeParser as (oid: number, format: 'text' | 'binary') => unknown;

/** Custom type parsers for this pool only (the global pg.types stay untouched). */
function typeParser(oid: number, format?: string): unknown {
  if (format === 'binary') return defaultParser(oid, 'binary');
  const scalar = scalarParsers[oid];
  if (scalar) return scalar;
  const elementOid = arrayElementOids[oid];
  const element = elementOid === undefined ? undefined : scalarParsers[elementOid];
  if (element) {
    const parseTextArray = defaultParser(OID.textArray, 'text') as TextParser;
    return (value: string) => mapArrayLeaves(parseTextArray(value), element);
  }
  return defaultParser(oid, 'text');
}

const types = { getTypeParser: typeParser } as pg.CustomTypesConfig;

function normalize<R>(result: unknown): QueryResult<R> {
  // A multi-statement query (simple protocol, no parameters) answers an array: keep the last.
  const last = (Array.isArray(result) ? result.at(-1) : result) as pg.QueryResult | undefined;
  if (!last) return { rows: [], rowCount: 0 };
  return { rows: last.rows as R[], rowCount: last.rowCount ?? 0 };
}

async function run<R>(
  client: pg.Pool | pg.PoolClient,
  sql: string,
  params: readonly unknown[] | undefined,
): Promise<QueryResult<R>> {
  try {
    const result: unknown =
      params && params.length > 0 ? await client.query(sql, params as unknown[]) : await client.query(sql);
    return normalize<R>(result);
  } catch (error) {
    throw toStoreError(error, 'postgres');
  }
}

/** Opens a pool; with `schema`, creates it if missing and pins every connection's search_path to it. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDb> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      `schema name "${schema}" is not allowed: use lower-case letters, digits and underscores (max 63)`,
    );
  }
  const settings = ['-c TimeZone=UTC', ...(schema ? [`-c search_path=${schema}`] : [])];
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? 10_000,
    application_name: 'runbook-bot',
    options: settings.join(' '),
    types,
  });
  const onIdleError = options.onIdleError;
  pool.on('error', (error) => {
    const wrapped = toStoreError(error, 'postgres');
    if (onIdleError) onIdleError(wrapped);
    else process.emitWarning(`idle Postgres connection failed: ${wrapped.message}`);
  });

  if (schema) {
    try {
      await run(pool, `CREATE SCHEMA IF NOT EXISTS "${schema}"`, undefined);
    } catch (error) {
      // Two replicas creating the schema at once: the loser sees a duplicate, which is fine.
      const raced =
        error instanceof StoreError &&
        (error.code === SQLSTATE.uniqueViolation || error.code === SQLSTATE.duplicateSchema);
      if (!raced) {
        await pool.end();
        throw error;
      }
    }
  }

  let closed = false;
  const db: PostgresDb = {
    kind: 'postgres',
    schema,
    query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
      return run<R>(pool, sql, params);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (error) {
        throw toStoreError(error, 'postgres');
      }
      let finished = false;
      const tx: Queryable = {
        query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
          if (finished) {
            return Promise.reject(
              new StoreError('query on a finished transaction: use the tx only inside its callback'),
            );
          }
          return run<R>(client, sql, params);
        },
      };
      try {
        await run(client, 'BEGIN', undefined);
        const value = await fn(tx);
        finished = true;
        const commit = await client.query('COMMIT').catch((error: unknown) => {
          throw toStoreError(error, 'postgres');
        });
        if (commit.command === 'ROLLBACK') {
          throw new StoreError(
            'transaction was rolled back at COMMIT because a statement inside it failed (the error was caught)',
          );
        }
        client.release();
        return value;
      } catch (error) {
        finished = true;
        try {
          await client.query('ROLLBACK');
          client.release();
        } catch (rollbackError) {
          // The connection is in an unknown state: destroy it rather than return it to the pool.
          client.release(rollbackError instanceof Error ? rollbackError : true);
          throw new AggregateError(
            [error, toStoreError(rollbackError, 'postgres')],
            'transaction failed and its ROLLBACK failed too (the connection was discarded)',
          );
        }
        throw error;
      }
    },
    async ping() {
      const started = performance.now();
      await run(pool, 'SELECT 1', undefined);
      return performance.now() - started;
    },
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
  };
  return db;
}

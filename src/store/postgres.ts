/** The Db on a real PostgreSQL server, through a pg Pool. */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { resetSocket } from '../util/reset-socket.ts';
import type { Db, Queryable, QueryResult, TransactionOptions } from './db.ts';
import { SQLSTATE, StoreError, toStoreError } from './errors.ts';
import { arrayElementOids, mapArrayLeaves, OID, scalarParsers, type TextParser } from './type-parsers.ts';

/**
 * How long the bot waits on Postgres. Every call has a deadline, so that no command waits on an
 * unreachable database for more than about two seconds, and nothing it was told failed can apply later.
 */
export const POSTGRES_TIMEOUTS = {
  /** Getting a connection (from the pool, or a new one: TCP, TLS, startup). */
  connectMs: 2_000,
  /** Server side: a statement running longer is cancelled and rolled back (SQLSTATE 57014). */
  statementMs: 1_500,
  /**
   * Client side: a statement without any answer after this long (server unreachable, packets
   * dropped) fails, and its connection is reset, so it cannot run later.
   */
  answerMs: 2_000,
  /** Server side: a transaction whose client vanished is rolled back, releasing its locks, after this. */
  idleInTransactionMs: 10_000,
  /** TCP keepalive on every connection, so dead idle connections are noticed and dropped. */
  keepAliveInitialDelayMs: 10_000,
} as const;

export interface PostgresOptions {
  /**
   * Schema every connection uses (search_path), created when missing. Tests pass a unique one to
   * isolate; production leaves it unset (the server's default, normally public).
   */
  schema?: string;
  /** Pool size (default 10). */
  max?: number;
  /** How long to wait for a connection before failing (default POSTGRES_TIMEOUTS.connectMs). */
  connectionTimeoutMs?: number;
  /** Server-side statement_timeout (default POSTGRES_TIMEOUTS.statementMs). */
  statementTimeoutMs?: number;
  /** Client-side deadline of each statement (default POSTGRES_TIMEOUTS.answerMs). */
  answerTimeoutMs?: number;
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

/** A connection checked out of the pool, watched for failure while we hold it. */
interface Checkout {
  client: pg.PoolClient;
  /** Why the connection is unusable (it failed, or a deadline reset it): then it is not reused. */
  broken: Error | undefined;
  onError: (error: Error) => void;
}

/** Reads of this shape cannot have changed anything when their answer is lost. */
const READ_ONLY = /^\s*(select|show|values)\b/i;

function checkin(checkout: Checkout): void {
  checkout.client.removeListener('error', checkout.onError);
  // With an error the pool destroys the connection instead of keeping it.
  checkout.client.release(checkout.broken);
}

/**
 * One statement on a checked-out connection, with the client-side deadline: when no answer comes in
 * `answerMs`, the connection is reset (RST) and the statement fails as unavailable.
 */
function sendOn(
  checkout: Checkout,
  sql: string,
  params: readonly unknown[] | undefined,
  answerMs: number,
  inDoubtOnTimeout: boolean,
): Promise<unknown> {
  if (checkout.broken) return Promise.reject(toStoreError(checkout.broken, 'postgres'));
  return new Promise((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      const error = new StoreError(
        inDoubtOnTimeout
          ? `postgres did not answer within ${answerMs} ms after the change was sent: it may or may not have been applied (the connection was reset)`
          : `postgres did not answer within ${answerMs} ms (the connection was reset, so the statement cannot run later)`,
        { unavailable: true, inDoubt: inDoubtOnTimeout, code: 'ETIMEDOUT' },
      );
      checkout.broken ??= error;
      resetSocket((checkout.client as unknown as { connection?: { stream?: unknown } }).connection?.stream);
      reject(error);
    }, answerMs);
    const query: Promise<unknown> =
      params && params.length > 0
        ? checkout.client.query(sql, params as unknown[])
        : checkout.client.query(sql);
    query.then(
      (result) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve(result);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        reject(toStoreError(error, 'postgres'));
      },
    );
  });
}

async function runOn<R>(
  checkout: Checkout,
  sql: string,
  params: readonly unknown[] | undefined,
  answerMs: number,
  inDoubtOnTimeout: boolean,
): Promise<QueryResult<R>> {
  return normalize<R>(await sendOn(checkout, sql, params, answerMs, inDoubtOnTimeout));
}

/** Opens a pool; with `schema`, creates it if missing and pins every connection's search_path to it. */
export async function openPostgres(url: string, options: PostgresOptions = {}): Promise<PostgresDb> {
  const { schema } = options;
  if (schema !== undefined && !SCHEMA_NAME.test(schema)) {
    throw new StoreError(
      `schema name "${schema}" is not allowed: use lower-case letters, digits and underscores (max 63)`,
    );
  }
  const statementMs = options.statementTimeoutMs ?? POSTGRES_TIMEOUTS.statementMs;
  const answerMs = options.answerTimeoutMs ?? POSTGRES_TIMEOUTS.answerMs;
  const settings = [
    '-c TimeZone=UTC',
    `-c statement_timeout=${statementMs}`,
    `-c idle_in_transaction_session_timeout=${POSTGRES_TIMEOUTS.idleInTransactionMs}`,
    ...(schema ? [`-c search_path=${schema}`] : []),
  ];
  const pool = new pg.Pool({
    connectionString: url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectionTimeoutMs ?? POSTGRES_TIMEOUTS.connectMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: POSTGRES_TIMEOUTS.keepAliveInitialDelayMs,
    application_name: 'runbook-bot',
    options: settings.join(' '),
    types,
  });

  async function checkout(): Promise<Checkout> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStoreError(error, 'postgres');
    }
    const held: Checkout = {
      client,
      broken: undefined,
      onError: (error) => {
        held.broken ??= error;
      },
    };
    client.on('error', held.onError);
    return held;
  }

  /** One statement outside a transaction (autocommit). */
  async function run<R>(sql: string, params: readonly unknown[] | undefined): Promise<QueryResult<R>> {
    const held = await checkout();
    try {
      return await runOn<R>(held, sql, params, answerMs, !READ_ONLY.test(sql));
    } finally {
      checkin(held);
    }
  }
  const onIdleError = options.onIdleError;
  pool.on('error', (error) => {
    const wrapped = toStoreError(error, 'postgres');
    if (onIdleError) onIdleError(wrapped);
    else process.emitWarning(`idle Postgres connection failed: ${wrapped.message}`);
  });

  if (schema) {
    try {
      await run(`CREATE SCHEMA IF NOT EXISTS "${schema}"`, undefined);
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
      return run<R>(sql, params);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>, txOptions: TransactionOptions = {}): Promise<T> {
      const held = await checkout();
      const longStatements = txOptions.statementTimeoutMs;
      // A longer server-side limit for this transaction, and a client deadline just past it.
      const deadline = longStatements === undefined ? answerMs : longStatements + answerMs;
      let finished = false;
      const tx: Queryable = {
        query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]) {
          if (finished) {
            return Promise.reject(
              new StoreError('query on a finished transaction: use the tx only inside its callback'),
            );
          }
          return runOn<R>(held, sql, params, deadline, false);
        },
      };
      try {
        await runOn(held, 'BEGIN', undefined, answerMs, false);
        if (longStatements !== undefined) {
          await runOn(
            held,
            `SET LOCAL statement_timeout = ${Math.max(0, Math.floor(longStatements))}`,
            undefined,
            answerMs,
            false,
          );
        }
        const value = await fn(tx);
        finished = true;
        const commit = (await sendOn(held, 'COMMIT', undefined, answerMs, true)) as pg.QueryResult;
        if (commit.command === 'ROLLBACK') {
          throw new StoreError(
            'transaction was rolled back at COMMIT because a statement inside it failed (the error was caught)',
          );
        }
        checkin(held);
        return value;
      } catch (error) {
        finished = true;
        if (held.broken) {
          // The connection failed or was reset: the server rolls the transaction back on its own.
          checkin(held);
          throw error;
        }
        try {
          await runOn(held, 'ROLLBACK', undefined, answerMs, false);
          checkin(held);
        } catch (rollbackError) {
          // The connection is in an unknown state: destroy it rather than return it to the pool.
          held.broken ??= rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
          checkin(held);
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
      await run('SELECT 1', undefined);
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

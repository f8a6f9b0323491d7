/** The store's view of SQL: the same queries run on Postgres (pg) and embedded PGlite. */

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

export interface TransactionOptions {
  /**
   * How long each statement inside may take, instead of the store's few seconds (Postgres only:
   * migrations, whose DDL and advisory lock waits can be long).
   */
  statementTimeoutMs?: number;
}

export interface Db extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /** Runs fn in one transaction (BEGIN … COMMIT, ROLLBACK on throw). */
  transaction<T>(fn: (tx: Queryable) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /** Round trip latency, for readiness. */
  ping(): Promise<number>;
  close(): Promise<void>;
}

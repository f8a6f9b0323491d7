import type { Db, Queryable } from './db.ts';

function isDb(q: Queryable): q is Db {
  return typeof (q as Partial<Db>).transaction === 'function';
}

/**
 * Runs fn atomically: in a new transaction when given the Db, or inside the caller's transaction
 * when given a tx (so repository methods compose into larger transactions).
 */
export function inTransaction<T>(q: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return isDb(q) ? q.transaction(fn) : fn(q);
}

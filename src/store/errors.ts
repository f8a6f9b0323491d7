/** Typed store errors: the same shape whichever backend (pg or PGlite) raised them. */
import { z } from 'zod';
import { NETWORK_ERROR_CODES } from '../util/network-codes.ts';

export interface StoreErrorOptions {
  /** SQLSTATE, e.g. 23505 for a unique violation. */
  code?: string | undefined;
  constraint?: string | undefined;
  detail?: string | undefined;
  cause?: unknown;
  /** The database could not be reached or did not answer in time (see StoreError.unavailable). */
  unavailable?: boolean | undefined;
  /** See StoreError.inDoubt. */
  inDoubt?: boolean | undefined;
}

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  readonly detail: string | undefined;
  /**
   * The database was unreachable or did not answer in time (refused, reset, a connection or statement
   * deadline). Whatever the statement was, it did not take effect, unless `inDoubt`.
   */
  readonly unavailable: boolean;
  /**
   * A COMMIT (or a write outside a transaction) was sent and no answer came back: the database may or
   * may not have applied it.
   */
  readonly inDoubt: boolean;
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.constraint = options.constraint;
    this.detail = options.detail;
    this.unavailable = options.unavailable ?? false;
    this.inDoubt = options.inDoubt ?? false;
  }
}

/** A migration failed, was edited after being applied, or is out of order. */
export class MigrationError extends Error {
  override name = 'MigrationError';
}

/** An idempotency key was reused for a different request. */
export class IdempotencyConflictError extends Error {
  override name = 'IdempotencyConflictError';
}

/**
 * SQLSTATEs of a database that cannot serve us now: class 08 (connection exception), 53300 (too many
 * connections), 57P01–57P03 (shutting down, cannot connect now) and 57014 (statement_timeout fired:
 * the statement was cancelled and rolled back).
 */
function unavailableSqlState(code: string): boolean {
  return code.startsWith('08') || ['53300', '57P01', '57P02', '57P03', '57014'].includes(code);
}

/** What pg says when a connection is lost or cannot be had in time. */
const UNAVAILABLE_MESSAGE =
  /^(timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Client was closed and is not queryable|Connection terminated due to connection timeout)/;

const driverErrorSchema = z.object({
  message: z.string(),
  code: z.string().optional().catch(undefined),
  constraint: z.string().optional().catch(undefined),
  detail: z.string().optional().catch(undefined),
});

/**
 * Wraps whatever the driver threw into a StoreError. The message carries the database's words and
 * SQLSTATE, never the query parameters (they may hold user text).
 */
export function toStoreError(error: unknown, backend: 'postgres' | 'pglite'): StoreError {
  if (error instanceof StoreError) return error;
  const parsed = driverErrorSchema.safeParse(error);
  if (!parsed.success) return new StoreError(`${backend} query failed: ${String(error)}`, { cause: error });
  const { message, code, constraint, detail } = parsed.data;
  const sqlState = code !== undefined && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
  const unavailable =
    (sqlState !== undefined && unavailableSqlState(sqlState)) ||
    (code !== undefined && NETWORK_ERROR_CODES.has(code)) ||
    UNAVAILABLE_MESSAGE.test(message);
  const where = [
    sqlState ? `SQLSTATE ${sqlState}` : code ? code : undefined,
    constraint ? `constraint ${constraint}` : undefined,
  ].filter((part) => part !== undefined);
  return new StoreError(
    `${backend} query failed: ${message}${where.length > 0 ? ` (${where.join(', ')})` : ''}`,
    {
      code: sqlState ?? code,
      constraint,
      detail,
      cause: error,
      unavailable,
    },
  );
}

export const SQLSTATE = {
  uniqueViolation: '23505',
  foreignKeyViolation: '23503',
  checkViolation: '23514',
  notNullViolation: '23502',
  duplicateSchema: '42P06',
  raiseException: 'P0001',
} as const;

export function isStoreError(error: unknown, code?: string): error is StoreError {
  return error instanceof StoreError && (code === undefined || error.code === code);
}

/** The database was unreachable or too slow (see StoreError.unavailable). */
export function isStoreUnavailable(error: unknown): error is StoreError {
  return error instanceof StoreError && error.unavailable;
}

/** Typed store errors: the same shape whichever backend (pg or PGlite) raised them. */
import { z } from 'zod';

export interface StoreErrorOptions {
  /** SQLSTATE, e.g. 23505 for a unique violation. */
  code?: string | undefined;
  constraint?: string | undefined;
  detail?: string | undefined;
  cause?: unknown;
}

export class StoreError extends Error {
  override name = 'StoreError';
  readonly code: string | undefined;
  readonly constraint: string | undefined;
  readonly detail: string | undefined;
  constructor(message: string, options: StoreErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.code = options.code;
    this.constraint = options.constraint;
    this.detail = options.detail;
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

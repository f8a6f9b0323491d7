import { CoordinationError } from './errors.ts';

/** A TTL as whole milliseconds ≥ 1 (Redis PX needs an integer), or an `invalid` error. */
export function ttlMillis(ttlMs: number, what: string): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new CoordinationError(
      'invalid',
      `${what}: the TTL must be a positive number of milliseconds, got ${ttlMs}`,
    );
  }
  return Math.ceil(ttlMs);
}

/** Epoch milliseconds of a valid Date, or an `invalid` error. */
export function epochMillis(date: Date, what: string): number {
  const ms = date instanceof Date ? date.getTime() : Number.NaN;
  if (!Number.isFinite(ms)) throw new CoordinationError('invalid', `${what}: not a valid date`);
  return ms;
}

/** A non-empty name (key, lock name), or an `invalid` error. */
export function nonEmpty(value: string, what: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new CoordinationError('invalid', `${what} must be a non-empty string`);
  }
  return value;
}

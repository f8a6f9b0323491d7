/** Shared pieces for reading rows (zod) and writing parameters the same way on both backends. */
import { z } from 'zod';
import type { JsonObject } from '../../util/json.ts';
import { StoreError } from '../errors.ts';

export const date = z.date();
export const nullableDate = z.date().nullable();
export const nullableText = z.string().nullable();
/** int4 and int8 columns: both backends return numbers (see type-parsers.ts). */
export const integer = z.number().int();
export const jsonObject = z.record(z.string(), z.unknown());

export type { JsonObject };

/**
 * jsonb parameters go as JSON text: pg would turn a JS array into a Postgres array literal, and
 * PGlite passes strings through untouched, so text is the one form both read the same way.
 */
export function jsonParam(value: JsonObject | null | undefined): string | null {
  return value === null || value === undefined ? null : JSON.stringify(value);
}

/** Parses one row, naming the table when it does not have the expected shape. */
export function parseRow<S extends z.ZodType>(schema: S, row: unknown, table: string): z.output<S> {
  const parsed = schema.safeParse(row);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ');
    throw new StoreError(`unexpected ${table} row from the database (${issues}); is the schema migrated?`);
  }
  return parsed.data;
}

export function clampLimit(limit: number | undefined, fallback: number, max = 1000): number {
  if (limit === undefined) return fallback;
  if (!Number.isInteger(limit) || limit < 1)
    throw new RangeError(`limit must be a positive integer, got ${limit}`);
  return Math.min(limit, max);
}

export function checkOffset(offset: number | undefined): number {
  if (offset === undefined) return 0;
  if (!Number.isInteger(offset) || offset < 0) {
    throw new RangeError(`offset must be a non-negative integer, got ${offset}`);
  }
  return offset;
}

/**
 * Text-format parsers shared by both backends so that pg and PGlite return the same JS values:
 * timestamptz → Date (both drivers' default), jsonb/json → parsed JSON (default), numeric → string
 * (default), int8 → number (throws beyond Number.MAX_SAFE_INTEGER instead of losing digits),
 * date → 'YYYY-MM-DD' string, timestamp (without time zone) → Date read as UTC, interval → string.
 * bytea differs (Buffer on pg, Uint8Array on PGlite): the schema does not use it.
 */

export const OID = {
  int8: 20,
  date: 1082,
  timestamp: 1114,
  interval: 1186,
  int8Array: 1016,
  dateArray: 1182,
  timestampArray: 1115,
  intervalArray: 1187,
  textArray: 1009,
} as const;

export type TextParser = (value: string) => unknown;

export function parseInt8(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) {
    throw new RangeError(
      `int8 value ${value} does not fit a JS number without losing precision; select it ::text instead`,
    );
  }
  return n;
}

export function parseTimestampWithoutZone(value: string): Date {
  const date = new Date(`${value.replace(' ', 'T')}Z`);
  if (Number.isNaN(date.getTime())) {
    throw new RangeError(`timestamp value ${value} cannot be read as a UTC date; use timestamptz columns`);
  }
  return date;
}

const keepText: TextParser = (value) => value;

/** Scalar parsers, by type OID. PGlite derives its array parsers from these. */
export const scalarParsers: Readonly<Record<number, TextParser>> = {
  [OID.int8]: parseInt8,
  [OID.date]: keepText,
  [OID.timestamp]: parseTimestampWithoutZone,
  [OID.interval]: keepText,
};

/** Array type OID → element type OID, for backends that need explicit array parsers (pg). */
export const arrayElementOids: Readonly<Record<number, number>> = {
  [OID.int8Array]: OID.int8,
  [OID.dateArray]: OID.date,
  [OID.timestampArray]: OID.timestamp,
  [OID.intervalArray]: OID.interval,
};

/** Applies fn to every leaf of a (possibly nested) parsed array, keeping nulls. */
export function mapArrayLeaves(value: unknown, fn: TextParser): unknown {
  if (Array.isArray(value)) return value.map((item) => mapArrayLeaves(item, fn));
  if (value === null) return null;
  return fn(String(value));
}

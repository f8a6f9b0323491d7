/** Small helpers for handling untyped JSON (Slack payloads) without `any`. */

export type JsonObject = Record<string, unknown>;

export function isRecord(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function asRecord(value: unknown): JsonObject | undefined {
  return isRecord(value) ? value : undefined;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function records(value: unknown): JsonObject[] {
  return asArray(value).filter(isRecord);
}

/** A structural deep copy of JSON data (drops functions/undefined like JSON does). */
export function cloneJson<T>(value: T): T {
  return structuredClone(value);
}

/** Parses JSON, returning `undefined` instead of throwing. */
export function tryParseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The text of a Block Kit text object (`{type, text}`), or the string itself. */
export function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  const record = asRecord(value);
  return record ? (asString(record.text) ?? '') : '';
}

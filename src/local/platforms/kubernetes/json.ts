/** Plain JSON values as they travel on the Kubernetes REST wire. */

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A deep copy through JSON (drops `undefined`, turns dates into strings). */
export function cloneJson<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** Go's `omitempty` seen from JSON: null, empty arrays and empty objects count as absent. */
function isEmpty(value: JsonValue): boolean {
  if (value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  if (isJsonObject(value)) return Object.keys(value).length === 0;
  return false;
}

/** Drops absent-equivalent values, recursively, the way Kubernetes' semantic equality ignores them. */
export function pruneEmpty(value: JsonValue): JsonValue {
  if (Array.isArray(value)) return value.map(pruneEmpty);
  if (!isJsonObject(value)) return value;
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(value)) {
    const pruned = pruneEmpty(v);
    if (!isEmpty(pruned)) out[k] = pruned;
  }
  return out;
}

/** JSON with object keys sorted, for hashing and comparison. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] ?? null)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Semantic equality: same content once empty values are ignored. */
export function semanticEqual(a: JsonValue, b: JsonValue): boolean {
  return canonicalJson(pruneEmpty(a)) === canonicalJson(pruneEmpty(b));
}

/** RFC 3339 in UTC with whole seconds, as Kubernetes writes `metav1.Time`. */
export function rfc3339(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
